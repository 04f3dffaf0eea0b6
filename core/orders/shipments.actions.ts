import { randomUUID } from 'node:crypto';
import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import { HubError, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { invoiceJob } from './order-invoicing.ts';
import { allocationsOf, historyOf, requireOrder, transition } from './order-store.ts';
import {
  actorOf,
  type OrdersArea,
  type OrdersContext,
  requireOrdersStaff,
  STAFF_BASE,
  TAG,
} from './orders-area.ts';
import { insertShipment, shipmentExists, shipmentsOf } from './shipment-store.ts';
import { checkTransition } from './state-machine.ts';

interface ShipmentRequest {
  id: string;
  shipmentId?: string;
  carrier?: string;
  trackingNo?: string;
  lines: Array<{ lineNo: number; quantity: number; warehouseId?: string }>;
}

type Planned = Array<{ lineNo: number; skuId: string; warehouseId: string; quantity: number }>;

/**
 * Which warehouse each shipped unit leaves from: the one staff name, else the order's stock
 * allocations in order, splitting a line across warehouses. Refuses more than a line still has open
 * (422 with a pointer at the line) or than a warehouse holds for the order.
 */
async function plan(db: Queryable, orderId: string, request: ShipmentRequest): Promise<Planned> {
  const order = await requireOrder(db, orderId, null);
  const quantity = order.lines.reduce((sum, line) => sum + line.quantity, 0);
  const shipped = order.lines.reduce((sum, line) => sum + line.shippedQuantity, 0);
  const adding = request.lines.reduce((sum, line) => sum + line.quantity, 0);
  checkTransition(
    { status: order.status, heldFrom: order.heldFrom, quantity, shipped: shipped + adding },
    shipped + adding >= quantity ? 'shipped' : 'partially_shipped',
    'staff',
  );
  const allocations = (await allocationsOf(db, orderId)).map((a) => ({
    ...a,
    left: a.quantity - a.shippedQuantity,
  }));
  const planned: Planned = [];
  request.lines.forEach((wanted, index) => {
    const line = order.lines.find((l) => l.lineNo === wanted.lineNo);
    if (!line) {
      throw new UnprocessableRequest('unknown-line', `The order has no line ${wanted.lineNo}`, {
        errors: [{ pointer: `/lines/${index}/lineNo`, detail: 'is not a line of this order' }],
      });
    }
    if (wanted.quantity > line.openQuantity) {
      throw new UnprocessableRequest(
        'over-shipment',
        `Line ${wanted.lineNo} has ${line.openQuantity} units open`,
        {
          errors: [{ pointer: `/lines/${index}/quantity`, detail: `at most ${line.openQuantity}` }],
        },
      );
    }
    let remaining = wanted.quantity;
    for (const allocation of allocations) {
      if (remaining === 0) break;
      if (allocation.skuId !== line.skuId || allocation.left === 0) continue;
      if (wanted.warehouseId && allocation.warehouseId !== wanted.warehouseId) continue;
      const take = Math.min(remaining, allocation.left);
      allocation.left -= take;
      remaining -= take;
      planned.push({
        lineNo: line.lineNo,
        skuId: line.skuId,
        warehouseId: allocation.warehouseId,
        quantity: take,
      });
    }
    if (remaining > 0) {
      throw new UnprocessableRequest(
        'not-allocated',
        `Line ${wanted.lineNo}: not that much is reserved there`,
        {
          errors: [
            { pointer: `/lines/${index}/quantity`, detail: 'more than the order holds in that warehouse' },
          ],
        },
      );
    }
  });
  return planned;
}

/**
 * Shipments staff record (lines and quantities, carrier, tracking number): inventory turns the
 * reserved units into an out movement (`inventory.internal.ship`, idempotent per shipment id),
 * the lines' shipped quantities grow, and the order becomes `partially_shipped` (the rest is its
 * backorder, visible per line as `openQuantity`) or `shipped`.
 */
export function shipmentsArea({ platform }: OrdersContext): OrdersArea {
  const { db } = platform;
  return {
    actions: {
      'staff.ship': {
        params: schemaRef('api/orders/record-shipment-params'),
        async handler(ctx: Context<ShipmentRequest>) {
          const auth = requireOrdersStaff(ctx, 'ship');
          const orderId = ctx.params.id;
          const shipmentId = ctx.params.shipmentId ?? randomUUID();
          if (!(await shipmentExists(db, shipmentId))) {
            const planned = await plan(db, orderId, ctx.params);
            await ctx.call('inventory.internal.ship', {
              reference: `order:${orderId}`,
              shipmentId,
              lines: planned.map(({ skuId, warehouseId, quantity }) => ({ skuId, warehouseId, quantity })),
            });
            await db.transaction(async (tx) => {
              const order = await requireOrder(tx, orderId, null, { lock: true });
              if (await shipmentExists(tx, shipmentId)) return;
              // Re-checked under the row lock: a racing shipment may have taken the open units.
              for (const item of planned) {
                const line = order.lines.find((l) => l.lineNo === item.lineNo)!;
                const already = planned
                  .filter((p) => p.lineNo === item.lineNo)
                  .reduce((sum, p) => sum + p.quantity, 0);
                if (already > line.openQuantity) {
                  throw new HubError(
                    409,
                    'conflict',
                    'Another shipment took these units; read the order again',
                  );
                }
              }
              await insertShipment(tx, {
                id: shipmentId,
                orderId,
                companyId: order.companyId,
                carrier: ctx.params.carrier ?? null,
                trackingNo: ctx.params.trackingNo ?? null,
                shippedBy: auth.principalId,
                lines: planned,
              });
              const total = order.lines.reduce((sum, l) => sum + l.quantity, 0);
              const shipped =
                order.lines.reduce((sum, l) => sum + l.shippedQuantity, 0) +
                planned.reduce((sum, p) => sum + p.quantity, 0);
              await transition(
                tx,
                {
                  orderId,
                  companyId: null,
                  to: shipped >= total ? 'shipped' : 'partially_shipped',
                  actor: actorOf(ctx),
                  reason: `shipment ${shipmentId}${ctx.params.trackingNo ? ` (${ctx.params.carrier ?? ''} ${ctx.params.trackingNo})` : ''}`,
                },
                originOf(ctx),
              );
              // A credit order is invoiced when goods leave (order-invoicing.ts); the job key dedupes.
              if (order.paymentMethod === 'credit')
                await writeOutbox(tx, [invoiceJob(orderId)], originOf(ctx));
              await recordAudit(tx, auth, originOf(ctx), {
                action: 'order.shipment_recorded',
                entityType: 'order',
                entityId: orderId,
                companyId: order.companyId,
                details: { shipmentId, lines: planned },
              });
            });
          }
          const order = await requireOrder(db, orderId, null);
          const { heldFrom: _h, unitPath: _u, ...view } = order;
          return {
            ...view,
            history: await historyOf(db, orderId),
            shipments: await shipmentsOf(db, orderId),
          };
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: `${STAFF_BASE}/:id/shipments`,
    action: 'orders.staff.ship',
    operationId: 'recordShipment',
    tag: TAG,
    summary:
      'Record a shipment (lines and quantities, carrier, tracking number): stock leaves the warehouse, the order becomes partially shipped (the rest is backordered per line) or shipped; idempotent per shipmentId (orders.ship or orders.manage)',
    audience: 'staff',
    paramsSchema: 'api/orders/record-shipment-params',
    requestSchema: 'api/orders/record-shipment-request',
    responseSchema: 'entities/order',
  },
];
