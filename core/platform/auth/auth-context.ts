import type { Context } from 'moleculer';
import { Forbidden, Unauthorized } from '../errors/hub-errors.ts';

/**
 * Who is calling, established once by the gateway (JWT or API key) and carried in
 * `ctx.meta.auth` across the mesh. Domain code takes the tenant from here, never from params.
 */
export interface AuthContext {
  kind: 'staff' | 'buyer' | 'system';
  /** User id (staff or buyer) or API key id (system). */
  principalId: string;
  /** The buyer company; null for staff and staff-level API keys. */
  companyId: string | null;
  permissions: string[];
  /** Staff member acting on behalf of a buyer (销售远程协助), recorded in the audit log. */
  onBehalfOf?: { staffUserId: string } | undefined;
}

export interface RequestOrigin {
  requestId?: string | undefined;
  sourceIp?: string | undefined;
  userAgent?: string | undefined;
}

/** What every hub action finds in `ctx.meta`. */
export interface HubMeta {
  auth?: AuthContext;
  origin?: RequestOrigin;
  [key: string]: unknown;
}

export function authOf(ctx: Context): AuthContext {
  const auth = (ctx.meta as HubMeta).auth;
  if (!auth) throw new Unauthorized();
  return auth;
}

export function originOf(ctx: Context): RequestOrigin {
  return { ...(ctx.meta as HubMeta).origin, requestId: ctx.requestID ?? undefined };
}

export function hasPermission(auth: AuthContext, permission: string): boolean {
  return auth.permissions.includes(permission) || auth.permissions.includes('*');
}

/** The caller, who must hold `permission`; 401 without a caller, 403 without the permission. */
export function requirePermission(ctx: Context, permission: string): AuthContext {
  const auth = authOf(ctx);
  if (!hasPermission(auth, permission)) throw new Forbidden(`Missing permission ${permission}`);
  return auth;
}

/** A buyer's company id: the only tenant a buyer-facing query may touch. */
export function requireBuyerCompany(ctx: Context): { auth: AuthContext; companyId: string } {
  const auth = authOf(ctx);
  if (!auth.companyId) throw new Forbidden('This operation is for buyer accounts');
  return { auth, companyId: auth.companyId };
}
