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
  /**
   * Granted permissions. A buyer's grants carry a scope, `name@scope` (`orders.read@unit_tree`);
   * a grant without `@` (staff, API keys, `*`) is unscoped. See `permissionScope`.
   */
  permissions: string[];
  /** The buyer's org unit (department), for `unit` and `unit_tree` scopes; null when unplaced. */
  unitId?: string | null | undefined;
  /** Staff member acting on behalf of a buyer (销售远程协助), recorded in the audit log. */
  onBehalfOf?: { staffUserId: string } | undefined;
}

/**
 * How far a buyer's permission reaches, narrowest first (as Oro's access levels): records they
 * own, their unit's, their unit's and its descendants', the whole company's.
 */
export const PERMISSION_SCOPES = ['own', 'unit', 'unit_tree', 'company'] as const;
export type PermissionScope = (typeof PERMISSION_SCOPES)[number];

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

/**
 * The widest scope at which the caller holds `permission`: `company` for an unscoped grant (staff,
 * API keys, `*`), undefined when not held at all.
 */
export function permissionScope(auth: AuthContext, permission: string): PermissionScope | undefined {
  let widest = -1;
  for (const grant of auth.permissions) {
    if (grant === '*' || grant === permission) return 'company';
    const at = grant.indexOf('@');
    if (at > 0 && grant.slice(0, at) === permission) {
      widest = Math.max(widest, PERMISSION_SCOPES.indexOf(grant.slice(at + 1) as PermissionScope));
    }
  }
  return widest >= 0 ? PERMISSION_SCOPES[widest] : undefined;
}

export function hasPermission(
  auth: AuthContext,
  permission: string,
  atLeast: PermissionScope = 'own',
): boolean {
  const scope = permissionScope(auth, permission);
  return scope !== undefined && PERMISSION_SCOPES.indexOf(scope) >= PERMISSION_SCOPES.indexOf(atLeast);
}

/** The caller, who must hold `permission`; 401 without a caller, 403 without the permission. */
export function requirePermission(
  ctx: Context,
  permission: string,
  atLeast: PermissionScope = 'own',
): AuthContext {
  const auth = authOf(ctx);
  if (!hasPermission(auth, permission, atLeast)) throw new Forbidden(`Missing permission ${permission}`);
  return auth;
}

/** A buyer's company id: the only tenant a buyer-facing query may touch. */
export function requireBuyerCompany(ctx: Context): { auth: AuthContext; companyId: string } {
  const auth = authOf(ctx);
  if (!auth.companyId) throw new Forbidden('This operation is for buyer accounts');
  return { auth, companyId: auth.companyId };
}
