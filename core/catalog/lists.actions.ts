import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { type AuthContext, originOf, requireBuyerCompany } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { type CatalogArea, type CatalogContext, TAG } from './catalog-area.ts';
import {
  createList,
  deleteList,
  ensureDefaultList,
  listsOf,
  type Owner,
  putItem,
  removeItem,
  renameList,
} from './product-lists.ts';
import { viewerOf } from './viewer.ts';

/**
 * A buyer's own product lists: the default Favourites list and named ones, private to the user
 * (another buyer's list id is 404). Items show only while the buyer may still see their product.
 */
export function listsArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;

  /** The buyer user calling; API keys have no lists. */
  function ownerOf(ctx: Context): { auth: AuthContext; owner: Owner } {
    const { auth, companyId } = requireBuyerCompany(ctx);
    if (auth.kind !== 'buyer') throw new Forbidden('Product lists belong to buyer users');
    return { auth, owner: { companyId, userId: auth.principalId } };
  }

  async function record(
    ctx: Context,
    tx: Transaction,
    auth: AuthContext,
    action: string,
    listId: string,
    details: Record<string, unknown>,
  ) {
    await recordAudit(tx, auth, originOf(ctx), {
      action,
      entityType: 'product_list',
      entityId: listId,
      details,
    });
  }

  async function one(ctx: Context, owner: Owner, id: string) {
    const [list] = await listsOf(db, owner, await viewerOf(ctx), id);
    if (!list) throw new NotFound('List');
    return list;
  }

  return {
    actions: {
      'lists.list': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const { owner } = ownerOf(ctx);
          await ensureDefaultList(db, owner);
          return { items: await listsOf(db, owner, await viewerOf(ctx)) };
        },
      },

      'lists.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const { owner } = ownerOf(ctx);
          return one(ctx, owner, ctx.params.id);
        },
      },

      'lists.create': {
        params: schemaRef('api/catalog/create-list-request'),
        async handler(ctx: Context<{ name: string }>) {
          const { auth, owner } = ownerOf(ctx);
          const id = await db.transaction(async (tx) => {
            await ensureDefaultList(tx, owner);
            const created = await createList(tx, owner, ctx.params.name);
            await record(ctx, tx, auth, 'product_list.created', created, { name: ctx.params.name });
            return created;
          });
          return one(ctx, owner, id);
        },
      },

      'lists.update': {
        params: schemaRef('api/catalog/update-list-params'),
        async handler(ctx: Context<{ id: string; name: string }>) {
          const { auth, owner } = ownerOf(ctx);
          const { id, name } = ctx.params;
          await db.transaction(async (tx) => {
            const before = await renameList(tx, owner, id, name);
            await record(ctx, tx, auth, 'product_list.renamed', id, {
              before: { name: before },
              after: { name },
            });
          });
          return one(ctx, owner, id);
        },
      },

      'lists.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const { auth, owner } = ownerOf(ctx);
          await db.transaction(async (tx) => {
            const name = await deleteList(tx, owner, ctx.params.id);
            await record(ctx, tx, auth, 'product_list.deleted', ctx.params.id, { name });
          });
          return { id: ctx.params.id, deleted: true };
        },
      },

      'lists.items.put': {
        params: schemaRef('api/catalog/list-item-request'),
        async handler(ctx: Context<{ id: string; skuId: string; quantity: number }>) {
          const { auth, owner } = ownerOf(ctx);
          const { id, skuId, quantity } = ctx.params;
          const viewer = await viewerOf(ctx);
          await db.transaction(async (tx) => {
            await putItem(tx, owner, viewer, id, { skuId, quantity });
            await record(ctx, tx, auth, 'product_list.item_put', id, { skuId, quantity });
          });
          return one(ctx, owner, id);
        },
      },

      'lists.items.remove': {
        params: schemaRef('api/catalog/list-item-params'),
        async handler(ctx: Context<{ id: string; skuId: string }>) {
          const { auth, owner } = ownerOf(ctx);
          const { id, skuId } = ctx.params;
          await db.transaction(async (tx) => {
            await removeItem(tx, owner, id, skuId);
            await record(ctx, tx, auth, 'product_list.item_removed', id, { skuId });
          });
          return one(ctx, owner, id);
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = '/api/catalog/lists';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'catalog.lists.list',
    operationId: 'listProductLists',
    tag: TAG,
    summary: "The caller's product lists, the default Favourites list first (created on first use)",
    audience: 'buyer',
    responseSchema: 'api/catalog/product-lists-response',
  },
  {
    method: 'POST',
    path: BASE,
    action: 'catalog.lists.create',
    operationId: 'createProductList',
    tag: TAG,
    summary: 'Create a named product list',
    audience: 'buyer',
    requestSchema: 'api/catalog/create-list-request',
    responseSchema: 'entities/product-list',
    successStatus: 201,
    location: `${BASE}/{id}`,
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'catalog.lists.get',
    operationId: 'getProductList',
    tag: TAG,
    summary: 'One of the caller’s lists with its items',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/product-list',
  },
  {
    method: 'PATCH',
    path: `${BASE}/:id`,
    action: 'catalog.lists.update',
    operationId: 'renameProductList',
    tag: TAG,
    summary: 'Rename one of the caller’s lists',
    audience: 'buyer',
    paramsSchema: 'api/catalog/update-list-params',
    requestSchema: 'api/catalog/update-list-params',
    responseSchema: 'entities/product-list',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id`,
    action: 'catalog.lists.delete',
    operationId: 'deleteProductList',
    tag: TAG,
    summary: 'Delete one of the caller’s named lists (Favourites stays)',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/items`,
    action: 'catalog.lists.items.put',
    operationId: 'putProductListItem',
    tag: TAG,
    summary: 'Put a SKU the caller may see on a list, or change its quantity',
    audience: 'buyer',
    paramsSchema: 'api/catalog/list-item-request',
    requestSchema: 'api/catalog/list-item-request',
    responseSchema: 'entities/product-list',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id/items/:skuId`,
    action: 'catalog.lists.items.remove',
    operationId: 'removeProductListItem',
    tag: TAG,
    summary: 'Take a SKU off a list',
    audience: 'buyer',
    paramsSchema: 'api/catalog/list-item-params',
    responseSchema: 'entities/product-list',
  },
];
