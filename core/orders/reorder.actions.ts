import type { Context } from 'moleculer';
import type { PriceLinesResponse } from '../../schemas/generated/types.ts';
import { schemaRef } from '../../schemas/index.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { requireOrder, scopeFilter } from './order-store.ts';
import { BASE, type OrdersArea, type OrdersContext, readerOf, TAG } from './orders-area.ts';

type Change = 'unchanged' | 'price_changed' | 'not_available' | 'insufficient_stock';

/**
 * Ordering again: the order's lines priced for the caller now and checked against stock, each
 * with what changed since the order (price old / new, no longer visible or orderable, not enough
 * available). `createCart: true` also puts the lines that can be ordered into a new cart through
 * the carts' own actions (so their rules apply).
 */
export function reorderArea({ platform }: OrdersContext): OrdersArea {
  const { db } = platform;
  return {
    actions: {
      reorder: {
        params: schemaRef('api/orders/reorder-params'),
        async handler(ctx: Context<{ id: string; createCart: boolean }>) {
          const reader = readerOf(ctx);
          const scope = scopeFilter(reader, 2);
          const { rows } = await db.query(`SELECT 1 FROM orders.orders o WHERE o.id = $1 AND ${scope.sql}`, [
            ctx.params.id,
            ...scope.values,
          ]);
          if (!rows[0]) throw new NotFound('Order');
          const order = await requireOrder(db, ctx.params.id, reader.companyId);
          const [priced, stock] = await Promise.all([
            ctx.call('pricing.internal.priceLines', {
              lines: order.lines.map((line) => ({
                skuId: line.skuId,
                quantity: line.quantity,
                ...(line.unit ? { unit: line.unit } : {}),
              })),
            }) as Promise<PriceLinesResponse>,
            (
              ctx.call('inventory.internal.available', {
                skuIds: [...new Set(order.lines.map((line) => line.skuId))],
              }) as Promise<{ items: Array<{ skuId: string; available: number }> }>
            ).catch(() => null),
          ]);
          const available = new Map(stock?.items.map((item) => [item.skuId, item.available]) ?? []);
          const lines = order.lines.map((line, index) => {
            const now = priced.lines[index]!;
            const orderable = now.status === 'priced' && now.unitPrice && !now.errors.length;
            const free = available.get(line.skuId);
            let change: Change = 'unchanged';
            if (!orderable) change = 'not_available';
            else if (free !== undefined && free < line.quantity) change = 'insufficient_stock';
            else if (now.unitPrice!.amountMinor !== line.unitPrice.amountMinor) change = 'price_changed';
            return {
              lineNo: line.lineNo,
              skuId: line.skuId,
              skuCode: line.skuCode,
              quantity: line.quantity,
              change,
              previousUnitPrice: line.unitPrice,
              currentUnitPrice: orderable ? now.unitPrice! : null,
              available: free ?? null,
              detail: now.errors.map((e) => e.detail).join('; ') || null,
            };
          });
          let cartId: string | null = null;
          if (ctx.params.createCart) {
            const cart = (await ctx.call('carts.create', {
              name: `再次购买 ${order.number}`.slice(0, 100),
              isDefault: false,
            })) as { id: string };
            cartId = cart.id;
            for (const line of lines) {
              if (line.change === 'not_available' || line.change === 'insufficient_stock') continue;
              await ctx.call('carts.lines.add', { id: cart.id, skuId: line.skuId, quantity: line.quantity });
            }
          }
          return { orderId: order.id, lines, cartId };
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: `${BASE}/:id/reorder`,
    action: 'orders.reorder',
    operationId: 'reorder',
    tag: TAG,
    summary:
      'Order again: each line priced now and checked against stock, with what changed (price old/new, no longer available, not enough stock); createCart puts the lines that can be ordered now into a new cart',
    audience: 'buyer',
    paramsSchema: 'api/orders/reorder-params',
    requestSchema: 'api/orders/reorder-request',
    responseSchema: 'api/orders/reorder-response',
  },
];
