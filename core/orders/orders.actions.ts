import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import {
  historyOf,
  type ListFilter,
  listOrders,
  putSettings,
  requireOrder,
  scopeFilter,
  transition,
} from './order-store.ts';
import {
  actorOf,
  BASE,
  type OrdersArea,
  type OrdersContext,
  readerOf,
  requireOrdersStaff,
  STAFF_BASE,
  TAG,
} from './orders-area.ts';
import { poDocumentOf, poDocumentView } from './po-documents.ts';
import { releaseHolds } from './release-holds.ts';
import { shipmentsOf } from './shipment-store.ts';
import type { OrderStatus } from './state-machine.ts';

/**
 * Orders as buyers read them (history within their `orders.read` scope, one order with its
 * status history and shipments, cancelling their own order before it is confirmed) and as staff
 * review and process them (订单审核与处理: every company's orders, transitions with a reason,
 * checkout settings per company).
 */
export function ordersArea({ platform }: OrdersContext): OrdersArea {
  const { db, logger } = platform;

  async function detail(orderId: string, companyId: string | null) {
    const order = await requireOrder(db, orderId, companyId);
    const [history, shipments, poDocument] = await Promise.all([
      historyOf(db, orderId),
      shipmentsOf(db, orderId),
      poDocumentOf(db, orderId),
    ]);
    const { heldFrom: _h, unitPath: _u, ...view } = order;
    return { ...view, poDocument: poDocument && poDocumentView(poDocument), history, shipments };
  }

  /** The order if the buyer may see it (same rule as the list); 404 otherwise. */
  async function visibleOrder(ctx: Context, orderId: string) {
    const reader = readerOf(ctx);
    const scope = scopeFilter(reader, 2);
    const { rows } = await db.query(`SELECT 1 FROM orders.orders o WHERE o.id = $1 AND ${scope.sql}`, [
      orderId,
      ...scope.values,
    ]);
    if (!rows[0]) throw new NotFound('Order');
    return reader;
  }

  return {
    actions: {
      list: {
        params: schemaRef('api/orders/order-list-query'),
        async handler(ctx: Context<ListFilter>) {
          const reader = readerOf(ctx);
          const { companyId: _ignored, ...filter } = ctx.params;
          return listOrders(db, scopeFilter(reader, 1), filter);
        },
      },

      get: {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const reader = await visibleOrder(ctx, ctx.params.id);
          return detail(ctx.params.id, reader.companyId);
        },
      },

      cancel: {
        params: schemaRef('api/orders/cancel-order-params'),
        async handler(ctx: Context<{ id: string; reason?: string }>) {
          const reader = await visibleOrder(ctx, ctx.params.id);
          const order = await requireOrder(db, ctx.params.id, reader.companyId);
          if (order.placedBy !== reader.userId)
            throw new Forbidden('Only whoever placed an order may cancel it');
          await db.transaction((tx) =>
            transition(
              tx,
              {
                orderId: order.id,
                companyId: reader.companyId,
                to: 'cancelled',
                actor: actorOf(ctx),
                reason: ctx.params.reason ?? 'cancelled by the buyer',
              },
              originOf(ctx),
            ),
          );
          await releaseHolds(ctx, order.id, logger);
          return detail(order.id, reader.companyId);
        },
      },

      'staff.list': {
        params: schemaRef('api/orders/staff-order-list-query'),
        async handler(ctx: Context<ListFilter>) {
          requireOrdersStaff(ctx, 'read');
          return listOrders(db, null, ctx.params);
        },
      },

      'staff.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireOrdersStaff(ctx, 'read');
          return detail(ctx.params.id, null);
        },
      },

      'staff.transition': {
        params: schemaRef('api/orders/staff-transition-params'),
        async handler(ctx: Context<{ id: string; to: OrderStatus; reason: string }>) {
          const auth = requireOrdersStaff(ctx);
          const { id, to, reason } = ctx.params;
          const result = await db.transaction(async (tx) => {
            const moved = await transition(
              tx,
              { orderId: id, companyId: null, to, actor: actorOf(ctx), reason },
              originOf(ctx),
            );
            await recordAudit(tx, auth, originOf(ctx), {
              action: 'order.status_changed',
              entityType: 'order',
              entityId: id,
              companyId: moved.order.companyId,
              details: { from: moved.from, to, reason },
            });
            return moved;
          });
          if (to === 'cancelled') await releaseHolds(ctx, id, logger);
          return detail(result.order.id, null);
        },
      },

      'staff.settings': {
        params: schemaRef('api/orders/order-settings-params'),
        async handler(
          ctx: Context<{ companyId: string; poNumberRequired: boolean; poDocumentRequired?: boolean }>,
        ) {
          const auth = requireOrdersStaff(ctx);
          const { companyId, poNumberRequired } = ctx.params;
          const poDocumentRequired = ctx.params.poDocumentRequired ?? false;
          await db.transaction(async (tx) => {
            await putSettings(tx, companyId, { poNumberRequired, poDocumentRequired });
            await recordAudit(tx, auth, originOf(ctx), {
              action: 'order.settings_changed',
              entityType: 'company',
              entityId: companyId,
              companyId,
              details: { poNumberRequired, poDocumentRequired },
            });
          });
          return { companyId, poNumberRequired, poDocumentRequired };
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'orders.list',
    operationId: 'listOrders',
    tag: TAG,
    summary:
      "Order history: the caller's own orders, and those of their unit, unit tree or company as their orders.read scope reaches; filters by status, dates, text (number, PO, SKU), placer",
    audience: 'buyer',
    querySchema: 'api/orders/order-list-query',
    responseSchema: 'api/orders/order-list-response',
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'orders.get',
    operationId: 'getOrder',
    tag: TAG,
    summary:
      'One order the caller may see: lines as placed (shipped and open quantities), status history, shipments',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/order',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/cancel`,
    action: 'orders.cancel',
    operationId: 'cancelOrder',
    tag: TAG,
    summary:
      'Cancel an order the caller placed while it waits for approval or payment; its stock and credit are released',
    audience: 'buyer',
    paramsSchema: 'api/orders/cancel-order-params',
    requestSchema: 'api/orders/cancel-order-request',
    responseSchema: 'entities/order',
  },
  {
    method: 'GET',
    path: STAFF_BASE,
    action: 'orders.staff.list',
    operationId: 'listOrdersStaff',
    tag: TAG,
    summary: 'Every company’s orders for review and processing (订单审核与处理), newest first',
    audience: 'staff',
    querySchema: 'api/orders/staff-order-list-query',
    responseSchema: 'api/orders/order-list-response',
  },
  {
    method: 'GET',
    path: `${STAFF_BASE}/:id`,
    action: 'orders.staff.get',
    operationId: 'getOrderStaff',
    tag: TAG,
    summary: 'One order with its history and shipments',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/order',
  },
  {
    method: 'POST',
    path: `${STAFF_BASE}/:id/transitions`,
    action: 'orders.staff.transition',
    operationId: 'transitionOrder',
    tag: TAG,
    summary:
      'Move an order along its state machine (hold, release, cancel, complete) with a reason; illegal moves are 409, refused guards 422; audited',
    audience: 'staff',
    paramsSchema: 'api/orders/staff-transition-params',
    requestSchema: 'api/orders/staff-transition-request',
    responseSchema: 'entities/order',
  },
  {
    method: 'PUT',
    path: `${STAFF_BASE}/settings/:companyId`,
    action: 'orders.staff.settings',
    operationId: 'putOrderSettings',
    tag: TAG,
    summary: 'Checkout rules of a company: whether a PO number and a PO document are required',
    audience: 'staff',
    paramsSchema: 'api/orders/order-settings-params',
    requestSchema: 'api/orders/order-settings-request',
    responseSchema: 'api/orders/order-settings-response',
  },
];
