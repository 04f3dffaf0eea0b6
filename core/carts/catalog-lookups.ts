import type { Context } from 'moleculer';

/**
 * The catalog as carts see it, through its mesh-only actions called with the buyer's meta (never
 * its tables): visibility is the catalog's own rule for the caller in `ctx.meta.auth`.
 */

export interface VisibleSku {
  skuId: string;
  code: string;
  productId: string;
  nameZh: string;
  nameEn: string;
  unitOfMeasure: string;
  orderable: boolean;
}

/** `catalog.internal.skus` and `knownSkus` take up to this many ids and as many codes per call. */
const CHUNK = 500;

function chunked<T>(list: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < list.length; start += CHUNK) result.push(list.slice(start, start + CHUNK));
  return result;
}

async function lookUp<T>(
  ctx: Context,
  action: string,
  query: { skuIds?: readonly string[]; codes?: readonly string[] },
): Promise<T[]> {
  const ids = chunked([...new Set(query.skuIds ?? [])]);
  const codes = chunked([...new Set(query.codes ?? [])]);
  const calls = Math.max(ids.length, codes.length);
  const answers = await Promise.all(
    Array.from(
      { length: calls },
      (_, i) => ctx.call(action, { skuIds: ids[i] ?? [], codes: codes[i] ?? [] }) as Promise<{ items: T[] }>,
    ),
  );
  return answers.flatMap((answer) => answer.items);
}

/** The SKUs among these ids and codes that the caller may see. */
export async function visibleSkus(
  ctx: Context,
  query: { skuIds?: readonly string[]; codes?: readonly string[] },
): Promise<VisibleSku[]> {
  if (!query.skuIds?.length && !query.codes?.length) return [];
  return lookUp<VisibleSku>(ctx, 'catalog.internal.skus', query);
}

/** The SKUs among these ids and codes that exist in the published catalog, visible to the caller or not. */
export async function knownSkus(
  ctx: Context,
  query: { skuIds?: readonly string[]; codes?: readonly string[] },
): Promise<Array<{ skuId: string; code: string }>> {
  if (!query.skuIds?.length && !query.codes?.length) return [];
  return lookUp(ctx, 'catalog.internal.knownSkus', query);
}

/** One of the caller's product lists (requisition lists) with every item; 404 for anyone else's. */
export async function listItems(
  ctx: Context,
  listId: string,
): Promise<{ id: string; name: string; items: Array<{ skuId: string; skuCode: string; quantity: number }> }> {
  return ctx.call('catalog.internal.listItems', { listId });
}
