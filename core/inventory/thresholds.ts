import type { Queryable, Transaction } from '../platform/database/database.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';

export interface Threshold {
  id: string;
  skuId: string;
  /** null: the SKU's available over every active warehouse. */
  warehouseId: string | null;
  threshold: number;
  /** Available was below the threshold at the last stock change (an alert was sent then). */
  below: boolean;
  available: number;
  updatedAt: string;
}

const VIEW = `SELECT t.id, t.sku_id, t.warehouse_id, t.threshold, t.below, t.updated_at,
       COALESCE((SELECT sum(s.on_hand - s.reserved)
                   FROM inventory.stock_levels s JOIN inventory.warehouses w ON w.id = s.warehouse_id
                  WHERE s.sku_id = t.sku_id
                    AND (CASE WHEN t.warehouse_id IS NULL THEN w.active ELSE s.warehouse_id = t.warehouse_id END)),
                0)::bigint AS available
  FROM inventory.thresholds t`;

function toThreshold(row: Record<string, unknown>): Threshold {
  return {
    id: row.id as string,
    skuId: row.sku_id as string,
    warehouseId: (row.warehouse_id as string | null) ?? null,
    threshold: Number(row.threshold),
    below: row.below as boolean,
    available: Number(row.available),
    updatedAt: (row.updated_at as Date).toISOString(),
  };
}

/** Creates or changes the threshold of (SKU, warehouse); answers its id. */
export async function upsertThreshold(
  tx: Transaction,
  input: { skuId: string; warehouseId: string | null; threshold: number },
): Promise<{ id: string; created: boolean; before: number | null }> {
  const { rows: existing } = await tx.query(
    `SELECT id, threshold FROM inventory.thresholds
      WHERE sku_id = $1 AND warehouse_id IS NOT DISTINCT FROM $2::uuid FOR UPDATE`,
    [input.skuId, input.warehouseId],
  );
  if (existing[0]) {
    await tx.query('UPDATE inventory.thresholds SET threshold = $2, updated_at = now() WHERE id = $1', [
      existing[0].id,
      input.threshold,
    ]);
    return { id: existing[0].id, created: false, before: Number(existing[0].threshold) };
  }
  const { rows } = await tx.query(
    `INSERT INTO inventory.thresholds (sku_id, warehouse_id, threshold) VALUES ($1, $2, $3)
     ON CONFLICT (sku_id, warehouse_id) DO UPDATE SET threshold = excluded.threshold, updated_at = now()
     RETURNING id`,
    [input.skuId, input.warehouseId, input.threshold],
  );
  return { id: rows[0]!.id, created: true, before: null };
}

export async function findThreshold(db: Queryable, id: string): Promise<Threshold | undefined> {
  const { rows } = await db.query(`${VIEW} WHERE t.id = $1`, [id]);
  return rows[0] ? toThreshold(rows[0]) : undefined;
}

export async function listThresholds(
  db: Queryable,
  filter: {
    skuId?: string | undefined;
    warehouseId?: string | undefined;
    below?: boolean | undefined;
    limit: number;
    after?: string | undefined;
  },
): Promise<Threshold[]> {
  const { rows } = await db.query(
    `${VIEW}
      WHERE ($1::uuid IS NULL OR t.id > $1) AND ($2::uuid IS NULL OR t.sku_id = $2)
        AND ($3::uuid IS NULL OR t.warehouse_id = $3) AND ($4::boolean IS NULL OR t.below = $4)
      ORDER BY t.id LIMIT $5`,
    [
      filter.after ?? null,
      filter.skuId ?? null,
      filter.warehouseId ?? null,
      filter.below ?? null,
      filter.limit,
    ],
  );
  return rows.map(toThreshold);
}

export async function deleteThreshold(tx: Transaction, id: string): Promise<Threshold> {
  const found = await findThreshold(tx, id);
  if (!found) throw new NotFound('Threshold');
  await tx.query('DELETE FROM inventory.thresholds WHERE id = $1', [id]);
  return found;
}
