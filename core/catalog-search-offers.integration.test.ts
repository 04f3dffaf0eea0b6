import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import { asGuest, assertMatchesSchema } from './catalog/testing/catalog-hub.ts';
import { asStaff, createWarehouse, receive } from './inventory/testing/inventory-hub.ts';
import { startTestHub, type TestHub } from './platform/testing/start-test-hub.ts';
import { waitFor } from './platform/testing/wait-for.ts';

/**
 * Catalog search's price and stock facets fed by the real pricing and inventory services on one
 * hub: the index looks prices and stock up when it indexes a product, and again on
 * `price_list.changed` and `stock.availability_changed` (through the outbox), so a price change
 * moves a product to another band and a receipt moves it from out of stock to in stock.
 */
let test: TestHub;
let broker: moleculer.ServiceBroker;
// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;
const staff = asStaff();
const skus = new Map<string, string>();
let listId: string;
let warehouseId: string;

const search = async (params: object = {}): Promise<Any> => {
  const answer = await broker.call('catalog-search.search', { q: 'offerprobe', ...params }, asGuest);
  assertMatchesSchema('api/catalog/search-response', answer);
  return answer;
};
/** Each product of the answer as `name: price stock`. */
const offers = (answer: Any) =>
  Object.fromEntries(
    answer.items
      .map((item: Any) => [item.nameEn, `${item.price?.amountMinor ?? '-'} ${item.stock ?? '-'}`])
      .sort(([a]: string[], [b]: string[]) => (a! < b! ? -1 : 1)),
  );

async function until(expected: Record<string, string>, what: string): Promise<Any> {
  let last: Any;
  try {
    await waitFor(
      async () => {
        last = await search();
        return JSON.stringify(offers(last)) === JSON.stringify(expected);
      },
      what,
      30_000,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}: last ${JSON.stringify(last && offers(last))}`);
  }
  return last;
}

async function setPrices(prices: Array<{ code: string; amountMinor: string }>): Promise<void> {
  await broker.call(
    'pricing.priceLists.upsertPrices',
    {
      id: listId,
      prices: prices.map((p) => ({
        skuId: skus.get(p.code),
        tiers: [{ minQty: 1, amountMinor: p.amountMinor }],
      })),
    },
    staff,
  );
}

beforeAll(async () => {
  test = await startTestHub();
  broker = test.hub.broker;
  await broker.waitForServices(['catalog', 'catalog-search', 'pricing', 'inventory']);
  const category = (await broker.call(
    'catalog.categories.create',
    { slug: 'offer-probes', nameZh: '报价探针', nameEn: 'Offer probes' },
    staff,
  )) as { id: string };
  warehouseId = await createWarehouse(broker, { code: 'OFFER-WH' });
  const list = (await broker.call(
    'pricing.priceLists.create',
    { code: 'OFFER-STD', name: 'Standard', currency: 'CNY' },
    staff,
  )) as { id: string };
  listId = list.id;
  await broker.call('pricing.priceLists.assign', { id: listId, level: 'default' }, staff);
  const productIds: string[] = [];
  // Alpha has two SKUs (its price is the lower one, its stock the better one), Beta and Gamma one.
  for (const [name, codes] of [
    ['Alpha', ['OP-A1', 'OP-A2']],
    ['Beta', ['OP-B1']],
    ['Gamma', ['OP-C1']],
  ] as const) {
    const created = (await broker.call(
      'catalog.products.create',
      {
        nameZh: `探针 ${name}`,
        nameEn: `Offerprobe ${name}`,
        categoryId: category.id,
        unitOfMeasure: 'pcs',
        isPublic: true,
        skus: codes.map((code) => ({ code })),
      },
      staff,
    )) as { id: string; skus: Array<{ id: string; code: string }> };
    for (const sku of created.skus) skus.set(sku.code, sku.id);
    productIds.push(created.id);
  }
  await setPrices([
    { code: 'OP-A1', amountMinor: '1500' },
    { code: 'OP-A2', amountMinor: '800' },
    { code: 'OP-B1', amountMinor: '25000' },
  ]);
  // Gamma's overall threshold is above what it will have: low.
  await broker.call(
    'inventory.thresholds.set',
    { skuId: skus.get('OP-C1'), warehouseId: null, threshold: 200 },
    staff,
  );
  await receive(broker, warehouseId, [
    { skuId: skus.get('OP-A2')!, quantity: 5 },
    { skuId: skus.get('OP-C1')!, quantity: 100 },
  ]);
  // Activating lists the products; each activation re-indexes, looking price and stock up.
  for (const id of productIds) {
    await broker.call('catalog.products.lifecycle', { id, lifecycle: 'active' }, staff);
  }
}, 180_000);

afterAll(async () => {
  await test?.stop();
});

describe('price and stock from pricing and inventory', () => {
  it('indexes the lowest default list price and the best stock state of each product', async () => {
    const answer = await until(
      {
        'Offerprobe Alpha': '800 in_stock',
        'Offerprobe Beta': '25000 out_of_stock',
        'Offerprobe Gamma': '- low_stock',
      },
      'offers at indexing',
    );
    expect(answer.facets.stock).toEqual([
      { value: 'in_stock', count: 1 },
      { value: 'low_stock', count: 1 },
      { value: 'out_of_stock', count: 1 },
    ]);
    expect(answer.facets.price).toEqual({
      count: 2,
      bands: [
        { minMinor: '500', maxMinor: '999', count: 1 },
        { minMinor: '20000', maxMinor: '49999', count: 1 },
      ],
    });
    // A band of the facet, as a filter, selects its products; so does a stock state.
    const band = await search({ priceBand: '20000-49999' });
    expect(band.items.map((item: Any) => item.nameEn)).toEqual(['Offerprobe Beta']);
    const low = await search({ stock: 'low_stock,out_of_stock', sort: 'newest' });
    expect(low.items.map((item: Any) => item.nameEn).sort()).toEqual(['Offerprobe Beta', 'Offerprobe Gamma']);
    expect((await search({ inStock: true })).items.map((item: Any) => item.nameEn).sort()).toEqual([
      'Offerprobe Alpha',
      'Offerprobe Gamma',
    ]);
    const cheapFirst = await search({ sort: 'price_asc' });
    expect(cheapFirst.items.map((item: Any) => item.nameEn)).toEqual([
      'Offerprobe Alpha',
      'Offerprobe Beta',
      'Offerprobe Gamma',
    ]);
  }, 90_000);

  it('follows price list changes and stock movements', async () => {
    await until(
      {
        'Offerprobe Alpha': '800 in_stock',
        'Offerprobe Beta': '25000 out_of_stock',
        'Offerprobe Gamma': '- low_stock',
      },
      'offers at indexing',
    );
    // Alpha's cheaper SKU goes up: the other one is now the lowest. Gamma gets a price.
    await setPrices([
      { code: 'OP-A2', amountMinor: '3000' },
      { code: 'OP-C1', amountMinor: '120' },
    ]);
    // Beta arrives; Alpha's only stocked SKU is shipped out by an adjustment to nothing.
    await receive(broker, warehouseId, [{ skuId: skus.get('OP-B1')!, quantity: 10 }]);
    await broker.call(
      'inventory.stock.adjust',
      { skuId: skus.get('OP-A2'), warehouseId, onHand: 0, reason: 'count' },
      staff,
    );
    const answer = await until(
      {
        'Offerprobe Alpha': '1500 out_of_stock',
        'Offerprobe Beta': '25000 in_stock',
        'Offerprobe Gamma': '120 low_stock',
      },
      'offers after the changes',
    );
    expect(answer.facets.price.bands).toEqual([
      { minMinor: '100', maxMinor: '199', count: 1 },
      { minMinor: '1000', maxMinor: '1999', count: 1 },
      { minMinor: '20000', maxMinor: '49999', count: 1 },
    ]);
    // The kept counts of browsing follow too (a category page without words).
    const category = answer.items[0].categoryId;
    const browse = (await broker.call('catalog-search.search', { category }, asGuest)) as Any;
    expect(browse.facets.stock).toEqual([
      { value: 'in_stock', count: 1 },
      { value: 'low_stock', count: 1 },
      { value: 'out_of_stock', count: 1 },
    ]);
    expect(browse.facets.price.bands.map((b: Any) => b.minMinor)).toEqual(['100', '1000', '20000']);
  }, 90_000);
});
