import type { Context } from 'moleculer';

/**
 * The catalog and accounts as inventory sees them, through their mesh actions (never their
 * tables). `catalog.internal.skus` answers the SKUs the caller may see: everything for staff, the
 * buyer's visible ones for a buyer.
 */

export interface SkuRef {
  skuId: string;
  code: string;
}

/** `catalog.internal.skus` takes up to this many ids and as many codes per call. */
const CHUNK = 500;

function chunks<T>(list: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < list.length; start += CHUNK) result.push(list.slice(start, start + CHUNK));
  return result;
}

/** SKUs by id and by code that the caller (`ctx`'s meta) may see, a few calls of at most 500 each. */
export async function lookUpSkus(
  ctx: Context,
  query: { skuIds: readonly string[]; codes?: readonly string[] },
): Promise<{ byId: Map<string, SkuRef>; byCode: Map<string, SkuRef> }> {
  const ids = chunks([...new Set(query.skuIds.map((id) => id.toLowerCase()))]);
  const codes = chunks([...new Set(query.codes ?? [])]);
  const calls = Math.max(ids.length, codes.length);
  const answers = await Promise.all(
    Array.from(
      { length: calls },
      (_, i) =>
        ctx.call('catalog.internal.skus', { skuIds: ids[i] ?? [], codes: codes[i] ?? [] }) as Promise<{
          items: SkuRef[];
        }>,
    ),
  );
  const byId = new Map<string, SkuRef>();
  const byCode = new Map<string, SkuRef>();
  for (const { items } of answers) {
    for (const sku of items) {
      const ref = { skuId: sku.skuId, code: sku.code };
      byId.set(ref.skuId, ref);
      byCode.set(ref.code, ref);
    }
  }
  return { byId, byCode };
}

export async function companyExists(ctx: Context, companyId: string): Promise<boolean> {
  return Boolean(await ctx.call('accounts.internal.companyContext', { companyId }));
}
