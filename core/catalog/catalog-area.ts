import type { ActionSchema, Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { type AuthContext, authOf, hasPermission, originOf } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { Platform } from '../platform/platform.ts';

/** What every part of the catalog service is built with. */
export interface CatalogContext {
  platform: Platform;
}

/**
 * One part of the catalog service (categories, brands, attributes, products, shared catalogs,
 * storefront reads, lists, analytics): its actions, named as the service publishes them
 * (`products.create` → `catalog.products.create`), and the REST routes that reach them.
 */
export interface CatalogArea {
  actions: Record<string, ActionSchema>;
  routes: RouteSpec[];
  /** Called when the catalog service starts (e.g. to work on a job queue). */
  started?(): Promise<void>;
}

export const TAG = 'catalog';

/** The staff permission for every catalog change (product managers; `*` holds it). */
export const MANAGE = 'catalog.manage';

/** A staff member holding `catalog.manage` (or, for reads, `catalog.read`); buyers and API keys of a company are refused. */
export function requireCatalogStaff(ctx: Context, access: 'read' | 'manage' = 'manage'): AuthContext {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer' || auth.companyId) throw new Forbidden('This operation is for staff');
  const allowed = hasPermission(auth, MANAGE) || (access === 'read' && hasPermission(auth, 'catalog.read'));
  if (!allowed) throw new Forbidden(`Missing permission ${MANAGE}`);
  return auth;
}

/** A staff read of one record by id (`catalog.read` is enough): 404 when there is none. */
export function staffGetAction(what: string, find: (id: string) => Promise<unknown>): ActionSchema {
  return {
    params: schemaRef('api/common/id-params'),
    async handler(ctx: Context<{ id: string }>) {
      requireCatalogStaff(ctx, 'read');
      const found = await find(ctx.params.id);
      if (!found) throw new NotFound(what);
      return found;
    },
  };
}

/** One audited staff change of the (company-less) catalog, in the change's transaction. */
export async function audit(
  ctx: Context,
  tx: Transaction,
  auth: AuthContext,
  entry: { action: string; entityType: string; entityId: string; details: Record<string, unknown> },
): Promise<void> {
  await recordAudit(tx, auth, originOf(ctx), { ...entry, companyId: auth.companyId ?? null });
}

export interface PageParams {
  limit: number;
  cursor?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The keyset cursor of catalog lists is the last id of the previous page. */
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

/** A unique-constraint violation as 409 naming what collided; anything else is rethrown. */
export function conflictOnDuplicate(error: unknown, message: string, pointer: string): never {
  if ((error as { code?: string }).code === '23505') {
    throw new Conflict(message, { errors: [{ pointer, detail: message }] });
  }
  throw error;
}
