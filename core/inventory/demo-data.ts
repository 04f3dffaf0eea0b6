import { createHash } from 'node:crypto';
import type { Database } from '../platform/database/database.ts';
import { evaluateThresholds } from './low-stock.ts';
import { applyMovements, type Movement, movement } from './stock-ledger.ts';
import { upsertThreshold } from './thresholds.ts';
import { insertWarehouse, type Warehouse } from './warehouses.ts';

/** The demo warehouses: three shown to buyers by name (多仓库存), a bonded one counted but not named. */
export const DEMO_WAREHOUSES = [
  {
    code: 'SH-01',
    name: '上海仓 Shanghai',
    region: '华东',
    address: '上海市嘉定区',
    priority: 10,
    visibleToBuyers: true,
  },
  {
    code: 'GZ-01',
    name: '广州仓 Guangzhou',
    region: '华南',
    address: '广州市白云区',
    priority: 5,
    visibleToBuyers: true,
  },
  {
    code: 'BJ-01',
    name: '北京仓 Beijing',
    region: '华北',
    address: '北京市大兴区',
    priority: 0,
    visibleToBuyers: true,
  },
  {
    code: 'SH-BONDED',
    name: '外高桥保税仓 Waigaoqiao bonded',
    region: '华东',
    address: '上海市浦东新区',
    priority: -10,
    visibleToBuyers: false,
  },
] as const;

/** A stable number per (SKU, warehouse), so every seed agrees. */
function hashOf(...parts: string[]): number {
  return createHash('sha256').update(parts.join('/')).digest().readUInt32BE(0);
}

/**
 * Demo stock for `hub seed demo` (the CLI hands over the demo catalog's SKU ids; inventory never
 * reads catalog tables): the four warehouses, a receipt per SKU and warehouse with stable
 * quantities (every seventh SKU out of stock, every fifth in Shanghai only), an overall low-stock
 * threshold of 50 on the first six SKUs (the sixth starts below it, with 12 in Shanghai), and Acme's preferred warehouse
 * Shanghai. Nothing happens when the warehouse SH-01 exists.
 */
export async function seedDemoInventory(
  db: Database,
  options: { skuIds: readonly string[]; acmeCompanyId?: string | undefined },
): Promise<{ created: boolean }> {
  const { rowCount } = await db.query('SELECT 1 FROM inventory.warehouses WHERE code = $1', ['SH-01']);
  if (rowCount || !options.skuIds.length) return { created: false };
  const skuIds = [...options.skuIds].sort();
  const system = { kind: 'system' as const, id: null };
  await db.transaction(async (tx) => {
    const warehouses: Warehouse[] = [];
    for (const warehouse of DEMO_WAREHOUSES) warehouses.push(await insertWarehouse(tx, warehouse));
    const movements: Movement[] = [];
    skuIds.forEach((skuId, i) => {
      if (i % 7 === 6) return; // out of stock everywhere
      if (i === 5) {
        // Below its low-stock threshold from the start.
        movements.push(movement('in', skuId, warehouses[0]!.id, 12, { reference: 'DEMO-RK-0001 期初库存' }));
        return;
      }
      const stocked = i % 5 === 4 ? warehouses.slice(0, 1) : warehouses;
      for (const warehouse of stocked) {
        const quantity = 5 + (hashOf(skuId, warehouse.code) % 400);
        movements.push(movement('in', skuId, warehouse.id, quantity, { reference: 'DEMO-RK-0001 期初库存' }));
      }
    });
    await applyMovements(tx, movements, system);
    const thresholds = [];
    for (const skuId of skuIds.slice(0, 6)) {
      thresholds.push((await upsertThreshold(tx, { skuId, warehouseId: null, threshold: 50 })).id);
    }
    await evaluateThresholds(tx, skuIds.slice(0, 6), undefined, thresholds);
    if (options.acmeCompanyId) {
      await tx.query('INSERT INTO inventory.company_preferences (company_id, warehouse_id) VALUES ($1, $2)', [
        options.acmeCompanyId,
        warehouses[0]!.id,
      ]);
    }
  });
  return { created: true };
}
