import type { Queryable } from '../../platform/database/database.ts';
import type { ProductOffer, StockState } from './search-index.ts';

/** One SKU's price and stock as pricing and inventory answer them. */
export interface SkuPrice {
  amountMinor: bigint;
  currency: string;
}

export interface SkuStock {
  available: number;
  /** Below an overall low-stock threshold. */
  low: boolean;
}

/**
 * Where search gets prices and stock (README, "Price and stock"): the catalog-search service
 * asks pricing and inventory over the mesh. Each answers per SKU id; a SKU missing from the
 * answer has no price / no stock. `undefined` (a source that could not answer: not running,
 * timed out) keeps what the index holds.
 */
export interface OfferSource {
  prices(skuIds: readonly string[]): Promise<Map<string, SkuPrice> | undefined>;
  stock(skuIds: readonly string[]): Promise<Map<string, SkuStock> | undefined>;
}

/** Ranks stock states, best first: a product is as available as its best SKU. */
const STOCK_RANK: Record<StockState, number> = { in_stock: 0, low_stock: 1, out_of_stock: 2 };

export function stockStateOf(stock: SkuStock | undefined): StockState {
  if (!stock || stock.available <= 0) return 'out_of_stock';
  return stock.low ? 'low_stock' : 'in_stock';
}

/**
 * A product's offer from its SKUs': the lowest price (in one currency: the first SKU's, others
 * skipped) and the best stock state; a product without SKUs has neither (price null, stock
 * null). Fields of a source that could not answer are `undefined`.
 */
export function productOffer(
  skuIds: readonly string[],
  prices: Map<string, SkuPrice> | undefined,
  stock: Map<string, SkuStock> | undefined,
): {
  price: Pick<ProductOffer, 'priceMinMinor' | 'currency'> | undefined;
  stock: StockState | null | undefined;
} {
  let price: Pick<ProductOffer, 'priceMinMinor' | 'currency'> | undefined;
  if (prices) {
    price = { priceMinMinor: null, currency: null };
    for (const id of skuIds) {
      const one = prices.get(id);
      if (!one || (price.currency !== null && one.currency !== price.currency)) continue;
      if (price.priceMinMinor === null || one.amountMinor < price.priceMinMinor) {
        price = { priceMinMinor: one.amountMinor, currency: one.currency };
      }
    }
  }
  let state: StockState | null | undefined;
  if (stock) {
    state = null;
    for (const id of skuIds) {
      const one = stockStateOf(stock.get(id));
      if (state === null || STOCK_RANK[one] < STOCK_RANK[state]) state = one;
    }
  }
  return { price, stock: state };
}

/** The SKU ids of these products (catalog.skus), by product. */
export async function skusOfProducts(
  db: Queryable,
  productIds: readonly string[],
): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>(productIds.map((id) => [id, []]));
  if (productIds.length === 0) return result;
  const { rows } = await db.query<{ product_id: string; id: string }>(
    'SELECT product_id, id FROM catalog.skus WHERE product_id = ANY($1::uuid[]) ORDER BY product_id, id',
    [[...new Set(productIds)]],
  );
  for (const row of rows) result.get(row.product_id)?.push(row.id);
  return result;
}

/** The products of these SKUs that search has indexed. */
export async function indexedProductsOfSkus(db: Queryable, skuIds: readonly string[]): Promise<string[]> {
  if (skuIds.length === 0) return [];
  const { rows } = await db.query<{ product_id: string }>(
    `SELECT DISTINCT s.product_id FROM catalog.skus s
      WHERE s.id = ANY($1::uuid[])
        AND EXISTS (SELECT 1 FROM catalog.search_documents d WHERE d.product_id = s.product_id)`,
    [[...new Set(skuIds)]],
  );
  return rows.map((row) => row.product_id);
}

/** Asks both sources for every SKU of these products, in chunks a source accepts. */
export async function lookUpOffers(
  source: OfferSource,
  skusByProduct: ReadonlyMap<string, readonly string[]>,
): Promise<Map<string, ReturnType<typeof productOffer>>> {
  const skuIds = [...new Set([...skusByProduct.values()].flat())];
  const [prices, stock] = await Promise.all([source.prices(skuIds), source.stock(skuIds)]);
  const offers = new Map<string, ReturnType<typeof productOffer>>();
  for (const [productId, skus] of skusByProduct) offers.set(productId, productOffer(skus, prices, stock));
  return offers;
}
