/**
 * Low-stock alerts: a threshold per SKU, in one warehouse or over every active warehouse. After
 * each stock change the thresholds of the SKUs touched are re-checked in the same transaction;
 * `stock.low` is written to the outbox when available goes from at or above the threshold to below
 * it — once per crossing, not on every movement while it stays below. Going back up re-arms it.
 */
import type { RequestOrigin } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';

export interface ThresholdCrossing {
  thresholdId: string;
  skuId: string;
  warehouseId: string | null;
  threshold: number;
  available: number;
  below: boolean;
}

/**
 * Re-checks the thresholds of `skuIds` (or the given threshold ids) and records crossings. The
 * threshold rows are locked first, in a statement of their own, so the availability read after it
 * sees every change committed by transactions that checked before: the last one to check sees the
 * final state, and a crossing is never reported twice.
 */
export async function evaluateThresholds(
  tx: Transaction,
  skuIds: readonly string[],
  origin?: RequestOrigin,
  onlyIds?: readonly string[],
): Promise<ThresholdCrossing[]> {
  const { rows: locked } = await tx.query(
    `SELECT id FROM inventory.thresholds
      WHERE sku_id = ANY($1::uuid[]) AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
      ORDER BY id FOR UPDATE`,
    [[...new Set(skuIds)], onlyIds ? [...onlyIds] : null],
  );
  if (!locked.length) return [];
  const { rows } = await tx.query(
    `WITH current AS (
       SELECT t.id, t.threshold, t.below,
              COALESCE((SELECT sum(s.on_hand - s.reserved)
                          FROM inventory.stock_levels s JOIN inventory.warehouses w ON w.id = s.warehouse_id
                         WHERE s.sku_id = t.sku_id
                           AND (CASE WHEN t.warehouse_id IS NULL THEN w.active ELSE s.warehouse_id = t.warehouse_id END)),
                       0)::bigint AS available
         FROM inventory.thresholds t WHERE t.id = ANY($1::uuid[])
     )
     UPDATE inventory.thresholds t SET below = c.available < c.threshold, updated_at = now()
       FROM current c
      WHERE t.id = c.id AND (c.available < c.threshold) IS DISTINCT FROM c.below
     RETURNING t.id, t.sku_id, t.warehouse_id, t.threshold, t.below, c.available`,
    [locked.map((row) => row.id)],
  );
  const crossings: ThresholdCrossing[] = rows.map((row) => ({
    thresholdId: row.id,
    skuId: row.sku_id,
    warehouseId: row.warehouse_id,
    threshold: Number(row.threshold),
    available: Number(row.available),
    below: row.below,
  }));
  const alerts = crossings.filter((c) => c.below);
  if (alerts.length) {
    await writeOutbox(
      tx,
      alerts.map((c) => ({
        kind: 'event' as const,
        name: 'stock.low',
        companyId: null,
        payload: {
          thresholdId: c.thresholdId,
          skuId: c.skuId,
          warehouseId: c.warehouseId,
          threshold: c.threshold,
          available: c.available,
        },
      })),
      origin,
    );
  }
  return crossings;
}
