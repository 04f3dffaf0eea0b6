import type { ActionSchema, Context } from 'moleculer';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { type AuthContext, authOf, hasPermission, originOf } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { Forbidden, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { Platform } from '../platform/platform.ts';
import type { InventoryConfig } from './inventory-config.ts';
import type { Actor } from './stock-ledger.ts';

/** What every part of the inventory service is built with. */
export interface InventoryContext {
  platform: Platform;
  config: InventoryConfig;
}

/**
 * One part of the inventory service (warehouses, stock, thresholds, reservations, availability):
 * its actions, named as the service publishes them (`warehouses.create` →
 * `inventory.warehouses.create`), and the REST routes that reach them.
 */
export interface InventoryArea {
  actions: Record<string, ActionSchema>;
  routes: RouteSpec[];
}

export const TAG = 'inventory';
export const STAFF_BASE = '/api/staff/inventory';

/** The staff permission for every inventory change (`*` holds it); reads also accept `inventory.read`. */
export const MANAGE = 'inventory.manage';
export const READ = 'inventory.read';

/** A staff member holding `inventory.manage` (or, for reads, `inventory.read`); buyers and company API keys are refused. */
export function requireInventoryStaff(ctx: Context, access: 'read' | 'manage' = 'manage'): AuthContext {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer' || auth.companyId) throw new Forbidden('This operation is for staff');
  const allowed = hasPermission(auth, MANAGE) || (access === 'read' && hasPermission(auth, READ));
  if (!allowed) throw new Forbidden(`Missing permission ${MANAGE}`);
  return auth;
}

/** Who a movement is recorded against: the caller in meta, or the system (sweeps, calls without a caller). */
export function actorOf(ctx: Context | undefined): Actor {
  const auth = (ctx?.meta as { auth?: AuthContext } | undefined)?.auth;
  if (!auth) return { kind: 'system', id: null };
  return { kind: auth.kind, id: auth.principalId };
}

/** One audited staff change of inventory, in the change's transaction. */
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

/** Stock quantities are bigint in the database and JSON numbers on the wire (bounded far below 2^53). */
export function quantity(value: unknown): number {
  return typeof value === 'bigint' ? Number(value) : Number(value ?? 0);
}
