import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { discountDepthBp, lineFigures, percentOf, sumTotals } from './quote-money.ts';

describe('quote money', () => {
  it('rounds a percentage discount half up, once, on the line', () => {
    expect(percentOf(95_000n, 333)).toBe(3164n); // 3,163.5
    expect(percentOf(95_000n, 332)).toBe(3154n); // 3,154.0
    expect(percentOf(1n, 4999)).toBe(0n); // 0.4999
    expect(percentOf(1n, 5000)).toBe(1n); // 0.5
    expect(() => percentOf(1n, 10_001)).toThrow(RangeError);
  });

  it('the total is the exact sum of the lines, and each line is exact against rational arithmetic', () => {
    const line = fc.record({
      unitPriceMinor: fc.bigInt({ min: 0n, max: 10_000_000_000n }),
      quantity: fc.integer({ min: 1, max: 1_000_000 }),
      discountBp: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 50 }), (lines) => {
        const figures = lines.map(lineFigures);
        figures.forEach((f, i) => {
          const amount = lines[i]!.unitPriceMinor * BigInt(lines[i]!.quantity);
          expect(f.amount).toBe(amount);
          expect(f.amount - f.discount).toBe(f.total);
          // |discount × 10,000 − amount × bp| ≤ 5,000: the nearest whole minor unit, half up.
          const exact = amount * BigInt(lines[i]!.discountBp ?? 0);
          const error = f.discount * 10_000n - exact;
          expect(error > -5_000n && error <= 5_000n).toBe(true);
        });
        expect(sumTotals(figures)).toBe(figures.reduce((sum, f) => sum + f.amount - f.discount, 0n));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a fixed discount larger than the line', () => {
    expect(() => lineFigures({ unitPriceMinor: 100n, quantity: 2, discountMinor: 201n })).toThrow(RangeError);
    expect(lineFigures({ unitPriceMinor: 100n, quantity: 2, discountMinor: 200n }).total).toBe(0n);
  });

  it('measures discount depth against the list total, rounded down', () => {
    expect(discountDepthBp(20_000n, 16_000n)).toBe(2000);
    expect(discountDepthBp(10_000n, 8_500n)).toBe(1500);
    expect(discountDepthBp(3n, 2n)).toBe(3333);
    expect(discountDepthBp(10_000n, 12_000n)).toBe(0);
    expect(discountDepthBp(0n, 0n)).toBe(0);
  });
});
