import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { conflictOnDuplicate } from './catalog-area.ts';

/** A node of the category tree (产品分类). Several roots are allowed. */
export interface Category {
  id: string;
  parentId: string | null;
  /** Category ids from the root down to this category. */
  path: string[];
  slug: string;
  nameZh: string;
  nameEn: string;
  sort: number;
  metaTitle: string | null;
  metaDescription: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CategoryInput {
  parentId?: string | null;
  slug: string;
  nameZh: string;
  nameEn: string;
  sort?: number;
  metaTitle?: string | null;
  metaDescription?: string | null;
}

export type CategoryChanges = Partial<Omit<CategoryInput, 'parentId'>>;

const COLUMNS = `id, parent_id, path::text[] AS path, slug, name_zh, name_en, sort, meta_title, meta_description,
  created_at, updated_at`;

function toCategory(row: Record<string, unknown>): Category {
  return {
    id: row.id as string,
    parentId: (row.parent_id as string | null) ?? null,
    path: row.path as string[],
    slug: row.slug as string,
    nameZh: row.name_zh as string,
    nameEn: row.name_en as string,
    sort: row.sort as number,
    metaTitle: (row.meta_title as string | null) ?? null,
    metaDescription: (row.meta_description as string | null) ?? null,
    createdAt: new Date(row.created_at as string).toISOString(),
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

/**
 * Serialises changes to the tree (create, move, delete) until the transaction ends, so a category
 * created under a subtree while it moves cannot keep a stale path prefix. Transaction-scoped
 * advisory lock: it also holds on the embedded default.
 */
async function lockTree(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext('catalog.categories'))`);
}

export async function findCategory(db: Queryable, id: string): Promise<Category | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM catalog.categories WHERE id = $1`, [id]);
  return rows[0] ? toCategory(rows[0]) : undefined;
}

/** The whole tree, parents before children (by depth, then sort, then slug). */
export async function listCategories(db: Queryable): Promise<Category[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM catalog.categories ORDER BY array_length(path, 1), sort, slug`,
  );
  return rows.map(toCategory);
}

/** Categories by id. */
export async function categoriesById(db: Queryable, ids: readonly string[]): Promise<Map<string, Category>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM catalog.categories WHERE id = ANY($1::uuid[])`, [
    [...new Set(ids)],
  ]);
  return new Map(rows.map((row) => [row.id as string, toCategory(row)]));
}

export async function insertCategory(db: Queryable, input: CategoryInput): Promise<Category> {
  await lockTree(db);
  let parentPath: string[] = [];
  if (input.parentId) {
    const parent = await findCategory(db, input.parentId);
    if (!parent) {
      throw new UnprocessableRequest('unknown-parent', 'The parent category does not exist', {
        errors: [{ pointer: '/parentId', detail: 'is not a category' }],
      });
    }
    parentPath = parent.path;
  }
  try {
    const { rows } = await db.query(
      `INSERT INTO catalog.categories (id, parent_id, path, slug, name_zh, name_en, sort, meta_title, meta_description)
       SELECT id, $1, $2::uuid[] || id, $3, $4, $5, $6, $7, $8 FROM (SELECT gen_random_uuid() AS id) AS fresh
       RETURNING ${COLUMNS}`,
      [
        input.parentId ?? null,
        parentPath,
        input.slug,
        input.nameZh,
        input.nameEn,
        input.sort ?? 0,
        input.metaTitle ?? null,
        input.metaDescription ?? null,
      ],
    );
    return toCategory(rows[0]!);
  } catch (error) {
    conflictOnDuplicate(error, 'Another category has this slug', '/slug');
  }
}

export async function updateCategory(db: Queryable, id: string, changes: CategoryChanges): Promise<Category> {
  const category = await findCategory(db, id);
  if (!category) throw new NotFound('Category');
  const pick = <K extends keyof CategoryChanges>(key: K, current: unknown) =>
    changes[key] !== undefined ? changes[key] : current;
  try {
    const { rows } = await db.query(
      `UPDATE catalog.categories
          SET slug = $2, name_zh = $3, name_en = $4, sort = $5, meta_title = $6, meta_description = $7,
              updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        id,
        pick('slug', category.slug),
        pick('nameZh', category.nameZh),
        pick('nameEn', category.nameEn),
        pick('sort', category.sort),
        pick('metaTitle', category.metaTitle),
        pick('metaDescription', category.metaDescription),
      ],
    );
    return toCategory(rows[0]!);
  } catch (error) {
    conflictOnDuplicate(error, 'Another category has this slug', '/slug');
  }
}

/**
 * Moves a category with its whole subtree under a new parent (null: make it a root). Every path in
 * the subtree gets the new prefix in one statement; a category cannot move under itself or one of
 * its descendants.
 */
export async function moveCategory(db: Queryable, id: string, newParentId: string | null): Promise<Category> {
  await lockTree(db);
  const category = await findCategory(db, id);
  if (!category) throw new NotFound('Category');
  let parentPath: string[] = [];
  if (newParentId) {
    const parent = await findCategory(db, newParentId);
    if (!parent) {
      throw new UnprocessableRequest('unknown-parent', 'The parent category does not exist', {
        errors: [{ pointer: '/parentId', detail: 'is not a category' }],
      });
    }
    if (parent.path.includes(id)) {
      throw new UnprocessableRequest(
        'category-cycle',
        'A category cannot move under itself or one of its descendants',
        { errors: [{ pointer: '/parentId', detail: 'is the category itself or one of its descendants' }] },
      );
    }
    parentPath = parent.path;
  }
  const depth = category.path.length;
  await db.query(
    `UPDATE catalog.categories
        SET path = $2::uuid[] || path[$3:],
            parent_id = CASE WHEN id = $1 THEN $4::uuid ELSE parent_id END,
            updated_at = now()
      WHERE path @> ARRAY[$1::uuid]`,
    [id, parentPath, depth, newParentId],
  );
  return (await findCategory(db, id))!;
}

/** Deletes a category without sub-categories, products, attribute or shared-catalog references. */
export async function deleteCategory(db: Queryable, id: string): Promise<Category> {
  await lockTree(db);
  const category = await findCategory(db, id);
  if (!category) throw new NotFound('Category');
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM catalog.categories WHERE parent_id = $1)::int AS children,
            (SELECT count(*) FROM catalog.products WHERE category_id = $1)::int AS products`,
    [id],
  );
  if (rows[0]!.children > 0 || rows[0]!.products > 0) {
    throw new Conflict('Only an empty category can be deleted: move its sub-categories and products first', {
      children: rows[0]!.children,
      products: rows[0]!.products,
    });
  }
  await db.query('DELETE FROM catalog.attribute_categories WHERE category_id = $1', [id]);
  await db.query('DELETE FROM catalog.shared_catalog_categories WHERE category_id = $1', [id]);
  await db.query('DELETE FROM catalog.categories WHERE id = $1', [id]);
  return category;
}

/** Ids of the products in a category's subtree. */
export async function productsInSubtree(db: Queryable, categoryId: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT p.id FROM catalog.products p JOIN catalog.categories c ON c.id = p.category_id
      WHERE c.path @> ARRAY[$1::uuid]`,
    [categoryId],
  );
  return rows.map((row) => row.id as string);
}
