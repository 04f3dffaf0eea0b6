import type { Queryable } from '../platform/database/database.ts';
import { ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { MovementKind } from './stock-ledger.ts';

/** One ledger row as the staff API shows it. */
export interface MovementView {
  id: string;
  skuId: string;
  warehouseId: string;
  kind: MovementKind;
  quantity: number;
  onHandDelta: number;
  reservedDelta: number;
  reference: string | null;
  reason: string | null;
  transferId: string | null;
  actor: { kind: 'staff' | 'buyer' | 'system'; id: string | null };
  at: string;
}

export interface MovementFilter {
  skuId?: string | undefined;
  warehouseId?: string | undefined;
  kind?: MovementKind | undefined;
  reference?: string | undefined;
  limit: number;
  /** Newest first: the cursor is the id of the last row of the previous page. */
  before?: bigint | undefined;
}

export function movementCursor(cursor: string | undefined): bigint | undefined {
  if (cursor === undefined) return undefined;
  if (!/^[1-9]\d{0,18}$/.test(cursor)) {
    throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  }
  return BigInt(cursor);
}

export async function listMovements(
  db: Queryable,
  filter: MovementFilter,
): Promise<{ items: MovementView[]; nextCursor: string | null }> {
  const { rows } = await db.query(
    `SELECT id, sku_id, warehouse_id, kind, quantity, on_hand_delta, reserved_delta, reference, reason,
            transfer_id, actor_kind, actor_id, at
       FROM inventory.movements
      WHERE ($1::uuid IS NULL OR sku_id = $1) AND ($2::uuid IS NULL OR warehouse_id = $2)
        AND ($3::text IS NULL OR kind = $3) AND ($4::text IS NULL OR reference = $4)
        AND ($5::bigint IS NULL OR id < $5)
      ORDER BY id DESC LIMIT $6`,
    [
      filter.skuId ?? null,
      filter.warehouseId ?? null,
      filter.kind ?? null,
      filter.reference ?? null,
      filter.before?.toString() ?? null,
      filter.limit,
    ],
  );
  const items: MovementView[] = rows.map((row) => ({
    id: String(row.id),
    skuId: row.sku_id,
    warehouseId: row.warehouse_id,
    kind: row.kind,
    quantity: Number(row.quantity),
    onHandDelta: Number(row.on_hand_delta),
    reservedDelta: Number(row.reserved_delta),
    reference: row.reference ?? null,
    reason: row.reason ?? null,
    transferId: row.transfer_id ?? null,
    actor: { kind: row.actor_kind, id: row.actor_id ?? null },
    at: (row.at as Date).toISOString(),
  }));
  return {
    items,
    nextCursor: items.length === filter.limit ? items[items.length - 1]!.id : null,
  };
}
