import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, logInAs, type TestHub } from '../platform/testing/start-test-hub.ts';
import {
  assertMatchesSchema,
  createCompany,
  createSkus,
  DEMO_BUYER,
  DEMO_STAFF,
  startInventoryHub,
} from './testing/inventory-hub.ts';

/**
 * Inventory through the gateway: the demo admin runs the warehouses over REST (receipts by SKU
 * code, adjustments, transfers, thresholds, the ledger), the demo buyer sees 多仓库存 for the SKUs
 * the catalog lets them see, and mistakes come back as problem+json with pointers.
 */
let t: TestHub;
let staff: string;
let buyer: string;
let sku: Map<string, string>;
let hidden: string;
const warehouses: Record<string, string> = {};
// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;

beforeAll(async () => {
  t = await startInventoryHub({ HUB_INVENTORY_SWEEP_SECONDS: '0' });
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  buyer = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  sku = await createSkus(t.hub.broker, ['HTTP-BOLT', 'HTTP-NUT']);
  const stranger = await createCompany(t.hub.broker, 'Stranger');
  hidden = (await createSkus(t.hub.broker, ['HTTP-SECRET'], { visibleTo: [stranger] })).get('HTTP-SECRET')!;
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('staff', () => {
  it('create warehouses (201, Location), change one, list them', async () => {
    for (const [code, name, priority, visibleToBuyers] of [
      ['SH-01', '上海仓', 10, true],
      ['GZ-01', '广州仓', 5, true],
      ['BJ-01', '北京仓', 0, false],
    ] as const) {
      const created = await http(t.baseUrl, 'POST', '/api/staff/inventory/warehouses', {
        token: staff,
        body: { code, name, priority, visibleToBuyers, region: '华东' },
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`/api/staff/inventory/warehouses/${created.body.id}`);
      assertMatchesSchema('entities/warehouse', created.body);
      warehouses[code] = created.body.id;
    }
    const patched = await http(t.baseUrl, 'PATCH', `/api/staff/inventory/warehouses/${warehouses['GZ-01']}`, {
      token: staff,
      body: { region: '华南', address: '广州市白云区' },
    });
    expect(patched.body).toMatchObject({
      code: 'GZ-01',
      region: '华南',
      address: '广州市白云区',
      priority: 5,
    });
    const duplicate = await http(t.baseUrl, 'POST', '/api/staff/inventory/warehouses', {
      token: staff,
      body: { code: 'SH-01', name: 'again' },
    });
    expect(duplicate.status).toBe(409);
    const list = await http(t.baseUrl, 'GET', '/api/staff/inventory/warehouses?limit=2', { token: staff });
    assertMatchesSchema('api/inventory/warehouse-list-response', list.body);
    const next = await http(
      t.baseUrl,
      'GET',
      `/api/staff/inventory/warehouses?limit=2&cursor=${list.body.nextCursor}`,
      {
        token: staff,
      },
    );
    expect([...list.body.items, ...next.body.items].map((w: Any) => w.code).sort()).toEqual([
      'BJ-01',
      'GZ-01',
      'SH-01',
    ]);
  });

  it('receive by SKU code, adjust, transfer; refusals point at the field', async () => {
    const receipt = await http(t.baseUrl, 'POST', '/api/staff/inventory/receipts', {
      token: staff,
      body: {
        warehouseId: warehouses['SH-01'],
        reference: 'RK-2024-0001 入库单',
        lines: [
          { skuCode: 'HTTP-BOLT', quantity: 30 },
          { skuId: sku.get('HTTP-NUT'), quantity: 4 },
        ],
      },
    });
    expect(receipt.status).toBe(200);
    assertMatchesSchema('api/inventory/stock-change-response', receipt.body);
    expect(receipt.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          skuId: sku.get('HTTP-BOLT'),
          warehouseCode: 'SH-01',
          onHand: 30,
          available: 30,
        }),
      ]),
    );
    const unknown = await http(t.baseUrl, 'POST', '/api/staff/inventory/receipts', {
      token: staff,
      body: {
        warehouseId: warehouses['SH-01'],
        lines: [
          { skuCode: 'HTTP-BOLT', quantity: 1 },
          { skuCode: 'NO-SUCH', quantity: 1 },
        ],
      },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(unknown.body.errors).toEqual([{ pointer: '/lines/1/skuCode', detail: 'no such SKU' }]);

    const both = await http(t.baseUrl, 'POST', '/api/staff/inventory/adjustments', {
      token: staff,
      body: {
        skuId: sku.get('HTTP-BOLT'),
        warehouseId: warehouses['SH-01'],
        delta: 1,
        onHand: 3,
        reason: 'x',
      },
    });
    expect(both.status).toBe(400);
    const counted = await http(t.baseUrl, 'POST', '/api/staff/inventory/adjustments', {
      token: staff,
      body: {
        skuId: sku.get('HTTP-BOLT'),
        warehouseId: warehouses['SH-01'],
        onHand: 28,
        reason: '盘点 stocktake',
      },
    });
    expect(counted.body.items[0]).toMatchObject({ onHand: 28, reserved: 0 });

    const same = await http(t.baseUrl, 'POST', '/api/staff/inventory/transfers', {
      token: staff,
      body: {
        fromWarehouseId: warehouses['SH-01'],
        toWarehouseId: warehouses['SH-01'],
        lines: [{ skuId: sku.get('HTTP-BOLT'), quantity: 1 }],
      },
    });
    expect(same.body.errors).toEqual([
      { pointer: '/toWarehouseId', detail: 'must differ from fromWarehouseId' },
    ]);
    for (const to of ['GZ-01', 'BJ-01']) {
      const moved = await http(t.baseUrl, 'POST', '/api/staff/inventory/transfers', {
        token: staff,
        body: {
          fromWarehouseId: warehouses['SH-01'],
          toWarehouseId: warehouses[to],
          lines: [{ skuId: sku.get('HTTP-BOLT'), quantity: 8 }],
          reference: `DB-${to}`,
        },
      });
      expect(moved.status).toBe(200);
      expect(moved.body.transferId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('stock levels and the ledger, paged and filtered', async () => {
    const bolt = sku.get('HTTP-BOLT')!;
    const levels = await http(t.baseUrl, 'GET', `/api/staff/inventory/stock?skuId=${bolt}&limit=2`, {
      token: staff,
    });
    assertMatchesSchema('api/inventory/stock-level-list-response', levels.body);
    const rest = await http(
      t.baseUrl,
      'GET',
      `/api/staff/inventory/stock?skuId=${bolt}&limit=2&cursor=${levels.body.nextCursor}`,
      { token: staff },
    );
    const all = [...levels.body.items, ...rest.body.items];
    expect(all.map((l: Any) => [l.warehouseCode, l.onHand]).sort()).toEqual([
      ['BJ-01', 8],
      ['GZ-01', 8],
      ['SH-01', 12],
    ]);
    expect(rest.body.nextCursor).toBeNull();
    const bad = await http(t.baseUrl, 'GET', '/api/staff/inventory/stock?cursor=nonsense', { token: staff });
    expect(bad.body.errors).toEqual([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);

    const ledger = await http(t.baseUrl, 'GET', `/api/staff/inventory/movements?skuId=${bolt}&limit=3`, {
      token: staff,
    });
    assertMatchesSchema('api/inventory/movement-list-response', ledger.body);
    const older = await http(
      t.baseUrl,
      'GET',
      `/api/staff/inventory/movements?skuId=${bolt}&limit=3&cursor=${ledger.body.nextCursor}`,
      { token: staff },
    );
    // Newest first: the second transfer, the first, the stocktake, the receipt.
    expect([...ledger.body.items, ...older.body.items].map((m: Any) => [m.kind, m.onHandDelta])).toEqual([
      ['transfer_in', 8],
      ['transfer_out', -8],
      ['transfer_in', 8],
      ['transfer_out', -8],
      ['adjust', -2],
      ['in', 30],
    ]);
    expect(older.body.items[2]).toMatchObject({ reference: 'RK-2024-0001 入库单', actor: { kind: 'staff' } });
  });

  it('thresholds over HTTP; buyers are refused the staff API', async () => {
    const set = await http(t.baseUrl, 'PUT', '/api/staff/inventory/thresholds', {
      token: staff,
      body: { skuId: sku.get('HTTP-NUT'), warehouseId: warehouses['SH-01'], threshold: 5 },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ threshold: 5, below: true, available: 4 });
    const low = await http(t.baseUrl, 'GET', '/api/staff/inventory/thresholds?below=true', { token: staff });
    expect(low.body.items.map((i: Any) => i.id)).toEqual([set.body.id]);
    const forbidden = await http(t.baseUrl, 'GET', '/api/staff/inventory/stock', { token: buyer });
    expect(forbidden.status).toBe(403);
  });
});

describe('buyers', () => {
  it('see available per warehouse shown to buyers, for SKUs they may see only', async () => {
    const bolt = sku.get('HTTP-BOLT')!;
    const nut = sku.get('HTTP-NUT')!;
    const answer = await http(
      t.baseUrl,
      'GET',
      `/api/inventory/availability?skuIds=${bolt},${nut}&skuIds=${hidden}`,
      {
        token: buyer,
      },
    );
    expect(answer.status).toBe(200);
    assertMatchesSchema('api/inventory/availability-response', answer.body);
    expect(answer.body.detail).toBe('per_warehouse');
    expect(answer.body.items.map((i: Any) => i.skuId)).toEqual([bolt, nut]);
    const [boltView] = answer.body.items;
    // BJ-01 is not shown by name, but its 8 units count in the total.
    expect(boltView).toMatchObject({ inStock: true, available: 28 });
    expect(boltView.warehouses.map((w: Any) => [w.code, w.available])).toEqual([
      ['SH-01', 12],
      ['GZ-01', 8],
    ]);
  });

  it('refuse bad ids with a pointer, too many with 400, and guests with 401', async () => {
    const bad = await http(
      t.baseUrl,
      'GET',
      `/api/inventory/availability?skuIds=${sku.get('HTTP-BOLT')},nope`,
      {
        token: buyer,
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ pointer: '/skuIds/1', detail: 'is not a SKU id' }]);
    const many = Array.from({ length: 101 }, () => sku.get('HTTP-BOLT')).join(',');
    expect(
      (await http(t.baseUrl, 'GET', `/api/inventory/availability?skuIds=${many}`, { token: buyer })).status,
    ).toBe(400);
    expect(
      (await http(t.baseUrl, 'GET', `/api/inventory/availability?skuIds=${sku.get('HTTP-BOLT')}`)).status,
    ).toBe(401);
  });
});
