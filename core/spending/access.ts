import type { Context } from 'moleculer';
import {
  type AuthContext,
  hasPermission,
  type PermissionScope,
  permissionScope,
} from '../platform/auth/auth-context.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import { type UserContext, unitContext, userContext } from './directory.ts';
import type { Subject } from './limits.ts';

/**
 * Who may see and change which limits and budgets, from `spending.read` / `spending.manage` and
 * their scopes. The org tree comes from accounts (live, not from the token), so a unit moved or a
 * user transferred since login is judged where it is now.
 *
 * - `company`: every limit and budget of the company.
 * - `unit_tree` / `unit`: limits on units in the caller's subtree (or on the caller's own unit) and
 *   on users placed there; budgets owned by such a unit. Company-wide budgets need `company`.
 * - Reading at any scope also shows what applies to the caller: their own user limits and the
 *   limits of the units on their path.
 * - Managing never reaches the caller's own user limits below `company` scope (no one raises
 *   their own limit), and `own` grants no management at all.
 */
export interface Caller {
  auth: AuthContext;
  companyId: string;
  read: PermissionScope | undefined;
  manage: PermissionScope | undefined;
  /** The caller as accounts knows them; null for principals that are not users (API keys). */
  user: UserContext | null;
}

/** Where a subject sits: its unit path (root first) and own unit; undefined when it cannot be told. */
export interface Placement {
  path: string[] | undefined;
  unitId: string | null | undefined;
}

/** The buyer caller with their scopes; the caller's place in the tree is looked up only when a scope needs it. */
export async function callerOf(ctx: Context, auth: AuthContext, companyId: string): Promise<Caller> {
  const read = permissionScope(auth, 'spending.read');
  const manage = permissionScope(auth, 'spending.manage');
  const needsTree =
    (read !== undefined && read !== 'company') || (manage !== undefined && manage !== 'company');
  let user: UserContext | null = null;
  if (needsTree && auth.kind === 'buyer') {
    const found = await userContext(ctx, auth.principalId);
    if (found && found.companyId === companyId) user = found;
  }
  return { auth, companyId, read, manage, user };
}

/** Where a limit's subject sits in the caller's company; 404 when it is not of that company. */
export async function placementOf(ctx: Context, companyId: string, subject: Subject): Promise<Placement> {
  if (subject.type === 'user') {
    const user = await userContext(ctx, subject.id);
    if (!user || user.companyId !== companyId) throw new NotFound('User');
    return { path: user.unitPath, unitId: user.unitId };
  }
  return unitPlacement(ctx, companyId, subject.id);
}

export async function unitPlacement(ctx: Context, companyId: string, unitId: string): Promise<Placement> {
  const unit = await unitContext(ctx, unitId);
  if (!unit || unit.companyId !== companyId) throw new NotFound('Unit');
  return { path: unit.unitPath, unitId };
}

/** Whether the caller's scopes could reach anything beyond what applies to themselves. */
export function readsBeyondOwn(caller: Caller): boolean {
  return [caller.read, caller.manage].some(
    (scope) => scope === 'unit' || scope === 'unit_tree' || scope === 'company',
  );
}

/** Whether a narrow scope reaches a subject placed at `placement`. */
function reaches(scope: PermissionScope, caller: Caller, placement: Placement): boolean {
  if (scope === 'company') return true;
  const own = caller.user?.unitId;
  if (!own || placement.path === undefined) return false;
  if (scope === 'unit_tree') return placement.path.includes(own);
  if (scope === 'unit') return placement.unitId === own;
  return false;
}

/** Whether a limit on `subject` applies to the caller's own purchases. */
function appliesToCaller(caller: Caller, subject: Subject): boolean {
  if (!caller.user) return false;
  return subject.type === 'user'
    ? subject.id === caller.user.userId
    : caller.user.unitPath.includes(subject.id);
}

export function canReadLimit(caller: Caller, subject: Subject, placement: Placement | undefined): boolean {
  if (caller.read === undefined && caller.manage === undefined) return false;
  if (caller.read === 'company' || caller.manage === 'company') return true;
  if (caller.read !== undefined && appliesToCaller(caller, subject)) return true;
  if (!placement) return false;
  return (
    (caller.read !== undefined && reaches(caller.read, caller, placement)) ||
    (caller.manage !== undefined && reaches(caller.manage, caller, placement))
  );
}

export function canManageLimit(caller: Caller, subject: Subject, placement: Placement): boolean {
  if (caller.manage === 'company') return true;
  if (caller.manage === undefined || caller.manage === 'own') return false;
  if (subject.type === 'user' && subject.id === caller.user?.userId) return false;
  return reaches(caller.manage, caller, placement);
}

export function canReadBudget(caller: Caller, placement: Placement | null): boolean {
  if (caller.read === 'company' || caller.manage === 'company') return true;
  if (!placement) return false;
  if (caller.read !== undefined && placement.unitId && caller.user?.unitPath.includes(placement.unitId))
    return true;
  return (
    (caller.read !== undefined && reaches(caller.read, caller, placement)) ||
    (caller.manage !== undefined && reaches(caller.manage, caller, placement))
  );
}

export function canManageBudget(caller: Caller, placement: Placement | null): boolean {
  if (caller.manage === 'company') return true;
  if (caller.manage === undefined || caller.manage === 'own' || !placement) return false;
  return reaches(caller.manage, caller, placement);
}

/** 403 unless the caller holds spending.manage at any scope (before looking anything up). */
export function requireSomeManage(caller: Caller): void {
  if (caller.manage === undefined) throw new Forbidden('Missing permission spending.manage');
}

/** 403 unless the caller holds spending.read or spending.manage at any scope. */
export function requireSomeRead(caller: Caller): void {
  if (caller.read === undefined && caller.manage === undefined) {
    throw new Forbidden('Missing permission spending.read');
  }
}

/** Staff reading any company's limits and budgets: `companies.manage`. Buyers never get here (404). */
export function requireStaffReader(auth: AuthContext): void {
  if (auth.kind !== 'staff' || auth.companyId) throw new NotFound('Company');
  if (!hasPermission(auth, 'companies.manage')) throw new Forbidden('Missing permission companies.manage');
}
