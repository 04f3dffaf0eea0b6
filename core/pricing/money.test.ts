import { describe, expect, it } from '@jest/globals';
import BigDecimal from 'big.js';
import fc from 'fast-check';
import { lineAmounts, percentOff, sumAmounts } from './money.ts';
import { VAT_RATES } from './pricing-config.ts';

/** The oracle: big.js dividing the same exact integers, rounding ROUND_HALF_UP to whole units. */
const Oracle = BigDecimal();
Oracle.DP = 0;
Oracle.RM = BigDecimal.roundHalfUp;
const oracle = (numerator: bigint, denominator: bigint) =>
  BigInt(new Oracle(numerator.toString()).div(denominator.toString()).toFixed(0));

describe('percentOff', () => {
  it('rounds half up to the minor unit, once', () => {
    expect(percentOff(1000n, 1250)).toBe(875n); // exact
    expect(percentOff(999n, 1000)).toBe(899n); // 899.1
    expect(percentOff(995n, 1000)).toBe(896n); // 895.5 → up
    expect(percentOff(1n, 5000)).toBe(1n); // 0.5 → up
    expect(percentOff(1n, 5001)).toBe(0n); // 0.4999
    expect(percentOff(12345n, 0)).toBe(12345n);
    expect(percentOff(12345n, 10_000)).toBe(0n);
  });

  it('keeps amounts beyond 2^53 exact', () => {
    expect(percentOff(9_007_199_254_740_993n, 5000)).toBe(4_503_599_627_370_497n); // …496.5 → up
  });

  it('refuses a percentage outside 0..100 %', () => {
    expect(() => percentOff(100n, -1)).toThrow(RangeError);
    expect(() => percentOff(100n, 10_001)).toThrow(RangeError);
    expect(() => percentOff(100n, 12.5)).toThrow(RangeError);
  });

  it('matches big.js ROUND_HALF_UP for any amount and discount', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.integer({ min: 0, max: 10_000 }),
        (amount, bp) => {
          const numerator = amount * BigInt(10_000 - bp);
          const expected = (numerator * 2n + 10_000n) / 20_000n; // floor(x + 1/2) for x ≥ 0
          expect(percentOff(amount, bp)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('lineAmounts', () => {
  it('adds VAT to a net line and rounds the tax half up (tax-exclusive list)', () => {
    expect(lineAmounts(1000n, 3n, false, 13)).toEqual({ net: 3000n, tax: 390n, gross: 3390n });
    expect(lineAmounts(1n, 50n, false, 9)).toEqual({ net: 50n, tax: 5n, gross: 55n }); // 4.5 → 5
    expect(lineAmounts(1n, 49n, false, 9)).toEqual({ net: 49n, tax: 4n, gross: 53n }); // 4.41
    expect(lineAmounts(333n, 1n, false, 6)).toEqual({ net: 333n, tax: 20n, gross: 353n }); // 19.98
    expect(lineAmounts(12345n, 7n, false, 0)).toEqual({ net: 86415n, tax: 0n, gross: 86415n });
  });

  it('takes the VAT out of a gross line as a fapiao does: tax = round(gross × r / (1 + r))', () => {
    expect(lineAmounts(11300n, 1n, true, 13)).toEqual({ net: 10000n, tax: 1300n, gross: 11300n });
    expect(lineAmounts(100n, 1n, true, 13)).toEqual({ net: 88n, tax: 12n, gross: 100n }); // 11.504
    expect(lineAmounts(109n, 1n, true, 9)).toEqual({ net: 100n, tax: 9n, gross: 109n });
    expect(lineAmounts(53n, 1n, true, 6)).toEqual({ net: 50n, tax: 3n, gross: 53n }); // 3.0
    expect(lineAmounts(999n, 5n, true, 0)).toEqual({ net: 4995n, tax: 0n, gross: 4995n });
  });

  it('net + tax = gross, the tax is the correctly rounded VAT, for any price, quantity, rate and basis', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 1_000_000_000n }),
        fc.boolean(),
        fc.constantFrom(...VAT_RATES),
        (unit, quantity, includesTax, rate) => {
          const line = lineAmounts(unit, quantity, includesTax, rate);
          expect(line.net + line.tax).toBe(line.gross);
          expect(line.tax >= 0n && line.net >= 0n).toBe(true);
          const r = BigInt(rate);
          const amount = unit * quantity;
          // The exact tax is amount × r / 100 (net lines) or amount × r / (100 + r) (gross lines).
          const [num, den] = includesTax ? [amount * r, 100n + r] : [amount * r, 100n];
          expect(line.tax).toBe(oracle(num, den));
          expect(includesTax ? line.gross : line.net).toBe(amount);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

it('sumAmounts adds without rounding', () => {
  expect(
    sumAmounts([
      { net: 1n, tax: 2n, gross: 3n },
      { net: 10n, tax: 20n, gross: 30n },
    ]),
  ).toEqual({ net: 11n, tax: 22n, gross: 33n });
  expect(sumAmounts([])).toEqual({ net: 0n, tax: 0n, gross: 0n });
});
