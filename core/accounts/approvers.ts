import type { Queryable } from '../platform/database/database.ts';

/** What other domains (approvals, spending) need to know about a buyer, by id. */
export interface UserContext {
  userId: string;
  companyId: string;
  unitId: string | null;
  /** Unit ids from the root down to the user's unit (empty when unplaced). */
  unitPath: string[];
  roles: string[];
  status: 'active' | 'invited' | 'disabled';
}

export async function userContext(db: Queryable, userId: string): Promise<UserContext | null> {
  const { rows } = await db.query(
    `SELECT u.id, u.company_id, u.unit_id, u.roles, u.status, un.path
       FROM accounts.users u LEFT JOIN accounts.units un ON un.id = u.unit_id
      WHERE u.id = $1 AND u.kind = 'buyer'`,
    [userId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    userId: row.id,
    companyId: row.company_id,
    unitId: row.unit_id ?? null,
    unitPath: row.path ?? [],
    roles: row.roles,
    status: row.status,
  };
}

/**
 * What other domains decide on about a company (catalog visibility, ordering) and the name their
 * documents print (order papers, contracts): never its profile.
 */
export async function companyContext(
  db: Queryable,
  companyId: string,
): Promise<{ companyId: string; name: string; status: string; tier: string | null; tags: string[] } | null> {
  const { rows } = await db.query(
    'SELECT id, name, status, tier, tags FROM accounts.companies WHERE id = $1',
    [companyId],
  );
  return rows[0]
    ? {
        companyId: rows[0].id,
        name: rows[0].name,
        status: rows[0].status,
        tier: rows[0].tier ?? null,
        tags: rows[0].tags,
      }
    : null;
}

/** Where a unit sits: its company and the ids from the root down to it. */
export async function unitContext(
  db: Queryable,
  unitId: string,
): Promise<{ unitId: string; companyId: string; unitPath: string[] } | null> {
  const { rows } = await db.query('SELECT id, company_id, path FROM accounts.units WHERE id = $1', [unitId]);
  return rows[0] ? { unitId: rows[0].id, companyId: rows[0].company_id, unitPath: rows[0].path } : null;
}

/**
 * The requester's managers up the tree: the manager of their unit (or, when they manage it
 * themselves, of the parent unit), then the next manager above, `levels` of them, skipping units
 * without an active manager or whose manager is the requester.
 */
export async function managersAbove(
  db: Queryable,
  companyId: string,
  userId: string,
  levels: number,
): Promise<string[]> {
  const context = await userContext(db, userId);
  if (!context || context.companyId !== companyId || !context.unitPath.length) return [];
  // Only managers who can act count as a level: a disabled (or not yet active) manager is passed
  // over like a unit without one, so the approval reaches the next manager up instead of nobody.
  const { rows } = await db.query(
    `SELECT un.id, un.manager_user_id
       FROM accounts.units un
       JOIN accounts.users m ON m.id = un.manager_user_id AND m.company_id = un.company_id AND m.status = 'active'
      WHERE un.company_id = $1 AND un.id = ANY($2::uuid[])`,
    [companyId, context.unitPath],
  );
  const managerOf = new Map(rows.map((r) => [r.id as string, r.manager_user_id as string | null]));
  const managers: string[] = [];
  for (const unitId of [...context.unitPath].reverse()) {
    const manager = managerOf.get(unitId);
    if (manager && manager !== userId && !managers.includes(manager)) managers.push(manager);
    if (managers.length === levels) break;
  }
  return managers;
}

/**
 * Active users of one company among: the named users, holders of the named roles, and the
 * requester's managers. Anything outside the company or not active is dropped silently: a rule
 * naming a user who left must not make the approval impossible to find, nor leak across tenants.
 */
export async function resolveApprovers(
  db: Queryable,
  input: {
    companyId: string;
    userIds?: string[];
    roles?: string[];
    managerOf?: { userId: string; levels: number };
  },
): Promise<string[]> {
  const managers = input.managerOf
    ? await managersAbove(db, input.companyId, input.managerOf.userId, input.managerOf.levels)
    : [];
  const { rows } = await db.query(
    `SELECT id FROM accounts.users
      WHERE company_id = $1 AND status = 'active' AND kind = 'buyer'
        AND (id = ANY($2::uuid[]) OR roles && $3::text[])
      ORDER BY id`,
    [input.companyId, [...(input.userIds ?? []), ...managers], input.roles ?? []],
  );
  return rows.map((r) => r.id as string);
}
