import BigDecimal from 'big.js';

/**
 * Quote amounts: bigint minor units of the quote's currency. The rule is pricing's (see
 * core/pricing/README.md, "Money"): rounding happens only inside a line, half up (四舍五入) to the
 * minor unit, and totals are never rounded — they are sums of the lines, so the sum of the lines
 * equals the total by construction. The one fraction a quote can produce is a percentage discount
 * (basis points) of a line amount; it is rounded once, here.
 */

// big.js division to whole minor units, rounded half up on the exact remainder.
const Minor = BigDecimal();
Minor.DP = 0;
Minor.RM = BigDecimal.roundHalfUp;

/** `amount × basisPoints / 10,000`, rounded half up (amount ≥ 0, 0 ≤ basisPoints ≤ 10,000). */
export function percentOf(amount: bigint, basisPoints: number): bigint {
  if (!Number.isInteger(basisPoints) || basisPoints < 0 || basisPoints > 10_000) {
    throw new RangeError(`${basisPoints} basis points is not 0..10000`);
  }
  return BigInt(new Minor((amount * BigInt(basisPoints)).toString()).div(10_000).toFixed(0));
}

export interface PricedLineInput {
  unitPriceMinor: bigint;
  quantity: number;
  /** A percentage discount of the line amount, or a fixed amount off the line; not both. */
  discountBp?: number | undefined;
  discountMinor?: bigint | undefined;
}

export interface LineFigures {
  amount: bigint;
  discount: bigint;
  total: bigint;
}

/** One line: amount = unit price × quantity (exact); discount rounded once; total = amount − discount. */
export function lineFigures(line: PricedLineInput): LineFigures {
  const amount = line.unitPriceMinor * BigInt(line.quantity);
  const discount =
    line.discountBp !== undefined ? percentOf(amount, line.discountBp) : (line.discountMinor ?? 0n);
  if (discount > amount) throw new RangeError('discount exceeds the line amount');
  return { amount, discount, total: amount - discount };
}

/** The total of a version: the exact sum of its line totals. */
export function sumTotals(lines: ReadonlyArray<{ total: bigint }>): bigint {
  return lines.reduce((sum, line) => sum + line.total, 0n);
}

/**
 * Discount depth of a line against the buyer's list price, in basis points (0 when at or above
 * list): how far below what the buyer would pay today the quote goes. Rounded down, so a line
 * exactly at the floor is not below it.
 */
export function discountDepthBp(listTotal: bigint, quotedTotal: bigint): number {
  if (listTotal <= 0n || quotedTotal >= listTotal) return 0;
  return Number(((listTotal - quotedTotal) * 10_000n) / listTotal);
}
