import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { type AuthContext, originOf } from '../platform/auth/auth-context.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import {
  actorOf,
  audit,
  cursorOf,
  type InventoryArea,
  type InventoryContext,
  page,
  requireInventoryStaff,
  STAFF_BASE,
  TAG,
} from './inventory-area.ts';
import {
  confirm,
  findReservation,
  findReservationByReference,
  listReservations,
  type ReleaseInput,
  type ReservationStatus,
  release,
  reserve,
  type ShipInput,
  ship,
} from './reservations.ts';

/**
 * A caller acting for a company (a buyer, staff on a buyer's behalf, a company API key) may only
 * touch that company's reservations; trusted domain services calling without a company (the order
 * saga as system, staff) may touch any.
 */
function requireSameCompany(ctx: Context, companyId: string): void {
  const auth = (ctx.meta as { auth?: AuthContext }).auth;
  if (auth?.companyId && auth.companyId.toLowerCase() !== companyId.toLowerCase()) {
    throw new Forbidden('A reservation for another company');
  }
}

async function requireOwnReservation(
  ctx: Context,
  db: InventoryContext['platform']['db'],
  reference: string,
) {
  const auth = (ctx.meta as { auth?: AuthContext }).auth;
  if (!auth?.companyId) return;
  const found = await findReservationByReference(db, reference);
  // Another company's reservation reads exactly like none.
  if (found && found.companyId !== auth.companyId.toLowerCase()) throw new NotFound('Reservation');
}

/**
 * Reservations: the mesh-only contract the order saga calls (issue 6 contracts: reserve, confirm,
 * release, ship — each idempotent per reference, shipment or release id), and the staff's view of
 * them with a manual release.
 */
export function reservationsArea({ platform, config }: InventoryContext): InventoryArea {
  const { db } = platform;
  return {
    actions: {
      'internal.reserve': {
        visibility: 'public' as const,
        params: schemaRef('api/inventory/reserve-params'),
        async handler(
          ctx: Context<{
            reference: string;
            companyId: string;
            lines: Array<{ skuId: string; quantity: number }>;
            expiresInSeconds?: number;
          }>,
        ) {
          requireSameCompany(ctx, ctx.params.companyId);
          return reserve(
            db,
            {
              reference: ctx.params.reference,
              companyId: ctx.params.companyId,
              lines: ctx.params.lines,
              expiresInSeconds: ctx.params.expiresInSeconds ?? config.reservationTtlSeconds,
            },
            actorOf(ctx),
            originOf(ctx),
          );
        },
      },

      'internal.confirm': {
        visibility: 'public' as const,
        params: schemaRef('api/inventory/reference-params'),
        async handler(ctx: Context<{ reference: string }>) {
          await requireOwnReservation(ctx, db, ctx.params.reference);
          return confirm(db, ctx.params.reference);
        },
      },

      'internal.release': {
        visibility: 'public' as const,
        params: schemaRef('api/inventory/release-params'),
        async handler(ctx: Context<ReleaseInput>) {
          await requireOwnReservation(ctx, db, ctx.params.reference);
          return release(db, ctx.params, actorOf(ctx), originOf(ctx));
        },
      },

      'internal.ship': {
        visibility: 'public' as const,
        params: schemaRef('api/inventory/ship-params'),
        async handler(ctx: Context<ShipInput>) {
          await requireOwnReservation(ctx, db, ctx.params.reference);
          return ship(db, ctx.params, actorOf(ctx), originOf(ctx));
        },
      },

      'reservations.list': {
        params: schemaRef('api/inventory/reservation-query'),
        async handler(
          ctx: Context<{
            status?: ReservationStatus;
            companyId?: string;
            reference?: string;
            limit: number;
            cursor?: string;
          }>,
        ) {
          requireInventoryStaff(ctx, 'read');
          const { cursor: _cursor, ...filter } = ctx.params;
          return page(await listReservations(db, { ...filter, after: cursorOf(ctx.params) }), filter.limit);
        },
      },

      'reservations.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireInventoryStaff(ctx, 'read');
          const reservation = await findReservation(db, ctx.params.id);
          if (!reservation) throw new NotFound('Reservation');
          return reservation;
        },
      },

      'reservations.release': {
        params: schemaRef('api/inventory/release-reservation-params'),
        async handler(ctx: Context<{ id: string; reason?: string }>) {
          const auth = requireInventoryStaff(ctx);
          const found = await findReservation(db, ctx.params.id);
          if (!found) throw new NotFound('Reservation');
          const reason = ctx.params.reason ?? 'released by staff';
          await release(db, { reference: found.reference }, actorOf(ctx), originOf(ctx), {
            reason,
            onReleased: (tx, released) =>
              audit(ctx, tx, auth, {
                action: 'stock_reservation.released',
                entityType: 'stock_reservation',
                entityId: found.id,
                details: { reference: found.reference, reason, released },
              }),
          });
          return (await findReservation(db, found.id))!;
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = `${STAFF_BASE}/reservations`;

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'inventory.reservations.list',
    operationId: 'listStockReservations',
    tag: TAG,
    summary: 'Reservations with their lines, by status, company or reference (staff)',
    audience: 'staff',
    querySchema: 'api/inventory/reservation-query',
    responseSchema: 'api/inventory/reservation-list-response',
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'inventory.reservations.get',
    operationId: 'getStockReservation',
    tag: TAG,
    summary: 'One reservation with what it holds, released and shipped per SKU and warehouse (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/stock-reservation',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/release`,
    action: 'inventory.reservations.release',
    operationId: 'releaseStockReservation',
    tag: TAG,
    summary: 'Release everything a reservation still holds (staff, inventory.manage)',
    audience: 'staff',
    paramsSchema: 'api/inventory/release-reservation-params',
    requestSchema: 'api/inventory/release-reservation-request',
    responseSchema: 'entities/stock-reservation',
  },
];
