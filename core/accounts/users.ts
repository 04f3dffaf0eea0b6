import { hashPassword } from '../platform/auth/password-hashing.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Conflict, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { unknownRoles } from './roles.ts';

export interface User {
  id: string;
  email: string;
  displayName: string;
  kind: 'staff' | 'buyer';
  companyId: string | null;
  roles: string[];
  status: 'active' | 'disabled';
}

export interface NewUser {
  kind: 'staff' | 'buyer';
  companyId: string | null;
  email: string;
  displayName: string;
  password: string;
  roles: string[];
}

const COLUMNS = 'id, email, display_name, kind, company_id, roles, status';

function toUser(row: Record<string, unknown>): User {
  return {
    id: row.id as string,
    email: row.email as string,
    displayName: row.display_name as string,
    kind: row.kind as User['kind'],
    companyId: (row.company_id as string | null) ?? null,
    roles: row.roles as string[],
    status: row.status as User['status'],
  };
}

/** A new user with roles checked and password hashed: ready to insert inside a transaction. */
export interface PreparedUser extends Omit<NewUser, 'password'> {
  passwordHash: string;
}

/**
 * Checks roles and hashes the password. Runs before the transaction opens: hashing is tens of
 * milliseconds of CPU that must not hold a transaction (on the embedded default, the database).
 */
export async function prepareUser(input: NewUser): Promise<PreparedUser> {
  const invalid = unknownRoles(input.kind, input.roles);
  if (invalid.length) {
    throw new UnprocessableRequest('unknown-role', `Unknown ${input.kind} role(s): ${invalid.join(', ')}`, {
      errors: [{ pointer: '/roles', detail: `unknown role(s) ${invalid.join(', ')}` }],
    });
  }
  const { password, ...rest } = input;
  return { ...rest, passwordHash: await hashPassword(password) };
}

export async function insertUser(db: Queryable, user: PreparedUser): Promise<User> {
  try {
    const { rows } = await db.query(
      `INSERT INTO accounts.users (kind, company_id, email, display_name, password_hash, roles)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [user.kind, user.companyId, user.email.toLowerCase(), user.displayName, user.passwordHash, user.roles],
    );
    return toUser(rows[0]!);
  } catch (error) {
    if ((error as { code?: string }).code === '23505')
      throw new Conflict('A user with this email already exists');
    throw error;
  }
}

export async function createUser(db: Queryable, input: NewUser): Promise<User> {
  return insertUser(db, await prepareUser(input));
}

/** For login only: the user with their password hash. */
export async function findUserByEmail(
  db: Queryable,
  email: string,
): Promise<(User & { passwordHash: string }) | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS}, password_hash FROM accounts.users WHERE email = $1`, [
    email.toLowerCase(),
  ]);
  const row = rows[0];
  return row ? { ...toUser(row), passwordHash: row.password_hash as string } : undefined;
}

export async function findUser(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM accounts.users WHERE id = $1`, [id]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

/** Users of one company, oldest first, keyset-paged by id. */
export async function listCompanyUsers(
  db: Queryable,
  companyId: string,
  page: { limit: number; after?: string | undefined },
): Promise<User[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.users
      WHERE company_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid)
      ORDER BY id LIMIT $3`,
    [companyId, page.after ?? null, page.limit],
  );
  return rows.map(toUser);
}
