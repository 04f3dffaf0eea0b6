import type { Queryable } from '../platform/database/database.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import { toUser, USER_COLUMNS, type User } from './users.ts';

/**
 * Staff users (kind `staff`, never a company). Creation goes through `prepareUser`/`insertUser`
 * in users.ts like buyers; these are the reads and changes that are staff-only.
 */
const COLUMNS = USER_COLUMNS;

export async function findStaffUser(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM accounts.users WHERE kind = 'staff' AND id = $1`, [
    id,
  ]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

/** Staff users keyset-paged by id, optionally only one status or the holders of one role. */
export async function listStaffUsers(
  db: Queryable,
  filter: {
    limit: number;
    after?: string | undefined;
    status?: string | undefined;
    role?: string | undefined;
  },
): Promise<User[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.users
      WHERE kind = 'staff' AND ($1::uuid IS NULL OR id > $1::uuid)
        AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR $4 = ANY(roles))
      ORDER BY id LIMIT $2`,
    [filter.after ?? null, filter.limit, filter.status ?? null, filter.role ?? null],
  );
  return rows.map(toUser);
}

export async function updateStaffUser(
  db: Queryable,
  id: string,
  changes: { displayName?: string | undefined; roles?: string[] | undefined },
): Promise<User> {
  const { rows } = await db.query(
    `UPDATE accounts.users SET display_name = COALESCE($2, display_name), roles = COALESCE($3, roles)
      WHERE kind = 'staff' AND id = $1 RETURNING ${COLUMNS}`,
    [id, changes.displayName ?? null, changes.roles ?? null],
  );
  if (!rows[0]) throw new NotFound('Staff user');
  return toUser(rows[0]);
}

/** Disables or re-enables a staff user; an invited one stays invited until they accept. */
export async function setStaffUserStatus(
  db: Queryable,
  id: string,
  status: 'active' | 'disabled',
): Promise<User> {
  const { rows } = await db.query(
    `UPDATE accounts.users
        SET status = CASE WHEN $2 = 'active' AND password_hash IS NULL THEN 'invited' ELSE $2 END
      WHERE kind = 'staff' AND id = $1 RETURNING ${COLUMNS}`,
    [id, status],
  );
  if (!rows[0]) throw new NotFound('Staff user');
  return toUser(rows[0]);
}
