import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyMigrations } from '../../platform/database/migrations.ts';
import { platformMigrations } from '../../platform/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/test-servers.ts';
import { catalogMigrations } from '../testing/catalog-db.ts';
import { type SearchViewer, searchCatalog } from './search-engine.ts';
import { indexProducts } from './search-index.ts';
import { type OfferSource, productOffer, type SkuPrice, type SkuStock } from './search-offers.ts';
import { productsWithOldOffers, refreshOffers } from './search-sync.ts';
import {
  categories,
  fixtureDocuments,
  fixtureId,
  productIds,
  seedSearchFixture,
} from './testing/search-fixture.ts';

/**
 * Price and stock of a product from its SKUs', written without a re-index: the mesh source
 * (pricing, inventory) is exercised in `core/catalog-search-offers.integration.test.ts`; here a
 * source answers from maps, so each rule can be driven on its own.
 */
let database: TestDatabase;
const guest: SearchViewer = { kind: 'guest' };
const staff: SearchViewer = { kind: 'staff' };
const sku = (n: number) => fixtureId(950, n);
const price = (amountMinor: number, currency = 'CNY'): SkuPrice => ({
  amountMinor: BigInt(amountMinor),
  currency,
});
const stock = (available: number, low = false): SkuStock => ({ available, low });

/** A source answering from maps; `undefined` maps stand for a service that is not running. */
function source(
  prices: Map<string, SkuPrice> | undefined,
  levels: Map<string, SkuStock> | undefined,
): OfferSource {
  return {
    prices: async (ids) =>
      prices ? new Map(ids.flatMap((id) => (prices.has(id) ? [[id, prices.get(id)!]] : []))) : undefined,
    stock: async (ids) =>
      levels ? new Map(ids.flatMap((id) => (levels.has(id) ? [[id, levels.get(id)!]] : []))) : undefined,
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  await applyMigrations(database.db, [platformMigrations, catalogMigrations]);
  await seedSearchFixture(database.db);
  // Two SKUs for the M8 stainless bolt, one for the carbon bolt.
  for (const [n, product] of [
    [1, productIds.m8StainlessBolt],
    [2, productIds.m8StainlessBolt],
    [3, productIds.m8CarbonBolt],
  ] as const) {
    await database.db.query(
      `INSERT INTO catalog.skus (id, product_id, code, unit_of_measure) VALUES ($1, $2, $3, 'pcs')`,
      [sku(n), product, `OFFER-SKU-${n}`],
    );
  }
}, 60_000);

afterAll(async () => {
  await database?.drop();
});

describe('productOffer', () => {
  it('takes the lowest price in one currency and the best stock state of the SKUs', () => {
    const prices = new Map([
      ['a', price(900)],
      ['b', price(700, 'USD')],
      ['c', price(800)],
    ]);
    const levels = new Map([
      ['a', stock(0)],
      ['b', stock(3, true)],
    ]);
    expect(productOffer(['a', 'b', 'c'], prices, levels)).toEqual({
      price: { priceMinMinor: 800n, currency: 'CNY' },
      stock: 'low_stock',
    });
    expect(productOffer(['a', 'c'], prices, levels).stock).toBe('out_of_stock');
    expect(productOffer(['a'], prices, new Map([['a', stock(5)]])).stock).toBe('in_stock');
    // No SKUs: neither price nor stock. A source that could not answer: unknown (kept).
    expect(productOffer([], prices, levels)).toEqual({
      price: { priceMinMinor: null, currency: null },
      stock: null,
    });
    expect(productOffer(['a'], undefined, undefined)).toEqual({ price: undefined, stock: undefined });
  });
});

describe('refreshOffers', () => {
  it('writes price and stock of indexed products, and the kept counts follow', async () => {
    const prices = new Map([
      [sku(1), price(45_000)],
      [sku(2), price(30_000)],
      [sku(3), price(150)],
    ]);
    const levels = new Map([
      [sku(1), stock(2, true)],
      [sku(3), stock(0)],
    ]);
    await refreshOffers(
      database.db,
      [productIds.m8StainlessBolt, productIds.m8CarbonBolt],
      source(prices, levels),
    );
    const bolts = await searchCatalog(database.db, guest, { q: '螺栓', sort: 'price_asc' });
    const item = (id: string) => bolts.items.find((i) => i.productId === id)!;
    expect(item(productIds.m8StainlessBolt)).toMatchObject({
      price: { amountMinor: '30000', currency: 'CNY' },
      stock: 'low_stock',
      inStock: true,
    });
    expect(item(productIds.m8CarbonBolt)).toMatchObject({
      price: { amountMinor: '150' },
      stock: 'out_of_stock',
    });
    expect(bolts.items[0]!.productId).toBe(productIds.m8CarbonBolt);
    // Browsing (kept counts) answers what counting live does.
    for (const viewer of [guest, staff]) {
      const request = { category: categories.fasteners.id };
      expect(await searchCatalog(database.db, viewer, request)).toEqual(
        await searchCatalog(database.db, viewer, request, { keptCounts: false }),
      );
    }
    const browse = await searchCatalog(database.db, guest, { category: categories.bolts.id });
    expect(browse.facets.price?.bands).toContainEqual({ minMinor: '20000', maxMinor: '49999', count: 1 });
    expect(browse.facets.price?.bands).toContainEqual({ minMinor: '100', maxMinor: '199', count: 1 });
  });

  it('keeps what the index has from a source that could not answer', async () => {
    const levels = new Map([[sku(3), stock(40)]]);
    await refreshOffers(database.db, [productIds.m8CarbonBolt], source(undefined, levels));
    const [carbon] = (await searchCatalog(database.db, guest, { q: '碳钢 螺栓' })).items;
    expect(carbon).toMatchObject({ price: { amountMinor: '150' }, stock: 'in_stock' });
    // A re-index without a source keeps the looked-up price and stock too.
    await indexProducts(database.db, [
      {
        ...fixtureDocuments.find((d) => d.id === productIds.m8CarbonBolt)!,
        priceMinMinor: undefined,
        stock: undefined,
      },
    ]);
    const [again] = (await searchCatalog(database.db, guest, { q: '碳钢 螺栓' })).items;
    expect(again).toMatchObject({ price: { amountMinor: '150' }, stock: 'in_stock' });
  });

  it('finds the products looked up longest ago first', async () => {
    await database.db.query(
      `UPDATE catalog.search_documents SET offers_at = now() - interval '7 hours' WHERE product_id = $1`,
      [productIds.m8StainlessBolt],
    );
    await database.db.query('UPDATE catalog.search_documents SET offers_at = NULL WHERE product_id = $1', [
      productIds.wedgeAnchor,
    ]);
    expect(await productsWithOldOffers(database.db, 10, 6 * 3_600_000)).toEqual([
      productIds.wedgeAnchor,
      productIds.m8StainlessBolt,
    ]);
    expect(await productsWithOldOffers(database.db, 1, 6 * 3_600_000)).toEqual([productIds.wedgeAnchor]);
  });
});
