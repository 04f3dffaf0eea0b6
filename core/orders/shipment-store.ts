import type { Queryable, Transaction } from '../platform/database/database.ts';

export interface ShipmentView {
  id: string;
  carrier: string | null;
  trackingNo: string | null;
  shippedBy: string;
  shippedAt: string;
  lines: Array<{ lineNo: number; skuId: string; warehouseId: string; quantity: number }>;
}

export async function shipmentsOf(db: Queryable, orderId: string): Promise<ShipmentView[]> {
  const { rows } = await db.query(
    `SELECT s.id, s.carrier, s.tracking_no, s.shipped_by, s.shipped_at,
            coalesce(json_agg(json_build_object('lineNo', l.line_no, 'skuId', l.sku_id, 'warehouseId', l.warehouse_id,
              'quantity', l.quantity) ORDER BY l.line_no, l.warehouse_id) FILTER (WHERE l.shipment_id IS NOT NULL), '[]') AS lines
       FROM orders.shipments s LEFT JOIN orders.shipment_lines l ON l.shipment_id = s.id
      WHERE s.order_id = $1 GROUP BY s.id ORDER BY s.shipped_at, s.id`,
    [orderId],
  );
  return rows.map((row) => ({
    id: row.id,
    carrier: row.carrier ?? null,
    trackingNo: row.tracking_no ?? null,
    shippedBy: row.shipped_by,
    shippedAt: new Date(row.shipped_at).toISOString(),
    lines: row.lines,
  }));
}

/** Whether a shipment with this id was already recorded (a retried request). */
export async function shipmentExists(db: Queryable, shipmentId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM orders.shipments WHERE id = $1', [shipmentId]);
  return rows.length > 0;
}

/**
 * Records a shipment and adds its quantities to the lines and allocations shipped so far. The
 * quantities were checked against the open ones by the caller under the order's row lock.
 */
export async function insertShipment(
  tx: Transaction,
  input: {
    id: string;
    orderId: string;
    companyId: string;
    carrier: string | null;
    trackingNo: string | null;
    shippedBy: string;
    lines: Array<{ lineNo: number; skuId: string; warehouseId: string; quantity: number }>;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO orders.shipments (id, order_id, company_id, carrier, tracking_no, shipped_by) VALUES ($1, $2, $3, $4, $5, $6)`,
    [input.id, input.orderId, input.companyId, input.carrier, input.trackingNo, input.shippedBy],
  );
  for (const line of input.lines) {
    await tx.query(
      `INSERT INTO orders.shipment_lines (shipment_id, line_no, sku_id, warehouse_id, quantity) VALUES ($1, $2, $3, $4, $5)`,
      [input.id, line.lineNo, line.skuId, line.warehouseId, line.quantity],
    );
    await tx.query(
      'UPDATE orders.order_lines SET shipped_qty = shipped_qty + $3 WHERE order_id = $1 AND line_no = $2',
      [input.orderId, line.lineNo, line.quantity],
    );
    await tx.query(
      `UPDATE orders.order_allocations SET shipped_qty = shipped_qty + $4
        WHERE order_id = $1 AND sku_id = $2 AND warehouse_id = $3`,
      [input.orderId, line.skuId, line.warehouseId, line.quantity],
    );
  }
}
