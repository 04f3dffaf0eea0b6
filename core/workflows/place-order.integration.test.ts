import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, logInAs, type TestHub } from '../platform/testing/start-test-hub.ts';
import { waitFor } from '../platform/testing/wait-for.ts';
import {
  asBuyer,
  assertMatchesSchema,
  available,
  buildWorld,
  cartWith,
  creditAvailable,
  orderEvents,
  startOrdersHub,
  type World,
} from './testing/orders-hub.ts';

/**
 * The checkout saga end to end on the real hub: every domain it calls is the real one (pricing,
 * carts, credit, inventory, approvals, orders), over HTTP as a buyer would.
 */

let test: TestHub;
let world: World;
let a: string;
let b: string;
let c: string;

beforeAll(async () => {
  test = await startOrdersHub();
  // Gross unit prices in fen: 100.00, 25.50, 9.99 CNY.
  world = await buildWorld(test, { 'ORD-A': 10000, 'ORD-B': 2550, 'ORD-C': 999 }, 5_000_000);
  a = world.skus.get('ORD-A')!;
  b = world.skus.get('ORD-B')!;
  c = world.skus.get('ORD-C')!;
}, 120_000);

afterAll(async () => {
  await test?.stop();
});

const place = (token: string, body: object, headers: Record<string, string> = {}) =>
  http(test.baseUrl, 'POST', '/api/orders', { token, body, headers });

describe('placing an order on credit', () => {
  it('prices, holds credit, reserves and confirms stock, records history and events, empties the cart', async () => {
    const creditBefore = await creditAvailable(world.broker, world.companyId);
    const stockBefore = await available(world.broker, [a, b]);
    const cartId = await cartWith(test.baseUrl, world.buyer, [
      { skuId: a, quantity: 3 },
      { skuId: b, quantity: 2 },
    ]);

    const placed = await place(world.buyer, { cartId, paymentMethod: 'credit', poNumber: 'PO-2026-001' });

    expect(placed.status).toBe(201);
    assertMatchesSchema('api/orders/place-order-response', placed.body);
    const order = placed.body.order;
    expect(order).toMatchObject({
      status: 'confirmed',
      source: 'cart',
      cartId,
      paymentMethod: 'credit',
      poNumber: 'PO-2026-001',
      totals: { gross: { amountMinor: '35100', currency: 'CNY' } },
    });
    expect(order.number).toMatch(/^SO\d{8}-\d{6}$/);
    expect(
      order.lines.map((line: { skuCode: string; quantity: number; name: string }) => [
        line.skuCode,
        line.quantity,
      ]),
    ).toEqual([
      ['ORD-A', 3],
      ['ORD-B', 2],
    ]);
    expect(order.lines[0].name).toBe('不锈钢螺栓 ORD-A');
    expect(order.allocations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ skuId: a, warehouseId: world.warehouseId, quantity: 3 }),
      ]),
    );
    // Credit: the total is now exposure; stock: 3 and 2 units are no longer available.
    expect(await creditAvailable(world.broker, world.companyId)).toBe(creditBefore - 35100n);
    const stockAfter = await available(world.broker, [a, b]);
    expect(stockAfter.get(a)).toBe(stockBefore.get(a)! - 3);
    expect(stockAfter.get(b)).toBe(stockBefore.get(b)! - 2);

    const detail = await http(test.baseUrl, 'GET', `/api/orders/${order.id}`, { token: world.buyer });
    expect(detail.status).toBe(200);
    assertMatchesSchema('entities/order', detail.body);
    expect(detail.body.history.map((h: { from: string | null; to: string }) => [h.from, h.to])).toEqual([
      [null, 'placing'],
      ['placing', 'confirmed'],
    ]);
    expect(detail.body.history[1].actor).toEqual({ kind: 'system', id: 'workflows' });

    for (const name of ['order.placed', 'order.confirmed', 'order.status_changed']) {
      const events = await orderEvents(test, name, order.id);
      expect(events).toHaveLength(1);
      assertMatchesSchema(`events/${name.replace('.', '-').replace('_', '-')}`, events[0]);
    }
    // The ordered cart is empty now.
    const cart = await http(test.baseUrl, 'GET', `/api/carts/${cartId}`, { token: world.buyer });
    expect(cart.body.lines).toHaveLength(0);
  });

  it('refuses lines that cannot be ordered with a pointer, before anything is held', async () => {
    const unknown = randomUUID();
    const answer = await place(world.buyer, {
      lines: [
        { skuId: a, quantity: 1 },
        { skuId: unknown, quantity: 1 },
      ],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
    });
    expect(answer.status).toBe(422);
    expect(answer.body.type).toMatch(/lines-not-orderable$/);
    expect(answer.body.errors[0].pointer).toBe('/lines/1');
  });

  it('explicit lines need a checkout token', async () => {
    const answer = await place(world.buyer, { lines: [{ skuId: a, quantity: 1 }], paymentMethod: 'credit' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].pointer).toBe('/checkoutToken');
  });
});

describe('compensation', () => {
  it('credit refused: 422 credit-limit-exceeded, nothing reserved, the order failed and its checkout key freed', async () => {
    const stockBefore = await available(world.broker, [a]);
    const creditBefore = await creditAvailable(world.broker, world.companyId);
    const token = randomUUID();
    // 600 × 100.00 = 60,000 CNY against a 50,000 CNY limit.
    const answer = await place(world.buyer, {
      lines: [{ skuId: a, quantity: 600 }],
      checkoutToken: token,
      paymentMethod: 'credit',
    });
    expect(answer.status).toBe(422);
    expect(answer.body.type).toMatch(/credit-limit-exceeded$/);
    expect((await available(world.broker, [a])).get(a)).toBe(stockBefore.get(a));
    expect(await creditAvailable(world.broker, world.companyId)).toBe(creditBefore);
    const { rows } = await test.hub.platform.db.query(
      `SELECT status, checkout_key, cancel_reason FROM orders.orders WHERE company_id = $1 AND status = 'failed'`,
      [world.companyId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.checkout_key).toBeNull();
    expect(rows[0]!.cancel_reason).toMatch(/credit-limit-exceeded/);
    // Failed checkouts are not in the buyer's history unless asked for.
    const history = await http(test.baseUrl, 'GET', '/api/orders', { token: world.buyer });
    expect(history.body.items.every((o: { status: string }) => o.status !== 'failed')).toBe(true);
  });

  it('stock refused: 422 insufficient-stock with the lines, and the credit hold released', async () => {
    const creditBefore = await creditAvailable(world.broker, world.companyId);
    const stockBefore = await available(world.broker, [b, c]);
    const answer = await place(world.buyer, {
      lines: [
        { skuId: c, quantity: 5 },
        { skuId: b, quantity: 1500 },
      ],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
    });
    expect(answer.status).toBe(422);
    expect(answer.body.type).toMatch(/insufficient-stock$/);
    expect(await creditAvailable(world.broker, world.companyId)).toBe(creditBefore);
    const after = await available(world.broker, [b, c]);
    expect(after.get(c)).toBe(stockBefore.get(c));
    expect(after.get(b)).toBe(stockBefore.get(b));
    const { rows } = await test.hub.platform.db.query(
      `SELECT h.to_status FROM orders.order_history h JOIN orders.orders o ON o.id = h.order_id
        WHERE o.company_id = $1 AND o.status = 'failed' AND o.cancel_reason LIKE '%insufficient-stock%' ORDER BY h.id`,
      [world.companyId],
    );
    expect(rows.map((r) => r.to_status)).toEqual(['placing', 'failed']);
  });
});

describe('one checkout, one order', () => {
  it('20 concurrent retries of the same cart without any header place one order', async () => {
    const stockBefore = await available(world.broker, [c]);
    const cartId = await cartWith(test.baseUrl, world.buyer, [{ skuId: c, quantity: 7 }]);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => place(world.buyer, { cartId, paymentMethod: 'credit' })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(answers.map((r) => r.body.order.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((r) => !r.body.replayed)).toHaveLength(1);
    expect(answers.every((r) => r.body.order.status === 'confirmed')).toBe(true);
    const { rows } = await test.hub.platform.db.query(
      `SELECT count(*)::int AS n FROM orders.orders WHERE cart_id = $1 AND status <> 'failed'`,
      [cartId],
    );
    expect(rows[0]!.n).toBe(1);
    expect((await available(world.broker, [c])).get(c)).toBe(stockBefore.get(c)! - 7);
  });

  it('20 retries with the same Idempotency-Key and explicit lines place one order', async () => {
    const key = randomUUID();
    const body = { lines: [{ skuId: c, quantity: 2 }], checkoutToken: randomUUID(), paymentMethod: 'credit' };
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await place(world.buyer, body, { 'Idempotency-Key': key }));
    expect(new Set(answers.map((r) => r.body.order.id)).size).toBe(1);
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(201));
  });

  it('the same checkout token concurrently, without the header, is one order too', async () => {
    const body = { lines: [{ skuId: b, quantity: 1 }], checkoutToken: randomUUID(), paymentMethod: 'credit' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => place(world.buyer, body)));
    expect(new Set(answers.map((r) => r.body.order.id)).size).toBe(1);
  });

  it('racing checkouts of different carts all go through and stock is never oversold', async () => {
    const carts = await Promise.all(
      Array.from({ length: 8 }, () => cartWith(test.baseUrl, world.buyer, [{ skuId: b, quantity: 1 }])),
    );
    const answers = await Promise.all(
      carts.map((cartId) => place(world.buyer, { cartId, paymentMethod: 'credit' })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(answers.map((r) => r.body.order.id)).size).toBe(8);
  });
});

describe('payment by bank transfer', () => {
  it('waits in pending_payment with instructions; payment.confirmed confirms it', async () => {
    const answer = await place(world.buyer, {
      lines: [{ skuId: a, quantity: 1 }],
      checkoutToken: randomUUID(),
      paymentMethod: 'bank_transfer',
    });
    expect(answer.status).toBe(201);
    expect(answer.body.order.status).toBe('pending_payment');
    expect(answer.body.paymentInstructions.kind).toBe('bank_transfer');
    const orderId = answer.body.order.id;
    // Finance confirms the transfer (staff action of the payments service), which announces payment.confirmed.
    await world.broker.call(
      'payments.staff.payments.confirmTransfer',
      {
        id: answer.body.order.paymentId,
        amount: answer.body.order.totals.gross,
        receivedOn: new Date().toISOString().slice(0, 10),
        bankReference: 'BANK-REF-1',
      },
      { meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions: ['*'] } } },
    );
    await waitFor(async () => {
      const order = await world.broker.call('orders.internal.get', { orderId });
      return (order as { status: string }).status === 'confirmed';
    }, 'the order to move');
  });
});

describe('approval', () => {
  let purchaser: { id: string; token: string };
  let ruleId: string;

  beforeAll(async () => {
    const created = await http(test.baseUrl, 'POST', '/api/users', {
      token: world.buyer,
      body: {
        email: `p-${randomUUID().slice(0, 8)}@acme.example`,
        displayName: 'Purchaser',
        roles: ['purchaser'],
        password: 'purchaser-pass-1',
      },
    });
    expect(created.status).toBe(201);
    purchaser = {
      id: created.body.user.id,
      token: await logInAs(test.baseUrl, created.body.user.email, 'purchaser-pass-1'),
    };
    const rule = await http(test.baseUrl, 'POST', '/api/approval-rules', {
      token: world.buyer,
      body: {
        name: 'Orders over 500 CNY',
        condition: { field: 'orderTotal', op: 'gt', value: { amountMinor: '50000', currency: 'CNY' } },
        steps: [{ name: 'Admin', approvers: { roles: ['buyer-admin'] }, required: 1 }],
      },
    });
    expect(rule.status).toBe(201);
    ruleId = rule.body.id;
  });

  afterAll(async () => {
    await http(test.baseUrl, 'DELETE', `/api/approval-rules/${ruleId}`, { token: world.buyer });
  });

  async function decide(orderId: string, decision: 'approve' | 'reject') {
    const order = (await world.broker.call('orders.internal.get', { orderId })) as { status: string };
    expect(order.status).toBe('pending_approval');
    const pending = await http(test.baseUrl, 'GET', '/api/approvals/pending', { token: world.buyer });
    const request = pending.body.items.find(
      (item: { subject: { id: string } }) => item.subject.id === orderId,
    );
    expect(request).toBeDefined();
    const decided = await http(
      test.baseUrl,
      'POST',
      `/api/approvals/${request.approvalId ?? request.id}/decisions`,
      {
        token: world.buyer,
        body: decision === 'approve' ? { decision } : { decision, comment: '超出预算' },
      },
    );
    expect(decided.status).toBeLessThan(300);
  }

  it('an order over the rule waits holding its stock and credit; approval confirms it', async () => {
    const creditBefore = await creditAvailable(world.broker, world.companyId);
    const answer = await place(purchaser.token, {
      lines: [{ skuId: a, quantity: 6 }],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
    });
    expect(answer.status).toBe(201);
    expect(answer.body.order.status).toBe('pending_approval');
    expect(await creditAvailable(world.broker, world.companyId)).toBe(creditBefore - 60000n);
    await decide(answer.body.order.id, 'approve');
    await waitFor(async () => {
      const order = (await world.broker.call('orders.internal.get', { orderId: answer.body.order.id })) as {
        status: string;
      };
      return order.status === 'confirmed';
    }, 'the order to move');
  });

  it('rejection cancels the order with the reason and releases stock and credit', async () => {
    const creditBefore = await creditAvailable(world.broker, world.companyId);
    const stockBefore = await available(world.broker, [a]);
    const answer = await place(purchaser.token, {
      lines: [{ skuId: a, quantity: 7 }],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
    });
    expect(answer.body.order.status).toBe('pending_approval');
    expect((await available(world.broker, [a])).get(a)).toBe(stockBefore.get(a)! - 7);
    await decide(answer.body.order.id, 'reject');
    let order: { status: string; cancelReason: string } | undefined;
    await waitFor(async () => {
      order = (await world.broker.call('orders.internal.get', {
        orderId: answer.body.order.id,
      })) as typeof order;
      return order!.status === 'cancelled';
    }, 'the order to move');
    expect(order!.cancelReason).toContain('超出预算');
    await waitFor(
      async () => (await available(world.broker, [a])).get(a) === stockBefore.get(a),
      'the stock released',
    );
    expect(await creditAvailable(world.broker, world.companyId)).toBe(creditBefore);
    expect(await orderEvents(test, 'order.cancelled', answer.body.order.id)).toHaveLength(1);
  });
});

describe('crash recovery', () => {
  it('a saga whose process died after the credit hold is resumed by the sweep and confirms the order', async () => {
    const orderId = randomUUID();
    const reference = `order:${orderId}`;
    const meta = asBuyer(world.companyId, world.buyerId).meta;
    const line = {
      skuId: c,
      skuCode: 'ORD-C',
      productId: null,
      name: null,
      unit: null,
      quantity: 4,
      unitPrice: { amountMinor: '999', currency: 'CNY' },
      vatRate: 13,
      pricesIncludeTax: true,
      net: { amountMinor: '3536', currency: 'CNY' },
      tax: { amountMinor: '460', currency: 'CNY' },
      gross: { amountMinor: '3996', currency: 'CNY' },
      priceListCode: null,
    };
    const order = {
      orderId,
      companyId: world.companyId,
      placedBy: world.buyerId,
      unitId: null,
      unitPath: [],
      checkoutKey: `token:${randomUUID()}`,
      source: 'lines',
      cartId: null,
      quoteId: null,
      paymentMethod: 'credit',
      poNumber: null,
      note: null,
      currency: 'CNY',
      totals: { net: line.net, tax: line.tax, gross: line.gross },
      lines: [line],
    };
    // What the dead process had done: the order opened and the credit held (steps 0 and 1).
    await world.broker.call('orders.internal.open', { order }, { meta });
    await world.broker.call(
      'credit.internal.hold',
      { reference, companyId: world.companyId, amount: line.gross },
      { meta },
    );
    const data = {
      orderId,
      reference,
      companyId: world.companyId,
      paymentMethod: 'credit',
      total: line.gross,
      order,
      stockLines: [{ skuId: c, quantity: 4 }],
      snapshot: {
        total: line.gross,
        lines: [{ sku: 'ORD-C', categoryIds: [], quantity: 4, lineTotal: line.gross }],
      },
      created: true,
    };
    await test.hub.platform.db.query(
      `INSERT INTO workflows.sagas (id, kind, status, step, state, locked_until)
       VALUES ($1, 'place-order', 'running', 2, $2, now() - interval '1 second')`,
      [orderId, JSON.stringify({ data, meta })],
    );
    const swept = (await world.broker.call('workflows.internal.sweep', {})) as { takenOver: number };
    expect(swept.takenOver).toBeGreaterThanOrEqual(1);
    const after = (await world.broker.call('orders.internal.get', { orderId })) as { status: string };
    expect(after.status).toBe('confirmed');
    const { rows } = await test.hub.platform.db.query('SELECT status FROM workflows.sagas WHERE id = $1', [
      orderId,
    ]);
    expect(rows[0]!.status).toBe('completed');
  });

  it('a step that ran but was not written (it changed no data) runs again after a crash, with the effect of once', async () => {
    // The runner writes the row after a step only when the step changed its data: the credit
    // step changes none, so a crash after it leaves the row at step 1 with the hold in place.
    const orderId = randomUUID();
    const reference = `order:${orderId}`;
    const meta = asBuyer(world.companyId, world.buyerId).meta;
    const gross = { amountMinor: '1998', currency: 'CNY' };
    const order = {
      orderId,
      companyId: world.companyId,
      placedBy: world.buyerId,
      unitId: null,
      unitPath: [],
      checkoutKey: `token:${randomUUID()}`,
      source: 'lines',
      cartId: null,
      quoteId: null,
      paymentMethod: 'credit',
      poNumber: null,
      note: null,
      currency: 'CNY',
      totals: {
        net: { amountMinor: '1768', currency: 'CNY' },
        tax: { amountMinor: '230', currency: 'CNY' },
        gross,
      },
      lines: [
        {
          skuId: c,
          skuCode: 'ORD-C',
          productId: null,
          name: null,
          unit: null,
          quantity: 2,
          unitPrice: { amountMinor: '999', currency: 'CNY' },
          vatRate: 13,
          pricesIncludeTax: true,
          net: { amountMinor: '1768', currency: 'CNY' },
          tax: { amountMinor: '230', currency: 'CNY' },
          gross,
          priceListCode: null,
        },
      ],
    };
    const creditBefore = await creditAvailable(world.broker, world.companyId);
    await world.broker.call('orders.internal.open', { order }, { meta });
    await world.broker.call(
      'credit.internal.hold',
      { reference, companyId: world.companyId, amount: gross },
      { meta },
    );
    const data = {
      orderId,
      reference,
      companyId: world.companyId,
      paymentMethod: 'credit',
      total: gross,
      order,
      stockLines: [{ skuId: c, quantity: 2 }],
      snapshot: { total: gross, lines: [{ sku: 'ORD-C', categoryIds: [], quantity: 2, lineTotal: gross }] },
      created: true,
    };
    await test.hub.platform.db.query(
      `INSERT INTO workflows.sagas (id, kind, status, step, state, locked_until)
       VALUES ($1, 'place-order', 'running', 1, $2, now() - interval '1 second')`,
      [orderId, JSON.stringify({ data, meta })],
    );
    await world.broker.call('workflows.internal.sweep', {});
    await waitFor(
      async () =>
        ((await world.broker.call('orders.internal.get', { orderId })) as { status: string }).status ===
        'confirmed',
      'the resumed order confirmed',
      60_000,
    );
    // The credit step ran twice; the company is charged once.
    expect(await creditAvailable(world.broker, world.companyId)).toBe(creditBefore - 1998n);
    const { rows } = await test.hub.platform.db.query(
      `SELECT kind FROM credit.ledger_entries WHERE reference = $1 ORDER BY id`,
      [reference],
    );
    expect(rows.map((row) => row.kind)).toEqual(['hold', 'capture', 'purchase']);
  });

  it('a saga that died while compensating is finished by the sweep: holds released, order failed', async () => {
    const orderId = randomUUID();
    const reference = `order:${orderId}`;
    const meta = asBuyer(world.companyId, world.buyerId).meta;
    const gross = { amountMinor: '999', currency: 'CNY' };
    const order = {
      orderId,
      companyId: world.companyId,
      placedBy: world.buyerId,
      unitId: null,
      unitPath: [],
      checkoutKey: `token:${randomUUID()}`,
      source: 'lines',
      cartId: null,
      quoteId: null,
      paymentMethod: 'credit',
      poNumber: null,
      note: null,
      currency: 'CNY',
      totals: {
        net: { amountMinor: '884', currency: 'CNY' },
        tax: { amountMinor: '115', currency: 'CNY' },
        gross,
      },
      lines: [
        {
          skuId: c,
          skuCode: 'ORD-C',
          productId: null,
          name: null,
          unit: null,
          quantity: 1,
          unitPrice: gross,
          vatRate: 13,
          pricesIncludeTax: true,
          net: { amountMinor: '884', currency: 'CNY' },
          tax: { amountMinor: '115', currency: 'CNY' },
          gross,
          priceListCode: null,
        },
      ],
    };
    const creditBefore = await creditAvailable(world.broker, world.companyId);
    const stockBefore = await available(world.broker, [c]);
    await world.broker.call('orders.internal.open', { order }, { meta });
    await world.broker.call(
      'credit.internal.hold',
      { reference, companyId: world.companyId, amount: gross },
      { meta },
    );
    await world.broker.call(
      'inventory.internal.reserve',
      { reference, companyId: world.companyId, lines: [{ skuId: c, quantity: 1 }] },
      { meta },
    );
    const data = {
      orderId,
      reference,
      companyId: world.companyId,
      paymentMethod: 'credit',
      total: gross,
      order,
      stockLines: [{ skuId: c, quantity: 1 }],
      snapshot: { total: gross, lines: [] },
      created: true,
    };
    await test.hub.platform.db.query(
      `INSERT INTO workflows.sagas (id, kind, status, step, state, locked_until, error)
       VALUES ($1, 'place-order', 'compensating', 2, $2, now() - interval '1 second', '{"message":"crashed"}')`,
      [orderId, JSON.stringify({ data, meta })],
    );
    await world.broker.call('workflows.internal.sweep', {});
    expect(((await world.broker.call('orders.internal.get', { orderId })) as { status: string }).status).toBe(
      'failed',
    );
    expect(await creditAvailable(world.broker, world.companyId)).toBe(creditBefore);
    expect((await available(world.broker, [c])).get(c)).toBe(stockBefore.get(c));
  });
});
