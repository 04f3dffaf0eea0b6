import moleculer, { type Context } from 'moleculer';
import type { HubMeta } from '../platform/auth/auth-context.ts';

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

const UNIT_CONTEXT = 'accounts.internal.unitContext';

/**
 * A unit, null when the caller's company has no such unit, undefined when accounts cannot tell.
 * Asks `accounts.internal.unitContext` (mesh-only, any company); where no accounts node offers it,
 * falls back to `accounts.units.list` with the caller's own credentials (their company's units, if
 * they may list them).
 */
export async function unitContext(ctx: Context, unitId: string): Promise<UnitContext | null | undefined> {
  if (ctx.broker.registry.actions.isAvailable(UNIT_CONTEXT)) {
    try {
      return ((await ctx.call(UNIT_CONTEXT, { unitId })) as UnitContext | null) ?? null;
    } catch (error) {
      if (!(error instanceof moleculer.Errors.ServiceNotFoundError)) throw error;
    }
  }
  const companyId = (ctx.meta as HubMeta).auth?.companyId;
  if (!companyId) return undefined;
  try {
    const { items } = (await ctx.call('accounts.units.list', {})) as {
      items: Array<{ id: string; path: string[] }>;
    };
    const unit = items.find((candidate) => candidate.id === unitId);
    return unit ? { unitId, companyId, unitPath: unit.path } : null;
  } catch (error) {
    if (error instanceof moleculer.Errors.ServiceNotFoundError || (error as { code?: number }).code === 403)
      return undefined;
    throw error;
  }
}
