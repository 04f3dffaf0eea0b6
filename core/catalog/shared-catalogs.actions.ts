import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import {
  audit,
  type CatalogArea,
  type CatalogContext,
  cursorOf,
  type PageParams,
  page,
  requireCatalogStaff,
  staffGetAction,
  TAG,
} from './catalog-area.ts';
import {
  deleteSharedCatalog,
  findSharedCatalog,
  insertSharedCatalog,
  listSharedCatalogs,
  type SharedCatalogInput,
  updateSharedCatalog,
} from './shared-catalogs.ts';

/**
 * Staff manage shared catalogs (catalog.manage): which categories and products each holds, and the
 * companies, tiers and tags it is assigned to. Visibility follows in the same transaction; search
 * filters by it at query time, so no product event is needed.
 */
export function sharedCatalogsArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;
  return {
    actions: {
      'catalogs.list': {
        params: schemaRef('api/common/list-query'),
        async handler(ctx: Context<PageParams>) {
          requireCatalogStaff(ctx, 'read');
          return page(
            await listSharedCatalogs(db, { limit: ctx.params.limit, after: cursorOf(ctx.params) }),
            ctx.params.limit,
          );
        },
      },

      'catalogs.get': staffGetAction('Shared catalog', (id) => findSharedCatalog(db, id)),

      'catalogs.create': {
        params: schemaRef('api/catalog/create-shared-catalog-request'),
        async handler(ctx: Context<SharedCatalogInput>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const catalog = await insertSharedCatalog(tx, ctx.params);
            await audit(ctx, tx, auth, {
              action: 'shared_catalog.created',
              entityType: 'shared_catalog',
              entityId: catalog.id,
              details: { catalog },
            });
            return catalog;
          });
        },
      },

      'catalogs.update': {
        params: schemaRef('api/catalog/update-shared-catalog-params'),
        async handler(ctx: Context<Partial<SharedCatalogInput> & { id: string }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, ...changes } = ctx.params;
          return db.transaction(async (tx) => {
            const { before, after } = await updateSharedCatalog(tx, id, changes);
            await audit(ctx, tx, auth, {
              action: 'shared_catalog.updated',
              entityType: 'shared_catalog',
              entityId: id,
              details: { before, after },
            });
            return after;
          });
        },
      },

      'catalogs.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const catalog = await deleteSharedCatalog(tx, ctx.params.id);
            await audit(ctx, tx, auth, {
              action: 'shared_catalog.deleted',
              entityType: 'shared_catalog',
              entityId: catalog.id,
              details: { catalog },
            });
            return { id: catalog.id, deleted: true };
          });
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = '/api/staff/catalog/catalogs';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'catalog.catalogs.list',
    operationId: 'listSharedCatalogs',
    tag: TAG,
    summary: 'Shared catalogs with their contents and assignments (staff)',
    audience: 'staff',
    querySchema: 'api/common/list-query',
    responseSchema: 'api/catalog/shared-catalog-list-response',
  },
  {
    method: 'POST',
    path: BASE,
    action: 'catalog.catalogs.create',
    operationId: 'createSharedCatalog',
    tag: TAG,
    summary:
      'Create a shared catalog of categories and products for companies, tiers or tags (staff, catalog.manage)',
    audience: 'staff',
    requestSchema: 'api/catalog/create-shared-catalog-request',
    responseSchema: 'entities/catalog-shared-catalog',
    successStatus: 201,
    location: `${BASE}/{id}`,
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'catalog.catalogs.get',
    operationId: 'getSharedCatalog',
    tag: TAG,
    summary: 'One shared catalog (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/catalog-shared-catalog',
  },
  {
    method: 'PATCH',
    path: `${BASE}/:id`,
    action: 'catalog.catalogs.update',
    operationId: 'updateSharedCatalog',
    tag: TAG,
    summary:
      'Rename a shared catalog or replace its categories, products or assignments (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/update-shared-catalog-params',
    requestSchema: 'api/catalog/update-shared-catalog-params',
    responseSchema: 'entities/catalog-shared-catalog',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id`,
    action: 'catalog.catalogs.delete',
    operationId: 'deleteSharedCatalog',
    tag: TAG,
    summary: 'Delete a shared catalog; its buyers lose what only it granted (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
];
