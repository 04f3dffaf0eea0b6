import type { Context } from 'moleculer';
import { originOf } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';

/** The outbox takes at most this many messages per call. */
const BATCH = 500;

/**
 * Product events through the outbox, in the change's transaction: `product.created`,
 * `product.updated` (anything search indexes changed, including a rename or move of the product's
 * category, brand or attribute definitions) and `product.lifecycle_changed`. The catalog is not a
 * tenant's data: events carry no company.
 */
export async function announce(
  ctx: Context,
  tx: Transaction,
  name: 'product.created' | 'product.updated' | 'product.lifecycle_changed',
  payloads: ReadonlyArray<{ productId: string } & Record<string, unknown>>,
): Promise<void> {
  for (let start = 0; start < payloads.length; start += BATCH) {
    await writeOutbox(
      tx,
      payloads
        .slice(start, start + BATCH)
        .map((payload) => ({ kind: 'event', name, companyId: null, payload })),
      originOf(ctx),
    );
  }
}

/** `product.updated` for each product, naming what changed. */
export async function productsUpdated(
  ctx: Context,
  tx: Transaction,
  productIds: readonly string[],
  changes: readonly string[],
): Promise<void> {
  await announce(
    ctx,
    tx,
    'product.updated',
    [...new Set(productIds)].map((productId) => ({ productId, changes: [...changes] })),
  );
}
