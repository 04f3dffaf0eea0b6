import { type AuthContext, permissionScope } from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Forbidden } from '../platform/errors/hub-errors.ts';
import { subtreeIds } from './units.ts';

/** The units a caller's permission reaches: all of the company, or a list of unit ids. */
export type Reach = { all: true } | { all: false; unitIds: string[] };

/**
 * Turns the caller's scope for `permission` into the units it covers: `company` → all, `unit_tree`
 * → their unit and its descendants, `unit` → their unit, `own` → none (only their own records).
 * 403 when the permission is not held at all.
 */
export async function reachOf(db: Queryable, auth: AuthContext, permission: string): Promise<Reach> {
  const scope = permissionScope(auth, permission);
  if (!scope) throw new Forbidden(`Missing permission ${permission}`);
  if (scope === 'company') return { all: true };
  if (!auth.unitId || !auth.companyId || scope === 'own') return { all: false, unitIds: [] };
  if (scope === 'unit') return { all: false, unitIds: [auth.unitId] };
  return { all: false, unitIds: await subtreeIds(db, auth.companyId, auth.unitId) };
}

export function reaches(reach: Reach, unitId: string | null): boolean {
  return reach.all || (unitId !== null && reach.unitIds.includes(unitId));
}
