import type { Queryable } from '../platform/database/database.ts';

/**
 * Who may see which product (shared catalogs, 共享目录). A product is visible to a buyer when it is
 * listed (active or discontinued) and it is public, or it is in a shared catalog — directly or
 * through a category subtree — assigned to the buyer's company, tier or one of its tags. Staff see
 * everything, drafts included.
 *
 * The answer is materialised in `catalog.product_visibility (product_id, audience)` with audiences
 * `public`, `company:<uuid>`, `tier:<tier>`, `tag:<tag>`; drafts have no rows. Every change that can
 * alter it calls `refreshVisibility` in its own transaction.
 */
export type Viewer =
  | { kind: 'guest' }
  | { kind: 'buyer'; companyId: string; tier: string | null; tags: string[] }
  | { kind: 'staff' };

/** The audiences a viewer belongs to; null for staff (no filter at all). */
export function audiencesOf(viewer: Viewer): string[] | null {
  if (viewer.kind === 'staff') return null;
  if (viewer.kind === 'guest') return ['public'];
  return [
    'public',
    `company:${viewer.companyId}`,
    ...(viewer.tier ? [`tier:${viewer.tier}`] : []),
    ...viewer.tags.map((tag) => `tag:${tag}`),
  ];
}

/**
 * A SQL predicate true for the products (`catalog.products` aliased `alias`) the viewer may see.
 * Its parameters are appended to `values`; staff get `TRUE`.
 */
export function visibilityFilterSql(alias: string, viewer: Viewer, values: unknown[]): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(alias)) throw new Error(`"${alias}" is not a SQL alias`);
  const audiences = audiencesOf(viewer);
  if (audiences === null) return 'TRUE';
  values.push(audiences);
  return `EXISTS (SELECT 1 FROM catalog.product_visibility v
                   WHERE v.product_id = ${alias}.id AND v.audience = ANY($${values.length}::text[]))`;
}

/** Whether the viewer may see one product. */
export async function isVisible(db: Queryable, viewer: Viewer, productId: string): Promise<boolean> {
  const values: unknown[] = [productId];
  const { rowCount } = await db.query(
    `SELECT 1 FROM catalog.products p WHERE p.id = $1 AND ${visibilityFilterSql('p', viewer, values)}`,
    values,
  );
  return Boolean(rowCount);
}

/** The ids among `productIds` the viewer may see. */
export async function visibleAmong(
  db: Queryable,
  viewer: Viewer,
  productIds: readonly string[],
): Promise<Set<string>> {
  if (productIds.length === 0) return new Set();
  const values: unknown[] = [[...new Set(productIds)]];
  const { rows } = await db.query(
    `SELECT p.id FROM catalog.products p
      WHERE p.id = ANY($1::uuid[]) AND ${visibilityFilterSql('p', viewer, values)}`,
    values,
  );
  return new Set(rows.map((row) => row.id as string));
}

/**
 * Recomputes the visibility rows of these products from their lifecycle, public flag, category and
 * the shared catalogs, in the caller's transaction. A transaction-scoped lock serialises refreshes,
 * so each one reads every earlier committed change.
 */
export async function refreshVisibility(db: Queryable, productIds: readonly string[]): Promise<void> {
  if (productIds.length === 0) return;
  const ids = [...new Set(productIds)];
  await db.query(`SELECT pg_advisory_xact_lock(hashtext('catalog.product_visibility'))`);
  await db.query('DELETE FROM catalog.product_visibility WHERE product_id = ANY($1::uuid[])', [ids]);
  await db.query(
    `INSERT INTO catalog.product_visibility (product_id, audience)
     SELECT p.id, 'public' FROM catalog.products p
      WHERE p.id = ANY($1::uuid[]) AND p.lifecycle <> 'draft' AND p.is_public
     UNION
     SELECT p.id, a.kind || ':' || a.value
       FROM catalog.products p
       JOIN catalog.categories c ON c.id = p.category_id
       JOIN catalog.shared_catalog_assignments a
         ON EXISTS (SELECT 1 FROM catalog.shared_catalog_products sp
                     WHERE sp.catalog_id = a.catalog_id AND sp.product_id = p.id)
         OR EXISTS (SELECT 1 FROM catalog.shared_catalog_categories sc
                     WHERE sc.catalog_id = a.catalog_id AND sc.category_id = ANY(c.path))
      WHERE p.id = ANY($1::uuid[]) AND p.lifecycle <> 'draft'
     ON CONFLICT DO NOTHING`,
    [ids],
  );
}

/** The audiences of one product (its visibility rows), sorted. */
export async function audiencesOfProduct(db: Queryable, productId: string): Promise<string[]> {
  const { rows } = await db.query(
    'SELECT audience FROM catalog.product_visibility WHERE product_id = $1 ORDER BY audience',
    [productId],
  );
  return rows.map((row) => row.audience as string);
}
