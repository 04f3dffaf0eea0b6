import type { Database, Queryable } from '../../platform/database/database.ts';
import { type DocumentValue, loadProductDocuments, type ProductDocument } from '../product-document.ts';
import { indexProducts, removeProduct, type SearchAttribute, type SearchDocument } from './search-index.ts';

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
    // Placeholders until media, pricing and inventory exist.
    thumbnailUrl: null,
    priceMinMinor: null,
    currency: null,
    inStock: null,
  };
}

/** Re-indexes these products from the catalog; those that no longer exist leave the index. */
export async function reindexProducts(db: Database, productIds: readonly string[]): Promise<void> {
  const ids = [...new Set(productIds)];
  if (ids.length === 0) return;
  const documents = await loadProductDocuments(db, ids);
  await db.transaction(async (tx) => {
    await indexProducts(tx, [...documents.values()].map(searchDocumentOf));
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
  options: { batch?: number; maxBatches?: number; shouldStop?: () => boolean } = {},
): Promise<number> {
  const batch = options.batch ?? 500;
  let done = 0;
  for (let round = 0; round < (options.maxBatches ?? 1_000) && !options.shouldStop?.(); round++) {
    const ids = await staleProducts(db, batch);
    if (ids.length === 0) break;
    await reindexProducts(db, ids);
    done += ids.length;
  }
  return done;
}

/** Marks every index row stale: the next sync re-indexes the whole catalog. */
export async function markIndexStale(db: Queryable): Promise<number> {
  const { rowCount } = await db.query('UPDATE catalog.search_documents SET source_updated_at = NULL');
  return rowCount ?? 0;
}
