import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import type { Database } from '../../platform/database/database.ts';
import { waitFor } from '../../platform/testing/wait-for.ts';
import {
  asBuyer,
  asGuest,
  asStaff,
  assertMatchesSchema,
  type CallOptions,
  type CatalogHub,
  createCompany,
  startCatalogHub,
} from '../testing/catalog-hub.ts';
import { catalogSearchModule, catalogSearchService, searchRequestOf } from './catalog-search.module.ts';
import { syncSearchIndex } from './search-sync.ts';

/**
 * The catalog-search service on a whole hub: the index follows the catalog's product events
 * through the outbox (create, update, lifecycle), search answers match the canonical schema,
 * visibility comes from real shared catalogs, and queries are recorded for analytics.
 */
let hub: CatalogHub;
let broker: moleculer.ServiceBroker;
let db: Database;
// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;
const call = (action: string, params: object, options: CallOptions = asStaff()) =>
  broker.call(action, params, options) as Promise<Any>;
const search = (params: object, options: CallOptions = asGuest) =>
  call('catalog-search.search', params, options);
const namesOf = (answer: Any) => answer.items.map((item: Any) => item.nameEn).sort();

type Buyer = { id: string; companyId: string };
let insider: Buyer;
let outsider: Buyer;
const ids: Record<string, string> = {};
let fasteners: Any;

async function product(
  key: string,
  input: object,
  lifecycle: 'draft' | 'active' | 'discontinued' = 'active',
) {
  const created = await call('catalog.products.create', { unitOfMeasure: 'pcs', ...input });
  if (lifecycle !== 'draft')
    await call('catalog.products.lifecycle', { id: created.id, lifecycle: 'active' });
  if (lifecycle === 'discontinued') await call('catalog.products.lifecycle', { id: created.id, lifecycle });
  ids[key] = created.id;
}

/** Waits until the index answers `q` with exactly these English names (events are asynchronous). */
async function indexed(params: object, expected: string[], options: CallOptions = asStaff()) {
  await waitFor(
    async () => JSON.stringify(namesOf(await search(params, options))) === JSON.stringify(expected),
    `search ${JSON.stringify(params)} to answer ${expected.join(', ')}`,
    15_000,
  );
}

beforeAll(async () => {
  hub = await startCatalogHub();
  broker = hub.broker;
  db = hub.test.hub.platform.db;
  if (!broker.getLocalService('catalog-search')) {
    broker.createService(catalogSearchService(hub.test.hub.platform, { syncIntervalMs: 0 }));
  }
  await broker.waitForServices(['catalog-search']);
  insider = (await createCompany(broker, 'Insider Co')).buyer;
  outsider = (await createCompany(broker, 'Outsider Co')).buyer;

  fasteners = await call('catalog.categories.create', {
    slug: 'fasteners',
    nameZh: '紧固件',
    nameEn: 'Fasteners',
  });
  const bolts = await call('catalog.categories.create', {
    parentId: fasteners.id,
    slug: 'bolts',
    nameZh: '螺栓',
    nameEn: 'Bolts',
  });
  const brand = await call('catalog.brands.create', { slug: 'jinxing', name: 'Jinxing', nameZh: '金星' });
  await call('catalog.attributes.create', {
    key: 'material',
    nameZh: '材质',
    nameEn: 'Material',
    type: 'enum',
    options: [
      { value: 'a2', nameZh: '不锈钢A2', nameEn: 'Stainless A2' },
      { value: 'c', nameZh: '碳钢', nameEn: 'Carbon steel' },
    ],
    filterable: true,
  });
  await call('catalog.attributes.create', {
    key: 'length',
    nameZh: '长度',
    nameEn: 'Length',
    type: 'number',
    unit: 'mm',
    filterable: true,
  });
  const common = { categoryId: bolts.id, brandId: brand.id, isPublic: true };
  await product('stainless', {
    ...common,
    nameZh: 'M8不锈钢六角螺栓',
    nameEn: 'M8 stainless hex bolt',
    model: 'DIN933-M8x30-A2',
    attributes: [
      { key: 'material', value: 'a2' },
      { key: 'length', value: 30 },
    ],
    skus: [{ code: 'DIN933-M8X30-A2-100' }, { code: 'DIN933-M8X30-A2-500' }],
  });
  await product('carbon', {
    ...common,
    nameZh: 'M8碳钢六角螺栓',
    nameEn: 'M8 carbon hex bolt',
    model: 'DIN933-M8x40-8.8',
    attributes: [
      { key: 'material', value: 'c' },
      { key: 'length', value: 40 },
    ],
    skus: [{ code: 'DIN933-M8X40-88' }],
  });
  await product('private', {
    ...common,
    isPublic: false,
    nameZh: '不锈钢螺栓 定制',
    nameEn: 'Custom stainless bolt',
    model: 'CUSTOM-1',
    skus: [{ code: 'CUSTOM-1-A' }],
  });
  await product(
    'draft',
    { ...common, nameZh: '不锈钢螺栓 草稿', nameEn: 'Draft stainless bolt', skus: [{ code: 'DRAFT-1' }] },
    'draft',
  );
  await call('catalog.catalogs.create', {
    name: 'Insider specials',
    productIds: [ids.private],
    assignments: [{ kind: 'company', value: insider.companyId }],
  });
  await indexed({ q: '螺栓' }, ['Custom stainless bolt', 'M8 carbon hex bolt', 'M8 stainless hex bolt']);
}, 120_000);

afterAll(async () => {
  await hub?.stop();
});

describe('GET /api/catalog/search', () => {
  it('finds 不锈钢 M8 螺栓 and answers in the canonical shape, with facet labels from the catalog', async () => {
    const answer = await search({ q: '不锈钢 M8 螺栓' });
    assertMatchesSchema('api/catalog/search-response', answer);
    expect(namesOf(answer)).toEqual(['M8 stainless hex bolt']);
    const materials = await search({ q: '螺栓' });
    expect(materials.facets.attributes.find((facet: Any) => facet.key === 'material')).toEqual({
      key: 'material',
      type: 'enum',
      nameZh: '材质',
      nameEn: 'Material',
      values: [
        { value: 'a2', labelZh: '不锈钢A2', labelEn: 'Stainless A2', count: 1 },
        { value: 'c', labelZh: '碳钢', labelEn: 'Carbon steel', count: 1 },
      ],
      more: false,
    });
  });

  it('takes filters from the query string: attr.<key>=values, attr.<key>.min / .max, brand lists', async () => {
    const answer = await search({ q: 'M8', 'attr.length.min': '35', 'attr.length.max': '50' });
    assertMatchesSchema('api/catalog/search-response', answer);
    expect(namesOf(answer)).toEqual(['M8 carbon hex bolt']);
    expect(namesOf(await search({ q: 'M8', 'attr.material': 'a2,zz' }))).toEqual(['M8 stainless hex bolt']);
    const request = searchRequestOf({
      brand: ['0B6F3C1E-5A2D-4F7E-9C8B-1A2B3C4D5E6F,0b6f3c1e-5a2d-4f7e-9c8b-1a2b3c4d5e60'],
      'attr.material': ' a2 , ,ｃ',
      priceBand: '100-',
    });
    expect(request).toMatchObject({
      brands: ['0b6f3c1e-5a2d-4f7e-9c8b-1a2b3c4d5e6f', '0b6f3c1e-5a2d-4f7e-9c8b-1a2b3c4d5e60'],
      attributes: [{ key: 'material', values: ['a2', 'c'] }],
      price: { min: 100n, max: undefined },
    });
  });

  it('reads a query string as the gateway hands it over (text values, repeated keys as arrays)', async () => {
    // moleculer-web parses with qs: keys without brackets stay as they are (`attr.length.min`),
    // a repeated key becomes an array, every value is text; the -query schema coerces the types.
    const queryString = (text: string) => {
      const params: Record<string, string | string[]> = {};
      for (const [key, value] of new URLSearchParams(text)) {
        const seen = params[key];
        params[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
      }
      return params;
    };
    const brandId = (await search({ q: '螺栓' })).facets.brands[0].id;
    const answer = await search(
      queryString(
        `q=${encodeURIComponent('不锈钢 螺栓')}&brand=${brandId}&category=${fasteners.id}` +
          '&attr.length.min=20&attr.length.max=35&attr.material=a2&inStock=false&sort=newest&limit=5',
      ),
    );
    assertMatchesSchema('api/catalog/search-response', answer);
    // Nothing was received into a warehouse: the bolt is out of stock (inventory runs on this hub).
    expect(namesOf(answer)).toEqual(['M8 stainless hex bolt']);
    expect(answer.items[0].stock).toBe('out_of_stock');
    const inStock = await search(
      queryString(`q=${encodeURIComponent('不锈钢 螺栓')}&stock=in_stock,low_stock&brand=${brandId}`),
    );
    expect(inStock.total).toBe(0);
    const found = await search(
      queryString(
        `q=${encodeURIComponent('不锈钢 螺栓')}&brand=${brandId}&brand=${brandId}&category=${fasteners.id}` +
          '&attr.length.min=20&attr.length.max=35&attr.material=a2&sort=price_asc&limit=5',
      ),
    );
    expect(namesOf(found)).toEqual(['M8 stainless hex bolt']);
  });

  it('refuses unbounded or malformed query strings with 400', async () => {
    const refused = (params: object) =>
      search(params).then(
        () => 200,
        (error) => error.code,
      );
    expect(await refused({ q: 'x'.repeat(201) })).toBe(400);
    expect(await refused({ limit: '101' })).toBe(400);
    expect(await refused({ 'attr.Bad-Key': 'x' })).toBe(400);
    expect(await refused({ 'attr.length.min': 'ten' })).toBe(400);
    expect(await refused({ 'attr.length': 'x', 'attr.length.min': '1' })).toBe(400);
    expect(await refused({ priceBand: '1-2-3' })).toBe(400);
    expect(await refused({ stock: 'in_stock,plenty' })).toBe(400);
    expect(await refused({ brand: ['not-a-uuid'] })).toBe(400);
    const many = Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`attr.k${i}`, 'x']));
    expect(await refused(many)).toBe(400);
    const twentyOne = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`attr.k${i}`, 'x']));
    expect(await refused(twentyOne)).toBe(400);
  });

  it("shows a shared catalog's product to its company only; drafts to nobody", async () => {
    expect(namesOf(await search({ q: '不锈钢 螺栓' }, asBuyer(insider)))).toEqual([
      'Custom stainless bolt',
      'M8 stainless hex bolt',
    ]);
    for (const options of [asBuyer(outsider), asGuest]) {
      expect(namesOf(await search({ q: '不锈钢 螺栓' }, options))).toEqual(['M8 stainless hex bolt']);
    }
    expect(namesOf(await search({ q: '草稿' }, asStaff()))).toEqual([]);
  });

  it('records each new query by guests and buyers, zero-result ones included; not pages, not staff', async () => {
    const before = await db.query('SELECT max(id) AS id FROM catalog.search_queries');
    const since = before.rows[0]!.id ?? 0;
    await search({ q: '不存在的零件 XYZ-404' }, asBuyer(insider));
    const first = await search({ q: '螺栓', limit: 1 });
    await search({ q: '螺栓', limit: 1, cursor: first.nextCursor });
    await search({ q: 'staff looking' }, asStaff());
    await search({ category: fasteners.id });
    const { rows } = await db.query(
      'SELECT company_id, user_id, query, result_count FROM catalog.search_queries WHERE id > $1 ORDER BY id',
      [since],
    );
    expect(rows).toEqual([
      { company_id: insider.companyId, user_id: insider.id, query: '不存在的零件 XYZ-404', result_count: 0 },
      { company_id: null, user_id: null, query: '螺栓', result_count: 2 },
    ]);
  });
});

describe('the index follows the catalog', () => {
  it('re-indexes on product.updated and product.lifecycle_changed', async () => {
    await call('catalog.products.update', {
      id: ids.carbon,
      nameZh: 'M8碳钢法兰螺栓',
      nameEn: 'M8 carbon flange bolt',
    });
    await indexed({ q: '法兰' }, ['M8 carbon flange bolt']);
    await call('catalog.products.lifecycle', { id: ids.carbon, lifecycle: 'discontinued' });
    await waitFor(
      async () => (await search({ q: '法兰' })).items[0]?.lifecycle === 'discontinued',
      'the discontinued product to be re-indexed',
      15_000,
    );
  });

  it('catches up with what events missed, and drops deleted products', async () => {
    await db.query('DELETE FROM catalog.search_facet_rows WHERE product_id = $1', [ids.stainless]);
    await db.query('DELETE FROM catalog.search_documents WHERE product_id = $1', [ids.stainless]);
    expect((await search({ q: 'DIN933-M8x30-A2' })).items.map((item: Any) => item.productId)).not.toContain(
      ids.stainless,
    );
    await call('catalog.products.delete', { id: ids.draft });
    expect(await syncSearchIndex(db)).toBeGreaterThanOrEqual(1);
    const exact = await search({ q: 'DIN933-M8x30-A2' });
    // The model number is the start of both SKU codes.
    expect(exact.items[0]).toMatchObject({
      productId: ids.stainless,
      matchedSkuCodes: ['DIN933-M8X30-A2-100', 'DIN933-M8X30-A2-500'],
    });
    expect(exact.items[0].score).toBeGreaterThanOrEqual(2);
    const { rows } = await db.query('SELECT 1 FROM catalog.search_documents WHERE product_id = $1', [
      ids.draft,
    ]);
    expect(rows).toEqual([]);
  });

  it('rebuilds the whole index on the staff reindex action (catalog.manage only)', async () => {
    await expect(call('catalog-search.reindex', {}, asBuyer(insider))).rejects.toMatchObject({ code: 403 });
    expect(await call('catalog-search.reindex', {})).toEqual({ queued: 3 });
    await waitFor(
      async () =>
        (await db.query('SELECT 1 FROM catalog.search_documents WHERE source_updated_at IS NULL')).rows
          .length === 0,
      'the index to be rebuilt',
      15_000,
    );
    await indexed({ q: '螺栓' }, ['Custom stainless bolt', 'M8 carbon flange bolt', 'M8 stainless hex bolt']);
  });

  it('declares its routes and migrations as a hub module', () => {
    expect(catalogSearchModule.name).toBe('catalog-search');
    expect(catalogSearchModule.routes!.map((route) => `${route.method} ${route.path}`)).toEqual([
      'GET /api/catalog/search',
      'POST /api/staff/catalog/search/reindex',
    ]);
    expect(catalogSearchModule.migrations!.domain).toBe('catalog');
  });
});
