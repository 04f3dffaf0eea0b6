import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyMigrations } from '../../platform/database/migrations.ts';
import { platformMigrations } from '../../platform/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/test-servers.ts';
import { catalogMigrations } from '../testing/catalog-db.ts';
import { type SearchRequest, type SearchViewer, searchCatalog } from './search-engine.ts';
import { indexProduct, indexProducts, removeProduct, type SearchDocument } from './search-index.ts';
import {
  COMPANY_A,
  COMPANY_B,
  categories,
  fixtureDocuments,
  fixtureId,
  productIds,
  seedSearchFixture,
} from './testing/search-fixture.ts';

/**
 * Browsing reads facet counts the index keeps per visibility scope and category (migration
 * 0104). They must answer exactly what counting the matches live answers, after every kind of
 * change: re-indexing, visibility changes without a re-index, lifecycle, removal, products with
 * several numbers for one attribute.
 */
let database: TestDatabase;
const guest: SearchViewer = { kind: 'guest' };
const buyerA: SearchViewer = { kind: 'buyer', companyId: COMPANY_A, tier: null, tags: [] };
const buyerB: SearchViewer = { kind: 'buyer', companyId: COMPANY_B, tier: 'gold', tags: ['oem'] };
const staff: SearchViewer = { kind: 'staff' };
const viewers = [guest, buyerA, buyerB, staff];

beforeAll(async () => {
  database = await createTestDatabase();
  await applyMigrations(database.db, [platformMigrations, catalogMigrations]);
  await seedSearchFixture(database.db);
}, 60_000);

afterAll(async () => {
  await database?.drop();
});

const doc = (id: string) => fixtureDocuments.find((d) => d.id === id)!;

class RolledBack extends Error {
  readonly rows: unknown[];
  constructor(rows: unknown[]) {
    super('rolled back');
    this.rows = rows;
  }
}

/** Every viewer, under the whole catalog and every category, newest first and by price. */
async function expectKeptCountsExact(): Promise<void> {
  const nodes = [undefined, ...Object.values(categories).map((c) => c.id)];
  for (const viewer of viewers) {
    for (const category of nodes) {
      for (const request of [{ category }, { category, sort: 'price_asc', limit: 3 }] as SearchRequest[]) {
        const kept = await searchCatalog(database.db, viewer, request);
        const live = await searchCatalog(database.db, viewer, request, { keptCounts: false });
        expect({ viewer, request, result: kept }).toEqual({ viewer, request, result: live });
      }
    }
  }
  // The counts kept step by step equal the counts of every row counted from scratch (compared
  // inside a transaction that is then rolled back).
  const drift = await database.db
    .transaction(async (tx) => {
      await tx.query('CREATE TEMP TABLE kept AS SELECT * FROM catalog.search_facet_counts');
      await tx.query('DELETE FROM catalog.search_facet_counts');
      await tx.query(
        `SELECT catalog.search_facet_apply(ARRAY(SELECT r FROM catalog.search_facet_rows r), '{}')`,
      );
      const { rows } = await tx.query(
        `(SELECT 'kept' AS side, * FROM (SELECT * FROM kept EXCEPT ALL SELECT * FROM catalog.search_facet_counts) a)
         UNION ALL
         (SELECT 'recounted', * FROM (SELECT * FROM catalog.search_facet_counts EXCEPT ALL SELECT * FROM kept) b)`,
      );
      throw new RolledBack(rows);
    })
    .catch((error: unknown) => {
      if (error instanceof RolledBack) return error.rows;
      throw error;
    });
  expect(drift).toEqual([]);
  // A search with words reads the documents' copy of what filters read: it equals the facet row.
  const { rows: apart } = await database.db.query(
    `SELECT r.product_id FROM catalog.search_facet_rows r
       FULL JOIN catalog.search_documents d USING (product_id)
      WHERE (r.listed, r.audiences, r.brand_id, r.category_path, r.created_at, r.price_min_minor, r.stock,
             r.facet_values, r.facet_pairs)
            IS DISTINCT FROM (d.lifecycle <> 'draft', d.audiences, d.brand_id, d.category_path, d.created_at,
                              d.price_min_minor, d.stock, d.facet_values, d.facet_pairs)`,
  );
  expect(apart).toEqual([]);
}

describe('kept facet counts', () => {
  it('answer browsing exactly as counting live does, for every viewer and category', async () => {
    const all = await searchCatalog(database.db, staff, {});
    expect(all.total).toBe(9); // ten products, one draft
    expect((await searchCatalog(database.db, guest, {})).total).toBe(8); // and one private to A
    await expectKeptCountsExact();
  });

  it('follow a re-index: new values, variants with several numbers, lifecycle, removal', async () => {
    const bolt = doc(productIds.m8StainlessBolt);
    await indexProduct(database.db, {
      ...bolt,
      attributes: [
        ...bolt.attributes.filter((a) => a.key !== 'length'),
        { key: 'weight', type: 'number', filterable: true, unit: 'g', value: 41.5 },
      ],
      variants: [30, 35, 40].map((value) => ({
        key: 'length',
        type: 'number',
        unit: 'mm',
        filterable: true,
        value,
      })),
    });
    await expectKeptCountsExact();
    await indexProduct(database.db, { ...doc(productIds.bearing), lifecycle: 'draft' });
    await removeProduct(database.db, productIds.capsule);
    await expectKeptCountsExact();
    expect((await searchCatalog(database.db, staff, {})).total).toBe(7);
  });

  it('follow visibility changes at once, without a re-index', async () => {
    const before = await searchCatalog(database.db, guest, { category: categories.bolts.id });
    // What refreshVisibility does: a product's rows deleted and the new set inserted, one transaction.
    await database.db.transaction(async (tx) => {
      await tx.query('DELETE FROM catalog.product_visibility WHERE product_id = $1', [
        productIds.m8CarbonBolt,
      ]);
      await tx.query('INSERT INTO catalog.product_visibility (product_id, audience) VALUES ($1, $2)', [
        productIds.m8CarbonBolt,
        `company:${COMPANY_B}`,
      ]);
    });
    const after = await searchCatalog(database.db, guest, { category: categories.bolts.id });
    expect(after.total).toBe(before.total - 1);
    expect(after.items.map((item) => item.productId)).not.toContain(productIds.m8CarbonBolt);
    const forB = await searchCatalog(database.db, buyerB, { category: categories.bolts.id });
    expect(forB.items.map((item) => item.productId)).toContain(productIds.m8CarbonBolt);
    // Listed but in no audience at all: staff only.
    await database.db.query('DELETE FROM catalog.product_visibility WHERE product_id = $1', [
      productIds.wedgeAnchor,
    ]);
    expect((await searchCatalog(database.db, guest, { q: 'anchor' })).total).toBe(0);
    expect((await searchCatalog(database.db, staff, { q: 'anchor' })).total).toBe(1);
    await expectKeptCountsExact();
    // A rolled-back change leaves counts and audiences as they were.
    await expect(
      database.db.transaction(async (tx) => {
        await tx.query('DELETE FROM catalog.product_visibility WHERE product_id = $1', [
          productIds.m8StainlessNut,
        ]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await searchCatalog(database.db, guest, { q: 'DIN934' })).total).toBe(1);
    await expectKeptCountsExact();
  });
});

describe('number buckets', () => {
  it('count a product with two values in one bucket once, kept and live alike', async () => {
    // Staff only (no visibility rows): twelve products 10..120 mm and one with variants 11 and 12 mm.
    const spec = (n: number, values: number[]): SearchDocument => ({
      id: fixtureId(50, n),
      nameZh: `长度测试${n}`,
      nameEn: `length probe ${n}`,
      categoryPath: [{ id: fixtureId(51, 1), nameZh: '测试', nameEn: 'Probes' }],
      skuCodes: [],
      attributes: [],
      variants: values.map((value) => ({
        key: 'reach',
        type: 'number',
        unit: 'mm',
        filterable: true,
        value,
      })),
      lifecycle: 'active',
      createdAt: new Date(Date.UTC(2026, 1, n)).toISOString(),
    });
    await indexProducts(database.db, [
      ...Array.from({ length: 12 }, (_, i) => spec(i + 1, [(i + 1) * 10])),
      spec(13, [11, 12]),
    ]);
    const request: SearchRequest = { category: fixtureId(51, 1) };
    const kept = await searchCatalog(database.db, staff, request);
    expect(kept).toEqual(await searchCatalog(database.db, staff, request, { keptCounts: false }));
    const reach = kept.facets.attributes.find((facet) => facet.key === 'reach');
    expect(reach).toMatchObject({ type: 'number', min: 10, max: 120, count: 13 });
    expect(reach && 'buckets' in reach ? reach.buckets : []).toEqual([
      { from: 10, to: 32, count: 4 }, // 10, 20, 30 and the product with 11 and 12
      { from: 32, to: 54, count: 2 },
      { from: 54, to: 76, count: 2 },
      { from: 76, to: 98, count: 2 },
      { from: 98, to: 120, count: 3 },
    ]);
    // A filter on the attribute still counts its own facet over every product.
    const filtered = await searchCatalog(database.db, staff, {
      ...request,
      attributes: [{ key: 'reach', min: 11, max: 12 }],
    });
    expect(filtered.total).toBe(1);
    expect(filtered.facets.attributes.find((facet) => facet.key === 'reach')).toEqual(reach);
    await expectKeptCountsExact();
  });
});
