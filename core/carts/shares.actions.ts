import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import { NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { putShare, removeShare, requireCart, sharesOf } from './cart-store.ts';
import { type Buyer, buyerOf, type CartsArea, type CartsContext, TAG } from './carts-area.ts';

interface UserContext {
  userId: string;
  companyId: string;
  status: 'active' | 'invited' | 'disabled';
}

/**
 * The colleague a cart is shared with: a buyer of the caller's company (accounts over the mesh),
 * active, and not the owner. A user of another company reads exactly like one that does not exist.
 */
async function colleague(
  ctx: Context,
  buyer: Buyer,
  params: { userId?: string; manager?: true },
): Promise<string> {
  if (params.manager) {
    const { userIds } = (await ctx.call('accounts.internal.resolveApprovers', {
      companyId: buyer.companyId,
      managerOf: { userId: buyer.userId, levels: 1 },
    })) as { userIds: string[] };
    if (!userIds[0]) {
      throw new UnprocessableRequest(
        'no-superior',
        'You have no active superior (manager of your department) to share with',
        {
          errors: [{ pointer: '/manager', detail: 'no active manager above you' }],
        },
      );
    }
    return userIds[0];
  }
  const user = (await ctx.call('accounts.internal.userContext', {
    userId: params.userId,
  })) as UserContext | null;
  if (!user || user.companyId !== buyer.companyId) throw new NotFound('User');
  if (user.userId === buyer.userId) {
    throw new UnprocessableRequest('own-cart', 'You own this cart already', {
      errors: [{ pointer: '/userId', detail: 'is the owner of the cart' }],
    });
  }
  if (user.status !== 'active') {
    throw new UnprocessableRequest('user-not-active', 'Carts are shared with active colleagues only', {
      errors: [{ pointer: '/userId', detail: `is ${user.status}` }],
    });
  }
  return user.userId;
}

/**
 * Sharing a cart with colleagues or a superior for discussion: the owner shares (view or edit) and
 * revokes; a colleague may also leave a cart shared with them. Shares are audited and announced
 * (`cart.shared`, through the outbox) so a notifier can tell the colleague.
 */
export function sharesArea({ platform }: CartsContext): CartsArea {
  const { db } = platform;

  return {
    actions: {
      'shares.list': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const cart = await requireCart(db, buyerOf(ctx), ctx.params.id, 'view');
          return { items: await sharesOf(db, cart.id) };
        },
      },

      'shares.put': {
        params: schemaRef('api/carts/share-cart-params'),
        async handler(ctx: Context<{ id: string; userId?: string; manager?: true; role: 'view' | 'edit' }>) {
          const buyer = buyerOf(ctx);
          const { id, role } = ctx.params;
          await requireCart(db, buyer, id, 'owner');
          const userId = await colleague(ctx, buyer, ctx.params);
          await db.transaction(async (tx) => {
            const cart = await requireCart(tx, buyer, id, 'owner', { lock: true });
            const before = await putShare(tx, cart, { userId, role, sharedBy: buyer.userId });
            if (before === role) return;
            await recordAudit(tx, buyer.auth, originOf(ctx), {
              action: 'cart.shared',
              entityType: 'cart',
              entityId: cart.id,
              details: { userId, role, before, manager: ctx.params.manager ?? false },
            });
            await writeOutbox(
              tx,
              [
                {
                  kind: 'event',
                  name: 'cart.shared',
                  companyId: cart.companyId,
                  payload: {
                    cartId: cart.id,
                    companyId: cart.companyId,
                    ownerId: cart.ownerId,
                    userId,
                    role,
                    cartName: cart.name,
                  },
                },
              ],
              originOf(ctx),
            );
          });
          return { items: await sharesOf(db, id) };
        },
      },

      'shares.remove': {
        params: schemaRef('api/carts/cart-share-params'),
        async handler(ctx: Context<{ id: string; userId: string }>) {
          const buyer = buyerOf(ctx);
          const { id, userId } = ctx.params;
          await db.transaction(async (tx) => {
            // The owner revokes anyone's share; a colleague may leave a cart shared with them.
            const cart = await requireCart(tx, buyer, id, userId === buyer.userId ? 'view' : 'owner', {
              lock: true,
            });
            const role = await removeShare(tx, cart.id, userId);
            await recordAudit(tx, buyer.auth, originOf(ctx), {
              action: 'cart.share_revoked',
              entityType: 'cart',
              entityId: cart.id,
              details: { userId, role },
            });
          });
          return userId === buyer.userId ? { items: [] } : { items: await sharesOf(db, id) };
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = '/api/carts/:id/shares';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'carts.shares.list',
    operationId: 'listCartShares',
    tag: TAG,
    summary: 'Who a cart is shared with',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'api/carts/cart-shares-response',
  },
  {
    method: 'POST',
    path: BASE,
    action: 'carts.shares.put',
    operationId: 'shareCart',
    tag: TAG,
    summary:
      "Share a cart (owner only) with an active colleague or the owner's superior, to view or edit; sharing again changes the role",
    audience: 'buyer',
    paramsSchema: 'api/carts/share-cart-params',
    requestSchema: 'api/carts/share-cart-request',
    responseSchema: 'api/carts/cart-shares-response',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:userId`,
    action: 'carts.shares.remove',
    operationId: 'revokeCartShare',
    tag: TAG,
    summary: "Revoke a colleague's share (owner), or leave a cart shared with you",
    audience: 'buyer',
    paramsSchema: 'api/carts/cart-share-params',
    responseSchema: 'api/carts/cart-shares-response',
  },
];
