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

// A private constructor whose division answers whole minor units, rounded half up: big.js works the
// quotient out to the last place kept (here the units) and rounds it by the exact remainder. Every
// division below divides exact integers, so this is the only rounding there is.
const Minor = BigDecimal();
Minor.DP = 0;
Minor.RM = BigDecimal.roundHalfUp;

/** `numerator / denominator` rounded half up to an integer (both non-negative integers). */
function divideRounded(numerator: bigint, denominator: bigint): bigint {
  return BigInt(new Minor(numerator.toString()).div(denominator.toString()).toFixed(0));
}

/** `amount` less `basisPoints` / 10,000 of it (1250 = 12.5 % off), rounded half up to the minor unit. */
export function percentOff(amount: bigint, basisPoints: number): bigint {
  if (basisPoints < 0 || basisPoints > 10_000 || !Number.isInteger(basisPoints)) {
    throw new RangeError(`percentOff: ${basisPoints} basis points is not 0..10000`);
  }
  return divideRounded(amount * BigInt(10_000 - basisPoints), 10_000n);
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
    const tax = divideRounded(amount * BigInt(vatRate), BigInt(100 + vatRate));
    return { net: amount - tax, tax, gross: amount };
  }
  const tax = divideRounded(amount * BigInt(vatRate), 100n);
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
