import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { linesOf, requireCart, touchCart } from './cart-store.ts';
import { buyerOf, type CartsArea, type CartsContext } from './carts-area.ts';

/**
 * Mesh-only actions for checkout (core/workflows), called with the buyer's meta: a cart's lines at
 * the version read (the checkout key of a cart is its id and version), and emptying it once the
 * order is placed. The same access rules as the buyer's own actions: an editor may check a
 * shared cart out; anyone else gets 404.
 */
export function internalArea({ platform }: CartsContext): CartsArea {
  const { db } = platform;
  return {
    actions: {
      'internal.checkoutLines': {
        visibility: 'public' as const,
        params: schemaRef('api/carts/checkout-lines-params'),
        async handler(ctx: Context<{ cartId: string }>) {
          const cart = await requireCart(db, buyerOf(ctx), ctx.params.cartId, 'edit');
          const lines = await linesOf(db, cart.id);
          // A line written between the two reads bumped the version: read again so they agree.
          const again = await requireCart(db, buyerOf(ctx), ctx.params.cartId, 'edit');
          const settled = again.version === cart.version ? lines : await linesOf(db, cart.id);
          return {
            cartId: cart.id,
            version: again.version,
            lines: settled.map((line) => ({
              skuId: line.skuId,
              skuCode: line.skuCode,
              unit: line.unit,
              quantity: line.quantity,
            })),
          };
        },
      },

      'internal.checkedOut': {
        visibility: 'public' as const,
        params: schemaRef('api/carts/checked-out-params'),
        async handler(ctx: Context<{ cartId: string; version: number; orderId: string }>) {
          const buyer = buyerOf(ctx);
          return db.transaction(async (tx) => {
            const cart = await requireCart(tx, buyer, ctx.params.cartId, 'edit', { lock: true });
            // Changed since checkout read it: the new lines were not ordered, so the cart stays.
            if (cart.version !== ctx.params.version) return { cartId: cart.id, emptied: false };
            await tx.query('DELETE FROM carts.cart_lines WHERE cart_id = $1', [cart.id]);
            await touchCart(tx, cart.id);
            return { cartId: cart.id, emptied: true };
          });
        },
      },
    },
    routes: [],
  };
}
