import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, logInAs, type TestHub } from '../platform/testing/start-test-hub.ts';
import {
  asBuyer,
  assertMatchesSchema,
  available,
  buildWorld,
  creditAvailable,
  orderEvents,
  startOrdersHub,
  type World,
} from './testing/orders-hub.ts';

/**
 * Orders after checkout on the real hub: the state machine's guards, staff processing and
 * shipments with backorders, buyer cancellation, order history within the reader's scope, and
 * tenant isolation.
 */

let test: TestHub;
let world: World;
let a: string;
let b: string;

beforeAll(async () => {
  test = await startOrdersHub();
  world = await buildWorld(test, { 'LC-A': 5000, 'LC-B': 1200 }, 50_000_000);
  a = world.skus.get('LC-A')!;
  b = world.skus.get('LC-B')!;
}, 120_000);

afterAll(async () => {
  await test?.stop();
});

async function placeAs(
  token: string,
  lines: Array<{ skuId: string; quantity: number }>,
  paymentMethod = 'credit',
) {
  const answer = await http(test.baseUrl, 'POST', '/api/orders', {
    token,
    body: { lines, checkoutToken: randomUUID(), paymentMethod },
  });
  if (answer.status !== 201) throw new Error(`place: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.order as { id: string; status: string; lines: Array<{ lineNo: number }> };
}

const staffMove = (id: string, to: string, reason = 'checked') =>
  http(test.baseUrl, 'POST', `/api/staff/orders/${id}/transitions`, {
    token: world.staff,
    body: { to, reason },
  });

describe('state machine', () => {
  it('refuses illegal moves with 409 and the allowed ones, guards with 422, buyers on staff routes with 403', async () => {
    const order = await placeAs(world.buyer, [{ skuId: a, quantity: 1 }]);
    expect(order.status).toBe('confirmed');
    const illegal = await staffMove(order.id, 'completed');
    expect(illegal.status).toBe(409);
    expect(illegal.body.type).toMatch(/illegal-transition$/);
    expect(illegal.body.errors[0]).toMatchObject({ pointer: '/to' });
    expect(illegal.body.errors[0].detail).toContain('on_hold');
    const guarded = await staffMove(order.id, 'shipped');
    expect(guarded.status).toBe(422);
    expect(guarded.body.type).toMatch(/transition-not-allowed$/);
    const asBuyerCaller = await http(test.baseUrl, 'POST', `/api/staff/orders/${order.id}/transitions`, {
      token: world.buyer,
      body: { to: 'on_hold', reason: 'x' },
    });
    expect(asBuyerCaller.status).toBe(403);
    // A buyer may not cancel a confirmed order (staff may): 403.
    const cancel = await http(test.baseUrl, 'POST', `/api/orders/${order.id}/cancel`, {
      token: world.buyer,
      body: {},
    });
    expect(cancel.status).toBe(403);
  });

  it('hold and release go back where the order was; every move is in the history with who and why', async () => {
    const order = await placeAs(world.buyer, [{ skuId: a, quantity: 1 }]);
    expect((await staffMove(order.id, 'on_hold', '客户要求暂缓发货')).status).toBe(200);
    const wrongWay = await staffMove(order.id, 'partially_shipped');
    expect(wrongWay.status).toBe(422);
    const released = await staffMove(order.id, 'confirmed', 'released');
    expect(released.status).toBe(200);
    assertMatchesSchema('entities/order', released.body);
    expect(released.body.history.map((h: { to: string }) => h.to)).toEqual([
      'placing',
      'confirmed',
      'on_hold',
      'confirmed',
    ]);
    expect(released.body.history[2]).toMatchObject({ actor: { kind: 'staff' }, reason: '客户要求暂缓发货' });
    const changes = await orderEvents(test, 'order.status_changed', order.id);
    expect(changes.map((e) => e.to)).toEqual(['confirmed', 'on_hold', 'confirmed']);
    for (const event of changes) assertMatchesSchema('events/order-status-changed', event);
  });

  it('staff cancelling a confirmed order releases its stock and reverses its credit', async () => {
    const stockBefore = await available(world.broker, [b]);
    const creditBefore = await creditAvailable(world.broker, world.companyId);
    const order = await placeAs(world.buyer, [{ skuId: b, quantity: 10 }]);
    expect((await available(world.broker, [b])).get(b)).toBe(stockBefore.get(b)! - 10);
    const cancelled = await staffMove(order.id, 'cancelled', '缺货，客户同意取消');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelReason: '缺货，客户同意取消' });
    expect((await available(world.broker, [b])).get(b)).toBe(stockBefore.get(b));
    expect(await creditAvailable(world.broker, world.companyId)).toBe(creditBefore);
    expect(await orderEvents(test, 'order.cancelled', order.id)).toHaveLength(1);
  });

  it('a buyer cancels their order awaiting payment; stock is released', async () => {
    const stockBefore = await available(world.broker, [b]);
    const order = await placeAs(world.buyer, [{ skuId: b, quantity: 3 }], 'bank_transfer');
    expect(order.status).toBe('pending_payment');
    const cancelled = await http(test.baseUrl, 'POST', `/api/orders/${order.id}/cancel`, {
      token: world.buyer,
      body: { reason: '重复下单' },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await available(world.broker, [b])).get(b)).toBe(stockBefore.get(b));
  });
});

describe('shipments and backorders', () => {
  it('ships part (the rest open per line), then the rest; shipped announces order.shipped; then completed', async () => {
    const stockBefore = await available(world.broker, [a, b]);
    const order = await placeAs(world.buyer, [
      { skuId: a, quantity: 5 },
      { skuId: b, quantity: 2 },
    ]);
    const shipmentId = randomUUID();
    const first = await http(test.baseUrl, 'POST', `/api/staff/orders/${order.id}/shipments`, {
      token: world.staff,
      body: {
        shipmentId,
        carrier: '顺丰速运',
        trackingNo: 'SF1234567890',
        lines: [{ lineNo: 1, quantity: 3 }],
      },
    });
    expect(first.status).toBe(200);
    assertMatchesSchema('entities/order', first.body);
    expect(first.body.status).toBe('partially_shipped');
    expect(
      first.body.lines.map((l: { shippedQuantity: number; openQuantity: number }) => [
        l.shippedQuantity,
        l.openQuantity,
      ]),
    ).toEqual([
      [3, 2],
      [0, 2],
    ]);
    expect(first.body.shipments).toHaveLength(1);
    expect(first.body.shipments[0]).toMatchObject({ carrier: '顺丰速运', trackingNo: 'SF1234567890' });
    // The same shipment again is the same shipment.
    const again = await http(test.baseUrl, 'POST', `/api/staff/orders/${order.id}/shipments`, {
      token: world.staff,
      body: { shipmentId, lines: [{ lineNo: 1, quantity: 3 }] },
    });
    expect(again.body.shipments).toHaveLength(1);
    expect(again.body.lines[0].shippedQuantity).toBe(3);
    // More than is open is refused with a pointer.
    const over = await http(test.baseUrl, 'POST', `/api/staff/orders/${order.id}/shipments`, {
      token: world.staff,
      body: { lines: [{ lineNo: 2, quantity: 3 }] },
    });
    expect(over.status).toBe(422);
    expect(over.body.errors[0].pointer).toBe('/lines/0/quantity');
    const rest = await http(test.baseUrl, 'POST', `/api/staff/orders/${order.id}/shipments`, {
      token: world.staff,
      body: {
        lines: [
          { lineNo: 1, quantity: 2 },
          { lineNo: 2, quantity: 2 },
        ],
      },
    });
    expect(rest.body.status).toBe('shipped');
    expect(await orderEvents(test, 'order.shipped', order.id)).toHaveLength(1);
    // Shipped units left the warehouse for good: available stays lower after the reservation is gone.
    const after = await available(world.broker, [a, b]);
    expect(after.get(a)).toBe(stockBefore.get(a)! - 5);
    expect(after.get(b)).toBe(stockBefore.get(b)! - 2);
    // Cancelling a shipped order is not a move the machine has.
    expect((await staffMove(order.id, 'cancelled')).status).toBe(409);
    const done = await staffMove(order.id, 'completed', 'delivered');
    expect(done.body.status).toBe('completed');
  });
});

describe('order history within the reader’s scope', () => {
  let p1: { id: string; token: string };
  let p2: { id: string; token: string };
  let manager: string;
  let p1Order: string;
  let p2Order: string;

  async function user(email: string, roles: string[], unitId: string) {
    const created = await http(test.baseUrl, 'POST', '/api/users', {
      token: world.buyer,
      body: { email, displayName: email.split('@')[0], roles, password: 'scope-pass-12', unitId },
    });
    if (created.status !== 201) throw new Error(`user: ${created.status} ${JSON.stringify(created.body)}`);
    return { id: created.body.user.id as string, token: await logInAs(test.baseUrl, email, 'scope-pass-12') };
  }

  beforeAll(async () => {
    const unit = async (name: string, parentId?: string) => {
      const created = await http(test.baseUrl, 'POST', '/api/units', {
        token: world.buyer,
        body: { name, ...(parentId ? { parentId } : {}) },
      });
      if (created.status !== 201) throw new Error(`unit: ${created.status} ${JSON.stringify(created.body)}`);
      return created.body.id as string;
    };
    const { rows } = await test.hub.platform.db.query(
      'SELECT id FROM accounts.units WHERE company_id = $1 AND parent_id IS NULL',
      [world.companyId],
    );
    const root = rows[0]!.id as string;
    const sales = await unit(`销售部 ${randomUUID().slice(0, 4)}`, root);
    const east = await unit('华东区', sales);
    const itUnit = await unit(`IT ${randomUUID().slice(0, 4)}`, root);
    const tag = randomUUID().slice(0, 6);
    p1 = await user(`p1-${tag}@acme.example`, ['purchaser'], east);
    p2 = await user(`p2-${tag}@acme.example`, ['purchaser'], itUnit);
    manager = (await user(`m-${tag}@acme.example`, ['approver'], sales)).token;
    p1Order = (await placeAs(p1.token, [{ skuId: a, quantity: 1 }])).id;
    p2Order = (await placeAs(p2.token, [{ skuId: b, quantity: 1 }])).id;
  });

  const ids = async (token: string, query = '') => {
    const list = await http(test.baseUrl, 'GET', `/api/orders${query}`, { token });
    expect(list.status).toBe(200);
    assertMatchesSchema('api/orders/order-list-response', list.body);
    return list.body.items.map((o: { id: string }) => o.id) as string[];
  };

  it('orders.read@own: a purchaser sees only their own orders, and 404 for a colleague’s', async () => {
    const mine = await ids(p1.token);
    expect(mine).toContain(p1Order);
    expect(mine).not.toContain(p2Order);
    expect((await http(test.baseUrl, 'GET', `/api/orders/${p2Order}`, { token: p1.token })).status).toBe(404);
  });

  it('orders.read@unit_tree: a manager sees the orders of their unit and below, not another unit’s', async () => {
    const seen = await ids(manager);
    expect(seen).toContain(p1Order);
    expect(seen).not.toContain(p2Order);
    expect((await http(test.baseUrl, 'GET', `/api/orders/${p1Order}`, { token: manager })).status).toBe(200);
    expect((await http(test.baseUrl, 'GET', `/api/orders/${p2Order}`, { token: manager })).status).toBe(404);
  });

  it('orders.read@company: the administrator sees both; filters by placer, status and text narrow it', async () => {
    const all = await ids(world.buyer, '?limit=100');
    expect(all).toEqual(expect.arrayContaining([p1Order, p2Order]));
    expect(await ids(world.buyer, `?placedBy=${p2.id}`)).toEqual([p2Order]);
    expect(await ids(world.buyer, `?placedBy=${p2.id}&status=cancelled`)).toEqual([]);
    expect(await ids(world.buyer, `?q=LC-B&placedBy=${p2.id}`)).toEqual([p2Order]);
  });

  it('pages with a cursor without repeating or skipping', async () => {
    const first = await http(test.baseUrl, 'GET', '/api/orders?limit=2', { token: world.buyer });
    const second = await http(test.baseUrl, 'GET', `/api/orders?limit=2&cursor=${first.body.nextCursor}`, {
      token: world.buyer,
    });
    const all = await ids(world.buyer, '?limit=4');
    expect([...first.body.items, ...second.body.items].map((o: { id: string }) => o.id)).toEqual(all);
  });
});

describe('tenant isolation', () => {
  it('another company’s buyer, even with company-wide reading, neither lists nor reads nor cancels the order', async () => {
    const order = await placeAs(world.buyer, [{ skuId: a, quantity: 1 }]);
    const other = asBuyer(randomUUID(), randomUUID(), ['orders.read@company', 'orders.place@own']);
    await expect(world.broker.call('orders.get', { id: order.id }, other)).rejects.toMatchObject({
      code: 404,
    });
    await expect(world.broker.call('orders.cancel', { id: order.id }, other)).rejects.toMatchObject({
      code: 404,
    });
    await expect(
      world.broker.call('orders.internal.get', { orderId: order.id }, other),
    ).rejects.toMatchObject({
      code: 404,
    });
    const list = (await world.broker.call('orders.list', { limit: 100 }, other)) as { items: unknown[] };
    expect(list.items).toEqual([]);
  });
});

describe('ordering again', () => {
  it('reports each line’s changes (new price, not enough stock) and fills a new cart with the orderable lines', async () => {
    const order = await placeAs(world.buyer, [
      { skuId: a, quantity: 2 },
      { skuId: b, quantity: 4 },
    ]);
    // Since then: A's price went up, and B's stock is nearly gone.
    const { rows } = await test.hub.platform.db.query(
      `SELECT l.id FROM pricing.price_lists l JOIN pricing.price_list_assignments a ON a.price_list_id = l.id WHERE a.level = 'default' LIMIT 1`,
    );
    await http(test.baseUrl, 'POST', `/api/staff/pricing/price-lists/${rows[0]!.id}/prices`, {
      token: world.staff,
      body: { prices: [{ skuCode: 'LC-A', tiers: [{ minQty: 1, amountMinor: '5500' }] }] },
    });
    const left = (await available(world.broker, [b])).get(b)!;
    await world.broker.call(
      'inventory.internal.reserve',
      {
        reference: `test:${randomUUID()}`,
        companyId: world.companyId,
        lines: [{ skuId: b, quantity: left - 1 }],
      },
      { meta: { auth: { kind: 'system', principalId: randomUUID(), companyId: null, permissions: [] } } },
    );
    const preview = await http(test.baseUrl, 'POST', `/api/orders/${order.id}/reorder`, {
      token: world.buyer,
      body: { createCart: true },
    });
    expect(preview.status).toBe(200);
    assertMatchesSchema('api/orders/reorder-response', preview.body);
    expect(preview.body.lines[0]).toMatchObject({
      change: 'price_changed',
      previousUnitPrice: { amountMinor: '5000' },
      currentUnitPrice: { amountMinor: '5500' },
    });
    expect(preview.body.lines[1]).toMatchObject({ change: 'insufficient_stock', available: 1 });
    expect(preview.body.cartId).toEqual(expect.any(String));
  });
});
