import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';

/** A department (or the company's root unit, the master account) in the org tree. */
export interface Unit {
  id: string;
  parentId: string | null;
  name: string;
  code: string | null;
  managerUserId: string | null;
  /** Unit ids from the root down to this unit. */
  path: string[];
}

const COLUMNS = 'id, parent_id, name, code, manager_user_id, path';

function toUnit(row: Record<string, unknown>): Unit {
  return {
    id: row.id as string,
    parentId: (row.parent_id as string | null) ?? null,
    name: row.name as string,
    code: (row.code as string | null) ?? null,
    managerUserId: (row.manager_user_id as string | null) ?? null,
    path: row.path as string[],
  };
}

function uniqueCode(error: unknown): never {
  if ((error as { code?: string }).code === '23505')
    throw new Conflict('Another unit of this company has this code');
  throw error;
}

/**
 * Serialises the changes to one company's tree (create, move, delete) until the transaction ends.
 * Without it a unit created under a subtree while the subtree moves keeps the old path prefix (it
 * read its parent's path before the move committed), and a child could be created under a unit
 * being deleted. A transaction-scoped advisory lock, so it also holds on the embedded default.
 */
async function lockTree(db: Queryable, companyId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext('accounts.units'), hashtext($1))`, [companyId]);
}

export async function createRootUnit(db: Queryable, companyId: string, name: string): Promise<Unit> {
  const { rows } = await db.query(
    `INSERT INTO accounts.units (id, company_id, name, path)
     SELECT id, $1, $2, ARRAY[id] FROM (SELECT gen_random_uuid() AS id) AS fresh
     RETURNING ${COLUMNS}`,
    [companyId, name],
  );
  return toUnit(rows[0]!);
}

export async function findUnit(db: Queryable, companyId: string, id: string): Promise<Unit | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM accounts.units WHERE company_id = $1 AND id = $2`, [
    companyId,
    id,
  ]);
  return rows[0] ? toUnit(rows[0]) : undefined;
}

export async function rootUnit(db: Queryable, companyId: string): Promise<Unit> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.units WHERE company_id = $1 AND parent_id IS NULL`,
    [companyId],
  );
  if (!rows[0]) throw new NotFound('Root unit');
  return toUnit(rows[0]);
}

/** The whole tree of a company, parents before children (by depth, then name). */
export async function listUnits(db: Queryable, companyId: string): Promise<Unit[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.units WHERE company_id = $1 ORDER BY array_length(path, 1), name, id`,
    [companyId],
  );
  return rows.map(toUnit);
}

/** Ids of a unit and all its descendants. */
export async function subtreeIds(db: Queryable, companyId: string, unitId: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT id FROM accounts.units WHERE company_id = $1 AND path @> ARRAY[$2::uuid]`,
    [companyId, unitId],
  );
  return rows.map((r) => r.id as string);
}

/** Is `unitId` the unit `ancestorId` or below it? */
export function isWithin(unit: Pick<Unit, 'path'>, ancestorId: string): boolean {
  return unit.path.includes(ancestorId);
}

async function requireManagerInCompany(db: Queryable, companyId: string, userId: string | null | undefined) {
  if (!userId) return;
  const { rowCount } = await db.query(
    `SELECT 1 FROM accounts.users WHERE id = $1 AND company_id = $2 AND status <> 'disabled'`,
    [userId, companyId],
  );
  if (!rowCount) {
    throw new UnprocessableRequest('unknown-manager', 'The manager must be an enabled user of this company', {
      errors: [{ pointer: '/managerUserId', detail: 'not an enabled user of this company' }],
    });
  }
}

export async function createUnit(
  db: Queryable,
  companyId: string,
  input: { parentId: string; name: string; code?: string | null; managerUserId?: string | null },
): Promise<Unit> {
  await lockTree(db, companyId);
  const parent = await findUnit(db, companyId, input.parentId);
  if (!parent) throw new NotFound('Parent unit');
  await requireManagerInCompany(db, companyId, input.managerUserId);
  try {
    const { rows } = await db.query(
      `INSERT INTO accounts.units (id, company_id, parent_id, name, code, manager_user_id, path)
       SELECT id, $1, $2, $3, $4, $5, $6::uuid[] || id FROM (SELECT gen_random_uuid() AS id) AS fresh
       RETURNING ${COLUMNS}`,
      [companyId, parent.id, input.name, input.code ?? null, input.managerUserId ?? null, parent.path],
    );
    return toUnit(rows[0]!);
  } catch (error) {
    uniqueCode(error);
  }
}

export async function updateUnit(
  db: Queryable,
  companyId: string,
  id: string,
  changes: { name?: string; code?: string | null; managerUserId?: string | null },
): Promise<Unit> {
  const unit = await findUnit(db, companyId, id);
  if (!unit) throw new NotFound('Unit');
  if (changes.managerUserId !== undefined)
    await requireManagerInCompany(db, companyId, changes.managerUserId);
  try {
    const { rows } = await db.query(
      `UPDATE accounts.units
          SET name = $3, code = $4, manager_user_id = $5
        WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [
        companyId,
        id,
        changes.name ?? unit.name,
        changes.code !== undefined ? changes.code : unit.code,
        changes.managerUserId !== undefined ? changes.managerUserId : unit.managerUserId,
      ],
    );
    return toUnit(rows[0]!);
  } catch (error) {
    uniqueCode(error);
  }
}

/**
 * Moves a unit, with its whole subtree, under a new parent: every path in the subtree gets the new
 * prefix in one statement. A unit cannot move under itself or its own descendants, and the root
 * does not move.
 */
export async function moveUnit(
  db: Queryable,
  companyId: string,
  id: string,
  newParentId: string,
): Promise<Unit> {
  // Two concurrent moves could otherwise build a cycle between them (each checked the tree before
  // the other changed it); reading after the lock sees every earlier change committed.
  await lockTree(db, companyId);
  const unit = await findUnit(db, companyId, id);
  if (!unit) throw new NotFound('Unit');
  const parent = await findUnit(db, companyId, newParentId);
  if (!parent) throw new NotFound('Parent unit');
  if (!unit.parentId) throw new UnprocessableRequest('root-unit', 'The root unit cannot be moved');
  if (isWithin(parent, unit.id)) {
    throw new UnprocessableRequest(
      'unit-cycle',
      'A unit cannot move under itself or one of its descendants',
      {
        errors: [{ pointer: '/parentId', detail: 'is the unit itself or one of its descendants' }],
      },
    );
  }
  const depth = unit.path.length;
  await db.query(
    `UPDATE accounts.units
        SET path = $3::uuid[] || path[$4:],
            parent_id = CASE WHEN id = $2 THEN $5::uuid ELSE parent_id END
      WHERE company_id = $1 AND path @> ARRAY[$2::uuid]`,
    [companyId, id, parent.path, depth, parent.id],
  );
  return (await findUnit(db, companyId, id))!;
}

/** Deletes an empty unit: no child units, no users. */
export async function deleteUnit(db: Queryable, companyId: string, id: string): Promise<void> {
  await lockTree(db, companyId);
  const unit = await findUnit(db, companyId, id);
  if (!unit) throw new NotFound('Unit');
  if (!unit.parentId) throw new UnprocessableRequest('root-unit', 'The root unit cannot be deleted');
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM accounts.units WHERE parent_id = $1)::int AS children,
            (SELECT count(*) FROM accounts.users WHERE unit_id = $1)::int AS members`,
    [id],
  );
  if (rows[0]!.children > 0 || rows[0]!.members > 0) {
    throw new Conflict('Only an empty unit can be deleted: move its sub-units and users first', rows[0]);
  }
  await db.query('DELETE FROM accounts.units WHERE company_id = $1 AND id = $2', [companyId, id]);
}
