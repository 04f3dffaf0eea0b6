import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import {
  audit,
  type CatalogArea,
  type CatalogContext,
  requireCatalogStaff,
  staffGetAction,
  TAG,
} from './catalog-area.ts';
import {
  type CategoryChanges,
  type CategoryInput,
  deleteCategory,
  findCategory,
  insertCategory,
  listCategories,
  moveCategory,
  productsInSubtree,
  updateCategory,
} from './categories.ts';
import { productsUpdated } from './product-events.ts';
import { refreshVisibility } from './visibility.ts';

/** Staff manage the category tree (catalog.manage): create, rename, move with the subtree, delete when empty. */
export function categoriesArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;
  return {
    actions: {
      'categories.list': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          requireCatalogStaff(ctx, 'read');
          return { items: await listCategories(db) };
        },
      },

      'categories.get': staffGetAction('Category', (id) => findCategory(db, id)),

      'categories.create': {
        params: schemaRef('api/catalog/create-category-request'),
        async handler(ctx: Context<CategoryInput>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const category = await insertCategory(tx, ctx.params);
            await audit(ctx, tx, auth, {
              action: 'category.created',
              entityType: 'category',
              entityId: category.id,
              details: { category },
            });
            return category;
          });
        },
      },

      'categories.update': {
        params: schemaRef('api/catalog/update-category-params'),
        async handler(ctx: Context<CategoryChanges & { id: string; parentId?: string | null }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, parentId, ...changes } = ctx.params;
          return db.transaction(async (tx) => {
            const before = await findCategory(tx, id);
            if (!before) throw new NotFound('Category');
            let category = await updateCategory(tx, id, changes);
            const moved = parentId !== undefined && parentId !== before.parentId;
            if (moved) category = await moveCategory(tx, id, parentId);
            const affected = await productsInSubtree(tx, id);
            // A move changes which shared catalogs reach the subtree's products.
            if (moved) await refreshVisibility(tx, affected);
            const renamed =
              before.slug !== category.slug ||
              before.nameZh !== category.nameZh ||
              before.nameEn !== category.nameEn;
            if (moved || renamed) await productsUpdated(ctx, tx, affected, ['category']);
            await audit(ctx, tx, auth, {
              action: moved ? 'category.moved' : 'category.updated',
              entityType: 'category',
              entityId: id,
              details: { before, after: category },
            });
            return category;
          });
        },
      },

      'categories.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const category = await deleteCategory(tx, ctx.params.id);
            await audit(ctx, tx, auth, {
              action: 'category.deleted',
              entityType: 'category',
              entityId: category.id,
              details: { category },
            });
            return { id: category.id, deleted: true };
          });
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/staff/catalog/categories',
    action: 'catalog.categories.list',
    operationId: 'listCatalogCategories',
    tag: TAG,
    summary: 'The whole category tree, drafts’ categories included (staff, catalog.manage or catalog.read)',
    audience: 'staff',
    responseSchema: 'api/catalog/category-list-response',
  },
  {
    method: 'POST',
    path: '/api/staff/catalog/categories',
    action: 'catalog.categories.create',
    operationId: 'createCatalogCategory',
    tag: TAG,
    summary: 'Create a category under a parent, or a root (staff, catalog.manage)',
    audience: 'staff',
    requestSchema: 'api/catalog/create-category-request',
    responseSchema: 'entities/category',
    successStatus: 201,
    location: '/api/staff/catalog/categories/{id}',
  },
  {
    method: 'GET',
    path: '/api/staff/catalog/categories/:id',
    action: 'catalog.categories.get',
    operationId: 'getCatalogCategory',
    tag: TAG,
    summary: 'One category (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/category',
  },
  {
    method: 'PATCH',
    path: '/api/staff/catalog/categories/:id',
    action: 'catalog.categories.update',
    operationId: 'updateCatalogCategory',
    tag: TAG,
    summary: 'Rename a category, change its SEO fields, or move it with its subtree (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/update-category-params',
    requestSchema: 'api/catalog/update-category-params',
    responseSchema: 'entities/category',
  },
  {
    method: 'DELETE',
    path: '/api/staff/catalog/categories/:id',
    action: 'catalog.categories.delete',
    operationId: 'deleteCatalogCategory',
    tag: TAG,
    summary: 'Delete a category without sub-categories or products (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
];
