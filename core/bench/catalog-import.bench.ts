/**
 * Catalog bulk import: 100,000 generated products (realistic Chinese and English names, 20 spec
 * attributes each, 1–3 SKUs each, so about 200,000 rows) written to a CSV and to an XLSX file by
 * streaming writers, each imported into a fresh PostgreSQL database through the import's own code
 * path (read and bound the file, validate every product, write in batches, outbox events,
 * report). Rows per second and the peak RSS of the importing process are reported, with the
 * largest heap left after a full garbage collection (what the import actually holds: RSS also
 * counts garbage V8 has not collected yet); the same is done for a 10,000-product file to show
 * that memory does not grow with the file.
 *
 * Every import runs in a child process of its own, so its peak RSS is its own.
 * `BENCH_IMPORT_PRODUCTS` (default 100000) and `BENCH_IMPORT_SMALL` (default 10000) tune it.
 * Run alone with `node_modules/.bin/node core/bench/catalog-import.bench.ts`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { DEFAULT_IMPORT_LIMITS } from '../catalog/import/import-limits.ts';
import { insertImport } from '../catalog/import/import-records.ts';
import { runImport } from '../catalog/import/run-import.ts';
import { catalogMigrations } from '../catalog/testing/catalog-db.ts';
import { Database } from '../platform/database/database.ts';
import { applyMigrations } from '../platform/database/migrations.ts';
import { platformMigrations } from '../platform/migrations.ts';
import { createTestDatabase } from '../platform/testing/test-servers.ts';

const PRODUCTS = Number(process.env.BENCH_IMPORT_PRODUCTS ?? 100_000);
const SMALL = Number(process.env.BENCH_IMPORT_SMALL ?? 10_000);
/** Batches in flight, as the import job uses on PostgreSQL. */
const CONCURRENCY = Number(process.env.BENCH_IMPORT_CONCURRENCY ?? 2);

export interface ImportBenchFigures {
  name: string;
  rows: number;
  products: number;
  seconds: number;
  rowsPerSecond: number;
  productsPerSecond: number;
  peakRssMb: number;
  /** The largest heap in use right after a full collection. */
  liveHeapMb: number;
  fileMb: number;
}

/** A seeded PRNG (mulberry32): the same file on every run. */
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

const ROOTS = [
  { slug: 'fasteners', zh: '紧固件', en: 'Fasteners' },
  { slug: 'bearings', zh: '轴承', en: 'Bearings' },
  { slug: 'valves', zh: '阀门', en: 'Valves' },
  { slug: 'cables', zh: '电缆', en: 'Cables' },
  { slug: 'pipe-fittings', zh: '管件', en: 'Pipe fittings' },
];

const KINDS = [
  {
    zh: '六角螺栓',
    en: 'hex bolt',
    root: 0,
    model: (d: number, r: Rng) => `DIN933-M${d}x${r.int(2, 30) * 5}`,
  },
  { zh: '螺母', en: 'hex nut', root: 0, model: (d: number) => `DIN934-M${d}` },
  { zh: '垫圈', en: 'flat washer', root: 0, model: (d: number) => `DIN125-${d}` },
  {
    zh: '内六角螺钉',
    en: 'socket head cap screw',
    root: 0,
    model: (d: number, r: Rng) => `ISO4762-M${d}x${r.int(2, 20) * 5}`,
  },
  {
    zh: '膨胀螺栓',
    en: 'wedge anchor',
    root: 0,
    model: (d: number, r: Rng) => `WA-M${d}x${r.int(6, 30) * 5}`,
  },
  {
    zh: '深沟球轴承',
    en: 'deep groove ball bearing',
    root: 1,
    model: (d: number, r: Rng) => `6${r.int(0, 3)}${String(d).padStart(2, '0')}-2RS`,
  },
  {
    zh: '圆锥滚子轴承',
    en: 'tapered roller bearing',
    root: 1,
    model: (d: number, r: Rng) => `3${r.int(0, 2)}${String(d).padStart(3, '0')}`,
  },
  { zh: '球阀', en: 'ball valve', root: 2, model: (d: number) => `Q41F-16P-DN${d * 5}` },
  { zh: '闸阀', en: 'gate valve', root: 2, model: (d: number) => `Z41H-16C-DN${d * 5}` },
  { zh: '截止阀', en: 'globe valve', root: 2, model: (d: number) => `J41H-16C-DN${d * 5}` },
  { zh: '电力电缆', en: 'power cable', root: 3, model: (d: number, r: Rng) => `YJV-${r.int(1, 5)}x${d}` },
  { zh: '控制电缆', en: 'control cable', root: 3, model: (_d: number, r: Rng) => `KVVP-${r.int(2, 37)}x1.5` },
  { zh: '弯头', en: 'elbow', root: 4, model: (d: number) => `EL90-DN${d * 5}-SCH40` },
  { zh: '三通', en: 'tee', root: 4, model: (d: number) => `TE-DN${d * 5}-SCH80` },
];
type Rng = ReturnType<typeof rng>;

const MATERIALS = [
  { zh: '不锈钢', en: 'stainless steel', key: 'stainless' },
  { zh: '碳钢', en: 'carbon steel', key: 'carbon' },
  { zh: '黄铜', en: 'brass', key: 'brass' },
  { zh: '合金钢', en: 'alloy steel', key: 'alloy' },
  { zh: '铝合金', en: 'aluminium alloy', key: 'aluminium' },
  { zh: '尼龙', en: 'nylon', key: 'nylon' },
];
const BRANDS = Array.from({ length: 30 }, (_, i) => ({
  slug: `brand-${i}`,
  name: ['Jinxing', 'Huaxin', 'Dongfang', 'Hengtong', 'Boda', 'Kaiyuan'][i % 6]! + (i >= 6 ? ` ${i}` : ''),
  nameZh: ['金星', '华信', '东方', '恒通', '博达', '开元'][i % 6]! + (i >= 6 ? `${i}` : ''),
}));
const ENUMS: Record<string, string[]> = {
  material: MATERIALS.map((m) => m.key),
  surface: ['plain', 'zinc', 'black-oxide', 'hot-dip', 'passivated'],
  standard: ['din', 'iso', 'gb', 'ansi', 'jis'],
  origin: ['jiangsu', 'zhejiang', 'guangdong', 'shandong', 'hebei', 'shanghai'],
  colour: ['silver', 'black', 'yellow', 'grey'],
};
/** 20 attributes every product carries: 5 enums, 13 numbers, a boolean and a range. */
const NUMBERS = [
  ['size', 'mm'],
  ['weight', 'g'],
  ['pressure', 'bar'],
  ['temperature_max', '°C'],
  ['length', 'mm'],
  ['width', 'mm'],
  ['height', 'mm'],
  ['thread_pitch', 'mm'],
  ['head_height', 'mm'],
  ['inner_diameter', 'mm'],
  ['outer_diameter', 'mm'],
  ['thickness', 'mm'],
  ['tolerance', 'mm'],
] as const;
const SCENARIOS = ['化工', '食品机械', '船舶', '建筑', '电力', 'marine', 'construction'];
const ATTRIBUTE_KEYS = [...Object.keys(ENUMS), ...NUMBERS.map(([key]) => key), 'rohs', 'temperature'];

export const IMPORT_HEADER = [
  'slug',
  '名称',
  'nameEn',
  '描述',
  '品牌',
  '类目',
  '单位',
  '状态',
  'isPublic',
  '型号',
  'scenarios',
  'packSizes',
  'SKU编码',
  'skuPackSize',
  'skuWeightGrams',
  ...ATTRIBUTE_KEYS.map((key) => `attr:${key}`),
];

/** The file rows of product `n` (one per SKU). */
function productRows(n: number): Array<Array<string | number>> {
  const r = rng(n * 7919 + 17);
  const kind = KINDS[n % KINDS.length]!;
  const material = r.pick(MATERIALS);
  const size = r.pick([3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24]);
  const brand = BRANDS[r.int(0, BRANDS.length - 1)]!;
  const sizeText = kind.root === 0 ? `M${size}` : `DN${size * 5}`;
  const model = kind.model(size, r);
  const values = [
    material.key,
    r.pick(ENUMS.surface!),
    r.pick(ENUMS.standard!),
    r.pick(ENUMS.origin!),
    r.pick(ENUMS.colour!),
    `${size} mm`,
    `${Math.round(r.next() * 5000) / 10} g`,
    String(r.pick([10, 16, 25, 40, 64])),
    String(r.pick([80, 120, 200, 400])),
    ...Array.from({ length: 9 }, () => String(Math.round(r.next() * 1000) / 10)),
    r.next() < 0.7 ? '是' : '否',
    `-20~${r.pick([80, 120, 200])}`,
  ];
  const packs = [100, 500, 1000].slice(0, r.int(1, 3));
  const product = [
    `${kind.en.replaceAll(' ', '-')}-${n}`,
    `${sizeText}${material.zh}${kind.zh}`,
    `${sizeText} ${material.en} ${kind.en}`,
    `${brand.nameZh}出品，${material.zh}材质，适用于${r.pick(SCENARIOS)}。`,
    brand.nameZh,
    `${ROOTS[kind.root]!.zh}/${kind.zh}`,
    kind.root === 3 ? '米' : 'pcs',
    r.next() < 0.9 ? '在售' : '草稿',
    r.next() < 0.95 ? '是' : '否',
    model,
    r.pick(SCENARIOS),
    packs.join('|'),
  ];
  return packs.map((pack) => [
    ...product,
    `${model}-${n}-${pack}`,
    pack,
    Math.round(pack * (1 + r.next()) * 10),
    ...values,
  ]);
}

function csvLine(cells: ReadonlyArray<string | number>): string {
  return `${cells.map((cell) => (typeof cell === 'string' && /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell)).join(',')}\r\n`;
}

export async function writeCsv(file: string, products: number): Promise<number> {
  const out = createWriteStream(file);
  let rows = 0;
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`\uFEFF${csvLine(IMPORT_HEADER)}`);
  for (let n = 0; n < products; n++) {
    for (const row of productRows(n)) {
      rows++;
      await write(csvLine(row));
    }
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

export async function writeXlsx(file: string, products: number): Promise<number> {
  // Shared strings, as Excel itself saves a workbook.
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: file,
    useSharedStrings: true,
    useStyles: false,
  });
  const sheet = workbook.addWorksheet('products');
  sheet.addRow(IMPORT_HEADER).commit();
  let rows = 0;
  for (let n = 0; n < products; n++) {
    for (const row of productRows(n)) {
      rows++;
      sheet.addRow(row).commit();
    }
  }
  sheet.commit();
  await workbook.commit();
  return rows;
}

/** The categories, brands and 20 attribute definitions the generated products name. */
export async function seedCatalog(db: Database): Promise<void> {
  const rootIds = ROOTS.map(() => randomUUID());
  await db.query(
    `INSERT INTO catalog.categories (id, parent_id, path, slug, name_zh, name_en)
     SELECT id, NULL, ARRAY[id], slug, zh, en FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(id, slug, zh, en)`,
    [rootIds, ROOTS.map((c) => c.slug), ROOTS.map((c) => c.zh), ROOTS.map((c) => c.en)],
  );
  const leafIds = KINDS.map(() => randomUUID());
  await db.query(
    `INSERT INTO catalog.categories (id, parent_id, path, slug, name_zh, name_en)
     SELECT id, parent, ARRAY[parent, id], slug, zh, en
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS u(id, parent, slug, zh, en)`,
    [
      leafIds,
      KINDS.map((k) => rootIds[k.root]),
      KINDS.map((k) => k.en.replaceAll(' ', '-')),
      KINDS.map((k) => k.zh),
      KINDS.map((k) => k.en),
    ],
  );
  await db.query(
    `INSERT INTO catalog.brands (slug, name, name_zh) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
    [BRANDS.map((b) => b.slug), BRANDS.map((b) => b.name), BRANDS.map((b) => b.nameZh)],
  );
  const definitions = [
    ...Object.entries(ENUMS).map(([key, options]) => ({
      key,
      type: 'enum',
      unit: null,
      options: options.map((value) => ({ value, nameZh: value, nameEn: value })),
    })),
    ...NUMBERS.map(([key, unit]) => ({ key, type: 'number', unit, options: [] })),
    { key: 'rohs', type: 'boolean', unit: null, options: [] },
    { key: 'temperature', type: 'range', unit: '°C', options: [] },
  ];
  await db.query(
    `INSERT INTO catalog.attribute_definitions (key, name_zh, name_en, type, unit, options, filterable)
     SELECT d.key, d.key, d.key, d.type, d.unit, d.options, true
       FROM jsonb_to_recordset($1::jsonb) AS d(key text, type text, unit text, options jsonb)`,
    [JSON.stringify(definitions)],
  );
}

/** Child-process side: one import of one file into the database at `url`, figures on stdout. */
async function importOnce(url: string, file: string): Promise<void> {
  const db = new Database(url, { max: 4 });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  let live = 0;
  const collections = new PerformanceObserver((list) => {
    if (
      list
        .getEntries()
        .some(
          (entry) =>
            (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR,
        )
    ) {
      live = Math.max(live, process.memoryUsage().heapUsed);
    }
  });
  collections.observe({ entryTypes: ['gc'] });
  try {
    const record = await insertImport(db, {
      format: file.endsWith('.xlsx') ? 'xlsx' : 'csv',
      mode: 'upsert',
      dryRun: false,
      encoding: 'auto',
      fileName: path.basename(file),
      fileKey: 'bench',
      fileSize: statSync(file).size,
      sha256: randomUUID().replaceAll('-', '').repeat(2),
      createdBy: randomUUID(),
      requestId: null,
    });
    const started = performance.now();
    const done = await runImport({
      db,
      importId: record.id,
      file,
      limits: DEFAULT_IMPORT_LIMITS,
      concurrency: CONCURRENCY,
    });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    process.stdout.write(
      `${JSON.stringify({ status: done.status, failure: done.failure, progress: done.progress, seconds, peakRss: peak, liveHeap: live })}\n`,
    );
  } finally {
    clearInterval(sampler);
    collections.disconnect();
    await db.close();
  }
}

const run = promisify(execFile);

async function benchOne(
  label: string,
  file: string,
  rows: number,
  products: number,
): Promise<ImportBenchFigures> {
  const database = await createTestDatabase();
  try {
    await applyMigrations(database.db, [platformMigrations, catalogMigrations]);
    await seedCatalog(database.db);
    const { stdout } = await run(
      process.execPath,
      [fileURLToPath(import.meta.url), '--import', database.url, file],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      status: string;
      failure: unknown;
      progress: { productsCreated: number; rowsSettled: number };
      seconds: number;
      peakRss: number;
      liveHeap: number;
    };
    if (result.status !== 'succeeded' || result.progress.productsCreated !== products) {
      throw new Error(
        `${label}: import ended ${result.status} ${JSON.stringify(result.failure ?? result.progress)}`,
      );
    }
    return {
      name: label,
      rows,
      products,
      seconds: result.seconds,
      rowsPerSecond: rows / result.seconds,
      productsPerSecond: products / result.seconds,
      peakRssMb: result.peakRss / 1024 / 1024,
      liveHeapMb: result.liveHeap / 1024 / 1024,
      fileMb: statSync(file).size / 1024 / 1024,
    };
  } finally {
    await database.drop();
  }
}

export async function benchCatalogImport(): Promise<ImportBenchFigures[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-bench-import-'));
  const figures: ImportBenchFigures[] = [];
  try {
    for (const [products, size] of [
      [SMALL, 'small'],
      [PRODUCTS, 'full'],
    ] as const) {
      const csv = path.join(dir, `${size}.csv`);
      const csvRows = await writeCsv(csv, products);
      figures.push(
        await benchOne(
          `catalog import, ${products.toLocaleString('en')} products, CSV`,
          csv,
          csvRows,
          products,
        ),
      );
      rmSync(csv);
      const xlsx = path.join(dir, `${size}.xlsx`);
      const xlsxRows = await writeXlsx(xlsx, products);
      figures.push(
        await benchOne(
          `catalog import, ${products.toLocaleString('en')} products, XLSX`,
          xlsx,
          xlsxRows,
          products,
        ),
      );
      rmSync(xlsx);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

export function importFiguresTable(figures: readonly ImportBenchFigures[]): string {
  const header = [
    'benchmark',
    'rows',
    'rows/s',
    'products/s',
    'seconds',
    'peak RSS MB',
    'live heap MB',
    'file MB',
  ];
  const lines = figures.map((f) => [
    f.name,
    String(f.rows),
    f.rowsPerSecond.toFixed(0),
    f.productsPerSecond.toFixed(0),
    f.seconds.toFixed(1),
    f.peakRssMb.toFixed(0),
    f.liveHeapMb > 0 ? f.liveHeapMb.toFixed(0) : '-',
    f.fileMb.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--import') {
    await importOnce(process.argv[3]!, process.argv[4]!);
  } else {
    process.stdout.write(`\nCatalog import\n\n${importFiguresTable(await benchCatalogImport())}\n`);
  }
}
