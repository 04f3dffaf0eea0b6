import type { Queryable } from '../platform/database/database.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import type { AttributeValue } from './attributes.ts';
import { loadProducts, type Product, type ProductSummary, productIdOf, summariesOf } from './products.ts';
import { isVisible, type Viewer, visibilityFilterSql, visibleAmong } from './visibility.ts';

/** What buyers and guests read: products they may see, the categories holding them, compare, sitemap. */

/** A product the viewer may see, by id or slug, with only the relations they may see; 404 otherwise. */
export async function productForViewer(db: Queryable, viewer: Viewer, idOrSlug: string): Promise<Product> {
  const id = await productIdOf(db, idOrSlug);
  if (!id || !(await isVisible(db, viewer, id))) throw new NotFound('Product');
  const product = (await loadProducts(db, [id])).get(id)!;
  const visible = await visibleAmong(
    db,
    viewer,
    product.relations.map((relation) => relation.product.id),
  );
  return { ...product, relations: product.relations.filter((relation) => visible.has(relation.product.id)) };
}

export interface CategoryNode {
  id: string;
  parentId: string | null;
  slug: string;
  nameZh: string;
  nameEn: string;
  sort: number;
  depth: number;
  metaTitle: string | null;
  metaDescription: string | null;
  productCount: number;
}

/** The categories holding at least one product the viewer may see (in their subtree), parents first. */
export async function visibleCategoryTree(db: Queryable, viewer: Viewer): Promise<CategoryNode[]> {
  const values: unknown[] = [];
  const filter = visibilityFilterSql('p', viewer, values);
  const { rows } = await db.query(
    `WITH visible AS (
       SELECT c.path FROM catalog.products p JOIN catalog.categories c ON c.id = p.category_id WHERE ${filter})
     SELECT c.id, c.parent_id, c.slug, c.name_zh, c.name_en, c.sort, array_length(c.path, 1) AS depth,
            c.meta_title, c.meta_description, count(*)::int AS product_count
       FROM catalog.categories c JOIN visible v ON v.path @> ARRAY[c.id]
      GROUP BY c.id
      ORDER BY array_length(c.path, 1), c.sort, c.slug`,
    values,
  );
  return rows.map((row) => ({
    id: row.id,
    parentId: row.parent_id ?? null,
    slug: row.slug,
    nameZh: row.name_zh,
    nameEn: row.name_en,
    sort: row.sort,
    depth: row.depth,
    metaTitle: row.meta_title ?? null,
    metaDescription: row.meta_description ?? null,
    productCount: row.product_count,
  }));
}

export interface ComparisonRow {
  key: string;
  nameZh: string;
  nameEn: string;
  type: AttributeValue['type'];
  unit: string | null;
  values: Array<AttributeValue | null>;
  differs: boolean;
}

function sameValue(a: AttributeValue | null, b: AttributeValue | null): boolean {
  if (!a || !b) return a === b;
  return a.value === b.value && a.min === b.min && a.max === b.max;
}

/**
 * Products side by side (in the order asked): one row per attribute any of them has, in the order
 * of first appearance, with one value (or null) per product and `differs` when they are not all
 * the same. A product the viewer may not see is 404, the same as one that does not exist.
 */
export async function compareProducts(
  db: Queryable,
  viewer: Viewer,
  productIds: readonly string[],
): Promise<{ products: ProductSummary[]; rows: ComparisonRow[] }> {
  const visible = await visibleAmong(db, viewer, productIds);
  if (productIds.some((id) => !visible.has(id))) throw new NotFound('Product');
  const [products, summaries] = await Promise.all([
    loadProducts(db, productIds),
    summariesOf(db, productIds),
  ]);
  const ordered = productIds.map((id) => products.get(id)!);
  const rows = new Map<string, ComparisonRow>();
  for (const product of ordered) {
    for (const value of product.attributes) {
      if (!rows.has(value.key)) {
        rows.set(value.key, {
          key: value.key,
          nameZh: value.nameZh,
          nameEn: value.nameEn,
          type: value.type,
          unit: value.unit,
          values: [],
          differs: false,
        });
      }
    }
  }
  for (const row of rows.values()) {
    row.values = ordered.map((product) => product.attributes.find((value) => value.key === row.key) ?? null);
    row.differs = row.values.some((value) => !sameValue(value, row.values[0]!));
  }
  return { products: productIds.map((id) => summaries.get(id)!), rows: [...rows.values()] };
}

/** The sitemap protocol allows 50,000 URLs per file. */
export const SITEMAP_LIMIT = 50_000;

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ESCAPES[char]!);
}

/**
 * sitemap.xml of what guests may see: public listed products (`/products/<slug>`) and the categories
 * holding them (`/categories/<slug>`), each with its last modification, at most `limit` URLs
 * (categories first, then the most recently changed products).
 */
export async function sitemapXml(db: Queryable, baseUrl: string, limit = SITEMAP_LIMIT): Promise<string> {
  const base = baseUrl.replace(/\/+$/, '');
  const values: unknown[] = [];
  const filter = visibilityFilterSql('p', { kind: 'guest' }, values);
  values.push(limit);
  const { rows } = await db.query(
    `(SELECT 0 AS kind, c.slug, max(greatest(c.updated_at, p.updated_at)) AS lastmod
        FROM catalog.products p
        JOIN catalog.categories pc ON pc.id = p.category_id
        JOIN catalog.categories c ON pc.path @> ARRAY[c.id]
       WHERE ${filter}
       GROUP BY c.slug)
     UNION ALL
     (SELECT 1 AS kind, p.slug, p.updated_at AS lastmod FROM catalog.products p WHERE ${filter})
     ORDER BY kind, lastmod DESC, slug
     LIMIT $${values.length}`,
    values,
  );
  const urls = rows.map((row) => {
    const path = row.kind === 0 ? 'categories' : 'products';
    const loc = escapeXml(`${base}/${path}/${encodeURIComponent(row.slug)}`);
    return `  <url><loc>${loc}</loc><lastmod>${new Date(row.lastmod).toISOString()}</lastmod></url>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ...urls,
    '</urlset>',
    '',
  ].join('\n');
}
