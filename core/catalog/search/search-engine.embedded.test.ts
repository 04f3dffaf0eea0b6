import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Database } from '../../platform/database/database.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../platform/database/embedded-postgres.ts';
import { applyMigrations } from '../../platform/database/migrations.ts';
import { platformMigrations } from '../../platform/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/test-servers.ts';
import { catalogMigrations } from '../testing/catalog-db.ts';
import { type SearchRequest, type SearchResult, type SearchViewer, searchCatalog } from './search-engine.ts';
import { brands, COMPANY_A, categories, productIds, seedSearchFixture } from './testing/search-fixture.ts';

/**
 * Search on the embedded default (PGlite with pg_trgm, behind pglite-socket) gives exactly the
 * answers real PostgreSQL gives for the same data: same items in the same order with the same
 * scores, same totals, facets and cursors.
 */
const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-search-embedded-'));
let embedded: EmbeddedPostgres;
let lite: Database;
let real: TestDatabase;

beforeAll(async () => {
  embedded = await startEmbeddedPostgres(dataDir);
  lite = new Database(embedded.url, { max: 4 });
  real = await createTestDatabase();
  for (const db of [lite, real.db]) {
    await applyMigrations(db, [platformMigrations, catalogMigrations]);
    await seedSearchFixture(db);
  }
}, 120_000);

afterAll(async () => {
  await lite?.close();
  await embedded?.stop();
  await real?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const guest: SearchViewer = { kind: 'guest' };
const buyerA: SearchViewer = { kind: 'buyer', companyId: COMPANY_A, tier: null, tags: [] };

const cases: Array<[string, SearchViewer, SearchRequest]> = [
  ['chinese without spaces', guest, { q: '不锈钢 M8 螺栓' }],
  ['chinese, private product visible', buyerA, { q: '不锈钢 螺栓' }],
  ['english', guest, { q: 'stainless hex' }],
  ['exact model first, typos after', guest, { q: 'DIN933-M8x30-A2' }],
  ['typo', guest, { q: 'DN933 M8x30' }],
  ['sku', guest, { q: 'DIN933-M8X30-A2-500' }],
  ['name over description', guest, { q: 'anchor' }],
  [
    'facets with filters',
    guest,
    { q: '螺栓', brands: [brands.jinxing.id], attributes: [{ key: 'diameter', min: 8, max: 10 }] },
  ],
  [
    'category drill-down',
    buyerA,
    { category: categories.fasteners.id, attributes: [{ key: 'material', values: ['stainless'] }] },
  ],
  ['price and stock', guest, { q: '螺栓', price: { min: 500n }, inStock: true }],
  [
    'low stock and a price band',
    guest,
    { q: '螺栓', stock: ['low_stock', 'out_of_stock'], price: { min: 500n, max: 999n } },
  ],
  ['price ascending', guest, { q: '螺栓', sort: 'price_asc' }],
  ['price descending', guest, { q: '螺栓', sort: 'price_desc', limit: 2 }],
  ['newest', guest, { category: categories.fasteners.id, sort: 'newest', limit: 3 }],
  ['browsing: kept counts', guest, {}],
  ['browsing a category: kept counts, a shared catalog', buyerA, { category: categories.fasteners.id }],
  ['browsing as staff, by price', { kind: 'staff' }, { sort: 'price_desc', limit: 4 }],
  ['zero results', guest, { q: '不存在的产品' }],
];

it.each(cases)('%s: PGlite answers as PostgreSQL does', async (name, viewer, request) => {
  const [onLite, onReal] = await Promise.all([
    searchCatalog(lite, viewer, request),
    searchCatalog(real.db, viewer, request),
  ]);
  expect(onLite).toEqual(onReal);
  expect(onReal.total > 0).toBe(name !== 'zero results');
});

it.each([
  ['a search with words', { q: 'M8' }],
  ['browsing', {}],
] as Array<[string, SearchRequest]>)(
  'pages %s identically on both, following the cursors to the end',
  async (_name, request) => {
    const pagesOf = async (db: Database) => {
      const pages: SearchResult[] = [];
      let cursor: string | undefined;
      do {
        const page = await searchCatalog(db, buyerA, { ...request, limit: 2, cursor });
        pages.push(page);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return pages;
    };
    const [onLite, onReal] = await Promise.all([pagesOf(lite), pagesOf(real.db)]);
    expect(onLite).toEqual(onReal);
    expect(onLite.flatMap((page) => page.items.map((item) => item.productId))).toContain(
      productIds.privateBolt,
    );
  },
);
