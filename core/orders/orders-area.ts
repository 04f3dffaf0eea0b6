import type { ActionSchema, Context } from 'moleculer';
import {
  type AuthContext,
  authOf,
  hasPermission,
  permissionScope,
  requireBuyerCompany,
} from '../platform/auth/auth-context.ts';
import { Forbidden } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { Platform } from '../platform/platform.ts';
import type { Actor, Reader } from './order-store.ts';

/** What every part of the orders service is built with. */
export interface OrdersContext {
  platform: Platform;
}

/** One part of the orders service: its actions (as the service names them) and its REST routes. */
export interface OrdersArea {
  actions: Record<string, ActionSchema>;
  routes: RouteSpec[];
}

export const TAG = 'orders';
export const BASE = '/api/orders';
export const STAFF_BASE = '/api/staff/orders';

/**
 * Staff permissions: `orders.manage` reviews and processes orders (订单审核与处理); reads accept
 * `orders.read`; shipments accept `orders.ship` too (the warehouse ships, but neither holds nor cancels).
 */
export const MANAGE = 'orders.manage';
export const READ = 'orders.read';
export const SHIP = 'orders.ship';

/** Bounds. */
export const LIMITS = {
  linesPerOrder: 500,
} as const;

/**
 * A staff member holding `orders.manage` (or, for reads, `orders.read`; for shipments,
 * `orders.ship`); buyers and company keys are refused.
 */
export function requireOrdersStaff(ctx: Context, access: 'read' | 'ship' | 'manage' = 'manage'): AuthContext {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer' || auth.companyId) throw new Forbidden('This operation is for staff');
  const also = access === 'read' ? READ : access === 'ship' ? SHIP : undefined;
  if (!(hasPermission(auth, MANAGE) || (also && hasPermission(auth, also)))) {
    throw new Forbidden(`Missing permission ${also ?? MANAGE}`);
  }
  return auth;
}

/** A buyer reading orders: their tenant, their unit and the widest `orders.read` scope they hold. */
export function readerOf(ctx: Context): Reader {
  const { auth, companyId } = requireBuyerCompany(ctx);
  const scope = permissionScope(auth, READ);
  if (!scope && !hasPermission(auth, 'orders.place')) throw new Forbidden(`Missing permission ${READ}`);
  return { companyId, userId: auth.principalId, unitId: auth.unitId ?? null, scope: scope ?? 'own' };
}

/** Who a status change is recorded against. */
export function actorOf(ctx: Context): Actor {
  const auth = authOf(ctx);
  return { kind: auth.kind, id: auth.principalId };
}

/** The trusted caller of the mesh-only actions: the tenant is theirs if they carry one, any otherwise. */
export function tenantOf(ctx: Context): string | null {
  return (ctx.meta as { auth?: AuthContext }).auth?.companyId ?? null;
}
