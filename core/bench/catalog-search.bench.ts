/**
 * Catalog search at 100,000 products: generates realistic Chinese/English products (materials ×
 * product types, model numbers, 20 spec attributes each, 30 brands, 2-level categories) straight
 * into the catalog and search tables with batched multi-row INSERTs (products per second
 * reported), then times four shapes of search, each answering items, total and every facet's
 * counts: a query with three facet filters (brand, category, one attribute range), a broad query
 * (10,000+ matches, no filter), a top-level category without a query, and browsing with neither.
 * Once on real PostgreSQL and once on the embedded PGlite.
 *
 * `BENCH_SEARCH_PRODUCTS` (default 100000), `BENCH_SEARCH_QUERIES` (timed filtered searches per
 * backend, default 200) and `BENCH_SEARCH_BROAD` (timed searches per broad shape and backend,
 * default 40) tune it: about 3 minutes on an idle 2-core machine, most of it indexing. Run alone with `node_modules/.bin/node core/bench/catalog-search.bench.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SearchRequest, type SearchViewer, searchCatalog } from '../catalog/search/search-engine.ts';
import {
  indexProducts,
  type SearchAttribute,
  type SearchDocument,
  type StockState,
} from '../catalog/search/search-index.ts';
import { catalogMigrations } from '../catalog/testing/catalog-db.ts';
import { Database } from '../platform/database/database.ts';
import { startEmbeddedPostgres } from '../platform/database/embedded-postgres.ts';
import { applyMigrations } from '../platform/database/migrations.ts';
import { platformMigrations } from '../platform/migrations.ts';
import { createTestDatabase } from '../platform/testing/test-servers.ts';
import { percentile } from './bench-kit.ts';

const PRODUCTS = Number(process.env.BENCH_SEARCH_PRODUCTS ?? 100_000);
const QUERIES = Number(process.env.BENCH_SEARCH_QUERIES ?? 200);
/** Timed searches per broad shape (broad query, category, browse) and backend. */
const BROAD = Number(process.env.BENCH_SEARCH_BROAD ?? 40);
const BATCH = 1_000;

export interface SearchBenchFigures {
  name: string;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  queries: number;
}

/** A seeded PRNG (mulberry32): the same catalog on every run and on both backends. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!,
  };
}

function uuid(group: number, n: number): string {
  return `00000000-0000-4000-8${String(group).padStart(3, '0')}-${String(n).padStart(12, '0')}`;
}

const MATERIALS = [
  { zh: '不锈钢', en: 'stainless steel', key: 'stainless' },
  { zh: '碳钢', en: 'carbon steel', key: 'carbon' },
  { zh: '黄铜', en: 'brass', key: 'brass' },
  { zh: '合金钢', en: 'alloy steel', key: 'alloy' },
  { zh: '铝合金', en: 'aluminium alloy', key: 'aluminium' },
  { zh: '尼龙', en: 'nylon', key: 'nylon' },
] as const;

interface Kind {
  zh: string;
  en: string;
  root: number;
  model: (r: ReturnType<typeof rng>, size: number) => string;
}

const ROOTS = [
  { zh: '紧固件', en: 'Fasteners' },
  { zh: '轴承', en: 'Bearings' },
  { zh: '阀门', en: 'Valves' },
  { zh: '电缆', en: 'Cables' },
  { zh: '管件', en: 'Pipe fittings' },
];

const KINDS: Kind[] = [
  {
    zh: '六角螺栓',
    en: 'hex bolt',
    root: 0,
    model: (r, d) => `DIN933-M${d}x${r.int(2, 30) * 5}-${r.pick(['A2', 'A4', '8.8', '10.9'])}`,
  },
  { zh: '螺母', en: 'hex nut', root: 0, model: (r, d) => `DIN934-M${d}-${r.pick(['A2', 'A4', '8'])}` },
  { zh: '垫圈', en: 'flat washer', root: 0, model: (r, d) => `DIN125-${d}-${r.pick(['A2', 'HV200'])}` },
  {
    zh: '内六角螺钉',
    en: 'socket head cap screw',
    root: 0,
    model: (r, d) => `ISO4762-M${d}x${r.int(2, 20) * 5}`,
  },
  { zh: '膨胀螺栓', en: 'wedge anchor', root: 0, model: (r, d) => `WA-M${d}x${r.int(6, 30) * 5}` },
  {
    zh: '深沟球轴承',
    en: 'deep groove ball bearing',
    root: 1,
    model: (r, d) => `6${r.int(0, 3)}${String(d).padStart(2, '0')}-${r.pick(['2RS', 'ZZ', 'OPEN'])}`,
  },
  {
    zh: '圆锥滚子轴承',
    en: 'tapered roller bearing',
    root: 1,
    model: (r, d) => `3${r.int(0, 2)}${String(d).padStart(3, '0')}`,
  },
  {
    zh: '球阀',
    en: 'ball valve',
    root: 2,
    model: (r, d) => `Q41F-${r.pick(['16P', '25P', '40C'])}-DN${d * 5}`,
  },
  { zh: '闸阀', en: 'gate valve', root: 2, model: (r, d) => `Z41H-${r.pick(['16C', '25C'])}-DN${d * 5}` },
  { zh: '截止阀', en: 'globe valve', root: 2, model: (_r, d) => `J41H-16C-DN${d * 5}` },
  { zh: '电力电缆', en: 'power cable', root: 3, model: (r, d) => `YJV-${r.int(1, 5)}x${d}` },
  {
    zh: '控制电缆',
    en: 'control cable',
    root: 3,
    model: (r) => `KVVP-${r.int(2, 37)}x${r.pick(['0.75', '1.5', '2.5'])}`,
  },
  { zh: '弯头', en: 'elbow', root: 4, model: (r, d) => `EL90-DN${d * 5}-${r.pick(['SCH40', 'SCH80'])}` },
  { zh: '三通', en: 'tee', root: 4, model: (r, d) => `TE-DN${d * 5}-${r.pick(['SCH40', 'SCH80'])}` },
];

const BRANDS = Array.from({ length: 30 }, (_, i) => ({
  id: uuid(102, i + 1),
  name: ['Jinxing', 'Huaxin', 'Dongfang', 'Hengtong', 'Boda', 'Kaiyuan'][i % 6]! + (i >= 6 ? ` ${i}` : ''),
  nameZh: ['金星', '华信', '东方', '恒通', '博达', '开元'][i % 6]! + (i >= 6 ? `${i}` : ''),
}));

const SURFACES = ['plain', 'zinc', 'black oxide', 'hot-dip galvanised', 'passivated'];
const STANDARDS = ['DIN', 'ISO', 'GB', 'ANSI', 'JIS'];
const ORIGINS = ['Jiangsu', 'Zhejiang', 'Guangdong', 'Shandong', 'Hebei', 'Shanghai'];
const COLOURS = ['silver', 'black', 'yellow', 'grey'];
const SCENARIOS = ['化工', '食品机械', '船舶', '建筑', '电力', 'chemical plants', 'marine', 'construction'];

const rootId = (root: number) => uuid(101, root + 1);
const leafId = (kind: number) => uuid(101, 100 + kind);

/** 20 spec attributes: 10 filterable ones shared by all products, 10 more per product type. */
function attributesOf(
  r: ReturnType<typeof rng>,
  kind: number,
  material: (typeof MATERIALS)[number],
  size: number,
): SearchAttribute[] {
  const number = (key: string, value: number, unit: string, filterable: boolean): SearchAttribute => ({
    key,
    type: 'number',
    unit,
    filterable,
    value,
  });
  const choice = (key: string, value: string, filterable: boolean): SearchAttribute => ({
    key,
    type: 'enum',
    filterable,
    value,
  });
  return [
    choice('material', material.key, true),
    choice('surface', r.pick(SURFACES), true),
    choice('standard', r.pick(STANDARDS), true),
    number('size', size, 'mm', true),
    number('weight', Math.round(r.next() * 5000) / 10, 'g', true),
    { key: 'rohs', type: 'boolean', filterable: true, value: r.next() < 0.7 },
    choice('origin', r.pick(ORIGINS), true),
    choice('colour', r.pick(COLOURS), true),
    number('pressure', r.pick([10, 16, 25, 40, 64]), 'bar', true),
    number('temperature_max', r.pick([80, 120, 200, 400]), '°C', true),
    {
      key: 'temperature',
      type: 'range',
      unit: '°C',
      filterable: false,
      min: -20,
      max: r.pick([80, 120, 200]),
    },
    ...Array.from({ length: 9 }, (_, i) =>
      number(`k${kind}_spec_${i}`, Math.round(r.next() * 1000) / 10, 'mm', false),
    ),
  ];
}

const stockOf = (draw: number): StockState =>
  draw < 0.7 ? 'in_stock' : draw < 0.8 ? 'low_stock' : 'out_of_stock';

/** The documents of products [from, to). */
function generate(from: number, to: number): { docs: SearchDocument[]; audiences: string[][] } {
  const docs: SearchDocument[] = [];
  const audiences: string[][] = [];
  for (let n = from; n < to; n++) {
    const r = rng(n * 7919 + 17);
    const kindIndex = n % KINDS.length;
    const kind = KINDS[kindIndex]!;
    const material = r.pick(MATERIALS);
    const size = r.pick([3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24]);
    const brand = BRANDS[r.int(0, BRANDS.length - 1)]!;
    const model = kind.model(r, size);
    const sizeText = kind.root === 0 ? `M${size}` : `${size}`;
    docs.push({
      id: uuid(103, n + 1),
      nameZh: `${sizeText}${material.zh}${kind.zh}`,
      nameEn: `${sizeText} ${material.en} ${kind.en}`,
      descriptionZh: `${brand.nameZh}出品，${material.zh}材质，适用于${r.pick(SCENARIOS)}。`,
      descriptionEn: `${material.en} ${kind.en} by ${brand.name}, for ${r.pick(SCENARIOS)}.`,
      model,
      brand,
      categoryPath: [
        { id: rootId(kind.root), nameZh: ROOTS[kind.root]!.zh, nameEn: ROOTS[kind.root]!.en },
        { id: leafId(kindIndex), nameZh: kind.zh, nameEn: kind.en },
      ],
      skuCodes: Array.from({ length: r.int(1, 3) }, (_, i) => `${model}-${[100, 500, 1000][i]}`),
      attributes: attributesOf(r, kindIndex, material, size),
      scenarios: [r.pick(SCENARIOS)],
      lifecycle: r.next() < 0.05 ? 'discontinued' : r.next() < 0.03 ? 'draft' : 'active',
      createdAt: new Date(Date.UTC(2024, 0, 1) + n * 60_000),
      // The lowest default list price (0.10–5,000 yuan) and the stock state (70 % in stock, 10 %
      // low, 20 % out), as pricing and inventory feed them.
      priceMinMinor: r.int(10, 500_000),
      currency: 'CNY',
      stock: stockOf(r.next()),
    });
    // 95 % public, 5 % in a shared catalog of one of 20 companies.
    audiences.push(r.next() < 0.95 ? ['public'] : [`company:${uuid(104, r.int(1, 20))}`]);
  }
  return { docs, audiences };
}

/** Categories and brands, then products in batches: catalog rows, visibility, search index. */
export async function loadSearchBenchData(db: Database): Promise<number> {
  await db.query(
    `INSERT INTO catalog.categories (id, parent_id, path, slug, name_zh, name_en)
     SELECT id, NULL, ARRAY[id], slug, zh, en FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(id, slug, zh, en)`,
    [
      ROOTS.map((_, i) => rootId(i)),
      ROOTS.map((_, i) => `root-${i}`),
      ROOTS.map((c) => c.zh),
      ROOTS.map((c) => c.en),
    ],
  );
  await db.query(
    `INSERT INTO catalog.categories (id, parent_id, path, slug, name_zh, name_en)
     SELECT id, parent, ARRAY[parent, id], slug, zh, en
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS u(id, parent, slug, zh, en)`,
    [
      KINDS.map((_, i) => leafId(i)),
      KINDS.map((k) => rootId(k.root)),
      KINDS.map((_, i) => `leaf-${i}`),
      KINDS.map((k) => k.zh),
      KINDS.map((k) => k.en),
    ],
  );
  await db.query(
    `INSERT INTO catalog.brands (id, slug, name, name_zh)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])`,
    [
      BRANDS.map((b) => b.id),
      BRANDS.map((_, i) => `brand-${i}`),
      BRANDS.map((b) => b.name),
      BRANDS.map((b) => b.nameZh),
    ],
  );
  const started = performance.now();
  for (let from = 0; from < PRODUCTS; from += BATCH) {
    const { docs, audiences } = generate(from, Math.min(PRODUCTS, from + BATCH));
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO catalog.products (id, slug, name_zh, name_en, category_id, brand_id, model, lifecycle,
                                       unit_of_measure, is_public)
         SELECT u.id, u.slug, u.zh, u.en, u.category, u.brand, u.model, u.lifecycle, 'pcs', u.public
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::text[],
                       $8::text[], $9::boolean[]) AS u(id, slug, zh, en, category, brand, model, lifecycle, public)`,
        [
          docs.map((d) => d.id),
          docs.map((d) => `p-${d.id.slice(-12)}`),
          docs.map((d) => d.nameZh),
          docs.map((d) => d.nameEn),
          docs.map((d) => d.categoryPath[1]!.id),
          docs.map((d) => d.brand!.id),
          docs.map((d) => d.model),
          docs.map((d) => d.lifecycle),
          audiences.map((a) => a[0] === 'public'),
        ],
      );
      const listed = docs.flatMap((d, i) =>
        d.lifecycle === 'draft' ? [] : audiences[i]!.map((a) => [d.id, a]),
      );
      await tx.query(
        'INSERT INTO catalog.product_visibility (product_id, audience) SELECT * FROM unnest($1::uuid[], $2::text[])',
        [listed.map((pair) => pair[0]), listed.map((pair) => pair[1])],
      );
      await indexProducts(tx, docs);
    });
  }
  const seconds = (performance.now() - started) / 1000;
  // What autovacuum does after a bulk load: statistics, and the GIN pending lists merged.
  await db.query('VACUUM ANALYZE');
  return PRODUCTS / seconds;
}

/** The timed mix: a query and three facet filters (brand, category, one attribute range). */
export function searchBenchRequests(): SearchRequest[] {
  const r = rng(42);
  const texts = [
    '不锈钢 螺栓',
    'stainless bolt',
    '碳钢 螺母',
    '黄铜 球阀',
    'M8 不锈钢',
    '轴承 2RS',
    'ball valve DN50',
    '电缆 YJV',
  ];
  const ranges = [
    { key: 'size', min: 6, max: 16 },
    { key: 'weight', min: 50, max: 300 },
    { key: 'pressure', min: 16, max: 40 },
    { key: 'temperature_max', min: 100 },
  ];
  return Array.from({ length: 64 }, (_, i) => {
    const kind = r.int(0, KINDS.length - 1);
    return {
      q: texts[i % texts.length]!,
      brands: [BRANDS[r.int(0, BRANDS.length - 1)]!.id, BRANDS[r.int(0, BRANDS.length - 1)]!.id],
      category: i % 2 ? rootId(KINDS[kind]!.root) : leafId(kind),
      attributes: [r.pick(ranges)],
      limit: 20,
    };
  });
}

/** Searches that match 10,000+ of 100,000 products (one material or product family, no filter). */
export const BROAD_QUERIES = ['不锈钢', 'stainless', '黄铜', '轴承', 'valve', '螺栓'];

interface Shape {
  label: string;
  requests: Array<{ viewer: SearchViewer; request: SearchRequest }>;
  count: number;
}

function shapes(): Shape[] {
  const buyer: SearchViewer = { kind: 'buyer', companyId: uuid(104, 3), tier: null, tags: [] };
  const guest: SearchViewer = { kind: 'guest' };
  const viewers = [buyer, guest];
  return [
    {
      label: 'query + 3 facet filters',
      requests: searchBenchRequests().map((request) => ({ viewer: buyer, request })),
      count: QUERIES,
    },
    {
      label: 'broad query, 10k+ matches',
      requests: BROAD_QUERIES.flatMap((q) => viewers.map((viewer) => ({ viewer, request: { q } }))),
      count: BROAD,
    },
    {
      label: 'top-level category, no query',
      requests: ROOTS.flatMap((_, i) =>
        viewers.map((viewer) => ({ viewer, request: { category: rootId(i) } })),
      ),
      count: BROAD,
    },
    {
      label: 'browse, no query, no filter',
      requests: [...viewers, { kind: 'staff' } as SearchViewer].map((viewer) => ({ viewer, request: {} })),
      count: BROAD,
    },
  ];
}

async function timeShape(db: Database, shape: Shape, backend: string): Promise<SearchBenchFigures> {
  const { requests } = shape;
  for (const { viewer, request } of requests.slice(0, 8)) await searchCatalog(db, viewer, request); // warm-up
  const latencies: number[] = [];
  let matches = 0;
  const started = performance.now();
  for (let i = 0; i < shape.count; i++) {
    const { viewer, request } = requests[i % requests.length]!;
    const t0 = performance.now();
    const result = await searchCatalog(db, viewer, request);
    latencies.push(performance.now() - t0);
    matches += result.total;
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name: `${shape.label} (${backend}; ${Math.round(matches / shape.count).toLocaleString('en')} matches on average)`,
    perSecond: shape.count / elapsed,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    queries: shape.count,
  };
}

async function timeSearches(db: Database, backend: string): Promise<SearchBenchFigures[]> {
  const figures: SearchBenchFigures[] = [];
  for (const shape of shapes()) figures.push(await timeShape(db, shape, backend));
  return figures;
}

/** Loads the catalog into one backend and times every shape on it. */
async function benchBackend(db: Database, backend: string): Promise<SearchBenchFigures[]> {
  await applyMigrations(db, [platformMigrations, catalogMigrations]);
  const rate = await loadSearchBenchData(db);
  return [
    {
      name: `generate and index ${PRODUCTS.toLocaleString('en')} products (${backend}), products/s`,
      perSecond: rate,
      p50Ms: Number.NaN,
      p95Ms: Number.NaN,
      p99Ms: Number.NaN,
      queries: 0,
    },
    ...(await timeSearches(db, backend)),
  ];
}

export async function benchCatalogSearch(): Promise<SearchBenchFigures[]> {
  const figures: SearchBenchFigures[] = [];
  const real = await createTestDatabase();
  try {
    figures.push(...(await benchBackend(real.db, 'PostgreSQL')));
  } finally {
    await real.drop();
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-bench-search-'));
  const embedded = await startEmbeddedPostgres(dataDir);
  const lite = new Database(embedded.url, { max: 4 });
  try {
    figures.push(...(await benchBackend(lite, 'embedded PGlite')));
  } finally {
    await lite.close();
    await embedded.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}

/** The figures as a table (milliseconds; per second is searches, or products for indexing). */
export function searchFiguresTable(figures: readonly SearchBenchFigures[]): string {
  const ms = (value: number) => (Number.isNaN(value) ? '' : value.toFixed(1));
  const header = ['benchmark', 'per second', 'p50 ms', 'p95 ms', 'p99 ms', 'searches'];
  const lines = figures.map((f) => [
    f.name,
    f.perSecond.toFixed(0),
    ms(f.p50Ms),
    ms(f.p95Ms),
    ms(f.p99Ms),
    f.queries ? String(f.queries) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`\nCatalog search\n\n${searchFiguresTable(await benchCatalogSearch())}\n`);
}
