/**
 * Placing orders through the whole checkout saga (core/workflows) on real PostgreSQL: 10 lines
 * priced for the buyer (pricing), names from the catalog, the order opened (orders), credit held
 * (credit), stock reserved across the lines (inventory), approval asked and not required
 * (approvals, no rule), stock confirmed, credit captured, the order confirmed with its history
 * row and events through the outbox, and the saga's state written after every step.
 *
 * Through the action layer: `workflows.placeOrder` called on the broker with a buyer's meta, every
 * mesh call in-process; the HTTP layer (gateway, JWT, idempotency middleware) is not included.
 * 32 callers, each buyer of its own company (credit holds of one company serialise on its
 * account's row, as they must for the limit check), and once all on one company.
 *
 * `BENCH_ORDERS` (orders per run, default 1500) and `BENCH_ORDERS_CONCURRENCY` (default 32) tune
 * it. Run alone with `node_modules/.bin/node core/bench/orders.bench.ts`.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type RunningHub, startHub } from '../hub.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import { loadHubConfig } from '../platform/config/hub-config.ts';
import { createTestDatabase } from '../platform/testing/test-servers.ts';
import { benchHubEnv, percentile } from './bench-kit.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 1500);
const CONCURRENCY = Number(process.env.BENCH_ORDERS_CONCURRENCY ?? 32);
const LINES = 10;
const SKUS = 50;

export interface OrdersBenchFigures {
  name: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  errors: number;
}

type Meta = { meta: { auth: AuthContext } };

const staff = (): Meta => ({
  meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions: ['*'] } },
});

interface Buyer {
  companyId: string;
  userId: string;
}

const buyer = ({ companyId, userId }: Buyer): Meta => ({
  meta: {
    auth: {
      kind: 'buyer',
      principalId: userId,
      companyId,
      unitId: null,
      permissions: ['orders.place@own', 'orders.read@own'],
    },
  },
});

async function seed(hub: RunningHub): Promise<string[]> {
  const broker = hub.broker;
  const category = (await broker.call(
    'catalog.categories.create',
    { slug: 'order-bench', nameZh: '订单基准', nameEn: 'Order bench' },
    staff(),
  )) as { id: string };
  const skuIds: string[] = [];
  for (let i = 0; i < SKUS; i++) {
    const product = (await broker.call(
      'catalog.products.create',
      {
        nameZh: `基准螺栓 ${i}`,
        nameEn: `Bench bolt ${i}`,
        categoryId: category.id,
        unitOfMeasure: 'pcs',
        isPublic: true,
        skus: [{ code: `OB-${String(i).padStart(4, '0')}` }],
      },
      staff(),
    )) as { id: string; skus: Array<{ id: string }> };
    await broker.call('catalog.products.lifecycle', { id: product.id, lifecycle: 'active' }, staff());
    skuIds.push(product.skus[0]!.id);
  }
  const list = (await broker.call(
    'pricing.priceLists.create',
    { code: 'OB-STD', name: 'Order bench', currency: 'CNY', pricesIncludeTax: true },
    staff(),
  )) as { id: string };
  await broker.call('pricing.priceLists.assign', { id: list.id, level: 'default' }, staff());
  await broker.call(
    'pricing.priceLists.upsertPrices',
    {
      id: list.id,
      prices: skuIds.map((_, i) => ({
        skuCode: `OB-${String(i).padStart(4, '0')}`,
        tiers: [{ minQty: 1, amountMinor: String(1000 + i * 37) }],
      })),
    },
    staff(),
  );
  const warehouse = (await broker.call(
    'inventory.warehouses.create',
    { code: 'OB-WH', name: '基准仓', priority: 1 },
    staff(),
  )) as { id: string };
  await broker.call(
    'inventory.stock.receive',
    { warehouseId: warehouse.id, lines: skuIds.map((skuId) => ({ skuId, quantity: 100_000_000 })) },
    staff(),
  );
  return skuIds;
}

/** A company with generous credit and one active purchaser (written straight to accounts' table: the bench is wiring). */
async function company(hub: RunningHub): Promise<Buyer> {
  const { id } = (await hub.broker.call(
    'accounts.companies.create',
    { name: `Order bench ${randomUUID().slice(0, 8)}`, status: 'active' },
    staff(),
  )) as { id: string };
  await hub.broker.call(
    'credit.staff.accounts.put',
    {
      companyId: id,
      limit: { amountMinor: '100000000000000', currency: 'CNY' },
      terms: { kind: 'net', days: 30 },
    },
    staff(),
  );
  const { rows } = await hub.platform.db.query(
    `INSERT INTO accounts.users (kind, company_id, email, display_name, roles, status)
     VALUES ('buyer', $1, $2, 'Bench purchaser', ARRAY['purchaser'], 'active') RETURNING id`,
    [id, `bench-${randomUUID().slice(0, 8)}@orders.bench`],
  );
  return { companyId: id, userId: rows[0]!.id };
}

async function timeOrders(
  hub: RunningHub,
  name: string,
  skuIds: string[],
  companies: Buyer[],
): Promise<OrdersBenchFigures> {
  const place = (who: Buyer) => {
    const start = Math.floor(Math.random() * (SKUS - LINES));
    return hub.broker.call(
      'workflows.placeOrder',
      {
        lines: skuIds
          .slice(start, start + LINES)
          .map((skuId) => ({ skuId, quantity: 1 + Math.floor(Math.random() * 5) })),
        checkoutToken: randomUUID(),
        paymentMethod: 'credit',
      },
      buyer(who),
    ) as Promise<{ order: { status: string } }>;
  };
  for (let i = 0; i < 20; i++) await place(companies[0]!);
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, caller) => {
      while (next < ORDERS) {
        next++;
        const t0 = performance.now();
        try {
          const placed = await place(companies[caller % companies.length]!);
          if (placed.order.status !== 'confirmed') errors++;
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    total: latencies.length,
    errors,
  };
}

export async function benchOrders(): Promise<OrdersBenchFigures[]> {
  const database = await createTestDatabase();
  const config = loadHubConfig(
    benchHubEnv('orders', {
      DATABASE_URL: database.url,
    }),
  );
  const hub = await startHub(config);
  try {
    await hub.broker.waitForServices([
      'accounts',
      'catalog',
      'pricing',
      'credit',
      'inventory',
      'approvals',
      'orders',
      'workflows',
    ]);
    const skuIds = await seed(hub);
    const own = await Promise.all(Array.from({ length: CONCURRENCY }, () => company(hub)));
    const shared = await company(hub);
    return [
      await timeOrders(
        hub,
        `place order, ${LINES} lines, credit, ${CONCURRENCY} companies (PostgreSQL)`,
        skuIds,
        own,
      ),
      await timeOrders(hub, `place order, ${LINES} lines, credit, one company (PostgreSQL)`, skuIds, [
        shared,
      ]),
    ];
  } finally {
    await hub.stop();
    await database.drop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of await benchOrders()) {
    console.log(
      `${f.name}: ${f.perSecond.toFixed(1)} orders/s, p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms (${f.total} orders, ${f.errors} errors)`,
    );
  }
  process.exit(0);
}
