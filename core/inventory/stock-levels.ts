import type { Queryable } from '../platform/database/database.ts';
import { ValidationFailed } from '../platform/errors/hub-errors.ts';

export interface StockLevelView {
  skuId: string;
  warehouseId: string;
  warehouseCode: string;
  onHand: number;
  reserved: number;
  available: number;
  updatedAt: string;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const LEVEL_CURSOR = new RegExp(`^(${UUID})~(${UUID})$`, 'i');

/** Stock levels are keyed by (SKU, warehouse): the cursor is both ids of the last row. */
export function levelCursor(cursor: string | undefined): { skuId: string; warehouseId: string } | undefined {
  if (cursor === undefined) return undefined;
  const match = LEVEL_CURSOR.exec(cursor);
  if (!match) throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  return { skuId: match[1]!.toLowerCase(), warehouseId: match[2]!.toLowerCase() };
}

export async function listStockLevels(
  db: Queryable,
  filter: {
    skuIds?: readonly string[] | undefined;
    warehouseId?: string | undefined;
    inStock?: boolean | undefined;
    limit: number;
    after?: { skuId: string; warehouseId: string } | undefined;
  },
): Promise<{ items: StockLevelView[]; nextCursor: string | null }> {
  const { rows } = await db.query(
    `SELECT s.sku_id, s.warehouse_id, w.code, s.on_hand, s.reserved, s.updated_at
       FROM inventory.stock_levels s JOIN inventory.warehouses w ON w.id = s.warehouse_id
      WHERE ($1::uuid[] IS NULL OR s.sku_id = ANY($1::uuid[]))
        AND ($2::uuid IS NULL OR s.warehouse_id = $2)
        AND ($3::boolean IS NULL OR (s.on_hand > 0) = $3)
        AND ($4::uuid IS NULL OR (s.sku_id, s.warehouse_id) > ($4::uuid, $5::uuid))
      ORDER BY s.sku_id, s.warehouse_id
      LIMIT $6`,
    [
      filter.skuIds?.length ? filter.skuIds : null,
      filter.warehouseId ?? null,
      filter.inStock ?? null,
      filter.after?.skuId ?? null,
      filter.after?.warehouseId ?? null,
      filter.limit,
    ],
  );
  const items = rows.map((row) => {
    const onHand = Number(row.on_hand);
    const reserved = Number(row.reserved);
    return {
      skuId: row.sku_id as string,
      warehouseId: row.warehouse_id as string,
      warehouseCode: row.code as string,
      onHand,
      reserved,
      available: onHand - reserved,
      updatedAt: (row.updated_at as Date).toISOString(),
    };
  });
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: items.length === filter.limit && last ? `${last.skuId}~${last.warehouseId}` : null,
  };
}

export interface WarehouseAvailability {
  warehouseId: string;
  code: string;
  name: string;
  region: string | null;
  visibleToBuyers: boolean;
  available: number;
}

export interface SkuAvailability {
  skuId: string;
  /** Units that can be reserved now, over every active warehouse. */
  available: number;
  warehouses: WarehouseAvailability[];
}

/**
 * Available units per SKU over the active warehouses, with the per-warehouse figures (only those
 * holding some) in the order a reservation for `preferredWarehouseId` would take from them. SKUs
 * without stock answer 0, in the order asked.
 */
export async function availabilityOf(
  db: Queryable,
  skuIds: readonly string[],
  preferredWarehouseId: string | null = null,
): Promise<SkuAvailability[]> {
  const ids = [...new Set(skuIds.map((id) => id.toLowerCase()))];
  const { rows } = await db.query(
    `SELECT s.sku_id, s.warehouse_id, s.on_hand - s.reserved AS available, w.code, w.name, w.region,
            w.visible_to_buyers
       FROM inventory.stock_levels s JOIN inventory.warehouses w ON w.id = s.warehouse_id
      WHERE s.sku_id = ANY($1::uuid[]) AND w.active AND s.on_hand > s.reserved
      ORDER BY s.sku_id, s.warehouse_id = $2::uuid DESC NULLS LAST, w.priority DESC, w.code`,
    [ids, preferredWarehouseId],
  );
  const result = new Map<string, SkuAvailability>(
    ids.map((skuId) => [skuId, { skuId, available: 0, warehouses: [] }]),
  );
  for (const row of rows) {
    const entry = result.get(row.sku_id)!;
    const available = Number(row.available);
    entry.available += available;
    entry.warehouses.push({
      warehouseId: row.warehouse_id,
      code: row.code,
      name: row.name,
      region: row.region ?? null,
      visibleToBuyers: row.visible_to_buyers,
      available,
    });
  }
  return [...result.values()];
}
