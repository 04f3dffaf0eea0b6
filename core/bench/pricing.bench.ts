/**
 * The pricing engine at the scale: a buyer with a contract list, a tier list, a group list
 * and the default list, each pricing 10,000 products (the default list with three quantity tiers,
 * half the contract as a percentage off the default list), quantity rules and VAT rates on some
 * products, 20 % of the catalog visible only to the buyer's tier. Times `pricing.price` for
 * 200-line carts of random SKUs and quantities on a hub running accounts, catalog and pricing: the
 * whole action path (company context, the catalog's visibility lookup, candidate lists, the tier
 * query, rules and VAT, the engine). Once on real PostgreSQL and once on the embedded PGlite.
 *
 * `BENCH_PRICING_CARTS` (timed carts per backend, default 300), `BENCH_PRICING_PRODUCTS` (default
 * 10000) and `BENCH_PRICING_EMBEDDED=0` (skip PGlite) tune it. Run alone with
 * `node_modules/.bin/node core/bench/pricing.bench.ts`.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { PriceLinesResponse } from '../../schemas/generated/types.ts';
import { type RunningHub, startHub } from '../hub.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import { loadHubConfig } from '../platform/config/hub-config.ts';
import { refreshBaseLists } from '../pricing/prices.ts';
import { benchHubEnv, onEachBackend, percentile } from './bench-kit.ts';

const CARTS = Number(process.env.BENCH_PRICING_CARTS ?? 300);
const PRODUCTS = Number(process.env.BENCH_PRICING_PRODUCTS ?? 10_000);
const EMBEDDED = process.env.BENCH_PRICING_EMBEDDED !== '0';
const LINES = 200;
const WARM_UP = 20;

export interface PricingBenchFigures {
  name: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Carts timed. */
  total: number;
}

/** A seeded PRNG (mulberry32): the same carts on every run and on both backends. */
function rng(seed: number) {
  let a = seed >>> 0;
  return (max: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * max);
  };
}

const staff = (): { meta: { auth: AuthContext } } => ({
  meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions: ['*'] } },
});

/** The catalog straight into its tables (the bench is wiring; set-based, a few statements). */
async function seedCatalog(hub: RunningHub): Promise<void> {
  const { db } = hub.platform;
  const category = randomUUID();
  await db.query(
    `INSERT INTO catalog.categories (id, path, slug, name_zh, name_en) VALUES ($1, ARRAY[$1::uuid], 'bench', '基准', 'Bench')`,
    [category],
  );
  await db.query(
    `INSERT INTO catalog.products (id, slug, name_zh, name_en, category_id, unit_of_measure, lifecycle, is_public)
     SELECT md5('p' || g)::uuid, 'bench-' || g, '基准产品 ' || g, 'Bench product ' || g, $1, 'pcs', 'active', g % 5 <> 0
       FROM generate_series(1, $2) g`,
    [category, PRODUCTS],
  );
  await db.query(
    `INSERT INTO catalog.skus (id, product_id, code, unit_of_measure)
     SELECT md5('s' || g)::uuid, md5('p' || g)::uuid, 'BENCH-' || lpad(g::text, 6, '0'), 'pcs'
       FROM generate_series(1, $1) g`,
    [PRODUCTS],
  );
  await db.query(
    `INSERT INTO catalog.product_visibility (product_id, audience)
     SELECT md5('p' || g)::uuid, CASE WHEN g % 5 = 0 THEN 'tier:gold' ELSE 'public' END FROM generate_series(1, $1) g`,
    [PRODUCTS],
  );
}

/** Four lists through pricing's staff actions, their prices set-based; rules and VAT rates on some products. */
async function seedPricing(hub: RunningHub, companyId: string): Promise<void> {
  const { broker } = hub;
  const { db } = hub.platform;
  const list = async (code: string, target: Record<string, unknown>) => {
    const created = (await broker.call(
      'pricing.priceLists.create',
      { code, name: code, currency: 'CNY' },
      staff(),
    )) as {
      id: string;
    };
    await broker.call('pricing.priceLists.assign', { id: created.id, ...target }, staff());
    return created.id;
  };
  const standard = await list('STANDARD', { level: 'default' });
  const gold = await list('GOLD', { level: 'tier', tier: 'gold' });
  const vip = await list('VIP', { level: 'group', tag: 'vip' });
  const contract = await list('CONTRACT', { level: 'company', companyId });
  const skus = `generate_series(1, ${PRODUCTS}) g`;
  await db.query(
    `INSERT INTO pricing.prices (price_list_id, sku_id, unit, min_qty, amount_minor)
     SELECT $1, md5('s' || g)::uuid, 'pcs', t.min_qty, (1000 + g % 5000) * t.factor / 100
       FROM ${skus}, (VALUES (1, 100), (10, 95), (100, 90)) AS t(min_qty, factor)`,
    [standard],
  );
  await db.query(
    `INSERT INTO pricing.prices (price_list_id, sku_id, unit, min_qty, amount_minor)
     SELECT $1, md5('s' || g)::uuid, 'pcs', 1, 950 + g % 5000 FROM ${skus}`,
    [gold],
  );
  await db.query(
    `INSERT INTO pricing.prices (price_list_id, sku_id, unit, min_qty, amount_minor)
     SELECT $1, md5('s' || g)::uuid, 'pcs', t.min_qty, (900 + g % 5000) * t.factor / 100
       FROM ${skus}, (VALUES (1, 100), (50, 92)) AS t(min_qty, factor)`,
    [vip],
  );
  await db.query(
    `INSERT INTO pricing.prices (price_list_id, sku_id, unit, min_qty, amount_minor, percent_off_bp, base_list_id)
     SELECT $1, md5('s' || g)::uuid, 'pcs', 1,
            CASE WHEN g % 2 = 0 THEN 800 + g % 5000 END,
            CASE WHEN g % 2 = 1 THEN 1500 END,
            CASE WHEN g % 2 = 1 THEN $2::uuid END
       FROM ${skus}`,
    [contract, standard],
  );
  await refreshBaseLists(db, contract);
  await db.query(
    `INSERT INTO pricing.quantity_rules (product_id, min_qty, increment)
     SELECT md5('p' || g)::uuid, 2, 1 FROM ${skus} WHERE g % 10 = 0`,
  );
  await db.query(
    `INSERT INTO pricing.vat_rates (product_id, rate) SELECT md5('p' || g)::uuid, 9 FROM ${skus} WHERE g % 7 = 0`,
  );
  await db.query('ANALYZE pricing.prices, pricing.quantity_rules, pricing.vat_rates');
  await db.query('ANALYZE catalog.skus, catalog.products, catalog.product_visibility');
}

/** Carts of random products (by number) and quantities, the same on every run. */
function carts(count: number): Array<Array<{ g: number; quantity: number }>> {
  const next = rng(42);
  return Array.from({ length: count }, () =>
    Array.from({ length: LINES }, () => ({ g: 1 + next(PRODUCTS), quantity: 2 + next(199) })),
  );
}

async function timeCarts(
  hub: RunningHub,
  companyId: string,
  backend: string,
): Promise<PricingBenchFigures[]> {
  const { db } = hub.platform;
  const { rows } = await db.query(`SELECT g, md5('s' || g)::uuid AS id FROM generate_series(1, $1) g`, [
    PRODUCTS,
  ]);
  const idOf = new Map(rows.map((r) => [Number(r.g), r.id as string]));
  const buyer = {
    meta: {
      auth: {
        kind: 'buyer',
        principalId: randomUUID(),
        companyId,
        unitId: null,
        permissions: ['*'],
      } as AuthContext,
    },
  };
  const all = carts(CARTS + WARM_UP).map((cart) =>
    cart.map(({ g, quantity }) => ({ skuId: idOf.get(g)!, quantity })),
  );
  const figures: PricingBenchFigures[] = [];
  const time = async (name: string, call: (lines: (typeof all)[number]) => Promise<number>) => {
    const latencies: number[] = [];
    let priced = 0;
    for (const [i, lines] of all.entries()) {
      const started = performance.now();
      const count = await call(lines);
      if (i >= WARM_UP) latencies.push(performance.now() - started);
      priced += count;
    }
    // Nearly every line has a price (contract, group or tier): a bench that priced nothing measures nothing.
    if (priced < all.length * LINES * 0.85)
      throw new Error(`${name}: only ${priced} of ${all.length * LINES} lines`);
    const sorted = [...latencies].sort((a, b) => a - b);
    const total = latencies.reduce((a, b) => a + b, 0);
    figures.push({
      name,
      perSecond: (latencies.length / total) * 1000,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      total: latencies.length,
    });
  };
  const scenario = `${LINES}-line cart, 4 lists × ${PRODUCTS.toLocaleString('en')} products`;
  for (const explain of [false, true]) {
    await time(`pricing: ${scenario}${explain ? ', explain' : ''} (${backend})`, async (lines) => {
      const answer = (await hub.broker.call(
        'pricing.price',
        { lines, explain },
        buyer,
      )) as PriceLinesResponse;
      return answer.totals.pricedLines;
    });
  }
  // The catalog's visibility lookup pricing makes for the same SKUs: part of the figures above.
  await time(`  of which catalog.internal.skus for the ${LINES} SKUs (${backend})`, async (lines) => {
    const { items } = (await hub.broker.call(
      'catalog.internal.skus',
      { skuIds: [...new Set(lines.map((l) => l.skuId))], codes: [] },
      buyer,
    )) as { items: unknown[] };
    return LINES * (items.length / new Set(lines.map((l) => l.skuId)).size);
  });
  return figures;
}

async function onHub(env: Record<string, string>, backend: string): Promise<PricingBenchFigures[]> {
  const config = loadHubConfig(
    benchHubEnv('pricing', {
      ...env,
      HUB_SERVICES: 'accounts,catalog,pricing',
    }),
  );
  const hub = await startHub(config);
  try {
    await hub.broker.waitForServices(['accounts', 'catalog', 'pricing']);
    const company = (await hub.broker.call(
      'accounts.companies.create',
      { name: 'Bench buyer', status: 'active', tier: 'gold', tags: ['vip', 'north'] },
      staff(),
    )) as { id: string };
    await seedCatalog(hub);
    await seedPricing(hub, company.id);
    return await timeCarts(hub, company.id, backend);
  } finally {
    await hub.stop();
  }
}

export async function benchPricing(): Promise<PricingBenchFigures[]> {
  return onEachBackend('pricing', EMBEDDED, onHub);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of await benchPricing()) {
    console.log(
      `${f.name}: ${f.perSecond.toFixed(0)} carts/s, p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms`,
    );
  }
  process.exit(0);
}
