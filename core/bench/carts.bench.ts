/**
 * Carts at the scale, on a hub running accounts, catalog, pricing and carts: a buyer with
 * a contract list, a tier list and the default list over 10,000 products (tiered default prices),
 * and quantity rules on some products. Times the whole action path:
 *
 * - reading a 200-line cart: every line repriced in one pricing call, names from the catalog,
 *   stale-price warnings;
 * - adding one line to that cart: judged (visibility, pricing, stock port), written, answered
 *   repriced;
 * - a quick order of 500 pasted rows into an empty cart: parsed, judged, written in one
 *   transaction, answered with the repriced 500-line cart.
 *
 * Once on real PostgreSQL and once on the embedded PGlite. `BENCH_CARTS_READS` (default 200),
 * `BENCH_CARTS_EMBEDDED=0` (skip PGlite) tune it. Run alone with
 * `node_modules/.bin/node core/bench/carts.bench.ts`.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Cart, CartIntakeResponse } from '../../schemas/generated/types.ts';
import { type RunningHub, startHub } from '../hub.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import { loadHubConfig } from '../platform/config/hub-config.ts';
import { benchHubEnv, onEachBackend, percentile } from './bench-kit.ts';

const READS = Number(process.env.BENCH_CARTS_READS ?? 200);
const ADDS = Math.max(20, Math.round(READS / 2));
const QUICK_ORDERS = Math.max(10, Math.round(READS / 8));
const EMBEDDED = process.env.BENCH_CARTS_EMBEDDED !== '0';
const PRODUCTS = 10_000;
const CART_LINES = 200;
const QUICK_ROWS = 500;
const WARM_UP = 5;

export interface CartsBenchFigures {
  name: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
}

type Meta = { meta: { auth: AuthContext } };

const staff = (): Meta => ({
  meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions: ['*'] } },
});

const code = (g: number) => `CB-${String(g).padStart(6, '0')}`;

/** The catalog straight into its tables (the bench is wiring; set-based, a few statements). */
async function seedCatalog(hub: RunningHub): Promise<void> {
  const { db } = hub.platform;
  const category = randomUUID();
  await db.query(
    `INSERT INTO catalog.categories (id, path, slug, name_zh, name_en) VALUES ($1, ARRAY[$1::uuid], 'cart-bench', '购物车基准', 'Cart bench')`,
    [category],
  );
  await db.query(
    `INSERT INTO catalog.products (id, slug, name_zh, name_en, category_id, unit_of_measure, lifecycle, is_public)
     SELECT md5('p' || g)::uuid, 'cart-bench-' || g, '基准产品 ' || g, 'Bench product ' || g, $1, 'pcs', 'active', true
       FROM generate_series(1, $2) g`,
    [category, PRODUCTS],
  );
  await db.query(
    `INSERT INTO catalog.skus (id, product_id, code, unit_of_measure)
     SELECT md5('s' || g)::uuid, md5('p' || g)::uuid, 'CB-' || lpad(g::text, 6, '0'), 'pcs'
       FROM generate_series(1, $1) g`,
    [PRODUCTS],
  );
  await db.query(
    `INSERT INTO catalog.product_visibility (product_id, audience)
     SELECT md5('p' || g)::uuid, 'public' FROM generate_series(1, $1) g`,
    [PRODUCTS],
  );
}

/** Three lists through pricing's staff actions, their prices set-based; rules on some products. */
async function seedPricing(hub: RunningHub, companyId: string): Promise<void> {
  const { broker } = hub;
  const { db } = hub.platform;
  const list = async (listCode: string, target: Record<string, unknown>) => {
    const created = (await broker.call(
      'pricing.priceLists.create',
      { code: listCode, name: listCode, currency: 'CNY', pricesIncludeTax: true },
      staff(),
    )) as { id: string };
    await broker.call('pricing.priceLists.assign', { id: created.id, ...target }, staff());
    return created.id;
  };
  const standard = await list('CB-STANDARD', { level: 'default' });
  const gold = await list('CB-GOLD', { level: 'tier', tier: 'gold' });
  const contract = await list('CB-CONTRACT', { level: 'company', companyId });
  const skus = `generate_series(1, ${PRODUCTS}) g`;
  await db.query(
    `INSERT INTO pricing.prices (price_list_id, sku_id, unit, min_qty, amount_minor)
     SELECT $1, md5('s' || g)::uuid, 'pcs', t.min_qty, (1000 + g % 5000) * t.factor / 100
       FROM ${skus}, (VALUES (1, 100), (10, 95), (100, 90)) AS t(min_qty, factor)`,
    [standard],
  );
  await db.query(
    `INSERT INTO pricing.prices (price_list_id, sku_id, unit, min_qty, amount_minor)
     SELECT $1, md5('s' || g)::uuid, 'pcs', 1, 950 + g % 5000 FROM ${skus} WHERE g % 2 = 0`,
    [gold],
  );
  await db.query(
    `INSERT INTO pricing.prices (price_list_id, sku_id, unit, min_qty, amount_minor)
     SELECT $1, md5('s' || g)::uuid, 'pcs', 1, 800 + g % 5000 FROM ${skus} WHERE g % 3 = 0`,
    [contract],
  );
  await db.query(
    `INSERT INTO pricing.quantity_rules (product_id, min_qty, increment)
     SELECT md5('p' || g)::uuid, 1, 1 FROM ${skus} WHERE g % 10 = 0`,
  );
  // What autovacuum would have done by now: without statistics the planner joins the whole
  // visibility table for a 200-SKU lookup.
  await db.query(
    'ANALYZE catalog.products, catalog.skus, catalog.product_visibility, pricing.prices, pricing.quantity_rules',
  );
}

async function time<T>(
  name: string,
  runs: number,
  call: (i: number) => Promise<T>,
  check: (answer: T) => void,
): Promise<CartsBenchFigures> {
  const latencies: number[] = [];
  for (let i = 0; i < runs + WARM_UP; i++) {
    const started = performance.now();
    const answer = await call(i);
    if (i >= WARM_UP) latencies.push(performance.now() - started);
    check(answer);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const total = latencies.reduce((a, b) => a + b, 0);
  return {
    name,
    perSecond: (latencies.length / total) * 1000,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    total: latencies.length,
  };
}

async function timeCarts(hub: RunningHub, companyId: string, backend: string): Promise<CartsBenchFigures[]> {
  const { broker } = hub;
  const buyer: Meta = {
    meta: { auth: { kind: 'buyer', principalId: randomUUID(), companyId, unitId: null, permissions: [] } },
  };
  const cart = (await broker.call('carts.create', { name: 'Bench 200', isDefault: false }, buyer)) as Cart;
  const text = Array.from({ length: CART_LINES }, (_, i) => `${code(i * 37 + 1)}\t${1 + (i % 30)}`).join(
    '\n',
  );
  const filled = (await broker.call('carts.quickOrder', { id: cart.id, text }, buyer)) as CartIntakeResponse;
  if (filled.added !== CART_LINES) throw new Error(`only ${filled.added} of ${CART_LINES} lines went in`);

  const figures: CartsBenchFigures[] = [];
  figures.push(
    await time(
      `carts: read a ${CART_LINES}-line cart, repriced (${backend})`,
      READS,
      () => broker.call('carts.get', { id: cart.id }, buyer) as Promise<Cart>,
      (answer) => {
        if (answer.totals?.pricedLines !== CART_LINES) throw new Error('a read priced too few lines');
      },
    ),
  );
  figures.push(
    await time(
      `carts: add a line to a ${CART_LINES}-line cart (${backend})`,
      ADDS,
      (i) =>
        broker.call(
          'carts.lines.add',
          { id: cart.id, code: code(i * 37 + 1), quantity: 1 },
          buyer,
        ) as Promise<Cart>,
      (answer) => {
        if (answer.lines.length !== CART_LINES) throw new Error('an addition made a new line');
      },
    ),
  );
  const quick = Array.from({ length: QUICK_ROWS }, (_, i) => `${code(i * 19 + 3)}\t${1 + (i % 12)}`).join(
    '\n',
  );
  figures.push(
    await time(
      `carts: quick order of ${QUICK_ROWS} pasted rows into an empty cart (${backend})`,
      QUICK_ORDERS,
      async (i) => {
        const target = (await broker.call(
          'carts.create',
          { name: `Quick ${i}`, isDefault: false },
          buyer,
        )) as Cart;
        const answer = (await broker.call(
          'carts.quickOrder',
          { id: target.id, text: quick },
          buyer,
        )) as CartIntakeResponse;
        await broker.call('carts.delete', { id: target.id }, buyer);
        return answer;
      },
      (answer) => {
        if (answer.added !== QUICK_ROWS) throw new Error(`a quick order added ${answer.added} rows`);
      },
    ),
  );
  return figures;
}

async function onHub(env: Record<string, string>, backend: string): Promise<CartsBenchFigures[]> {
  const config = loadHubConfig(
    benchHubEnv('carts', {
      ...env,
      HUB_SERVICES: 'accounts,catalog,pricing,carts',
    }),
  );
  const hub = await startHub(config);
  try {
    await hub.broker.waitForServices(['accounts', 'catalog', 'pricing', 'carts']);
    const company = (await hub.broker.call(
      'accounts.companies.create',
      { name: 'Cart bench buyer', status: 'active', tier: 'gold', tags: [] },
      staff(),
    )) as { id: string };
    await seedCatalog(hub);
    await seedPricing(hub, company.id);
    return await timeCarts(hub, company.id, backend);
  } finally {
    await hub.stop();
  }
}

export async function benchCarts(): Promise<CartsBenchFigures[]> {
  return onEachBackend('carts', EMBEDDED, onHub);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of await benchCarts()) {
    console.log(
      `${f.name}: ${f.perSecond.toFixed(1)}/s, p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms`,
    );
  }
  process.exit(0);
}
