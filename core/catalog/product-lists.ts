import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound } from '../platform/errors/hub-errors.ts';
import { conflictOnDuplicate } from './catalog-area.ts';
import { type ProductSummary, toSummary } from './products.ts';
import { type Viewer, visibilityFilterSql } from './visibility.ts';

/**
 * A buyer's own product lists (收藏夹 / 常购清单): every buyer has a default "Favourites" list and
 * may keep named ones. Lists are private to the user: every statement is scoped by company and
 * user, so another buyer's list id is simply not found.
 */
export const DEFAULT_LIST_NAME = 'Favourites';

export interface Owner {
  companyId: string;
  userId: string;
}

export interface ListItem {
  skuId: string;
  skuCode: string;
  quantity: number;
  product: ProductSummary;
  addedAt: string;
}

export interface ProductList {
  id: string;
  name: string;
  isDefault: boolean;
  items: ListItem[];
  createdAt: string;
  updatedAt: string;
}

/** Creates the default list unless the user has it. */
export async function ensureDefaultList(db: Queryable, owner: Owner): Promise<void> {
  await db.query(
    `INSERT INTO catalog.product_lists (company_id, user_id, name, is_default)
     SELECT $1, $2, $3, true
      WHERE NOT EXISTS (SELECT 1 FROM catalog.product_lists WHERE user_id = $2 AND is_default)
     ON CONFLICT DO NOTHING`,
    [owner.companyId, owner.userId, DEFAULT_LIST_NAME],
  );
}

/** The user's lists (default first, then by name) with the items the viewer may still see. */
export async function listsOf(
  db: Queryable,
  owner: Owner,
  viewer: Viewer,
  listId?: string,
): Promise<ProductList[]> {
  const { rows: lists } = await db.query(
    `SELECT id, name, is_default, created_at, updated_at FROM catalog.product_lists
      WHERE company_id = $1 AND user_id = $2 AND ($3::uuid IS NULL OR id = $3)
      ORDER BY is_default DESC, name, id`,
    [owner.companyId, owner.userId, listId ?? null],
  );
  if (lists.length === 0) return [];
  const values: unknown[] = [lists.map((list) => list.id)];
  const { rows: items } = await db.query(
    `SELECT i.list_id, i.sku_id, s.code AS sku_code, i.quantity, i.added_at,
            p.id, p.slug, p.name_zh, p.name_en, p.model, p.lifecycle, b.name AS brand_name
       FROM catalog.product_list_items i
       JOIN catalog.skus s ON s.id = i.sku_id
       JOIN catalog.products p ON p.id = s.product_id
       LEFT JOIN catalog.brands b ON b.id = p.brand_id
      WHERE i.list_id = ANY($1::uuid[]) AND ${visibilityFilterSql('p', viewer, values)}
      ORDER BY i.added_at, s.code`,
    values,
  );
  return lists.map((list) => ({
    id: list.id,
    name: list.name,
    isDefault: list.is_default,
    items: items
      .filter((item) => item.list_id === list.id)
      .map((item) => ({
        skuId: item.sku_id,
        skuCode: item.sku_code,
        quantity: item.quantity,
        product: toSummary(item),
        addedAt: new Date(item.added_at).toISOString(),
      })),
    createdAt: new Date(list.created_at).toISOString(),
    updatedAt: new Date(list.updated_at).toISOString(),
  }));
}

/** One of the user's lists, locked for the transaction; 404 for anyone else's. */
async function lockList(
  db: Queryable,
  owner: Owner,
  id: string,
): Promise<{ isDefault: boolean; name: string }> {
  const { rows } = await db.query(
    `SELECT is_default, name FROM catalog.product_lists WHERE id = $1 AND company_id = $2 AND user_id = $3 FOR UPDATE`,
    [id, owner.companyId, owner.userId],
  );
  if (!rows[0]) throw new NotFound('List');
  return { isDefault: rows[0].is_default, name: rows[0].name };
}

export async function createList(db: Queryable, owner: Owner, name: string): Promise<string> {
  const { rows: count } = await db.query(
    'SELECT count(*)::int AS n FROM catalog.product_lists WHERE user_id = $1',
    [owner.userId],
  );
  if (count[0]!.n >= 100) throw new Conflict('A buyer keeps at most 100 lists');
  try {
    const { rows } = await db.query(
      `INSERT INTO catalog.product_lists (company_id, user_id, name) VALUES ($1, $2, $3) RETURNING id`,
      [owner.companyId, owner.userId, name],
    );
    return rows[0]!.id;
  } catch (error) {
    conflictOnDuplicate(error, 'You already have a list with this name', '/name');
  }
}

export async function renameList(db: Queryable, owner: Owner, id: string, name: string): Promise<string> {
  const before = await lockList(db, owner, id);
  try {
    await db.query('UPDATE catalog.product_lists SET name = $2, updated_at = now() WHERE id = $1', [
      id,
      name,
    ]);
  } catch (error) {
    conflictOnDuplicate(error, 'You already have a list with this name', '/name');
  }
  return before.name;
}

/** Deletes a named list; the default one stays (it can be emptied). */
export async function deleteList(db: Queryable, owner: Owner, id: string): Promise<string> {
  const list = await lockList(db, owner, id);
  if (list.isDefault) throw new Conflict('The Favourites list cannot be deleted');
  await db.query('DELETE FROM catalog.product_lists WHERE id = $1', [id]);
  return list.name;
}

/** Puts a SKU the viewer may see on the list (or sets its quantity); 404 for a SKU they may not see. */
export async function putItem(
  db: Queryable,
  owner: Owner,
  viewer: Viewer,
  id: string,
  item: { skuId: string; quantity: number },
): Promise<void> {
  await lockList(db, owner, id);
  const values: unknown[] = [item.skuId];
  const { rowCount } = await db.query(
    `SELECT 1 FROM catalog.skus s JOIN catalog.products p ON p.id = s.product_id
      WHERE s.id = $1 AND ${visibilityFilterSql('p', viewer, values)}`,
    values,
  );
  if (!rowCount) throw new NotFound('SKU');
  await db.query(
    `INSERT INTO catalog.product_list_items (list_id, sku_id, quantity) VALUES ($1, $2, $3)
     ON CONFLICT (list_id, sku_id) DO UPDATE SET quantity = EXCLUDED.quantity`,
    [id, item.skuId, item.quantity],
  );
  await db.query('UPDATE catalog.product_lists SET updated_at = now() WHERE id = $1', [id]);
}

export async function removeItem(db: Queryable, owner: Owner, id: string, skuId: string): Promise<void> {
  await lockList(db, owner, id);
  const { rowCount } = await db.query(
    'DELETE FROM catalog.product_list_items WHERE list_id = $1 AND sku_id = $2',
    [id, skuId],
  );
  if (!rowCount) throw new NotFound('List item');
  await db.query('UPDATE catalog.product_lists SET updated_at = now() WHERE id = $1', [id]);
}
