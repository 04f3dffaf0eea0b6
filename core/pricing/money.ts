import type { VatRate } from './pricing-config.ts';

/**
 * Money in the pricing engine: integer minor units (fen, cents) as a bigint plus the currency
 * (ISO 4217), never a float. The only arithmetic that can produce a fraction of a minor unit is
 * below, a division of exact integers, rounded exactly where this file says, half up (四舍五入),
 * to the minor unit:
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

/**
 * `numerator / denominator` rounded half up to an integer, for a non-negative numerator and a
 * positive denominator: ⌊n/d + 1/2⌋ = ⌊(2n + d) / 2d⌋, exact in bigint arithmetic (no decimal ever
 * exists to be misrounded). `money.test.ts` checks it against big.js's ROUND_HALF_UP over random
 * inputs; big.js itself was too slow for the hot path (a 200-line cart does 400 of these).
 */
function divideRounded(numerator: bigint, denominator: bigint): bigint {
  return (2n * numerator + denominator) / (2n * denominator);
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
