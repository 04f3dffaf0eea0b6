import type { ActionSchema, Context } from 'moleculer';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { type AuthContext, authOf, hasPermission, originOf } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { Forbidden, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { Platform } from '../platform/platform.ts';
import type { PricingCaches } from './price-lines.ts';
import type { PricingConfig } from './pricing-config.ts';

/** What every part of the pricing service is built with. */
export interface PricingContext {
  platform: Platform;
  config: PricingConfig;
  caches: PricingCaches;
}

/**
 * One part of the pricing service (price lists, quantity rules, VAT rates, pricing itself): its
 * actions, named as the service publishes them (`priceLists.create` → `pricing.priceLists.create`),
 * and the REST routes that reach them.
 */
export interface PricingArea {
  actions: Record<string, ActionSchema>;
  routes: RouteSpec[];
}

export const TAG = 'pricing';

/** The staff permission for every pricing change (`*` holds it); reads also accept `pricing.read`. */
export const MANAGE = 'pricing.manage';
export const READ = 'pricing.read';

/** A staff member holding `pricing.manage` (or, for reads, `pricing.read`); buyers and company API keys are refused. */
export function requirePricingStaff(ctx: Context, access: 'read' | 'manage' = 'manage'): AuthContext {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer' || auth.companyId) throw new Forbidden('This operation is for staff');
  const allowed = hasPermission(auth, MANAGE) || (access === 'read' && hasPermission(auth, READ));
  if (!allowed) throw new Forbidden(`Missing permission ${MANAGE}`);
  return auth;
}

/** One audited staff change of pricing, in the change's transaction. */
export async function audit(
  ctx: Context,
  tx: Transaction,
  auth: AuthContext,
  entry: { action: string; entityType: string; entityId: string; details: Record<string, unknown> },
): Promise<void> {
  await recordAudit(tx, auth, originOf(ctx), { ...entry, companyId: auth.companyId ?? null });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The keyset cursor of id-ordered lists is the last id of the previous page. */
export function cursorOf(params: { cursor?: string | undefined }): string | undefined {
  if (params.cursor === undefined) return undefined;
  if (!UUID.test(params.cursor)) {
    throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  }
  return params.cursor;
}

/** Keyset page: the next cursor is the last id when the page came back full. */
export function page<T extends { id: string }>(items: T[], limit: number) {
  return { items, nextCursor: items.length === limit ? items[items.length - 1]!.id : null };
}
