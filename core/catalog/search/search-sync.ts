import type { Database, Queryable } from '../../platform/database/database.ts';
import { type DocumentValue, loadProductDocuments, type ProductDocument } from '../product-document.ts';
import {
  indexProducts,
  removeProduct,
  type SearchAttribute,
  type SearchDocument,
  updateOffers,
} from './search-index.ts';
import { indexedProductsOfSkus, lookUpOffers, type OfferSource, skusOfProducts } from './search-offers.ts';

/** The catalog's product document as search indexes it. */
export function searchDocumentOf(doc: ProductDocument): SearchDocument {
  const attribute = (value: DocumentValue): SearchAttribute => ({
    key: value.key,
    type: value.type,
    unit: value.unit,
    filterable: value.filterable,
    value: value.value,
    min: value.min,
    max: value.max,
    nameZh: value.nameZh,
    nameEn: value.nameEn,
    label: value.label,
  });
  return {
    id: doc.id,
    nameZh: doc.nameZh,
    nameEn: doc.nameEn,
    descriptionZh: doc.descriptionZh,
    descriptionEn: doc.descriptionEn,
    model: doc.model,
    brand: doc.brand,
    categoryPath: doc.categoryPath.map((c) => ({ id: c.id, nameZh: c.nameZh, nameEn: c.nameEn })),
    skuCodes: doc.skuCodes,
    attributes: doc.attributes.map(attribute),
    variants: doc.skus.flatMap((sku) => sku.variant.map(attribute)),
    scenarios: doc.scenarios,
    lifecycle: doc.lifecycle,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    // Placeholder until media exist. Price and stock: `undefined` keeps the index's (an offer
    // lookup fills them: `reindexProducts`).
    thumbnailUrl: null,
  };
}

/**
 * Re-indexes these products from the catalog; those that no longer exist leave the index. With an
 * offer source, their prices and stock are looked up too (else the index keeps its own).
 */
export async function reindexProducts(
  db: Database,
  productIds: readonly string[],
  offers?: OfferSource,
): Promise<void> {
  const ids = [...new Set(productIds)];
  if (ids.length === 0) return;
  const documents = await loadProductDocuments(db, ids);
  const docs = [...documents.values()].map(searchDocumentOf);
  if (offers) {
    const looked = await lookUpOffers(
      offers,
      new Map([...documents.values()].map((doc) => [doc.id, doc.skus.map((sku) => sku.id)])),
    );
    for (const doc of docs) {
      const offer = looked.get(doc.id);
      if (offer?.price) {
        doc.priceMinMinor = offer.price.priceMinMinor;
        doc.currency = offer.price.currency;
      }
      if (offer?.stock !== undefined) doc.stock = offer.stock;
    }
  }
  await db.transaction(async (tx) => {
    await indexProducts(tx, docs);
    for (const id of ids) if (!documents.has(id)) await removeProduct(tx, id);
  });
}

/**
 * Products whose index row is missing or older than the product (events are notifications: a
 * search service that was down missed them), and index rows (documents, facet rows) of deleted
 * products.
 */
async function staleProducts(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query(
    `(SELECT p.id FROM catalog.products p
        LEFT JOIN catalog.search_documents d ON d.product_id = p.id
       WHERE d.product_id IS NULL OR d.source_updated_at IS NULL
          OR d.source_updated_at < date_trunc('milliseconds', p.updated_at)
       LIMIT $1)
     UNION ALL
     (SELECT d.product_id FROM catalog.search_documents d
       WHERE NOT EXISTS (SELECT 1 FROM catalog.products p WHERE p.id = d.product_id)
       LIMIT $1)
     UNION ALL
     (SELECT r.product_id FROM catalog.search_facet_rows r
       WHERE NOT EXISTS (SELECT 1 FROM catalog.products p WHERE p.id = r.product_id)
         AND NOT EXISTS (SELECT 1 FROM catalog.search_documents d WHERE d.product_id = r.product_id)
       LIMIT $1)`,
    [limit],
  );
  return rows.map((row) => row.id as string);
}

/**
 * Brings the index up to date with the catalog, `batch` products at a time, at most `maxBatches`
 * batches per call (and none after `shouldStop` says so: a stopping service finishes its batch);
 * answers how many products it re-indexed or removed.
 */
export async function syncSearchIndex(
  db: Database,
  options: {
    batch?: number;
    maxBatches?: number;
    shouldStop?: () => boolean;
    offers?: OfferSource | undefined;
  } = {},
): Promise<number> {
  const batch = options.batch ?? 500;
  let done = 0;
  for (let round = 0; round < (options.maxBatches ?? 1_000) && !options.shouldStop?.(); round++) {
    const ids = await staleProducts(db, batch);
    if (ids.length === 0) break;
    await reindexProducts(db, ids, options.offers);
    done += ids.length;
  }
  return done;
}

/** Marks every index row stale: the next sync re-indexes the whole catalog. */
export async function markIndexStale(db: Queryable): Promise<number> {
  const { rowCount } = await db.query('UPDATE catalog.search_documents SET source_updated_at = NULL');
  return rowCount ?? 0;
}

/**
 * Looks up and writes the prices and stock of these indexed products (nothing else re-indexed):
 * what a pricing or stock event, and the rolling refresh, do. Answers how many were looked up.
 */
export async function refreshOffers(
  db: Database,
  productIds: readonly string[],
  offers: OfferSource,
): Promise<number> {
  const skus = await skusOfProducts(db, productIds);
  if (skus.size === 0) return 0;
  await updateOffers(db, await lookUpOffers(offers, skus));
  return skus.size;
}

/** `refreshOffers` for the indexed products of these SKUs. */
export async function refreshOffersOfSkus(
  db: Database,
  skuIds: readonly string[],
  offers: OfferSource,
): Promise<number> {
  return refreshOffers(db, await indexedProductsOfSkus(db, skuIds), offers);
}

/**
 * The indexed products whose prices and stock were looked up longest ago (never first), up to
 * `limit`, older than `olderThanMs`: the rolling refresh that corrects a missed event.
 */
export async function productsWithOldOffers(
  db: Queryable,
  limit: number,
  olderThanMs: number,
): Promise<string[]> {
  const { rows } = await db.query<{ product_id: string }>(
    `SELECT product_id FROM catalog.search_documents
      WHERE offers_at IS NULL OR offers_at < now() - make_interval(secs => $2::float8 / 1000)
      ORDER BY offers_at NULLS FIRST LIMIT $1`,
    [limit, olderThanMs],
  );
  return rows.map((row) => row.product_id);
}
