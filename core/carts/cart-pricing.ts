import type { Context } from 'moleculer';
import type { PriceLine, PriceLinesResponse } from '../../schemas/generated/types.ts';

/**
 * Carts price through pricing's mesh-only batch call with the reader's meta, so a cart always
 * shows the prices and promotions of whoever reads it, now. One call per cart: a cart holds at
 * most as many lines as pricing prices at once.
 */

export type ProblemCode =
  | 'not_visible'
  | 'not_orderable'
  | 'below_moq'
  | 'above_max'
  | 'not_multiple'
  | 'no_price';

const PROBLEM_OF: Record<PriceLine['errors'][number]['code'], ProblemCode> = {
  unavailable: 'not_visible',
  'not-orderable': 'not_orderable',
  'below-minimum': 'below_moq',
  'above-maximum': 'above_max',
  'not-a-multiple': 'not_multiple',
  'no-price': 'no_price',
};

export interface LineToPrice {
  skuId: string;
  quantity: number;
  /** Null: the SKU's own unit. */
  unit: string | null;
}

/** Prices the lines for the caller of `ctx`; null when there are none (pricing takes at least one). */
export async function priceFor(
  ctx: Context,
  lines: readonly LineToPrice[],
): Promise<PriceLinesResponse | null> {
  if (!lines.length) return null;
  return (await ctx.call('pricing.internal.priceLines', {
    lines: lines.map((line) => ({
      skuId: line.skuId,
      quantity: line.quantity,
      ...(line.unit !== null ? { unit: line.unit } : {}),
    })),
  })) as PriceLinesResponse;
}

/** A priced line's problems in the carts' vocabulary, with pricing's explanation of each. */
export function problemsOf(line: PriceLine): Array<{ code: ProblemCode; detail: string }> {
  const problems = line.errors.map((error) => ({ code: PROBLEM_OF[error.code], detail: error.detail }));
  if (!problems.length && line.status !== 'priced') {
    problems.push({ code: 'no_price', detail: 'this line has no price for you' });
  }
  return problems;
}
