import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { waitFor } from '../platform/testing/wait-for.ts';
import { seedDemo, seedDemoOrdersOn } from './demo-data.ts';

/**
 * `hub seed demo` / `hub start --demo` leave orders in every status a demo shows, made through the
 * real saga and actions (so stock, credit and the receivable agree with them), and a second run
 * changes nothing.
 */

let t: TestHub;

beforeAll(async () => {
  t = await startTestHub();
  await seedDemo(t.hub.platform.db);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

const STATUSES = [
  'cancelled',
  'completed',
  'confirmed',
  'on_hold',
  'partially_shipped',
  'pending_approval',
  'pending_payment',
];

test('demo orders exist in every status, consistent with stock, credit and receivables, once', async () => {
  const first = await seedDemoOrdersOn(t.hub);
  expect(Object.keys(first.orders).sort()).toEqual(STATUSES);

  const staff = await logInAs(t.baseUrl, 'admin@hub.local', 'demo-admin-password');
  const listed = await http(
    t.baseUrl,
    'GET',
    `/api/staff/orders?limit=100&status=${STATUSES.join('&status=')}`,
    {
      token: staff,
    },
  );
  expect(listed.status).toBe(200);
  const statusOf = new Map(
    listed.body.items.map((order: { number: string; status: string }) => [order.number, order.status]),
  );
  for (const [status, number] of Object.entries(first.orders))
    expect([number, statusOf.get(number)]).toEqual([number, status]);

  // The partly shipped credit order has its receivable; the cancelled one holds no stock.
  const { rows } = await t.hub.platform.db.query('SELECT id FROM orders.orders WHERE number = $1', [
    first.orders.partially_shipped,
  ]);
  await waitFor(
    async () =>
      (
        await t.hub.platform.db.query('SELECT 1 FROM credit.invoices WHERE reference = $1', [
          `order:${rows[0]!.id}`,
        ])
      ).rowCount === 1,
    'the partly shipped demo order’s invoice',
    60_000,
  );
  const { rows: reservation } = await t.hub.platform.db.query(
    `SELECT r.status FROM inventory.reservations r JOIN orders.orders o ON r.reference = 'order:' || o.id
      WHERE o.number = $1`,
    [first.orders.cancelled],
  );
  expect(reservation).toEqual([{ status: 'released' }]);

  const { rows: before } = await t.hub.platform.db.query('SELECT count(*)::int AS n FROM orders.orders');
  const again = await seedDemoOrdersOn(t.hub);
  expect(again.orders).toEqual(first.orders);
  const { rows: after } = await t.hub.platform.db.query('SELECT count(*)::int AS n FROM orders.orders');
  expect(after[0]!.n).toBe(before[0]!.n);
});
