import BigDecimal from 'big.js';
import type { VatRate } from './pricing-config.ts';

/**
 * Money in the pricing engine: integer minor units (fen, cents) as a bigint plus the currency
 * (ISO 4217), never a float. The only arithmetic that can produce a fraction of a minor unit is
 * below, and it is rounded exactly where this file says, half up (四舍五入), to the minor unit:
 *
 * - a percentage off a base price gives the **unit price**, rounded once;
 * - a line's **VAT split** is rounded once: the tax of a net line (tax-exclusive list), or the tax
 *   contained in a gross line (tax-inclusive list); the other figure is the difference.
 *
 * Everything else is exact integer arithmetic: line = unit price × quantity, and totals are the
 * sums of the lines' net, tax and gross. So `net + tax = gross` on every line and the sum of the
 * lines equals the total, always — by construction, and checked by property tests.
 */
export interface Amount {
  minor: bigint;
  currency: string;
}

// A private constructor: division keeps 40 places and truncates, so the one half-up rounding below
// sees the exact value (a repeating fraction cut at 40 places is never pushed up across .5).
const Exact = BigDecimal();
Exact.DP = 40;
Exact.RM = BigDecimal.roundDown;

function toMinor(value: BigDecimal): bigint {
  return BigInt(value.round(0, BigDecimal.roundHalfUp).toFixed(0));
}

/** `amount` less `basisPoints` / 10,000 of it (1250 = 12.5 % off), rounded half up to the minor unit. */
export function percentOff(amount: bigint, basisPoints: number): bigint {
  if (basisPoints < 0 || basisPoints > 10_000 || !Number.isInteger(basisPoints)) {
    throw new RangeError(`percentOff: ${basisPoints} basis points is not 0..10000`);
  }
  return toMinor(new Exact(amount.toString()).times(10_000 - basisPoints).div(10_000));
}

export interface LineAmounts {
  net: bigint;
  tax: bigint;
  gross: bigint;
}

/**
 * A line's net, VAT and gross from its unit price (as listed: gross when the list includes tax,
 * net otherwise) and quantity. Tax-exclusive: tax = round(net × rate). Tax-inclusive: tax =
 * round(gross × rate / (100 + rate)), the way a 增值税 invoice derives 税额 from 价税合计.
 */
export function lineAmounts(
  unitPrice: bigint,
  quantity: bigint,
  includesTax: boolean,
  vatRate: VatRate,
): LineAmounts {
  const amount = unitPrice * quantity;
  if (includesTax) {
    const tax = toMinor(new Exact(amount.toString()).times(vatRate).div(100 + vatRate));
    return { net: amount - tax, tax, gross: amount };
  }
  const tax = toMinor(new Exact(amount.toString()).times(vatRate).div(100));
  return { net: amount, tax, gross: amount + tax };
}

/** Net, tax and gross summed over lines: no rounding here, ever. */
export function sumAmounts(lines: Iterable<LineAmounts>): LineAmounts {
  let net = 0n;
  let tax = 0n;
  let gross = 0n;
  for (const line of lines) {
    net += line.net;
    tax += line.tax;
    gross += line.gross;
  }
  return { net, tax, gross };
}

/** To the wire (`entities/money`): the amount as a decimal string. */
export function moneyOf(minor: bigint, currency: string) {
  return { amountMinor: minor.toString(), currency };
}
