import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, type TestHub } from '../platform/testing/start-test-hub.ts';
import { waitFor } from '../platform/testing/wait-for.ts';
import { asStaff, buildWorld, cny, startOrdersHub, type World } from './testing/orders-hub.ts';

/**
 * An accepted quote becomes an order at its locked prices, through the real orders saga
 * (workflows.internal.placeFromQuote: credit hold, stock reservation) on a whole hub: the outbox
 * enqueues the conversion job once, the job places the order with the accepting buyer's context.
 */
let t: TestHub;
let world: World;

beforeAll(async () => {
  t = await startOrdersHub();
  world = await buildWorld(t, { 'QO-1': 10_000, 'QO-2': 2_500 });
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

async function acceptedQuote(lines: Array<Record<string, unknown>>, prices: Array<Record<string, unknown>>) {
  const quote = await http(t.baseUrl, 'POST', '/api/quotes', { token: world.buyer, body: { lines } });
  expect(quote.status).toBe(201);
  const id = quote.body.id as string;
  await http(t.baseUrl, 'POST', `/api/staff/quotes/${id}/review`, { token: world.staff, body: {} });
  const quoted = await http(t.baseUrl, 'POST', `/api/staff/quotes/${id}/versions`, {
    token: world.staff,
    body: { basedOn: 1, validUntil: new Date(Date.now() + 86_400_000).toISOString(), lines: prices },
  });
  expect(quoted.body.state).toBe('quoted');
  const accepted = await http(t.baseUrl, 'POST', `/api/quotes/${id}/accept`, {
    token: world.buyer,
    body: { version: 2, paymentMethod: 'credit' },
  });
  expect(accepted.body.state).toBe('accepted');
  return id;
}

async function orderOf(id: string) {
  let quote: { order: { status: string; orderId: string | null; error: string | null } } | undefined;
  await waitFor(
    async () => {
      quote = (await http(t.baseUrl, 'GET', `/api/quotes/${id}`, { token: world.buyer })).body;
      return quote!.order.status !== 'pending';
    },
    'the conversion job',
    30_000,
  );
  return quote!.order;
}

describe('accepted quote → order', () => {
  it('places one order at the quoted prices, not the list prices', async () => {
    const id = await acceptedQuote(
      [
        { skuId: world.skus.get('QO-1'), quantity: 4 },
        { skuId: world.skus.get('QO-2'), quantity: 10 },
      ],
      [
        { lineNo: 1, unitPrice: cny(9_000) },
        { lineNo: 2, unitPrice: cny(2_400), discount: cny(1_000) },
      ],
    );
    const order = await orderOf(id);
    expect(order).toMatchObject({ status: 'placed', error: null });
    const placed = (await t.hub.broker.call(
      'orders.internal.get',
      { orderId: order.orderId },
      asStaff(),
    )) as {
      lines: Array<{ skuId: string; quantity: number; unitPrice: { amountMinor: string } }>;
    };
    const bySku = new Map(placed.lines.map((line) => [line.skuId, line]));
    expect(bySku.get(world.skus.get('QO-1')!)).toMatchObject({ quantity: 4, unitPrice: cny(9_000) });
    // 24,000 less 1,000 over 10 units: a whole 2,300 per unit.
    expect(bySku.get(world.skus.get('QO-2')!)).toMatchObject({ quantity: 10, unitPrice: cny(2_300) });
    // One order per quote version, however often the job runs.
    const { rows } = await t.hub.platform.db.query(
      `SELECT count(*)::int AS n FROM platform.outbox WHERE kind = 'job' AND payload->>'key' = $1`,
      [`quote:${id}:2:order`],
    );
    expect(rows[0]!.n).toBe(1);
  }, 60_000);

  it('a free-text line cannot become an order line: the conversion is marked failed with why', async () => {
    const id = await acceptedQuote(
      [{ description: 'Custom flange', quantity: 2 }],
      [{ lineNo: 1, unitPrice: cny(5_000) }],
    );
    const order = await orderOf(id);
    expect(order).toMatchObject({ status: 'failed', orderId: null });
    expect(order.error).toMatch(/line 1 is not a catalog SKU/);
  }, 60_000);
});
