import type { Context } from 'moleculer';
import { originOf } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';

/** Events that tell carts and quotes their prices may be stale; the payloads are `schemas/events/*`. */
export const PRICING_EVENTS = ['price_list.changed', 'quantity_rule.changed', 'vat_rate.changed'] as const;

/** SKU ids travel in the event up to this many; beyond, `skuIds: null` means "many". */
const MAX_SKU_IDS = 500;

/** `price_list.changed` in the change's transaction; a company-level assignment names its company. */
export async function priceListChanged(
  ctx: Context,
  tx: Transaction,
  payload: {
    priceListId: string;
    code: string;
    change: 'created' | 'updated' | 'deleted' | 'prices' | 'assignments';
    version?: number;
    skuIds?: readonly string[];
  },
  companyId: string | null = null,
): Promise<void> {
  const { skuIds, ...rest } = payload;
  const data: Record<string, unknown> = { ...rest };
  if (skuIds) data.skuIds = skuIds.length <= MAX_SKU_IDS ? [...new Set(skuIds)] : null;
  await writeOutbox(
    tx,
    [{ kind: 'event', name: 'price_list.changed', companyId, payload: data }],
    originOf(ctx),
  );
}

export async function quantityRuleChanged(
  ctx: Context,
  tx: Transaction,
  rule: { id: string; productId: string | null; skuId: string | null; companyId: string | null },
  change: 'created' | 'updated' | 'deleted',
): Promise<void> {
  await writeOutbox(
    tx,
    [
      {
        kind: 'event',
        name: 'quantity_rule.changed',
        companyId: rule.companyId,
        payload: {
          ruleId: rule.id,
          productId: rule.productId,
          skuId: rule.skuId,
          companyId: rule.companyId,
          change,
        },
      },
    ],
    originOf(ctx),
  );
}

export async function vatRateChanged(
  ctx: Context,
  tx: Transaction,
  subjects: ReadonlyArray<{ productId: string | null; skuId: string | null }>,
): Promise<void> {
  await writeOutbox(
    tx,
    [
      {
        kind: 'event',
        name: 'vat_rate.changed',
        companyId: null,
        payload: {
          productIds: subjects.flatMap((s) => (s.productId ? [s.productId] : [])),
          skuIds: subjects.flatMap((s) => (s.skuId ? [s.skuId] : [])),
        },
      },
    ],
    originOf(ctx),
  );
}
