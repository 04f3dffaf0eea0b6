import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Database } from '../platform/database/database.ts';
import { startEmbeddedPostgres } from '../platform/database/embedded-postgres.ts';
import { applyMigrations } from '../platform/database/migrations.ts';
import { platformMigrations } from '../platform/migrations.ts';
import type { TestHub } from '../platform/testing/start-test-hub.ts';
import { inventoryModule } from './inventory.module.ts';
import { reserve } from './reservations.ts';
import { applyMovements, movement } from './stock-ledger.ts';
import {
  asBuyer,
  asStaff,
  createSkus,
  createWarehouse,
  ledgerMismatches,
  receive,
  startInventoryHub,
} from './testing/inventory-hub.ts';
import { insertWarehouse } from './warehouses.ts';

/**
 * 50 buyers ordering the last 10 units at the same moment: exactly 10 units end up reserved, the
 * other 40 are refused with `insufficient-stock`, nothing goes negative, and the ledger still sums
 * to the stock levels. Run through the mesh (the hub's pool), with 50 database sessions at once
 * (every reservation in its own transaction, all contending for the same rows), and on the
 * embedded PGlite, where the one session serialises the transactions.
 */
// biome-ignore lint/suspicious/noExplicitAny: refusals are checked field by field
type Any = any;

const BUYERS = 50;
const system = { kind: 'system' as const, id: null };

interface Outcome {
  granted: number;
  refused: Any[];
  others: Any[];
}

async function race(attempts: Array<() => Promise<{ allocations: Array<{ quantity: number }> }>>) {
  const settled = await Promise.allSettled(attempts.map((attempt) => attempt()));
  const outcome: Outcome = { granted: 0, refused: [], others: [] };
  for (const result of settled) {
    if (result.status === 'fulfilled') {
      outcome.granted += result.value.allocations.reduce((sum, a) => sum + a.quantity, 0);
    } else if (result.reason?.type === 'insufficient-stock') outcome.refused.push(result.reason);
    else outcome.others.push(result.reason);
  }
  return outcome;
}

async function levelsOf(db: Database, skuId: string) {
  const { rows } = await db.query(
    'SELECT warehouse_id, on_hand, reserved FROM inventory.stock_levels WHERE sku_id = $1 ORDER BY warehouse_id',
    [skuId],
  );
  return rows.map((row) => ({ onHand: Number(row.on_hand), reserved: Number(row.reserved) }));
}

/**
 * Opens `count` sessions and returns them to the pool idle, so the race does not depend on the
 * server accepting 50 new connections at that moment (other suites share its max_connections).
 */
async function openSessions(db: Database, count: number): Promise<void> {
  const clients: Array<{ release(): void }> = [];
  const deadline = Date.now() + 60_000;
  while (clients.length < count) {
    try {
      clients.push(await db.pool.connect());
    } catch (error) {
      if (!/too many clients/.test(String(error)) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  for (const client of clients) client.release();
}

describe('on PostgreSQL', () => {
  let t: TestHub;
  let wide: Database;
  let sh: string;
  let gz: string;

  beforeAll(async () => {
    t = await startInventoryHub({ HUB_INVENTORY_SWEEP_SECONDS: '0' });
    sh = await createWarehouse(t.hub.broker, { code: 'SH', priority: 1 });
    gz = await createWarehouse(t.hub.broker, { code: 'GZ' });
    // One session per buyer, so all 50 transactions are open at once.
    wide = new Database(t.database.url, { max: BUYERS });
  }, 60_000);

  afterAll(async () => {
    await wide?.close();
    await t?.stop();
  });

  it('50 buyers through the mesh for the last 10 units: exactly 10 reserved, 40 refused', async () => {
    const skuId = (await createSkus(t.hub.broker, ['LAST-TEN-MESH'])).get('LAST-TEN-MESH')!;
    await receive(t.hub.broker, sh, [{ skuId, quantity: 10 }]);
    const outcome = await race(
      Array.from({ length: BUYERS }, () => {
        const companyId = randomUUID();
        return () =>
          t.hub.broker.call(
            'inventory.internal.reserve',
            { reference: `order:${randomUUID()}`, companyId, lines: [{ skuId, quantity: 1 }] },
            asBuyer(companyId),
          ) as Promise<Any>;
      }),
    );
    expect(outcome.others).toEqual([]);
    expect(outcome.granted).toBe(10);
    expect(outcome.refused).toHaveLength(40);
    expect(outcome.refused[0]).toMatchObject({
      code: 422,
      data: { lines: [{ skuId, requested: 1, available: 0 }] },
    });
    expect(await levelsOf(t.hub.platform.db, skuId)).toEqual([{ onHand: 10, reserved: 10 }]);
    const { rows } = await t.hub.platform.db.query(
      "SELECT count(*)::int AS n FROM inventory.reservations WHERE status = 'reserved'",
    );
    expect(rows[0]!.n).toBe(10);
    expect(await ledgerMismatches(t.hub.platform.db)).toEqual([]);
  });

  it('50 sessions at once for 10 units spread over two warehouses, split lines and mixed sizes', async () => {
    const skuId = (await createSkus(t.hub.broker, ['LAST-TEN-WIDE'])).get('LAST-TEN-WIDE')!;
    await receive(t.hub.broker, sh, [{ skuId, quantity: 4 }]);
    await receive(t.hub.broker, gz, [{ skuId, quantity: 6 }]);
    // First everyone asks for one: exactly 10 granted.
    await openSessions(wide, BUYERS);
    const ones = await race(
      Array.from(
        { length: BUYERS },
        () => () =>
          reserve(
            wide,
            {
              reference: `order:${randomUUID()}`,
              companyId: randomUUID(),
              lines: [{ skuId, quantity: 1 }],
              expiresInSeconds: 600,
            },
            system,
          ),
      ),
    );
    expect(ones.others).toEqual([]);
    expect(ones.granted).toBe(10);
    expect(ones.refused).toHaveLength(40);
    expect((await levelsOf(wide, skuId)).sort((a, b) => a.onHand - b.onHand)).toEqual([
      { onHand: 4, reserved: 4 },
      { onHand: 6, reserved: 6 },
    ]);

    // Then 10 more units arrive and 50 buyers ask for 1–3 each (lines that must split): whatever
    // is granted is exactly what is reserved, never more than is on hand.
    await receive(t.hub.broker, sh, [{ skuId, quantity: 3 }]);
    await receive(t.hub.broker, gz, [{ skuId, quantity: 7 }]);
    await openSessions(wide, BUYERS);
    const mixed = await race(
      Array.from(
        { length: BUYERS },
        (_, i) => () =>
          reserve(
            wide,
            {
              reference: `order:${randomUUID()}`,
              companyId: randomUUID(),
              lines: [{ skuId, quantity: 1 + (i % 3) }],
              expiresInSeconds: 600,
            },
            system,
          ),
      ),
    );
    expect(mixed.others).toEqual([]);
    expect(mixed.granted).toBeGreaterThanOrEqual(8); // only a short tail (< 3 units) can be left
    const levels = await levelsOf(wide, skuId);
    const reserved = levels.reduce((sum, l) => sum + l.reserved, 0);
    expect(reserved).toBe(10 + mixed.granted);
    expect(reserved).toBeLessThanOrEqual(20);
    for (const l of levels) expect(l.reserved).toBeLessThanOrEqual(l.onHand);
    // Each refusal said what was left, and it really was less than asked.
    for (const refusal of mixed.refused) {
      const [line] = refusal.data.lines;
      expect(line.available).toBeLessThan(line.requested);
    }
    expect(await ledgerMismatches(wide)).toEqual([]);
  }, 150_000);

  it('the staff availability agrees', async () => {
    const { items } = (await t.hub.broker.call('inventory.stock.levels', { limit: 50 }, asStaff())) as Any;
    for (const item of items) expect(item.available).toBeGreaterThanOrEqual(0);
  });
});

describe('on the embedded PGlite', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-inventory-'));
  let stop: () => Promise<void>;
  let db: Database;

  beforeAll(async () => {
    const embedded = await startEmbeddedPostgres(dataDir);
    stop = embedded.stop;
    db = new Database(embedded.url, { max: 8 });
    await applyMigrations(db, [platformMigrations, inventoryModule.migrations!]);
  }, 180_000);

  afterAll(async () => {
    await db?.close();
    await stop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('50 buyers for the last 10 units: exactly 10 reserved, 40 refused (one session, so one at a time)', async () => {
    const skuId = randomUUID();
    const warehouse = await insertWarehouse(db, { code: 'PGLITE', name: '嵌入式仓' });
    await db.transaction((tx) => applyMovements(tx, [movement('in', skuId, warehouse.id, 10)], system));
    const outcome = await race(
      Array.from(
        { length: BUYERS },
        () => () =>
          reserve(
            db,
            {
              reference: `order:${randomUUID()}`,
              companyId: randomUUID(),
              lines: [{ skuId, quantity: 1 }],
              expiresInSeconds: 600,
            },
            system,
          ),
      ),
    );
    expect(outcome.others).toEqual([]);
    expect(outcome.granted).toBe(10);
    expect(outcome.refused).toHaveLength(40);
    expect(await levelsOf(db, skuId)).toEqual([{ onHand: 10, reserved: 10 }]);
    expect(await ledgerMismatches(db)).toEqual([]);
  }, 60_000);
});
