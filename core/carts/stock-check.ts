import type { Context } from 'moleculer';

/**
 * The stock port of quick order. Inventory is a later domain (issue 6); until a service answers
 * `inventory.internal.available` on the mesh, stock is not checked and no row is rejected for it
 * (the answer says `stockChecked: false`) — carts never invent stock figures.
 *
 * The contract inventory is expected to serve, with the buyer's meta:
 *   params `{ lines: [{ skuId, quantity }] }` (at most 500)
 *   answer `{ items: [{ skuId, available }] }`, `available` the units the buyer can order now
 *   (a SKU missing from the answer counts as not stocked).
 */
export const AVAILABILITY_ACTION = 'inventory.internal.available';

export interface StockAnswer {
  checked: boolean;
  /** Units available per SKU id, when checked. */
  available: Map<string, number>;
}

function servesAvailability(ctx: Context): boolean {
  const endpoints = (
    ctx.broker.registry as unknown as {
      getActionEndpoints(name: string): { hasAvailable(): boolean } | undefined;
    }
  ).getActionEndpoints(AVAILABILITY_ACTION);
  return Boolean(endpoints?.hasAvailable());
}

const NOT_CHECKED: StockAnswer = { checked: false, available: new Map() };

/**
 * What inventory says is available for these lines, or `checked: false` when no inventory service
 * runs (or it went away between the registry check and the call).
 */
export async function checkStock(
  ctx: Context,
  lines: ReadonlyArray<{ skuId: string; quantity: number }>,
): Promise<StockAnswer> {
  if (!lines.length || !servesAvailability(ctx)) return NOT_CHECKED;
  try {
    const answer = (await ctx.call(AVAILABILITY_ACTION, { lines })) as {
      items: Array<{ skuId: string; available: number }>;
    };
    return { checked: true, available: new Map(answer.items.map((item) => [item.skuId, item.available])) };
  } catch (error) {
    const name = (error as { name?: string }).name ?? '';
    if (['ServiceNotFoundError', 'ServiceNotAvailableError'].includes(name)) return NOT_CHECKED;
    throw error;
  }
}
