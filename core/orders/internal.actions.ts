import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import {
  allocationsOf,
  checkoutSettings,
  findOrder,
  type OpenOrderInput,
  openOrder,
  recordAllocations,
  transition,
} from './order-store.ts';
import { type OrdersArea, type OrdersContext, tenantOf } from './orders-area.ts';
import { poDocumentOf, poDocumentView } from './po-documents.ts';
import type { OrderStatus } from './state-machine.ts';

/** The checkout saga and event handlers act as the system; their history rows say so. */
const WORKFLOW = { kind: 'system' as const, id: 'workflows' };

/**
 * Mesh-only actions (visibility `public`, never routed) the checkout saga in core/workflows and
 * other domains call. A caller carrying a company (the buyer whose checkout runs) reaches only
 * that company's orders; a caller without one (the system, staff) reaches any.
 */
export function internalArea({ platform }: OrdersContext): OrdersArea {
  const { db } = platform;
  return {
    actions: {
      'internal.open': {
        visibility: 'public' as const,
        params: schemaRef('api/orders/open-order-params'),
        async handler(ctx: Context<{ order: OpenOrderInput }>) {
          const tenant = tenantOf(ctx);
          if (tenant && tenant !== ctx.params.order.companyId) throw new NotFound('Company');
          const actor = { kind: 'buyer' as const, id: ctx.params.order.placedBy };
          return db.transaction((tx) => openOrder(tx, ctx.params.order, actor));
        },
      },

      'internal.transition': {
        visibility: 'public' as const,
        params: schemaRef('api/orders/order-transition-params'),
        async handler(
          ctx: Context<{
            orderId: string;
            to: OrderStatus;
            reason?: string;
            ifFrom?: OrderStatus[];
            paymentId?: string;
            approvalId?: string;
          }>,
        ) {
          const { orderId, to, reason, ifFrom, paymentId, approvalId } = ctx.params;
          const result = await db.transaction((tx) =>
            transition(
              tx,
              {
                orderId,
                companyId: tenantOf(ctx),
                to,
                actor: WORKFLOW,
                reason,
                ...(ifFrom ? { ifFrom } : {}),
                patch: {
                  ...(paymentId ? { paymentId } : {}),
                  ...(approvalId ? { approvalId } : {}),
                },
              },
              originOf(ctx),
            ),
          );
          return { order: result.order, from: result.from, changed: result.changed };
        },
      },

      /**
       * The checkout did not go through (a refusal, a rejected approval, an expired reservation):
       * a checkout still in `placing` becomes `failed` (its checkout key freed), one waiting for
       * approval or payment `cancelled`; any other status is left alone (a repeat is a no-op).
       */
      'internal.abandon': {
        visibility: 'public' as const,
        params: schemaRef('api/orders/abandon-order-params'),
        async handler(ctx: Context<{ orderId: string; reason: string }>) {
          const { orderId, reason } = ctx.params;
          return db.transaction(async (tx) => {
            const order = await findOrder(tx, orderId, tenantOf(ctx), { lock: true });
            if (!order) return { status: null, changed: false };
            const to: OrderStatus | undefined =
              order.status === 'placing'
                ? 'failed'
                : order.status === 'pending_approval' || order.status === 'pending_payment'
                  ? 'cancelled'
                  : undefined;
            if (!to) return { status: order.status, changed: false };
            const result = await transition(
              tx,
              { orderId, companyId: tenantOf(ctx), to, actor: WORKFLOW, reason },
              originOf(ctx),
            );
            return { status: result.order.status, changed: true };
          });
        },
      },

      'internal.recordAllocations': {
        visibility: 'public' as const,
        params: schemaRef('api/orders/record-allocations-params'),
        async handler(
          ctx: Context<{
            orderId: string;
            allocations: Array<{ skuId: string; warehouseId: string; quantity: number }>;
          }>,
        ) {
          const found = await recordAllocations(
            db,
            ctx.params.orderId,
            tenantOf(ctx),
            ctx.params.allocations,
          );
          if (!found) throw new NotFound('Order');
          return { orderId: ctx.params.orderId, recorded: ctx.params.allocations.length };
        },
      },

      /** The order as placed, with its stock allocations, for workflows and other domains. */
      'internal.get': {
        visibility: 'public' as const,
        params: schemaRef('api/orders/order-ref-params'),
        async handler(ctx: Context<{ orderId: string }>) {
          const order = await findOrder(db, ctx.params.orderId, tenantOf(ctx));
          if (!order) throw new NotFound('Order');
          const { heldFrom: _h, unitPath: _u, ...view } = order;
          const [allocations, poDocument] = await Promise.all([
            allocationsOf(db, order.id),
            poDocumentOf(db, order.id),
          ]);
          return { ...view, poDocument: poDocument && poDocumentView(poDocument), allocations };
        },
      },

      /** What checkout must ask for this company (a PO number, a PO document, when staff made them mandatory). */
      'internal.checkoutPolicy': {
        visibility: 'public' as const,
        params: schemaRef('api/orders/checkout-policy-params'),
        async handler(ctx: Context<{ companyId: string }>) {
          return checkoutSettings(db, ctx.params.companyId);
        },
      },
    },
    routes: [],
  };
}
