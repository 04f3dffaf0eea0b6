import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import {
  type AttributeChanges,
  type AttributeInput,
  deleteAttribute,
  findAttribute,
  insertAttribute,
  listAttributes,
  productsUsingAttribute,
  updateAttribute,
} from './attributes.ts';
import {
  audit,
  type CatalogArea,
  type CatalogContext,
  requireCatalogStaff,
  staffGetAction,
  TAG,
} from './catalog-area.ts';
import { productsUpdated } from './product-events.ts';

/** Staff manage specification attribute definitions (catalog.manage). */
export function attributesArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;
  return {
    actions: {
      'attributes.list': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          requireCatalogStaff(ctx, 'read');
          return { items: await listAttributes(db) };
        },
      },

      'attributes.get': staffGetAction('Attribute', (id) => findAttribute(db, id)),

      'attributes.create': {
        params: schemaRef('api/catalog/create-attribute-request'),
        async handler(ctx: Context<AttributeInput>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const attribute = await insertAttribute(tx, ctx.params);
            await audit(ctx, tx, auth, {
              action: 'attribute.created',
              entityType: 'attribute',
              entityId: attribute.id,
              details: { attribute },
            });
            return attribute;
          });
        },
      },

      'attributes.update': {
        params: schemaRef('api/catalog/update-attribute-params'),
        async handler(ctx: Context<AttributeChanges & { id: string }>) {
          const auth = requireCatalogStaff(ctx);
          const { id, ...changes } = ctx.params;
          return db.transaction(async (tx) => {
            const { before, after } = await updateAttribute(tx, id, changes);
            await productsUpdated(ctx, tx, await productsUsingAttribute(tx, id), ['attributes']);
            await audit(ctx, tx, auth, {
              action: 'attribute.updated',
              entityType: 'attribute',
              entityId: id,
              details: { before, after },
            });
            return after;
          });
        },
      },

      'attributes.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireCatalogStaff(ctx);
          return db.transaction(async (tx) => {
            const attribute = await deleteAttribute(tx, ctx.params.id);
            await audit(ctx, tx, auth, {
              action: 'attribute.deleted',
              entityType: 'attribute',
              entityId: attribute.id,
              details: { attribute },
            });
            return { id: attribute.id, deleted: true };
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
    path: '/api/staff/catalog/attributes',
    action: 'catalog.attributes.list',
    operationId: 'listCatalogAttributes',
    tag: TAG,
    summary: 'Every specification attribute definition (staff)',
    audience: 'staff',
    responseSchema: 'api/catalog/attribute-list-response',
  },
  {
    method: 'POST',
    path: '/api/staff/catalog/attributes',
    action: 'catalog.attributes.create',
    operationId: 'createCatalogAttribute',
    tag: TAG,
    summary:
      'Define a specification attribute: number or range with unit, enum with options, text, boolean (staff, catalog.manage)',
    audience: 'staff',
    requestSchema: 'api/catalog/create-attribute-request',
    responseSchema: 'entities/attribute-definition',
    successStatus: 201,
    location: '/api/staff/catalog/attributes/{id}',
  },
  {
    method: 'GET',
    path: '/api/staff/catalog/attributes/:id',
    action: 'catalog.attributes.get',
    operationId: 'getCatalogAttribute',
    tag: TAG,
    summary: 'One attribute definition (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/attribute-definition',
  },
  {
    method: 'PATCH',
    path: '/api/staff/catalog/attributes/:id',
    action: 'catalog.attributes.update',
    operationId: 'updateCatalogAttribute',
    tag: TAG,
    summary: 'Change an attribute definition; type and unit are fixed once used (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/catalog/update-attribute-params',
    requestSchema: 'api/catalog/update-attribute-params',
    responseSchema: 'entities/attribute-definition',
  },
  {
    method: 'DELETE',
    path: '/api/staff/catalog/attributes/:id',
    action: 'catalog.attributes.delete',
    operationId: 'deleteCatalogAttribute',
    tag: TAG,
    summary: 'Delete an attribute no value uses (staff, catalog.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
];
