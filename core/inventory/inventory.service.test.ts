import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestHub } from '../platform/testing/start-test-hub.ts';
import { expireReservations } from './reservations.ts';
import {
  asBuyer,
  asStaff,
  asSystem,
  assertMatchesSchema,
  createCompany,
  createSkus,
  createWarehouse,
  ledgerMismatches,
  receive,
  startInventoryHub,
} from './testing/inventory-hub.ts';

/**
 * The inventory service on a real hub: the mesh-only contract the order saga uses (reserve,
 * confirm, release, ship — all idempotent), warehouse choice, the staff movements, low-stock alerts,
 * expiry, and the books: every stock level equals the sum of its ledger after all of it.
 */
let t: TestHub;
let call: <T = Any>(action: string, params: unknown, options?: unknown) => Promise<T>;
let acme: string;
let other: string;
let sku: Map<string, string>;
let sh: string;
let gz: string;
let bj: string;
// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;

async function refusal(promise: Promise<unknown>): Promise<Any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

async function outbox(topic: string): Promise<Any[]> {
  const { rows } = await t.hub.platform.db.query(
    'SELECT payload, company_id FROM platform.outbox WHERE topic = $1 ORDER BY id',
    [topic],
  );
  return rows.map((row) => row.payload);
}

async function level(skuId: string, warehouseId: string) {
  const { rows } = await t.hub.platform.db.query(
    'SELECT on_hand, reserved FROM inventory.stock_levels WHERE sku_id = $1 AND warehouse_id = $2',
    [skuId, warehouseId],
  );
  return rows[0] ? { onHand: Number(rows[0].on_hand), reserved: Number(rows[0].reserved) } : undefined;
}

beforeAll(async () => {
  t = await startInventoryHub({ HUB_INVENTORY_SWEEP_SECONDS: '1' });
  call = (action, params, options) => t.hub.broker.call(action, params as never, options as never) as never;
  acme = await createCompany(t.hub.broker, 'Acme inventory');
  other = await createCompany(t.hub.broker, 'Other inventory');
  sku = await createSkus(t.hub.broker, ['INV-BOLT', 'INV-NUT', 'INV-WASHER', 'INV-LOW', 'INV-EXP']);
  sh = await createWarehouse(t.hub.broker, { code: 'SH', name: '上海仓', priority: 10, region: '华东' });
  gz = await createWarehouse(t.hub.broker, { code: 'GZ', name: '广州仓', priority: 5, region: '华南' });
  bj = await createWarehouse(t.hub.broker, {
    code: 'BJ',
    name: '北京仓',
    priority: 0,
    visibleToBuyers: false,
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('reservations (the order saga contract)', () => {
  it('splits a line over warehouses by priority, all lines or none, and answers the contract shape', async () => {
    const bolt = sku.get('INV-BOLT')!;
    const nut = sku.get('INV-NUT')!;
    await receive(t.hub.broker, sh, [{ skuId: bolt, quantity: 6 }]);
    await receive(t.hub.broker, gz, [
      { skuId: bolt, quantity: 10 },
      { skuId: nut, quantity: 2 },
    ]);

    const reference = `order:${randomUUID()}`;
    const reserved = await call(
      'inventory.internal.reserve',
      {
        reference,
        companyId: acme,
        lines: [
          { skuId: bolt, quantity: 8 },
          { skuId: nut, quantity: 2 },
        ],
      },
      asBuyer(acme),
    );
    assertMatchesSchema('api/inventory/reserve-response', reserved);
    expect(reserved.status).toBe('reserved');
    expect(new Date(reserved.expiresAt).getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(reserved.allocations).toEqual(
      expect.arrayContaining([
        { skuId: bolt, warehouseId: sh, quantity: 6 },
        { skuId: bolt, warehouseId: gz, quantity: 2 },
        { skuId: nut, warehouseId: gz, quantity: 2 },
      ]),
    );
    expect(reserved.allocations).toHaveLength(3);
    expect(await level(bolt, sh)).toEqual({ onHand: 6, reserved: 6 });

    // One short line refuses the whole reservation and holds nothing.
    const short = await refusal(
      call(
        'inventory.internal.reserve',
        {
          reference: `order:${randomUUID()}`,
          companyId: acme,
          lines: [
            { skuId: bolt, quantity: 1 },
            { skuId: nut, quantity: 1 },
          ],
        },
        asBuyer(acme),
      ),
    );
    expect(short).toMatchObject({ code: 422, type: 'insufficient-stock' });
    expect(short.data.lines).toEqual([{ skuId: nut, requested: 1, available: 0 }]);
    expect(await level(bolt, gz)).toEqual({ onHand: 10, reserved: 2 });

    // Release returns everything to available; a second release is a no-op success.
    const released = await call('inventory.internal.release', { reference }, asSystem);
    assertMatchesSchema('api/inventory/release-response', released);
    expect(released.status).toBe('released');
    expect(released.released).toHaveLength(3);
    expect((await call('inventory.internal.release', { reference }, asSystem)).released).toEqual([]);
    expect(
      await call('inventory.internal.release', { reference: `order:${randomUUID()}` }, asSystem),
    ).toMatchObject({ status: null, released: [] });
    expect(await level(bolt, sh)).toEqual({ onHand: 6, reserved: 0 });
    // A released reservation cannot be confirmed: the saga can tell why.
    expect(await refusal(call('inventory.internal.confirm', { reference }, asSystem))).toMatchObject({
      code: 422,
      type: 'reservation-released',
    });
  });

  it('is idempotent per reference: 20 retries hold the stock once; other lines under it are refused', async () => {
    const washer = sku.get('INV-WASHER')!;
    await receive(t.hub.broker, sh, [{ skuId: washer, quantity: 5 }]);
    const params = {
      reference: `order:${randomUUID()}`,
      companyId: acme,
      lines: [{ skuId: washer, quantity: 3 }],
    };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => call('inventory.internal.reserve', params, asBuyer(acme))),
    );
    expect(new Set(answers.map((a) => a.reservationId)).size).toBe(1);
    expect(await level(washer, sh)).toEqual({ onHand: 5, reserved: 3 });
    const { rows } = await t.hub.platform.db.query(
      "SELECT count(*)::int AS n FROM inventory.movements WHERE reference = $1 AND kind = 'reserve'",
      [params.reference],
    );
    expect(rows[0]!.n).toBe(1);
    const reused = await refusal(
      call(
        'inventory.internal.reserve',
        { ...params, lines: [{ skuId: washer, quantity: 1 }] },
        asBuyer(acme),
      ),
    );
    expect(reused).toMatchObject({ code: 409 });
    await call('inventory.internal.release', { reference: params.reference }, asSystem);
  });

  it("takes from the company's preferred warehouse first; another company's caller is refused", async () => {
    const bolt = sku.get('INV-BOLT')!;
    await call('inventory.preferences.set', { companyId: acme, warehouseId: gz }, asStaff());
    const reference = `order:${randomUUID()}`;
    const reserved = await call(
      'inventory.internal.reserve',
      { reference, companyId: acme, lines: [{ skuId: bolt, quantity: 4 }] },
      asBuyer(acme),
    );
    expect(reserved.allocations).toEqual([{ skuId: bolt, warehouseId: gz, quantity: 4 }]);

    const available = await call(
      'inventory.internal.available',
      { skuIds: [bolt], companyId: acme },
      asSystem,
    );
    assertMatchesSchema('api/inventory/available-response', available);
    expect(available.items[0]).toMatchObject({ skuId: bolt, available: 12 });
    expect(available.items[0].warehouses.map((w: Any) => w.code)).toEqual(['GZ', 'SH']);

    expect(
      await refusal(
        call(
          'inventory.internal.reserve',
          { reference: `order:${randomUUID()}`, companyId: acme, lines: [{ skuId: bolt, quantity: 1 }] },
          asBuyer(other),
        ),
      ),
    ).toMatchObject({ code: 403 });
    expect(await refusal(call('inventory.internal.release', { reference }, asBuyer(other)))).toMatchObject({
      code: 404,
    });
    expect(await level(bolt, gz)).toEqual({ onHand: 10, reserved: 4 });
    await call('inventory.internal.release', { reference }, asSystem);
    await call('inventory.preferences.set', { companyId: acme, warehouseId: null }, asStaff());
  });

  it('confirms (no expiry), ships partially once per shipment id, releases the rest, and closes as shipped', async () => {
    const bolt = sku.get('INV-BOLT')!;
    const reference = `order:${randomUUID()}`;
    const { allocations } = await call(
      'inventory.internal.reserve',
      { reference, companyId: acme, lines: [{ skuId: bolt, quantity: 9 }] },
      asBuyer(acme),
    );
    expect(allocations).toEqual([
      { skuId: bolt, warehouseId: sh, quantity: 6 },
      { skuId: bolt, warehouseId: gz, quantity: 3 },
    ]);
    const confirmed = await call('inventory.internal.confirm', { reference }, asSystem);
    assertMatchesSchema('entities/stock-reservation', confirmed);
    expect(confirmed).toMatchObject({ status: 'confirmed', expiresAt: null });
    expect((await call('inventory.internal.confirm', { reference }, asSystem)).status).toBe('confirmed');

    const shipment = {
      reference,
      shipmentId: `shipment-${randomUUID()}`,
      lines: [{ skuId: bolt, warehouseId: sh, quantity: 4 }],
    };
    const first = await call('inventory.internal.ship', shipment, asSystem);
    assertMatchesSchema('api/inventory/ship-response', first);
    expect(first).toMatchObject({
      status: 'confirmed',
      shipped: [{ skuId: bolt, warehouseId: sh, quantity: 4 }],
    });
    expect(await call('inventory.internal.ship', shipment, asSystem)).toEqual(first);
    expect(await level(bolt, sh)).toEqual({ onHand: 2, reserved: 2 });

    const over = await refusal(
      call(
        'inventory.internal.ship',
        { reference, shipmentId: randomUUID(), lines: [{ skuId: bolt, warehouseId: gz, quantity: 4 }] },
        asSystem,
      ),
    );
    expect(over).toMatchObject({ code: 422, type: 'exceeds-reservation' });
    expect(over.data.lines).toEqual([{ skuId: bolt, warehouseId: gz, requested: 4, open: 3 }]);

    // A backordered line: release 2 of the 3 in GZ, idempotently per release id.
    const partial = { reference, lines: [{ skuId: bolt, quantity: 2 }], releaseId: 'backorder-1' };
    expect((await call('inventory.internal.release', partial, asSystem)).released).toEqual([
      { skuId: bolt, warehouseId: gz, quantity: 2 },
    ]);
    await call('inventory.internal.release', partial, asSystem);
    expect(await level(bolt, gz)).toEqual({ onHand: 10, reserved: 1 });

    await call(
      'inventory.internal.ship',
      {
        reference,
        shipmentId: randomUUID(),
        lines: [
          { skuId: bolt, warehouseId: sh, quantity: 2 },
          { skuId: bolt, warehouseId: gz, quantity: 1 },
        ],
      },
      asSystem,
    );
    const done = await call(
      'inventory.reservations.list',
      { reference, limit: 10 },
      asStaff(['inventory.read']),
    );
    expect(done.items[0]).toMatchObject({ status: 'shipped', expiresAt: null });
    expect(done.items[0].lines).toEqual([
      { skuId: bolt, warehouseId: sh, quantity: 6, released: 0, shipped: 6, open: 0 },
      { skuId: bolt, warehouseId: gz, quantity: 3, released: 2, shipped: 1, open: 0 },
    ]);
    expect(await level(bolt, sh)).toEqual({ onHand: 0, reserved: 0 });
    const outs = await call('inventory.stock.movements', { reference, kind: 'out', limit: 10 }, asStaff());
    expect(outs.items.map((m: Any) => m.quantity).sort()).toEqual([1, 2, 4]);
    expect(
      outs.items.every((m: Any) => m.onHandDelta === -m.quantity && m.reservedDelta === -m.quantity),
    ).toBe(true);
  });
});

describe('expiry', () => {
  it('releases unconfirmed reservations past their expiry, once, announcing stock.reservation_expired', async () => {
    const exp = sku.get('INV-EXP')!;
    await receive(t.hub.broker, gz, [{ skuId: exp, quantity: 5 }]);
    const late = `order:${randomUUID()}`;
    const firm = `order:${randomUUID()}`;
    await call(
      'inventory.internal.reserve',
      { reference: late, companyId: acme, lines: [{ skuId: exp, quantity: 2 }], expiresInSeconds: 600 },
      asBuyer(acme),
    );
    await call(
      'inventory.internal.reserve',
      { reference: firm, companyId: acme, lines: [{ skuId: exp, quantity: 1 }], expiresInSeconds: 600 },
      asBuyer(acme),
    );
    await call('inventory.internal.confirm', { reference: firm }, asSystem);

    const db = t.hub.platform.db;
    expect((await expireReservations(db, new Date(Date.now() + 60_000))).expired).toEqual([]);
    const sweeps = await Promise.all([
      expireReservations(db, new Date(Date.now() + 700_000)),
      expireReservations(db, new Date(Date.now() + 700_000)),
    ]);
    expect(sweeps.flatMap((s) => s.expired)).toEqual([late]);
    expect(await level(exp, gz)).toEqual({ onHand: 5, reserved: 1 });
    const events = (await outbox('stock.reservation_expired')).filter((e) => e.reference === late);
    expect(events).toEqual([
      expect.objectContaining({
        reference: late,
        companyId: acme,
        lines: [{ skuId: exp, warehouseId: gz, quantity: 2 }],
      }),
    ]);
    assertMatchesSchema('events/stock-reservation-expired', events[0]);
    expect(await refusal(call('inventory.internal.confirm', { reference: late }, asSystem))).toMatchObject({
      type: 'reservation-expired',
    });
  });

  it("the service's own scheduled sweep (a BullMQ job every HUB_INVENTORY_SWEEP_SECONDS) expires them too", async () => {
    const exp = sku.get('INV-EXP')!;
    const reference = `order:${randomUUID()}`;
    await call(
      'inventory.internal.reserve',
      { reference, companyId: acme, lines: [{ skuId: exp, quantity: 1 }], expiresInSeconds: 1 },
      asBuyer(acme),
    );
    const deadline = Date.now() + 15_000;
    let status = 'reserved';
    while (status === 'reserved' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await call('inventory.reservations.list', { reference, limit: 1 }, asStaff())).items[0]
        .status;
    }
    expect(status).toBe('expired');
    const jobs = await t.hub.platform.jobs.counts('inventory-sweep');
    expect(jobs.completed).toBeGreaterThan(0);
  }, 20_000);
});

describe('staff movements and low stock', () => {
  it('adjusts and transfers only what the rules allow, and alerts low stock once per crossing', async () => {
    const low = sku.get('INV-LOW')!;
    await receive(t.hub.broker, sh, [{ skuId: low, quantity: 20 }]);
    const threshold = await call('inventory.thresholds.set', { skuId: low, threshold: 10 }, asStaff());
    assertMatchesSchema('entities/stock-threshold', threshold);
    expect(threshold).toMatchObject({ warehouseId: null, threshold: 10, below: false, available: 20 });

    const reserve = (quantity: number) =>
      call(
        'inventory.internal.reserve',
        { reference: `order:${randomUUID()}`, companyId: acme, lines: [{ skuId: low, quantity }] },
        asBuyer(acme),
      );
    await reserve(5); // 15 left
    await reserve(6); // 9 left: crossed
    await reserve(1); // 8: still below, no second alert
    const transfer = await call(
      'inventory.stock.transfer',
      { fromWarehouseId: sh, toWarehouseId: bj, lines: [{ skuId: low, quantity: 8 }], reference: 'DB-001' },
      asStaff(),
    );
    assertMatchesSchema('api/inventory/stock-change-response', transfer);
    const tooMuch = await refusal(
      call(
        'inventory.stock.transfer',
        { fromWarehouseId: sh, toWarehouseId: bj, lines: [{ skuId: low, quantity: 1 }] },
        asStaff(),
      ),
    );
    expect(tooMuch).toMatchObject({ code: 422, type: 'insufficient-stock' });
    expect(tooMuch.data.lines).toEqual([{ skuId: low, requested: 1, available: 0 }]);

    // Counting 11 in SH: on hand may not go below the 12 reserved.
    const below = await refusal(
      call(
        'inventory.stock.adjust',
        { skuId: low, warehouseId: sh, onHand: 11, reason: 'stocktake' },
        asStaff(),
      ),
    );
    expect(below).toMatchObject({ code: 422, type: 'below-reserved' });
    expect(below.data).toEqual({ onHand: 12, reserved: 12, requested: 11 });

    let alerts = (await outbox('stock.low')).filter((e) => e.skuId === low);
    expect(alerts).toEqual([
      expect.objectContaining({ skuId: low, warehouseId: null, threshold: 10, available: 9 }),
    ]);
    assertMatchesSchema('events/stock-low', alerts[0]);

    // Back above (a receipt), then below again: a second crossing, a second alert.
    await receive(t.hub.broker, gz, [{ skuId: low, quantity: 10 }]);
    expect((await call('inventory.thresholds.get', { id: threshold.id }, asStaff())).below).toBe(false);
    await call(
      'inventory.stock.adjust',
      { skuId: low, warehouseId: gz, delta: -10, reason: 'damaged' },
      asStaff(),
    );
    alerts = (await outbox('stock.low')).filter((e) => e.skuId === low);
    expect(alerts.map((a) => a.available)).toEqual([9, 8]);
    const lowNow = await call(
      'inventory.thresholds.list',
      { below: true, limit: 50 },
      asStaff(['inventory.read']),
    );
    expect(lowNow.items.map((i: Any) => i.id)).toContain(threshold.id);
  });

  it('an inactive warehouse is neither reserved from nor shown; staff release a reservation by hand', async () => {
    const nut = sku.get('INV-NUT')!;
    await receive(t.hub.broker, bj, [{ skuId: nut, quantity: 3 }]);
    await call('inventory.warehouses.update', { id: gz, active: false }, asStaff());
    try {
      // GZ holds 2 nuts but is inactive: only BJ's 3 count, for reservations and for buyers.
      const view = await call('inventory.availability', { skuIds: [nut] }, asBuyer(acme));
      expect(view.items).toEqual([{ skuId: nut, inStock: true, available: 3, warehouses: [] }]);
      const short = await refusal(
        call(
          'inventory.internal.reserve',
          { reference: `order:${randomUUID()}`, companyId: acme, lines: [{ skuId: nut, quantity: 4 }] },
          asBuyer(acme),
        ),
      );
      expect(short.data.lines).toEqual([{ skuId: nut, requested: 4, available: 3 }]);
      const reference = `order:${randomUUID()}`;
      const { reservationId, allocations } = await call(
        'inventory.internal.reserve',
        { reference, companyId: acme, lines: [{ skuId: nut, quantity: 3 }] },
        asBuyer(acme),
      );
      expect(allocations).toEqual([{ skuId: nut, warehouseId: bj, quantity: 3 }]);
      const released = await call(
        'inventory.reservations.release',
        { id: reservationId, reason: 'order cancelled in the ERP' },
        asStaff(),
      );
      expect(released).toMatchObject({ status: 'released', lines: [{ released: 3, open: 0 }] });
      expect((await call('inventory.reservations.get', { id: reservationId }, asStaff())).status).toBe(
        'released',
      );
      const { rows } = await t.hub.platform.db.query(
        "SELECT details FROM platform.audit_log WHERE action = 'stock_reservation.released' AND entity_id = $1",
        [reservationId],
      );
      expect(rows[0]!.details).toMatchObject({ reference, reason: 'order cancelled in the ERP' });
      const movements = await call(
        'inventory.stock.movements',
        { reference, kind: 'release', limit: 5 },
        asStaff(),
      );
      expect(movements.items[0]).toMatchObject({
        reason: 'order cancelled in the ERP',
        actor: { kind: 'staff' },
      });
    } finally {
      await call('inventory.warehouses.update', { id: gz, active: true }, asStaff());
    }
  });

  it('refuses staff changes without inventory.manage, and buyers entirely', async () => {
    const reader = asStaff(['inventory.read']);
    expect(
      await refusal(call('inventory.warehouses.create', { code: 'NOPE', name: 'x' }, reader)),
    ).toMatchObject({
      code: 403,
    });
    expect((await call('inventory.warehouses.list', { limit: 10 }, reader)).items.length).toBe(3);
    expect(await refusal(call('inventory.stock.levels', { limit: 10 }, asBuyer(acme)))).toMatchObject({
      code: 403,
    });
  });
});

describe('the books', () => {
  it('every stock level equals the sum of its movements, and nothing is negative', async () => {
    expect(await ledgerMismatches(t.hub.platform.db)).toEqual([]);
    const { rows } = await t.hub.platform.db.query('SELECT count(*)::int AS n FROM inventory.movements');
    expect(rows[0]!.n).toBeGreaterThan(20);
  });

  it('the database itself refuses negative stock, over-reservation and rewriting the ledger', async () => {
    const db = t.hub.platform.db;
    const bolt = sku.get('INV-BOLT')!;
    await expect(
      db.query('UPDATE inventory.stock_levels SET reserved = on_hand + 1 WHERE sku_id = $1', [bolt]),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.query('UPDATE inventory.stock_levels SET reserved = -1, on_hand = -1 WHERE sku_id = $1', [bolt]),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(db.query('UPDATE inventory.movements SET quantity = 1')).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM inventory.movements')).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE inventory.movements')).rejects.toThrow(/append-only/);
  });

  it('a warehouse with history cannot be deleted, one without can; audit records every staff change', async () => {
    expect(await refusal(call('inventory.warehouses.delete', { id: sh }, asStaff()))).toMatchObject({
      code: 409,
    });
    const empty = await createWarehouse(t.hub.broker, { code: 'EMPTY' });
    expect(await call('inventory.warehouses.delete', { id: empty }, asStaff())).toEqual({
      id: empty,
      deleted: true,
    });
    const { rows } = await t.hub.platform.db.query(
      `SELECT DISTINCT action FROM platform.audit_log WHERE action LIKE 'warehouse.%' OR action LIKE 'stock%'
        OR action LIKE 'inventory%' ORDER BY action`,
    );
    expect(rows.map((r) => r.action)).toEqual([
      'inventory_preference.set',
      'stock.adjusted',
      'stock.received',
      'stock.transferred',
      'stock_reservation.released',
      'stock_threshold.created',
      'warehouse.created',
      'warehouse.deleted',
      'warehouse.updated',
    ]);
  });
});
