import type { Context } from 'moleculer';

/**
 * What spending needs to know about people and the org tree, asked of the accounts domain through
 * its internal (mesh-only) actions: a domain never reads another domain's tables.
 */
export interface UserContext {
  userId: string;
  companyId: string;
  unitId: string | null;
  /** Unit ids from the company's root unit down to the user's own unit. */
  unitPath: string[];
  roles: string[];
  status: string;
}

export interface UnitContext {
  unitId: string;
  companyId: string;
  /** Unit ids from the root down to this unit itself. */
  unitPath: string[];
}

/** A user of any company, or null when there is no such user. */
export async function userContext(ctx: Context, userId: string): Promise<UserContext | null> {
  return ((await ctx.call('accounts.internal.userContext', { userId })) as UserContext | null) ?? null;
}

/** A unit of any company (mesh-only accounts action), or null when there is no such unit. */
export async function unitContext(ctx: Context, unitId: string): Promise<UnitContext | null> {
  return ((await ctx.call('accounts.internal.unitContext', { unitId })) as UnitContext | null) ?? null;
}
