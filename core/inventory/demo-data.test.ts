import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_WAREHOUSES, seedDemoInventory } from './demo-data.ts';
import {
  asBuyer,
  createCompany,
  createSkus,
  ledgerMismatches,
  startInventoryHub,
} from './testing/inventory-hub.ts';

let t: TestHub;
let acme: string;
let skuIds: string[];
// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;

beforeAll(async () => {
  t = await startInventoryHub({ HUB_INVENTORY_SWEEP_SECONDS: '0' });
  acme = await createCompany(t.hub.broker, 'Acme demo stock');
  const skus = await createSkus(
    t.hub.broker,
    Array.from({ length: 14 }, (_, i) => `DEMO-STOCK-${String(i).padStart(2, '0')}`),
  );
  skuIds = [...skus.values()].sort();
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

it('seeds four warehouses, stock with gaps, thresholds and a low-stock alert, once', async () => {
  const db = t.hub.platform.db;
  expect(await seedDemoInventory(db, { skuIds, acmeCompanyId: acme })).toEqual({ created: true });
  expect(await seedDemoInventory(db, { skuIds, acmeCompanyId: acme })).toEqual({ created: false });
  const { rows: warehouses } = await db.query('SELECT code FROM inventory.warehouses ORDER BY priority DESC');
  expect(warehouses.map((w) => w.code)).toEqual(DEMO_WAREHOUSES.map((w) => w.code));
  expect(await ledgerMismatches(db)).toEqual([]);

  // Acme reserves from Shanghai first; the seventh SKU has no stock; the sixth is low.
  const { items } = (await t.hub.broker.call('inventory.availability', { skuIds }, asBuyer(acme))) as Any;
  expect(items[6]).toMatchObject({ inStock: false, available: 0, warehouses: [] });
  expect(items[5]).toMatchObject({ available: 12 });
  expect(items[4].warehouses.map((w: Any) => w.code)).toEqual(['SH-01']);
  expect(items[0].warehouses.map((w: Any) => w.code)).toEqual(['SH-01', 'GZ-01', 'BJ-01']);
  expect(items[0].available).toBeGreaterThan(
    items[0].warehouses.reduce((s: number, w: Any) => s + w.available, 0),
  );
  const { rows: alerts } = await db.query("SELECT payload FROM platform.outbox WHERE topic = 'stock.low'");
  expect(alerts.map((a) => a.payload.skuId)).toContain(skuIds[5]);
  const { rows: preference } = await db.query(
    'SELECT w.code FROM inventory.company_preferences p JOIN inventory.warehouses w ON w.id = p.warehouse_id WHERE company_id = $1',
    [acme],
  );
  expect(preference).toEqual([{ code: 'SH-01' }]);
});
