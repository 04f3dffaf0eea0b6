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
import type { Actor } from './contract-store.ts';
import type { ESignatureGateway } from './esign/esignature-gateway.ts';

/** What every part of the contracts service is built with. */
export interface ContractsContext {
  platform: Platform;
  gateway: ESignatureGateway;
  now: () => Date;
}

export interface ContractsArea {
  actions: Record<string, ActionSchema>;
  routes: RouteSpec[];
}

export const TAG = 'contracts';

/** Bounds: a generated or signed contract file, a callback body. */
export const LIMITS = {
  contractBytes: 20 * 1024 * 1024,
  callbackBytes: 64 * 1024,
  listLimit: 100,
} as const;

/**
 * Staff who process orders manage contracts (`orders.manage`; reads accept `orders.read`): a
 * contract belongs to an order or a quote that became one. Buyers and company keys are refused.
 */
export function requireContractsStaff(ctx: Context, access: 'read' | 'manage' = 'manage'): AuthContext {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer' || auth.companyId) throw new Forbidden('This operation is for staff');
  if (!(hasPermission(auth, 'orders.manage') || (access === 'read' && hasPermission(auth, 'orders.read')))) {
    throw new Forbidden('Missing permission orders.manage');
  }
  return auth;
}

/**
 * A buyer reading contracts: they are the company's (not one person's), so reading them takes
 * `orders.read` at company scope (company administrators and finance hold it).
 */
export function contractReaderOf(ctx: Context): { auth: AuthContext; companyId: string } {
  const { auth, companyId } = requireBuyerCompany(ctx);
  if (permissionScope(auth, 'orders.read') !== 'company') {
    throw new Forbidden('Reading contracts takes orders.read at company scope');
  }
  return { auth, companyId };
}

export function actorOf(ctx: Context): Actor {
  const auth = authOf(ctx);
  return { kind: auth.kind, id: auth.principalId };
}

/** Who sells: printed on every contract. */
export function sellerName(env: Record<string, string | undefined> = process.env): string {
  return env.HUB_SELLER_NAME || '示例贸易有限公司 B2B Hub Demo Trading Co., Ltd.';
}
