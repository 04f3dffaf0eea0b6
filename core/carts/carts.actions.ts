import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { priceFor } from './cart-pricing.ts';
import {
  createCart,
  currentCartId,
  deleteCart,
  expectVersion,
  linesOf,
  listCarts,
  lockOwner,
  makeDefault,
  renameCart,
  requireCart,
  setSeenPrices,
  touchCart,
} from './cart-store.ts';
import { cartView, summaryView } from './cart-view.ts';
import { buyerOf, type CartsArea, type CartsContext, TAG } from './carts-area.ts';

/**
 * A buyer's carts: several named ones, one of them current, kept until deleted. Every read
 * reprices; renaming and acknowledging prices send the version the caller saw.
 */
export function cartsArea({ platform }: CartsContext): CartsArea {
  const { db } = platform;

  async function view(ctx: Context, id: string) {
    return cartView(ctx, db, await requireCart(db, buyerOf(ctx), id, 'view'));
  }

  return {
    actions: {
      list: {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          return { items: (await listCarts(db, buyerOf(ctx))).map(summaryView) };
        },
      },

      create: {
        params: schemaRef('api/carts/create-cart-request'),
        async handler(ctx: Context<{ name: string; isDefault: boolean }>) {
          const buyer = buyerOf(ctx);
          const id = await db.transaction((tx) => createCart(tx, buyer, ctx.params));
          return view(ctx, id);
        },
      },

      current: {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const buyer = buyerOf(ctx);
          const id = await db.transaction((tx) => currentCartId(tx, buyer));
          return view(ctx, id);
        },
      },

      get: {
        params: schemaRef('api/common/id-params'),
        handler: (ctx: Context<{ id: string }>) => view(ctx, ctx.params.id),
      },

      update: {
        params: schemaRef('api/carts/update-cart-params'),
        async handler(ctx: Context<{ id: string; version: number; name?: string; isDefault?: true }>) {
          const buyer = buyerOf(ctx);
          const { id, version, name, isDefault } = ctx.params;
          await db.transaction(async (tx) => {
            // Making a cart current is a change of the owner's set of carts: their lock first.
            if (isDefault) await lockOwner(tx, buyer.userId);
            const cart = await requireCart(tx, buyer, id, isDefault ? 'owner' : 'edit', { lock: true });
            expectVersion(cart, version);
            if (name !== undefined && name !== cart.name) {
              await renameCart(tx, id, name);
              await touchCart(tx, id);
            }
            if (isDefault && !cart.isDefault) await makeDefault(tx, cart);
          });
          return view(ctx, id);
        },
      },

      delete: {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const buyer = buyerOf(ctx);
          await db.transaction(async (tx) => {
            const cart = await requireCart(tx, buyer, ctx.params.id, 'owner', { lock: true });
            await deleteCart(tx, cart.id);
            await recordAudit(tx, buyer.auth, originOf(ctx), {
              action: 'cart.deleted',
              entityType: 'cart',
              entityId: cart.id,
              details: { name: cart.name, version: cart.version },
            });
          });
          return { id: ctx.params.id, deleted: true };
        },
      },

      acknowledgePrices: {
        params: schemaRef('api/carts/acknowledge-prices-params'),
        async handler(ctx: Context<{ id: string; version: number }>) {
          const buyer = buyerOf(ctx);
          const { id, version } = ctx.params;
          const cart = await requireCart(db, buyer, id, 'edit');
          expectVersion(cart, version);
          const lines = await linesOf(db, id);
          // Priced before the transaction (pricing is another service); the version check inside
          // it guarantees these are still the cart's lines.
          const priced = await priceFor(ctx, lines);
          const seen = lines.flatMap((line, index) => {
            const price = priced!.lines[index]!;
            return price.status === 'priced' && price.unitPrice
              ? [{ lineId: line.id, price: price.unitPrice }]
              : [];
          });
          await db.transaction(async (tx) => {
            const locked = await requireCart(tx, buyer, id, 'edit', { lock: true });
            expectVersion(locked, version);
            await setSeenPrices(tx, id, seen);
            await touchCart(tx, id);
          });
          return view(ctx, id);
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = '/api/carts';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'carts.list',
    operationId: 'listCarts',
    tag: TAG,
    summary: "The caller's carts (current first) and the carts colleagues shared with them, not repriced",
    audience: 'buyer',
    responseSchema: 'api/carts/cart-list-response',
  },
  {
    method: 'POST',
    path: BASE,
    action: 'carts.create',
    operationId: 'createCart',
    tag: TAG,
    summary: 'Create a named cart (at most 50 per buyer); the first one becomes the current cart',
    audience: 'buyer',
    requestSchema: 'api/carts/create-cart-request',
    responseSchema: 'entities/cart',
    successStatus: 201,
    location: `${BASE}/{id}`,
  },
  {
    method: 'GET',
    path: `${BASE}/current`,
    action: 'carts.current',
    operationId: 'getCurrentCart',
    tag: TAG,
    summary: "The caller's current cart, repriced (created on first use)",
    audience: 'buyer',
    responseSchema: 'entities/cart',
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'carts.get',
    operationId: 'getCart',
    tag: TAG,
    summary:
      "A cart the caller owns or that is shared with them, repriced at the caller's current prices, with line problems and stale-price warnings",
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/cart',
  },
  {
    method: 'PATCH',
    path: `${BASE}/:id`,
    action: 'carts.update',
    operationId: 'updateCart',
    tag: TAG,
    summary:
      'Rename a cart (owner or editor) or make it the current one (owner), at the version the caller saw (409 otherwise)',
    audience: 'buyer',
    paramsSchema: 'api/carts/update-cart-params',
    requestSchema: 'api/carts/update-cart-request',
    responseSchema: 'entities/cart',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id`,
    action: 'carts.delete',
    operationId: 'deleteCart',
    tag: TAG,
    summary: 'Delete a cart (owner only)',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/acknowledge-prices`,
    action: 'carts.acknowledgePrices',
    operationId: 'acknowledgeCartPrices',
    tag: TAG,
    summary: "Take the cart's current prices as seen: clears its price_changed warnings",
    audience: 'buyer',
    paramsSchema: 'api/carts/acknowledge-prices-params',
    requestSchema: 'api/carts/acknowledge-prices-request',
    responseSchema: 'entities/cart',
  },
];
