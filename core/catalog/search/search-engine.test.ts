import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyMigrations } from '../../platform/database/migrations.ts';
import { ValidationFailed } from '../../platform/errors/hub-errors.ts';
import { platformMigrations } from '../../platform/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/test-servers.ts';
import { catalogMigrations } from '../testing/catalog-db.ts';
import { type SearchRequest, type SearchResult, type SearchViewer, searchCatalog } from './search-engine.ts';
import { indexProduct } from './search-index.ts';
import {
  brands,
  COMPANY_A,
  COMPANY_B,
  categories,
  fixtureDocuments,
  productIds,
  productName,
  seedSearchFixture,
} from './testing/search-fixture.ts';

let database: TestDatabase;
const guest: SearchViewer = { kind: 'guest' };
const buyerA: SearchViewer = { kind: 'buyer', companyId: COMPANY_A, tier: null, tags: [] };
const buyerB: SearchViewer = { kind: 'buyer', companyId: COMPANY_B, tier: 'gold', tags: ['oem'] };
const staff: SearchViewer = { kind: 'staff' };

beforeAll(async () => {
  database = await createTestDatabase();
  await applyMigrations(database.db, [platformMigrations, catalogMigrations]);
  await seedSearchFixture(database.db);
}, 60_000);

afterAll(async () => {
  await database?.drop();
});

function search(request: SearchRequest, viewer: SearchViewer = guest): Promise<SearchResult> {
  return searchCatalog(database.db, viewer, request);
}

const names = (result: SearchResult) => result.items.map((item) => productName(item.productId));

describe('matching', () => {
  it('finds M8不锈钢六角螺栓 for 不锈钢 M8 螺栓 without spaces, drafts and other companies excluded', async () => {
    const result = await search({ q: '不锈钢 M8 螺栓' });
    expect(names(result)).toEqual(['m8StainlessBolt']);
    expect(result.total).toBe(1);
    expect(result.query).toBe('不锈钢 M8 螺栓');
  });

  it('matches English words case-insensitively and as prefixes', async () => {
    expect(names(await search({ q: 'STAINLESS bolt' })).sort()).toEqual(
      ['m10StainlessBolt', 'm12Discontinued', 'm8StainlessBolt'].sort(),
    );
    expect(names(await search({ q: 'bear' }))).toEqual(['bearing']);
  });

  it('matches full-width input', async () => {
    expect(names(await search({ q: 'ＤＩＮ９３４' }))).toEqual(['m8StainlessNut']);
  });

  it('ranks an exact model number first, typo-tolerant model matches after it', async () => {
    const result = await search({ q: 'din933-m8x30-a2' });
    expect(names(result)[0]).toBe('m8StainlessBolt');
    expect(names(result)).toContain('m8CarbonBolt');
    expect(result.items[0]!.score).toBeGreaterThanOrEqual(2);
    for (const item of result.items.slice(1)) expect(item.score).toBeLessThan(1);
  });

  it('tolerates typos in model numbers', async () => {
    expect(names(await search({ q: 'DIN933-M8X03' }))[0]).toBe('m8StainlessBolt');
    expect(names(await search({ q: 'DN933 M8x30' }))).toEqual(
      expect.arrayContaining(['m8StainlessBolt', 'm8CarbonBolt']),
    );
    expect(names(await search({ q: '6204-2RZ' }))).toEqual(['bearing']);
  });

  it('boosts an exact SKU code and names the matched SKU', async () => {
    const result = await search({ q: 'DIN933-M8X30-A2-500' });
    expect(names(result)[0]).toBe('m8StainlessBolt');
    expect(result.items[0]!.matchedSkuCodes).toEqual(['DIN933-M8X30-A2-500']);
    expect(result.items[0]!.score).toBeGreaterThanOrEqual(2);
  });

  it('ranks a name match above a description match', async () => {
    expect(names(await search({ q: 'anchor' }))).toEqual(['wedgeAnchor', 'capsule']);
    expect(names(await search({ q: '锚栓' }))).toEqual(expect.arrayContaining(['wedgeAnchor', 'capsule']));
  });

  it('answers nothing (not everything) for a query without terms, and for unknown words', async () => {
    expect((await search({ q: '!!! ,,,' })).total).toBe(0);
    expect((await search({ q: 'zzzqqq' })).total).toBe(0);
  });

  it('shows discontinued products, never drafts, even to staff', async () => {
    const result = await search({ q: 'M12' });
    expect(result.items.map((item) => [productName(item.productId), item.lifecycle])).toEqual([
      ['m12Discontinued', 'discontinued'],
    ]);
    expect((await search({ q: 'DRAFT-M8' }, staff)).total).toBe(0);
    expect((await search({ q: '草稿' }, staff)).total).toBe(0);
  });
});

describe('visibility', () => {
  it("shows a company's private product to that company only, in items and in facet counts", async () => {
    const forA = await search({ q: '不锈钢 螺栓' }, buyerA);
    expect(names(forA)).toContain('privateBolt');
    expect(forA.facets.brands.map((b) => b.id)).toContain(brands.secret.id);
    for (const viewer of [guest, buyerB]) {
      const other = await search({ q: '不锈钢 螺栓' }, viewer);
      expect(names(other)).not.toContain('privateBolt');
      expect(other.facets.brands.map((b) => b.id)).not.toContain(brands.secret.id);
      expect(other.facets.attributes.find((f) => f.key === 'grade')).toMatchObject({
        values: expect.not.arrayContaining([expect.objectContaining({ value: 'A4-80' })]),
      });
      expect((await search({ q: 'PV-M8-CUSTOM' }, viewer)).total).toBe(0);
      expect((await search({ brands: [brands.secret.id] }, viewer)).total).toBe(0);
    }
    expect((await search({ q: 'PV-M8-CUSTOM' }, staff)).total).toBe(1);
  });
});

describe('facets', () => {
  it('counts brands, child categories, attribute values, number ranges and stock', async () => {
    const result = await search({ q: '不锈钢' });
    // stainless, visible to guests, listed: bolts M8, M10, M12 (discontinued) and the nut.
    expect(result.total).toBe(4);
    expect(result.facets.brands).toEqual([
      { id: brands.jinxing.id, name: 'Jinxing 金星', count: 3 },
      { id: brands.huaxin.id, name: 'Huaxin 华信', count: 1 },
    ]);
    expect(result.facets.categories).toEqual({
      parentId: null,
      values: [{ id: categories.fasteners.id, nameZh: '紧固件', nameEn: 'Fasteners', count: 4 }],
    });
    const facet = (key: string) => result.facets.attributes.find((f) => f.key === key);
    expect(facet('material')).toEqual({
      key: 'material',
      type: 'enum',
      nameZh: '材质',
      nameEn: 'Material',
      values: [{ value: 'stainless', labelZh: '不锈钢', labelEn: 'Stainless steel', count: 4 }],
      more: false,
    });
    expect(facet('grade')).toMatchObject({ type: 'text', values: [{ value: 'A2-70', count: 4 }] });
    expect(facet('rohs')).toMatchObject({ type: 'boolean', values: [{ value: 'true', count: 2 }] });
    expect(facet('diameter')).toEqual({
      key: 'diameter',
      type: 'number',
      nameZh: null,
      nameEn: null,
      unit: 'mm',
      min: 8,
      max: 12,
      count: 4,
      buckets: [
        { from: 8, to: 8, count: 2 },
        { from: 10, to: 10, count: 1 },
        { from: 12, to: 12, count: 1 },
      ],
    });
    expect(facet('note')).toBeUndefined();
    expect(result.facets.stock).toEqual([
      { value: 'in_stock', count: 1 },
      { value: 'out_of_stock', count: 1 },
      { value: null, count: 2 },
    ]);
    // Prices 3.00, 12.00, 25.00 and 40.00 yuan in the bands 2–4.99, 10–19.99 and 20–49.99.
    expect(result.facets.price).toEqual({
      count: 4,
      bands: [
        { minMinor: '200', maxMinor: '499', count: 1 },
        { minMinor: '1000', maxMinor: '1999', count: 1 },
        { minMinor: '2000', maxMinor: '4999', count: 2 },
      ],
    });
  });

  it('estimates facet counts from a sample above the exact-count limit, and says so', async () => {
    const exact = await search({ q: '螺栓' });
    expect(exact.countsExact).toBe(true);
    const candidates = exact.total;
    // At the limit everything is still counted.
    const atLimit = await searchCatalog(database.db, guest, { q: '螺栓' }, { exactCounts: candidates });
    expect(atLimit).toEqual(exact);
    // Below it: the same total and page, facet counts from a sample scaled to the candidates.
    const estimated = await searchCatalog(database.db, guest, { q: '螺栓' }, { exactCounts: 2 });
    expect(estimated.countsExact).toBe(false);
    expect(estimated.total).toBe(exact.total);
    expect(estimated.items).toEqual(exact.items);
    const exactBrands = new Map(exact.facets.brands.map((b) => [b.id, b.count]));
    expect(estimated.facets.brands.length).toBeGreaterThan(0);
    for (const brand of estimated.facets.brands) {
      expect(exactBrands.has(brand.id)).toBe(true);
      expect(brand.count).toBeGreaterThanOrEqual(1);
    }
    // Scaled to the candidates: the stock counts add up to about all of them, not to the sample.
    const stockSum = estimated.facets.stock.reduce((sum, s) => sum + s.count, 0);
    expect(stockSum).toBeGreaterThanOrEqual(candidates - estimated.facets.stock.length);
    expect(stockSum).toBeLessThanOrEqual(candidates + estimated.facets.stock.length);
    // The same search samples the same products.
    expect(await searchCatalog(database.db, guest, { q: '螺栓' }, { exactCounts: 2 })).toEqual(estimated);
  });

  it('counts each facet with every other filter but not its own', async () => {
    const result = await search({ q: '螺栓', brands: [brands.jinxing.id] });
    // Jinxing bolts: M8, M10 stainless, M12 discontinued.
    expect(names(result).sort()).toEqual(['m10StainlessBolt', 'm12Discontinued', 'm8StainlessBolt']);
    // The brand facet ignores the brand filter: Huaxin's carbon bolt and wedge anchor still count.
    expect(result.facets.brands).toEqual([
      { id: brands.jinxing.id, name: 'Jinxing 金星', count: 3 },
      { id: brands.huaxin.id, name: 'Huaxin 华信', count: 2 },
    ]);
    // Other facets honour it: no carbon material among Jinxing's bolts.
    const material = result.facets.attributes.find((f) => f.key === 'material');
    expect(material).toMatchObject({ values: [{ value: 'stainless', count: 3 }] });

    const filtered = await search({
      q: '螺栓',
      attributes: [{ key: 'material', values: ['carbon'] }],
    });
    expect(names(filtered).sort()).toEqual(['m8CarbonBolt', 'wedgeAnchor']);
    expect(filtered.facets.attributes.find((f) => f.key === 'material')).toMatchObject({
      values: [
        { value: 'stainless', count: 3 },
        { value: 'carbon', count: 2 },
      ],
    });
    expect(filtered.facets.brands).toEqual([{ id: brands.huaxin.id, name: 'Huaxin 华信', count: 2 }]);
  });

  it('drills into categories: the filter narrows, the facet counts the children', async () => {
    const root = await search({ category: categories.fasteners.id });
    expect(root.facets.categories.parentId).toBe(categories.fasteners.id);
    expect(root.facets.categories.values).toEqual([
      { id: categories.bolts.id, nameZh: '螺栓', nameEn: 'Bolts', count: 4 },
      { id: categories.anchors.id, nameZh: '锚栓', nameEn: 'Anchors', count: 2 },
      { id: categories.nuts.id, nameZh: '螺母', nameEn: 'Nuts', count: 1 },
    ]);
    const leaf = await search({ category: categories.nuts.id });
    expect(names(leaf)).toEqual(['m8StainlessNut']);
    expect(leaf.facets.categories.values).toEqual([]);
  });

  it('filters number ranges inclusively, and the range facet still shows the whole spread', async () => {
    const result = await search({ q: '螺栓', attributes: [{ key: 'diameter', min: 9, max: 12 }] });
    expect(names(result).sort()).toEqual(['m10StainlessBolt', 'm12Discontinued', 'wedgeAnchor']);
    expect(result.facets.attributes.find((f) => f.key === 'diameter')).toMatchObject({ min: 8, max: 12 });
    const combined = await search({
      q: '螺栓',
      attributes: [
        { key: 'diameter', min: 9 },
        { key: 'material', values: ['stainless'] },
      ],
    });
    expect(names(combined).sort()).toEqual(['m10StainlessBolt', 'm12Discontinued']);
    // diameter counts honour the material filter, not their own.
    expect(combined.facets.attributes.find((f) => f.key === 'diameter')).toMatchObject({
      min: 8,
      max: 12,
      count: 3,
    });
  });

  it('filters by price band and stock', async () => {
    expect(names(await search({ q: '螺栓', price: { min: 1000n, max: 3000n } })).sort()).toEqual([
      'm10StainlessBolt',
      'm8StainlessBolt',
    ]);
    // A band as the facet answers it selects exactly that band's products.
    const band = await search({ q: '螺栓', price: { min: 2000n, max: 4999n } });
    expect(names(band).sort()).toEqual(['m10StainlessBolt', 'm12Discontinued']);
    // The price facet ignores its own filter, every other facet honours it.
    expect(band.facets.price?.bands.map((b) => [b.minMinor, b.count])).toEqual([
      ['500', 2],
      ['1000', 1],
      ['2000', 2],
    ]);
    expect(band.facets.stock).toEqual([
      { value: 'out_of_stock', count: 1 },
      { value: null, count: 1 },
    ]);
    // inStock: true is in stock or low.
    const inStock = await search({ q: '螺栓', inStock: true });
    expect(names(inStock).sort()).toEqual(['m8CarbonBolt', 'm8StainlessBolt']);
    expect(inStock.items.map((item) => [item.stock, item.inStock]).sort()).toEqual([
      ['in_stock', true],
      ['low_stock', true],
    ]);
    expect(inStock.facets.stock).toEqual([
      { value: 'in_stock', count: 1 },
      { value: 'low_stock', count: 1 },
      { value: 'out_of_stock', count: 1 },
      { value: null, count: 2 },
    ]);
    // Only what is low, with the price band narrowing the stock counts.
    const low = await search({ q: '螺栓', stock: ['low_stock'], price: { min: 500n, max: 999n } });
    expect(names(low)).toEqual(['m8CarbonBolt']);
    expect(low.facets.stock).toEqual([
      { value: 'low_stock', count: 1 },
      { value: null, count: 1 },
    ]);
    await expect(search({ q: '螺栓', stock: ['low_stock'], inStock: true })).rejects.toThrow(
      ValidationFailed,
    );
  });

  it('buckets wide number ranges into equal-width bands', async () => {
    const extra = Array.from({ length: 12 }, (_, i) => ({
      ...fixtureDocuments[0]!,
      id: `00000000-0000-4000-8777-${String(i + 1).padStart(12, '0')}`,
      nameZh: '测试垫圈',
      nameEn: 'Test washer',
      model: `TW-${i}`,
      skuCodes: [],
      attributes: [
        { key: 'thickness', type: 'number' as const, unit: 'mm', filterable: true, value: i * 10 },
      ],
    }));
    try {
      for (const doc of extra) {
        await database.db.query(
          `INSERT INTO catalog.products (id, slug, name_zh, name_en, category_id, unit_of_measure, lifecycle, is_public)
         VALUES ($1, $2, '测试垫圈', 'Test washer', $3, 'pcs', 'active', true)`,
          [doc.id, `tw-${doc.model!.toLowerCase()}`, categories.nuts.id],
        );
        await database.db.query(`INSERT INTO catalog.product_visibility VALUES ($1, 'public')`, [doc.id]);
        await indexProduct(database.db, doc);
      }
      const result = await search({ q: '垫圈' });
      expect(result.total).toBe(12);
      expect(result.facets.attributes.find((f) => f.key === 'thickness')).toEqual({
        key: 'thickness',
        type: 'number',
        nameZh: null,
        nameEn: null,
        unit: 'mm',
        min: 0,
        max: 110,
        count: 12,
        buckets: [
          { from: 0, to: 22, count: 3 },
          { from: 22, to: 44, count: 2 },
          { from: 44, to: 66, count: 2 },
          { from: 66, to: 88, count: 2 },
          { from: 88, to: 110, count: 3 },
        ],
      });
    } finally {
      await database.db.query(
        `DELETE FROM catalog.product_visibility WHERE product_id::text LIKE '%-8777-%'`,
      );
    }
  });
});

describe('sorting and paging', () => {
  it('sorts by price both ways (unpriced last) and by newest', async () => {
    const asc = await search({ q: '螺栓', sort: 'price_asc' });
    expect(names(asc)).toEqual([
      'm8CarbonBolt',
      'wedgeAnchor',
      'm8StainlessBolt',
      'm10StainlessBolt',
      'm12Discontinued',
    ]);
    const desc = await search({ q: '螺栓', sort: 'price_desc' });
    expect(names(desc)).toEqual([
      'm12Discontinued',
      'm10StainlessBolt',
      'm8StainlessBolt',
      'wedgeAnchor',
      'm8CarbonBolt',
    ]);
    const newest = await search({ q: '螺栓', sort: 'newest' });
    expect(names(newest)).toEqual([
      'wedgeAnchor',
      'm12Discontinued',
      'm8CarbonBolt',
      'm10StainlessBolt',
      'm8StainlessBolt',
    ]);
    const unpriced = await search({ q: 'anchor', sort: 'price_asc' });
    expect(names(unpriced)).toEqual(['wedgeAnchor', 'capsule']);
  });

  it('pages with a stable keyset cursor in every sort order', async () => {
    for (const sort of ['relevance', 'price_asc', 'price_desc', 'newest'] as const) {
      const full = await search({ category: categories.fasteners.id, q: 'M8', sort, limit: 100 });
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await search({ category: categories.fasteners.id, q: 'M8', sort, limit: 1, cursor });
        seen.push(...page.items.map((item) => item.productId));
        expect(page.total).toBe(full.total);
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 20);
      expect([sort, seen]).toEqual([sort, full.items.map((item) => item.productId)]);
    }
  });

  it('refuses a cursor of another search, a forged cursor and paging past 10,000 results', async () => {
    const first = await search({ q: '螺栓', limit: 1 });
    expect(first.nextCursor).toBeTruthy();
    await expect(search({ q: '螺母', limit: 1, cursor: first.nextCursor! })).rejects.toMatchObject({
      code: 400,
      type: 'validation-failed',
    });
    await expect(search({ q: '螺栓', limit: 1, cursor: 'not-a-cursor' })).rejects.toMatchObject({
      code: 400,
    });
    const decoded = JSON.parse(Buffer.from(first.nextCursor!, 'base64url').toString());
    const forged = (change: object) =>
      Buffer.from(JSON.stringify({ ...decoded, ...change })).toString('base64url');
    await expect(
      search({ q: '螺栓', limit: 1, cursor: forged({ k: '1; DROP TABLE x' }) }),
    ).rejects.toMatchObject({
      code: 400,
    });
    await expect(search({ q: '螺栓', limit: 100, cursor: forged({ n: 9_950 }) })).rejects.toMatchObject({
      code: 422,
      type: 'search-too-deep',
    });
  });

  it('refuses unbounded requests', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ key: `k${i}`, values: ['x'] }));
    await expect(search({ attributes: many })).rejects.toMatchObject({ code: 400 });
    await expect(search({ limit: 101 })).rejects.toMatchObject({ code: 400 });
    await expect(search({ attributes: [{ key: 'Bad-Key', values: ['x'] }] })).rejects.toMatchObject({
      code: 400,
    });
    await expect(search({ brands: ['not-a-uuid'] })).rejects.toMatchObject({ code: 400 });
  });
});

describe('indexing', () => {
  it('re-indexes a product in place: new names, attributes and lifecycle take effect', async () => {
    const doc = fixtureDocuments.find((d) => d.id === productIds.bearing)!;
    await indexProduct(database.db, { ...doc, nameZh: '圆锥滚子轴承', attributes: [] });
    expect(names(await search({ q: '圆锥' }))).toEqual(['bearing']);
    expect((await search({ q: '双面密封' })).total).toBe(0);
    const { rows } = await database.db.query(
      'SELECT cardinality(facet_values) AS n FROM catalog.search_facet_rows WHERE product_id = $1',
      [productIds.bearing],
    );
    expect(rows[0]!.n).toBe(0);
    await indexProduct(database.db, { ...doc, lifecycle: 'draft' });
    expect((await search({ q: '轴承' })).total).toBe(0);
    await indexProduct(database.db, doc);
    expect(names(await search({ q: '深沟球轴承' }))).toEqual(['bearing']);
  });

  it('keeps SKU codes with quotes, backslashes, commas and braces intact', async () => {
    const doc = fixtureDocuments.find((d) => d.id === productIds.wedgeAnchor)!;
    const odd = ['WA-"Q"-1', 'WA\\BS-2', 'WA,C-3', '{WA}-4'];
    try {
      await indexProduct(database.db, { ...doc, skuCodes: odd });
      const { rows } = await database.db.query(
        'SELECT sku_codes FROM catalog.search_documents WHERE product_id = $1',
        [doc.id],
      );
      expect(rows[0]!.sku_codes).toEqual(odd);
      const result = await search({ q: 'WA-"Q"-1' });
      expect(result.items[0]).toMatchObject({ productId: doc.id, matchedSkuCodes: ['WA-"Q"-1'] });
    } finally {
      await indexProduct(database.db, doc);
    }
  });

  it('never lets an older document overwrite a newer one (re-indexes racing)', async () => {
    const doc = fixtureDocuments.find((d) => d.id === productIds.capsule)!;
    try {
      await indexProduct(database.db, {
        ...doc,
        nameEn: 'Capsule v2',
        updatedAt: '2026-03-02T00:00:00.000Z',
      });
      await indexProduct(database.db, {
        ...doc,
        nameEn: 'Capsule v1',
        attributes: [],
        updatedAt: '2026-03-01T00:00:00.000Z',
      });
      const result = await search({ q: 'capsule' });
      expect(result.items.map((item) => item.nameEn)).toEqual(['Capsule v2']);
      expect(result.facets.attributes.find((f) => f.key === 'material')).toBeDefined();
    } finally {
      await database.db.query(
        'UPDATE catalog.search_documents SET source_updated_at = NULL WHERE product_id = $1',
        [doc.id],
      );
      await indexProduct(database.db, doc);
    }
  });

  it('treats hostile query text as text: control characters, SQL, 10k characters', async () => {
    expect((await search({ q: "'; DROP TABLE catalog.search_documents; --" })).total).toBe(0);
    expect((await search({ q: '不锈钢\u0000M8\u202e螺栓' })).items[0]?.productId).toBe(
      productIds.m8StainlessBolt,
    );
    const long = await search({ q: `螺栓 ${'x'.repeat(10_000)}` });
    expect(long.query!.length).toBeLessThanOrEqual(200);
    expect((await search({ q: "\\' & | ! :* ( )" })).total).toBe(0);
  });
});
