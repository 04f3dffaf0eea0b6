import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Database } from '../platform/database/database.ts';
import type { TestDatabase } from '../platform/testing/test-servers.ts';
import { listSearchQueries, recordProductView, recordSearchQuery } from './analytics.ts';
import { loadProductDocument } from './product-document.ts';
import { changeLifecycle, insertProduct } from './products.ts';
import { deleteSharedCatalog, insertSharedCatalog, updateSharedCatalog } from './shared-catalogs.ts';
import { createCatalogDatabase, seedFixture } from './testing/catalog-db.ts';
import { audiencesOfProduct, refreshVisibility, type Viewer, visibleAmong } from './visibility.ts';

let database: TestDatabase;
let db: Database;
let fixture: Awaited<ReturnType<typeof seedFixture>>;
let bolt: string;
let bearing: string;
let draft: string;
const acme = '11111111-1111-4111-8111-111111111111';

async function product(slug: string, categoryId: string, lifecycle: 'draft' | 'active' = 'active') {
  const id = await insertProduct(db, {
    slug,
    nameZh: `产品 ${slug}`,
    nameEn: `Product ${slug}`,
    categoryId,
    unitOfMeasure: 'pcs',
    skus: [{ code: slug.toUpperCase() }],
  });
  if (lifecycle === 'active') await changeLifecycle(db, id, 'active');
  await refreshVisibility(db, [id]);
  return id;
}

beforeAll(async () => {
  database = await createCatalogDatabase();
  db = database.db;
  fixture = await seedFixture(db);
  bolt = await product('sc-bolt', fixture.bolts.id);
  bearing = await product('sc-bearing', fixture.bearings.id);
  draft = await product('sc-draft', fixture.bolts.id, 'draft');
}, 60_000);

afterAll(async () => {
  await database?.drop();
});

const buyer = (partial: Partial<Extract<Viewer, { kind: 'buyer' }>> = {}): Viewer => ({
  kind: 'buyer',
  companyId: acme,
  tier: null,
  tags: [],
  ...partial,
});

describe('shared catalogs', () => {
  it('reach products through category subtrees and directly, per company, tier and tag; drafts never', async () => {
    const shared = await db.transaction((tx) =>
      insertSharedCatalog(tx, {
        name: 'Gold',
        categoryIds: [fixture.fasteners.id],
        assignments: [{ kind: 'tier', value: 'gold' }],
      }),
    );
    const all = [bolt, bearing, draft];
    expect(await visibleAmong(db, buyer({ tier: 'gold' }), all)).toEqual(new Set([bolt]));
    expect(await visibleAmong(db, buyer({ tier: 'silver' }), all)).toEqual(new Set());
    expect(await visibleAmong(db, { kind: 'staff' }, all)).toEqual(new Set(all));

    await db.transaction((tx) =>
      updateSharedCatalog(tx, shared.id, {
        categoryIds: [],
        productIds: [bearing],
        assignments: [
          { kind: 'company', value: acme },
          { kind: 'tag', value: '华东' },
        ],
      }),
    );
    expect(await audiencesOfProduct(db, bolt)).toEqual([]);
    expect(await audiencesOfProduct(db, bearing)).toEqual([`company:${acme}`, 'tag:华东']);
    expect(await visibleAmong(db, buyer(), all)).toEqual(new Set([bearing]));
    expect(
      await visibleAmong(
        db,
        buyer({ companyId: '22222222-2222-4222-8222-222222222222', tags: ['华东'] }),
        all,
      ),
    ).toEqual(new Set([bearing]));
    expect(await visibleAmong(db, { kind: 'guest' }, all)).toEqual(new Set());

    await db.transaction((tx) => deleteSharedCatalog(tx, shared.id));
    expect(await audiencesOfProduct(db, bearing)).toEqual([]);
  });

  it('refuse unknown categories, products and company ids with pointers', async () => {
    const failure = await db
      .transaction((tx) =>
        insertSharedCatalog(tx, {
          name: 'Broken',
          categoryIds: ['00000000-0000-4000-8000-000000000000'],
          productIds: [bolt, '00000000-0000-4000-8000-000000000001'],
          assignments: [{ kind: 'company', value: 'acme' }],
        }),
      )
      .catch((error) => error.data.errors);
    expect(failure).toEqual([
      { pointer: '/categoryIds/0', detail: 'is not one of the categories' },
      { pointer: '/productIds/1', detail: 'is not one of the products' },
      { pointer: '/assignments/0/value', detail: 'must be a company id' },
    ]);
  });
});

describe('product documents for search', () => {
  it('carry names, brand, category path, SKU codes, typed values, lifecycle and audiences', async () => {
    const id = await insertProduct(db, {
      slug: 'doc-bolt',
      nameZh: 'M8不锈钢六角螺栓',
      nameEn: 'Hex bolt M8 A2',
      descriptionZh: '全螺纹',
      brandId: fixture.brand.id,
      categoryId: fixture.bolts.id,
      model: 'DIN933-M8x30-A2',
      unitOfMeasure: 'pcs',
      isPublic: true,
      attributes: [
        { key: 'length', value: 30 },
        { key: 'material', value: 'a2' },
        { key: 'temperature', min: -40, max: 200 },
      ],
      skus: [{ code: 'DOC-1', variant: [{ key: 'length', value: 30 }] }, { code: 'DOC-2' }],
    });
    await changeLifecycle(db, id, 'active');
    await refreshVisibility(db, [id]);
    const document = (await loadProductDocument(db, id))!;
    expect(document).toMatchObject({
      nameZh: 'M8不锈钢六角螺栓',
      model: 'DIN933-M8x30-A2',
      brand: { name: 'Würth', nameZh: '伍尔特' },
      categoryPath: [
        { slug: 'fasteners', nameZh: '紧固件' },
        { slug: 'bolts', nameEn: 'Bolts' },
      ],
      skuCodes: ['DOC-1', 'DOC-2'],
      lifecycle: 'active',
      orderable: true,
      audiences: ['public'],
    });
    expect(document.attributes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'length', type: 'number', unit: 'mm', value: 30, filterable: true }),
        expect.objectContaining({
          key: 'material',
          value: 'a2',
          label: { zh: '不锈钢A2', en: 'Stainless A2' },
        }),
        expect.objectContaining({ key: 'temperature', min: -40, max: 200, filterable: false }),
      ]),
    );
    expect(document.skus[0]).toMatchObject({ code: 'DOC-1', variant: [{ key: 'length', value: 30 }] });
    expect(await loadProductDocument(db, '00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });
});

describe('analytics', () => {
  it('records search queries (zero-result ones listable) and views, append-only', async () => {
    await recordSearchQuery(db, { companyId: acme, userId: null, query: '不锈钢 M8 螺栓', resultCount: 3 });
    await recordSearchQuery(db, { companyId: null, userId: null, query: 'DIN9333', resultCount: 0 });
    await recordProductView(db, { productId: bolt, companyId: acme, userId: null });
    const zero = await listSearchQueries(db, { zeroResults: true, limit: 10 });
    expect(zero.map((q) => q.query)).toEqual(['DIN9333']);
    expect((await listSearchQueries(db, { limit: 10 })).map((q) => q.query)).toEqual([
      'DIN9333',
      '不锈钢 M8 螺栓',
    ]);
    await expect(db.query('DELETE FROM catalog.search_queries')).rejects.toThrow(/append-only/);
    await expect(db.query('UPDATE catalog.product_views SET user_id = NULL')).rejects.toThrow(/append-only/);
  });
});
