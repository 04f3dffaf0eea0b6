/**
 * Export figures, printed as a table. Not part of the test suite; run alone with
 * `node_modules/.bin/node core/catalog/export/export.bench.ts`.
 *
 * 1. The writers alone: 1,000 and 5,000 in-memory rows of 24 spec attributes each to XLSX and PDF:
 *    time, file size, and the process's peak RSS above its start (memory must stay flat as rows
 *    grow, since rows are committed and pages emitted as they go).
 * 2. End to end through the gateway of a whole hub on real PostgreSQL: `BENCH_EXPORT_PRODUCTS`
 *    (default 5,000) products with SKUs and specs, a guest's search export of all of them
 *    (50 pages of catalog-search, the catalog load in batches, the file streamed).
 */
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadPdfFont } from '../../platform/documents/pdf-font.ts';
import { startTestHub } from '../../platform/testing/start-test-hub.ts';
import { waitFor } from '../../platform/testing/wait-for.ts';
import type { AttributeDefinition } from '../attributes.ts';
import { insertAttribute } from '../attributes.ts';
import { insertCategory } from '../categories.ts';
import { changeLifecycle, insertProduct, loadProducts } from '../products.ts';
import { refreshVisibility, visibleAmong } from '../visibility.ts';
import { columnPlan, type ExportRow } from './export-columns.ts';
import { LOAD_BATCH } from './export-source.ts';
import { writePdf } from './pdf-export.ts';
import { ATTRIBUTES, definition, product, value } from './testing/export-fixture.ts';
import { type ExportMeta, writeXlsx } from './xlsx-export.ts';

const E2E_PRODUCTS = Number(process.env.BENCH_EXPORT_PRODUCTS ?? 5_000);

const EXTRA: AttributeDefinition[] = Array.from({ length: 20 }, (_, i) =>
  definition(`spec_${i}`, 'number', { nameZh: `参数${i}`, nameEn: `Spec ${i}`, unit: 'mm', sort: 10 + i }),
);
const ALL = [...ATTRIBUTES, ...EXTRA];

async function* rows(count: number): AsyncGenerator<ExportRow> {
  for (let n = 1; n <= count; n += 1) {
    const base = product(n);
    base.attributes.push(...EXTRA.map((def, i) => value(def, { value: (n * (i + 1)) % 997 })));
    yield { product: base };
    // What the real source does between batches of 200: an await on the database.
    if (n % 200 === 0) await sleep(0);
  }
}

interface Run {
  name: string;
  seconds: number;
  megabytes: number;
  peakRssMb: number;
}

/** Times `work`, sampling RSS every 20 ms for its peak above the level at start. */
async function measure(name: string, work: (out: PassThrough) => Promise<unknown>): Promise<Run> {
  (globalThis as { gc?: () => void }).gc?.();
  const startRss = process.memoryUsage().rss;
  let peak = startRss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const out = new PassThrough();
  let bytes = 0;
  out.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  const started = performance.now();
  await work(out);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { name, seconds, megabytes: bytes / 1e6, peakRssMb: (peak - startRss) / 1e6 };
}

function meta(count: number): ExportMeta {
  return {
    lang: 'zh',
    title: '商品搜索',
    details: [`${count} rows`],
    generatedAt: new Date(),
    total: count,
    maxRows: 5000,
    truncated: false,
  };
}

async function writers(): Promise<Run[]> {
  const font = loadPdfFont();
  const columns = columnPlan({
    lang: 'zh',
    listItems: false,
    attributes: ALL,
    productUrl: (p) => `/p/${p.slug}`,
  });
  const runs: Run[] = [];
  for (const count of [1_000, 5_000]) {
    runs.push(
      await measure(`XLSX writer, ${count} rows`, (out) => writeXlsx(out, columns, rows(count), meta(count))),
    );
  }
  for (const count of [1_000, 5_000]) {
    runs.push(
      await measure(`PDF writer, ${count} rows`, (out) =>
        writePdf(out, {
          rows: rows(count),
          meta: meta(count),
          attributes: ALL,
          listItems: false,
          font,
          productUrl: (row) => `/p/${row.product.slug}`,
        }),
      ),
    );
  }
  return runs;
}

async function endToEnd(): Promise<Run[]> {
  const t = await startTestHub();
  try {
    const db = t.hub.platform.db;
    const started = performance.now();
    const category = await db.transaction(async (tx) => {
      const root = await insertCategory(tx, { slug: 'fasteners', nameZh: '紧固件', nameEn: 'Fasteners' });
      for (const def of ALL) {
        const { id: _id, createdAt: _c, updatedAt: _u, ...input } = def;
        await insertAttribute(tx, { ...input, filterable: def.type !== 'text' && def.type !== 'range' });
      }
      return root;
    });
    for (let from = 1; from <= E2E_PRODUCTS; from += 250) {
      const ids: string[] = [];
      await db.transaction(async (tx) => {
        for (let n = from; n < Math.min(from + 250, E2E_PRODUCTS + 1); n += 1) {
          const id = await insertProduct(tx, {
            slug: `bolt-${n}`,
            nameZh: `第${n}号不锈钢六角螺栓`,
            nameEn: `Stainless hex bolt no. ${n}`,
            categoryId: category.id,
            model: `DIN933-M8x${n}`,
            unitOfMeasure: 'pcs',
            packSizes: [100],
            isPublic: true,
            attributes: [
              { key: 'temp', min: -40, max: 150 },
              { key: 'note', value: '户外使用' },
              { key: 'rohs', value: true },
              ...EXTRA.map((def, i) => ({ key: def.key, value: (n * (i + 1)) % 997 })),
            ],
            skus: [30, 40].map((length) => ({
              code: `BOLT-${n}-${length}`,
              packSize: 100,
              variant: [{ key: 'length', value: length }],
            })),
          });
          await changeLifecycle(tx, id, 'active');
          ids.push(id);
        }
        await refreshVisibility(tx, ids);
      });
      await t.hub.broker.call('catalog-search.internal.reindex', { productIds: ids });
    }
    await waitFor(
      async () =>
        ((await (await fetch(`${t.baseUrl}/api/catalog/search?limit=1`)).json()) as { total: number })
          .total === E2E_PRODUCTS,
      'the products to be indexed',
      600_000,
    );
    console.log(
      `seeded and indexed ${E2E_PRODUCTS} products in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const runs: Run[] = [];
    // The parts: one search page of 100 (items, total and every facet, for a guest), and loading
    // 200 products for the file (the catalog's full answer and the visibility check).
    const pages = 10;
    let cursor: string | null = null;
    runs.push(
      await measure(`catalog-search page of 100 (of ${E2E_PRODUCTS}), × ${pages}`, async () => {
        for (let i = 0; i < pages; i += 1) {
          const page: { nextCursor: string | null } = await t.hub.broker.call(
            'catalog-search.search',
            { limit: 100, ...(cursor ? { cursor } : {}) },
            { meta: {} },
          );
          cursor = page.nextCursor;
        }
      }),
    );
    const ids = (
      await db.query('SELECT id FROM catalog.products ORDER BY id LIMIT $1', [LOAD_BATCH * pages])
    ).rows.map((row) => row.id as string);
    runs.push(
      await measure(`catalog load of ${LOAD_BATCH} products, × ${pages}`, async () => {
        for (let i = 0; i < pages; i += 1) {
          const batch = ids.slice(i * LOAD_BATCH, (i + 1) * LOAD_BATCH);
          await Promise.all([loadProducts(db, batch), visibleAmong(db, { kind: 'guest' }, batch)]);
        }
      }),
    );
    for (const format of ['xlsx', 'pdf']) {
      runs.push(
        await measure(`HTTP search export, ${E2E_PRODUCTS} rows, ${format}`, async (out) => {
          const response = await fetch(`${t.baseUrl}/api/catalog/search/export?format=${format}`);
          if (response.status !== 200) throw new Error(`export answered ${response.status}`);
          for await (const chunk of response.body!) out.write(chunk);
          out.end();
        }),
      );
    }
    return runs;
  } finally {
    await t.stop();
  }
}

function print(figures: Run[]) {
  console.table(
    figures.map((run) => ({
      what: run.name,
      seconds: run.seconds.toFixed(2),
      'file MB': run.megabytes.toFixed(2),
      'peak RSS +MB': run.peakRssMb.toFixed(0),
    })),
  );
}

print(await writers());
print(await endToEnd());
process.exit(0);
