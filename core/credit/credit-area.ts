import type { ActionSchema, Context } from 'moleculer';
import { recordAudit } from '../platform/audit/audit-log.ts';
import {
  type AuthContext,
  authOf,
  hasPermission,
  originOf,
  type PermissionScope,
  permissionScope,
  requireBuyerCompany,
} from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { Forbidden, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { Platform } from '../platform/platform.ts';
import type { PaymentGateway } from './payment-gateway.ts';
import type { BankAccountDetails } from './payments.ts';

/** What every part of the credit, payments and receivables services is built with. */
export interface CreditContext {
  platform: Platform;
  /** The hub's clock (tests pass a fake one): business dates and overdue checks read it. */
  now: () => Date;
  /** The online payment port (the simulator by default). */
  gateway: PaymentGateway;
  /** Where buyers send bank transfers (对公转账). */
  bankAccount: BankAccountDetails;
}

/**
 * One part of a service (credit accounts, holds, receivables, payments, invoice requests): its
 * actions as the service publishes them (`accounts.get` → `credit.accounts.get`) and its routes.
 */
export interface CreditArea {
  actions: Record<string, ActionSchema>;
  routes: RouteSpec[];
}

export const TAGS = { credit: 'credit', receivables: 'receivables', payments: 'payments' } as const;

/** Staff permissions: finance staff read and change credit, receivables and payments (`*` holds both). */
export const FINANCE_MANAGE = 'finance.manage';
export const FINANCE_READ = 'finance.read';

/** A staff member holding `finance.manage` (or, for reads, `finance.read`); buyers are refused. */
export function requireFinanceStaff(ctx: Context, access: 'read' | 'manage' = 'manage'): AuthContext {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer' || auth.companyId) throw new Forbidden('This operation is for staff');
  const allowed =
    hasPermission(auth, FINANCE_MANAGE) || (access === 'read' && hasPermission(auth, FINANCE_READ));
  if (!allowed) throw new Forbidden(`Missing permission ${FINANCE_MANAGE}`);
  return auth;
}

/** A buyer of a company (tenant from the auth context only) holding `permission` at some scope. */
export interface Buyer {
  auth: AuthContext;
  companyId: string;
  scope: PermissionScope;
}

export function requireBuyer(ctx: Context, permission: string): Buyer {
  const { auth, companyId } = requireBuyerCompany(ctx);
  const scope = permissionScope(auth, permission);
  if (!scope) throw new Forbidden(`Missing permission ${permission}`);
  return { auth, companyId, scope };
}

/** One audited staff change, in the change's transaction; the tenant is the company concerned. */
export async function audit(
  ctx: Context,
  tx: Transaction,
  auth: AuthContext,
  entry: {
    action: string;
    entityType: string;
    entityId: string;
    companyId: string | null;
    details: Record<string, unknown>;
  },
): Promise<void> {
  await recordAudit(tx, auth, originOf(ctx), entry);
}

/** Who did it, for ledger rows: `staff:<id>`, `buyer:<id>`, `system:<id>`, or `mesh` without a caller. */
export function actorOf(ctx: Context): string {
  const auth = (ctx.meta as { auth?: AuthContext }).auth;
  return auth ? `${auth.kind}:${auth.principalId}` : 'mesh';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Keyset cursor of id-ordered (uuid) lists: the last id of the previous page. */
export function uuidCursor(params: { cursor?: string | undefined }): string | undefined {
  if (params.cursor === undefined) return undefined;
  if (!UUID.test(params.cursor)) {
    throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  }
  return params.cursor;
}

/** Keyset cursor of lists ordered by a bigint id. */
export function serialCursor(params: { cursor?: string | undefined }): bigint | undefined {
  if (params.cursor === undefined) return undefined;
  if (!/^[1-9][0-9]{0,18}$/.test(params.cursor)) {
    throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  }
  return BigInt(params.cursor);
}

/** A keyset page: the next cursor is the last item's key when the page came back full. */
export function page<T>(items: T[], limit: number, keyOf: (item: T) => string) {
  return {
    items,
    nextCursor: items.length === limit && items.length ? keyOf(items[items.length - 1]!) : null,
  };
}
