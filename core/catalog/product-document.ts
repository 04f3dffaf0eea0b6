import type { Queryable } from '../platform/database/database.ts';
import { type AttributeType, type AttributeValue, attributesByKey } from './attributes.ts';
import { type CategoryRef, type Lifecycle, loadProducts, type Product } from './products.ts';

/** One typed value as search indexes it. */
export interface DocumentValue {
  key: string;
  type: AttributeType;
  nameZh: string;
  nameEn: string;
  unit: string | null;
  /** Whether search offers the attribute as a facet. */
  filterable: boolean;
  /** number, enum option value, text or boolean; null for ranges. */
  value: number | string | boolean | null;
  /** The enum option's names (for facet labels); null otherwise. */
  label: { zh: string; en: string } | null;
  min: number | null;
  max: number | null;
}

/**
 * Everything search needs to index one product. Visibility is `audiences` (its rows of
 * `catalog.product_visibility`) for convenience; filter at query time with `visibilityFilterSql`.
 */
export interface ProductDocument {
  id: string;
  slug: string;
  nameZh: string;
  nameEn: string;
  descriptionZh: string | null;
  descriptionEn: string | null;
  model: string | null;
  brand: { id: string; name: string; nameZh: string | null } | null;
  /** Root first, the product's own category last. */
  categoryPath: CategoryRef[];
  skuCodes: string[];
  attributes: DocumentValue[];
  skus: Array<{ id: string; code: string; variant: DocumentValue[] }>;
  scenarios: string[];
  unitOfMeasure: string;
  lifecycle: Lifecycle;
  orderable: boolean;
  isPublic: boolean;
  audiences: string[];
  createdAt: string;
  updatedAt: string;
}

function documentOf(
  product: Product,
  filterable: ReadonlyMap<string, boolean>,
  audiences: string[],
): ProductDocument {
  const indexed = (value: AttributeValue): DocumentValue => ({
    key: value.key,
    type: value.type,
    nameZh: value.nameZh,
    nameEn: value.nameEn,
    unit: value.unit,
    filterable: filterable.get(value.key) ?? false,
    value: value.value,
    label: value.label,
    min: value.min,
    max: value.max,
  });
  return {
    id: product.id,
    slug: product.slug,
    nameZh: product.nameZh,
    nameEn: product.nameEn,
    descriptionZh: product.descriptionZh,
    descriptionEn: product.descriptionEn,
    model: product.model,
    brand: product.brand
      ? { id: product.brand.id, name: product.brand.name, nameZh: product.brand.nameZh }
      : null,
    categoryPath: product.category.path,
    skuCodes: product.skus.map((sku) => sku.code),
    attributes: product.attributes.map(indexed),
    skus: product.skus.map((sku) => ({ id: sku.id, code: sku.code, variant: sku.variant.map(indexed) })),
    scenarios: product.scenarios,
    unitOfMeasure: product.unitOfMeasure,
    lifecycle: product.lifecycle,
    orderable: product.orderable,
    isPublic: product.isPublic,
    audiences,
    createdAt: product.createdAt,
    updatedAt: product.updatedAt,
  };
}

/** Documents of many products in a handful of queries; ids that do not exist are absent. */
export async function loadProductDocuments(
  db: Queryable,
  productIds: readonly string[],
): Promise<Map<string, ProductDocument>> {
  const products = await loadProducts(db, productIds);
  if (products.size === 0) return new Map();
  const keys = [...products.values()].flatMap((product) => [
    ...product.attributes.map((value) => value.key),
    ...product.skus.flatMap((sku) => sku.variant.map((value) => value.key)),
  ]);
  const [definitions, visibility] = await Promise.all([
    attributesByKey(db, keys),
    db.query(
      `SELECT product_id, array_agg(audience ORDER BY audience) AS audiences
         FROM catalog.product_visibility WHERE product_id = ANY($1::uuid[]) GROUP BY product_id`,
      [[...products.keys()]],
    ),
  ]);
  const filterable = new Map([...definitions.values()].map((d) => [d.key, d.filterable]));
  const audiences = new Map(
    visibility.rows.map((row) => [row.product_id as string, row.audiences as string[]]),
  );
  return new Map(
    [...products.values()].map((product) => [
      product.id,
      documentOf(product, filterable, audiences.get(product.id) ?? []),
    ]),
  );
}

/** The document of one product, or undefined when it does not exist (deleted: drop it from the index). */
export async function loadProductDocument(
  db: Queryable,
  productId: string,
): Promise<ProductDocument | undefined> {
  return (await loadProductDocuments(db, [productId])).get(productId);
}
