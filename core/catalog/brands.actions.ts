import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import {
  type BrandInput,
  deleteBrand,
  findBrand,
  insertBrand,
  listBrands,
  productsOfBrand,
  updateBrand,
} from './brands.ts';
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
import { productsUpdated } from './product-events.ts';

/** Staff manage brands (catalog.manage). */
export function brandsArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;
  return {
    actions: {
      'brands.list': {
        params: schemaRef('api/common/list-query'),
        async handler(ctx: Context<PageParams>) {
          requireCatalogStaff(ctx, 'read');
          return page(
            await listBrands(db, { limit: ctx.params.limit, after: cursorOf(ctx.params) }),
            ctx.params.limit,
          );
        },
      },

      'brands.get': staffGetAction('Brand', (id) => findBrand(db, id)),

      'brands.create': {
        params: schemaRef('api/catalog/create-brand-request'),
        async handler(ctx: Context<BrandInput>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const brand = await insertBrand(tx, ctx.params);
            await audit(ctx, tx, auth, {
              action: 'brand.created',
              entityType: 'brand',
              entityId: brand.id,
              details: { brand },
            });
            return brand;
          });
        },
      },

      'brands.update': {
        params: schemaRef('api/catalog/update-brand-params'),
        async handler(ctx: Context<Partial<BrandInput> & { id: string }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, ...changes } = ctx.params;
          return db.transaction(async (tx) => {
            const before = await findBrand(tx, id);
            const brand = await updateBrand(tx, id, changes);
            await productsUpdated(ctx, tx, await productsOfBrand(tx, id), ['brand']);
            await audit(ctx, tx, auth, {
              action: 'brand.updated',
              entityType: 'brand',
              entityId: id,
              details: { before, after: brand },
            });
            return brand;
          });
        },
      },

      'brands.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const brand = await deleteBrand(tx, ctx.params.id);
            await audit(ctx, tx, auth, {
              action: 'brand.deleted',
              entityType: 'brand',
              entityId: brand.id,
              details: { brand },
            });
            return { id: brand.id, deleted: true };
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
    path: '/api/staff/catalog/brands',
    action: 'catalog.brands.list',
    operationId: 'listCatalogBrands',
    tag: TAG,
    summary: 'Brands, keyset-paged (staff)',
    audience: 'staff',
    querySchema: 'api/common/list-query',
    responseSchema: 'api/catalog/brand-list-response',
  },
  {
    method: 'POST',
    path: '/api/staff/catalog/brands',
    action: 'catalog.brands.create',
    operationId: 'createCatalogBrand',
    tag: TAG,
    summary: 'Create a brand (staff, catalog.manage)',
    audience: 'staff',
    requestSchema: 'api/catalog/create-brand-request',
    responseSchema: 'entities/brand',
    successStatus: 201,
    location: '/api/staff/catalog/brands/{id}',
  },
  {
    method: 'GET',
    path: '/api/staff/catalog/brands/:id',
    action: 'catalog.brands.get',
    operationId: 'getCatalogBrand',
    tag: TAG,
    summary: 'One brand (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/brand',
  },
  {
    method: 'PATCH',
    path: '/api/staff/catalog/brands/:id',
    action: 'catalog.brands.update',
    operationId: 'updateCatalogBrand',
    tag: TAG,
    summary: 'Rename a brand or change its slug (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/update-brand-params',
    requestSchema: 'api/catalog/update-brand-params',
    responseSchema: 'entities/brand',
  },
  {
    method: 'DELETE',
    path: '/api/staff/catalog/brands/:id',
    action: 'catalog.brands.delete',
    operationId: 'deleteCatalogBrand',
    tag: TAG,
    summary: 'Delete a brand no product carries (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
];
