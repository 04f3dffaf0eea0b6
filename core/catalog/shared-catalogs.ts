import type { Queryable } from '../platform/database/database.ts';
import { type FieldError, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import { conflictOnDuplicate } from './catalog-area.ts';
import { refreshVisibility } from './visibility.ts';

/**
 * Shared catalogs (共享目录): a named set of categories (each with its subtree) and products,
 * assigned to companies, tiers or tags. Every change rebuilds the visibility rows of the products
 * it reached before and reaches now, in the same transaction.
 */
export const ASSIGNMENT_KINDS = ['company', 'tier', 'tag'] as const;
export type AssignmentKind = (typeof ASSIGNMENT_KINDS)[number];

export interface Assignment {
  kind: AssignmentKind;
  /** A company id, a tier or a tag, as accounts stores them. */
  value: string;
}

export interface SharedCatalog {
  id: string;
  name: string;
  description: string | null;
  categoryIds: string[];
  productIds: string[];
  assignments: Assignment[];
  createdAt: string;
  updatedAt: string;
}

export interface SharedCatalogInput {
  name: string;
  description?: string | null;
  categoryIds?: string[];
  productIds?: string[];
  assignments?: Assignment[];
}

const COLUMNS = `s.id, s.name, s.description, s.created_at, s.updated_at,
  COALESCE((SELECT array_agg(category_id::text ORDER BY category_id) FROM catalog.shared_catalog_categories
             WHERE catalog_id = s.id), '{}') AS category_ids,
  COALESCE((SELECT array_agg(product_id::text ORDER BY product_id) FROM catalog.shared_catalog_products
             WHERE catalog_id = s.id), '{}') AS product_ids,
  COALESCE((SELECT jsonb_agg(jsonb_build_object('kind', kind, 'value', value) ORDER BY kind, value)
              FROM catalog.shared_catalog_assignments WHERE catalog_id = s.id), '[]') AS assignments`;

function toSharedCatalog(row: Record<string, unknown>): SharedCatalog {
  return {
    id: row.id as string,
    name: row.name as string,
    description: (row.description as string | null) ?? null,
    categoryIds: row.category_ids as string[],
    productIds: row.product_ids as string[],
    assignments: row.assignments as Assignment[],
    createdAt: new Date(row.created_at as string).toISOString(),
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

export async function findSharedCatalog(db: Queryable, id: string): Promise<SharedCatalog | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM catalog.shared_catalogs s WHERE s.id = $1`, [id]);
  return rows[0] ? toSharedCatalog(rows[0]) : undefined;
}

export async function listSharedCatalogs(
  db: Queryable,
  filter: { limit: number; after?: string | undefined },
): Promise<SharedCatalog[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM catalog.shared_catalogs s WHERE $1::uuid IS NULL OR s.id > $1 ORDER BY s.id LIMIT $2`,
    [filter.after ?? null, filter.limit],
  );
  return rows.map(toSharedCatalog);
}

/** The products a catalog reaches: its own products and those in its categories' subtrees. */
export async function membersOf(db: Queryable, catalogId: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT product_id AS id FROM catalog.shared_catalog_products WHERE catalog_id = $1
     UNION
     SELECT p.id FROM catalog.products p JOIN catalog.categories c ON c.id = p.category_id
      WHERE c.path && ARRAY(SELECT category_id FROM catalog.shared_catalog_categories WHERE catalog_id = $1)`,
    [catalogId],
  );
  return rows.map((row) => row.id as string);
}

async function checkReferences(db: Queryable, input: Partial<SharedCatalogInput>): Promise<void> {
  const errors: FieldError[] = [];
  const unknown = async (table: 'categories' | 'products', ids: string[] | undefined, pointer: string) => {
    if (!ids?.length) return;
    const { rows } = await db.query(`SELECT id FROM catalog.${table} WHERE id = ANY($1::uuid[])`, [ids]);
    const known = new Set(rows.map((row) => row.id as string));
    ids.forEach((id, index) => {
      if (!known.has(id))
        errors.push({ pointer: `${pointer}/${index}`, detail: `is not one of the ${table}` });
    });
  };
  await unknown('categories', input.categoryIds, '/categoryIds');
  await unknown('products', input.productIds, '/productIds');
  input.assignments?.forEach((assignment, index) => {
    if (
      assignment.kind === 'company' &&
      !/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(assignment.value)
    ) {
      errors.push({ pointer: `/assignments/${index}/value`, detail: 'must be a company id' });
    }
  });
  if (errors.length) throw new ValidationFailed(errors, 'The shared catalog is not valid');
}

async function writeContents(db: Queryable, id: string, input: Partial<SharedCatalogInput>): Promise<void> {
  if (input.categoryIds) {
    await db.query('DELETE FROM catalog.shared_catalog_categories WHERE catalog_id = $1', [id]);
    await db.query(
      `INSERT INTO catalog.shared_catalog_categories (catalog_id, category_id)
       SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
      [id, input.categoryIds],
    );
  }
  if (input.productIds) {
    await db.query('DELETE FROM catalog.shared_catalog_products WHERE catalog_id = $1', [id]);
    await db.query(
      `INSERT INTO catalog.shared_catalog_products (catalog_id, product_id)
       SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
      [id, input.productIds],
    );
  }
  if (input.assignments) {
    await db.query('DELETE FROM catalog.shared_catalog_assignments WHERE catalog_id = $1', [id]);
    await db.query(
      `INSERT INTO catalog.shared_catalog_assignments (catalog_id, kind, value)
       SELECT $1, * FROM unnest($2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
      [id, input.assignments.map((a) => a.kind), input.assignments.map((a) => a.value)],
    );
  }
}

export async function insertSharedCatalog(db: Queryable, input: SharedCatalogInput): Promise<SharedCatalog> {
  await checkReferences(db, input);
  let id: string;
  try {
    const { rows } = await db.query(
      'INSERT INTO catalog.shared_catalogs (name, description) VALUES ($1, $2) RETURNING id',
      [input.name, input.description ?? null],
    );
    id = rows[0]!.id as string;
  } catch (error) {
    conflictOnDuplicate(error, 'Another shared catalog has this name', '/name');
  }
  await writeContents(db, id, input);
  await refreshVisibility(db, await membersOf(db, id));
  return (await findSharedCatalog(db, id))!;
}

export async function updateSharedCatalog(
  db: Queryable,
  id: string,
  changes: Partial<SharedCatalogInput>,
): Promise<{ before: SharedCatalog; after: SharedCatalog }> {
  const { rowCount } = await db.query('SELECT 1 FROM catalog.shared_catalogs WHERE id = $1 FOR UPDATE', [id]);
  const before = rowCount ? await findSharedCatalog(db, id) : undefined;
  if (!before) throw new NotFound('Shared catalog');
  await checkReferences(db, changes);
  const reachedBefore = await membersOf(db, id);
  try {
    await db.query(
      `UPDATE catalog.shared_catalogs SET name = $2, description = $3, updated_at = now() WHERE id = $1`,
      [
        id,
        changes.name ?? before.name,
        changes.description !== undefined ? changes.description : before.description,
      ],
    );
  } catch (error) {
    conflictOnDuplicate(error, 'Another shared catalog has this name', '/name');
  }
  await writeContents(db, id, changes);
  await refreshVisibility(db, [...reachedBefore, ...(await membersOf(db, id))]);
  return { before, after: (await findSharedCatalog(db, id))! };
}

export async function deleteSharedCatalog(db: Queryable, id: string): Promise<SharedCatalog> {
  const catalog = await findSharedCatalog(db, id);
  if (!catalog) throw new NotFound('Shared catalog');
  const reached = await membersOf(db, id);
  await db.query('DELETE FROM catalog.shared_catalogs WHERE id = $1', [id]);
  await refreshVisibility(db, reached);
  return catalog;
}
