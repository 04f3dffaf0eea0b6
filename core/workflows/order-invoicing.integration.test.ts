import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { invoiceOrder } from '../orders/order-invoicing.ts';
import { http, type TestHub } from '../platform/testing/start-test-hub.ts';
import { waitFor } from '../platform/testing/wait-for.ts';
import { buildWorld, creditAvailable, startOrdersHub, type World } from './testing/orders-hub.ts';

/**
 * The receivable of a credit order: issued by the orders' invoicing job when the first shipment
 * leaves (not at confirmation, so a confirmed order can still be cancelled and its credit given
 * back), for the whole order, due by the company's terms (net 30 here), exactly once however often
 * the job runs or the order ships.
 */

let test: TestHub;
let world: World;
let sku: string;

beforeAll(async () => {
  test = await startOrdersHub();
  world = await buildWorld(test, { 'INV-A': 12_345 }, 5_000_000);
  sku = world.skus.get('INV-A')!;
}, 120_000);

afterAll(async () => {
  await test?.stop();
});

async function placeCredit(quantity: number): Promise<{ id: string; gross: bigint }> {
  const placed = await http(test.baseUrl, 'POST', '/api/orders', {
    token: world.buyer,
    body: { lines: [{ skuId: sku, quantity }], checkoutToken: randomUUID(), paymentMethod: 'credit' },
  });
  if (placed.status !== 201) throw new Error(`place: ${placed.status} ${JSON.stringify(placed.body)}`);
  expect(placed.body.order.status).toBe('confirmed');
  return { id: placed.body.order.id, gross: BigInt(placed.body.order.totals.gross.amountMinor) };
}

const ship = (orderId: string, quantity: number) =>
  http(test.baseUrl, 'POST', `/api/staff/orders/${orderId}/shipments`, {
    token: world.staff,
    body: { lines: [{ lineNo: 1, quantity }] },
  });

async function invoicesOf(orderId: string) {
  const { rows } = await test.hub.platform.db.query(
    `SELECT id, amount_minor::text AS amount, issued_on::text AS issued_on, due_date::text AS due_date, status,
            jsonb_array_length(lines) AS line_count, placed_by
       FROM credit.invoices WHERE reference = $1`,
    [`order:${orderId}`],
  );
  return rows;
}

async function ledgerOf(orderId: string) {
  const { rows } = await test.hub.platform.db.query(
    'SELECT kind, amount_minor::text AS amount FROM credit.ledger_entries WHERE reference = $1 ORDER BY id',
    [`order:${orderId}`],
  );
  return rows;
}

const plusDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

describe('invoicing credit orders', () => {
  it('issues nothing at confirmation, one invoice for the whole order at the first shipment, due by the terms', async () => {
    const exposureBefore = await exposure();
    const order = await placeCredit(4);
    expect(await invoicesOf(order.id)).toEqual([]);

    expect((await ship(order.id, 1)).body.status).toBe('partially_shipped');
    await waitFor(
      async () => (await invoicesOf(order.id)).length > 0,
      'the invoice of the shipped order',
      60_000,
    );
    const invoice = (await invoicesOf(order.id))[0]!;
    expect(invoice).toMatchObject({
      amount: order.gross.toString(),
      status: 'open',
      line_count: 1,
      placed_by: world.buyerId,
    });
    expect(invoice.due_date).toBe(plusDays(invoice.issued_on, 30));
    // The captured purchase became the invoice: what the company owes is the order once, not twice.
    expect(await exposure()).toBe(exposureBefore + order.gross);
    expect((await ledgerOf(order.id)).map((entry) => entry.kind)).toEqual(['hold', 'capture', 'purchase']);

    // The buyer who placed it reads it (invoices.read at own scope comes from the placer).
    const mine = await http(test.baseUrl, 'GET', '/api/invoices?limit=100', { token: world.buyer });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((item: { id: string }) => item.id)).toContain(invoice.id);

    // The rest ships: still that one invoice.
    expect((await ship(order.id, 3)).body.status).toBe('shipped');
    await waitFor(
      async () => {
        const { rows } = await test.hub.platform.db.query(
          `SELECT count(*)::int AS n FROM platform.outbox WHERE kind = 'job' AND payload->>'key' = $1 AND published_at IS NULL`,
          [`order:${order.id}:invoice`],
        );
        return rows[0]!.n === 0;
      },
      'the second shipment’s invoicing job relayed',
      60_000,
    );
    expect(await invoicesOf(order.id)).toEqual([invoice]);
  });

  it('running the invoicing job again, even concurrently, answers the same invoice and posts nothing', async () => {
    const order = await placeCredit(2);
    await ship(order.id, 2);
    await waitFor(async () => (await invoicesOf(order.id)).length > 0, 'the invoice', 60_000);
    const invoice = (await invoicesOf(order.id))[0]!;
    const ledger = await ledgerOf(order.id);
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => invoiceOrder(test.hub.platform.db, world.broker, order.id)),
    );
    expect(new Set(runs.map((run) => run?.invoiceId))).toEqual(new Set([invoice.id]));
    expect(await invoicesOf(order.id)).toEqual([invoice]);
    expect(await ledgerOf(order.id)).toEqual(ledger);
  });

  it('a confirmed order cancelled before it ships is never invoiced and gives its credit back', async () => {
    const before = await creditAvailable(world.broker, world.companyId);
    const order = await placeCredit(3);
    expect(await creditAvailable(world.broker, world.companyId)).toBe(before - order.gross);
    const cancelled = await http(test.baseUrl, 'POST', `/api/staff/orders/${order.id}/transitions`, {
      token: world.staff,
      body: { to: 'cancelled', reason: 'customer called' },
    });
    expect(cancelled.body.status).toBe('cancelled');
    await waitFor(
      async () => (await creditAvailable(world.broker, world.companyId)) === before,
      'the credit released',
      60_000,
    );
    // Even asked directly, the invoicing refuses an order whose goods never left.
    expect(await invoiceOrder(test.hub.platform.db, world.broker, order.id)).toBeNull();
    expect(await invoicesOf(order.id)).toEqual([]);
    // The captured purchase is reversed (an adjustment), which an invoiced purchase could not be.
    expect((await ledgerOf(order.id)).map((entry) => entry.kind)).toEqual([
      'hold',
      'capture',
      'purchase',
      'adjustment',
    ]);
  });
});

/** What the company owes or has held, from the credit account. */
async function exposure(): Promise<bigint> {
  const account = (await world.broker.call('credit.internal.account', { companyId: world.companyId })) as {
    exposure: { amountMinor: string };
  };
  return BigInt(account.exposure.amountMinor);
}
