import { createHash, randomBytes } from 'node:crypto';
import { hashPassword } from '../platform/auth/password-hashing.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { unknownBuyerRoles } from './custom-roles.ts';
import { unknownStaffRoles } from './roles.ts';

export interface User {
  id: string;
  email: string;
  displayName: string;
  kind: 'staff' | 'buyer';
  companyId: string | null;
  unitId: string | null;
  roles: string[];
  status: 'active' | 'invited' | 'disabled';
  lastLoginAt: string | null;
}

export interface NewUser {
  kind: 'staff' | 'buyer';
  companyId: string | null;
  unitId?: string | null;
  email: string;
  displayName: string;
  /** Without a password the user is invited: they choose one with the invitation token. */
  password?: string | undefined;
  roles: string[];
  createdBy?: string | null;
}

/** A new user with roles checked and password hashed: ready to insert inside a transaction. */
export interface PreparedUser extends Omit<NewUser, 'password'> {
  passwordHash: string | null;
}

/** How long an invitation or a password-reset token stays valid. */
export const INVITE_TTL_HOURS = 72;
export const RESET_TTL_HOURS = 2;

/** The columns `toUser` reads: every user query selects exactly these. */
export const USER_COLUMNS =
  'id, email, display_name, kind, company_id, unit_id, roles, status, last_login_at';
const COLUMNS = USER_COLUMNS;

export function toUser(row: Record<string, unknown>): User {
  return {
    id: row.id as string,
    email: row.email as string,
    displayName: row.display_name as string,
    kind: row.kind as User['kind'],
    companyId: (row.company_id as string | null) ?? null,
    unitId: (row.unit_id as string | null) ?? null,
    roles: row.roles as string[],
    status: row.status as User['status'],
    lastLoginAt: row.last_login_at ? new Date(row.last_login_at as string).toISOString() : null,
  };
}

/** One-time tokens (invitations, resets): 256 random bits, only their SHA-256 stored. */
export function issueOneTimeToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOneTimeToken(token) };
}

export function hashOneTimeToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function checkRoles(
  db: Queryable,
  kind: 'staff' | 'buyer',
  companyId: string | null,
  roles: readonly string[],
) {
  const invalid = kind === 'staff' ? unknownStaffRoles(roles) : await unknownBuyerRoles(db, companyId, roles);
  if (invalid.length) {
    throw new UnprocessableRequest('unknown-role', `Unknown ${kind} role(s): ${invalid.join(', ')}`, {
      errors: [{ pointer: '/roles', detail: `unknown role(s) ${invalid.join(', ')}` }],
    });
  }
}

/**
 * Checks roles and hashes the password. Runs before the transaction opens: hashing is tens of
 * milliseconds of CPU that must not hold a transaction (on the embedded default, the database).
 */
export async function prepareUser(db: Queryable, input: NewUser): Promise<PreparedUser> {
  await checkRoles(db, input.kind, input.companyId, input.roles);
  const { password, ...rest } = input;
  return { ...rest, passwordHash: password === undefined ? null : await hashPassword(password) };
}

/** Inserts the user; one without a password hash is `invited` and gets an invitation token. */
export async function insertUser(
  db: Queryable,
  user: PreparedUser,
): Promise<{ user: User; inviteToken?: string }> {
  const invite = user.passwordHash ? undefined : issueOneTimeToken();
  try {
    const { rows } = await db.query(
      `INSERT INTO accounts.users
         (kind, company_id, unit_id, email, display_name, password_hash, roles, status,
          invite_token_hash, invite_expires_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $9::text IS NULL THEN NULL ELSE now() + make_interval(hours => $10) END, $11)
       RETURNING ${COLUMNS}`,
      [
        user.kind,
        user.companyId,
        user.unitId ?? null,
        user.email.toLowerCase(),
        user.displayName,
        user.passwordHash,
        user.roles,
        invite ? 'invited' : 'active',
        invite?.hash ?? null,
        INVITE_TTL_HOURS,
        user.createdBy ?? null,
      ],
    );
    return invite ? { user: toUser(rows[0]!), inviteToken: invite.token } : { user: toUser(rows[0]!) };
  } catch (error) {
    if ((error as { code?: string }).code === '23505')
      throw new Conflict('A user with this email already exists');
    unitGone(error);
    throw error;
  }
}

export async function createUser(db: Queryable, input: NewUser): Promise<User> {
  return (await insertUser(db, await prepareUser(db, input))).user;
}

/** For login only: the user with their password hash. */
export async function findUserByEmail(
  db: Queryable,
  email: string,
): Promise<(User & { passwordHash: string | null }) | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS}, password_hash FROM accounts.users WHERE email = $1`, [
    email.toLowerCase(),
  ]);
  const row = rows[0];
  return row ? { ...toUser(row), passwordHash: (row.password_hash as string | null) ?? null } : undefined;
}

export async function findUser(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM accounts.users WHERE id = $1`, [id]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function findCompanyUser(
  db: Queryable,
  companyId: string,
  id: string,
): Promise<User | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM accounts.users WHERE company_id = $1 AND id = $2`, [
    companyId,
    id,
  ]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

/**
 * Users of one company, keyset-paged by id, optionally only those in the given units (a caller
 * whose `users.read` reaches a unit or subtree passes those unit ids).
 */
export async function listCompanyUsers(
  db: Queryable,
  companyId: string,
  page: {
    limit: number;
    after?: string | undefined;
    unitIds?: string[] | undefined;
    status?: string | undefined;
  },
): Promise<User[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.users
      WHERE company_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid)
        AND ($4::uuid[] IS NULL OR unit_id = ANY($4::uuid[]))
        AND ($5::text IS NULL OR status = $5)
      ORDER BY id LIMIT $3`,
    [companyId, page.after ?? null, page.limit, page.unitIds ?? null, page.status ?? null],
  );
  return rows.map(toUser);
}

/**
 * The unit was deleted between the caller's check and the write (the foreign key on `unit_id`):
 * the same answer as naming an unknown unit.
 */
function unitGone(error: unknown): void {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code === '23503' && constraint === 'users_unit_id_fkey') {
    throw new UnprocessableRequest('unit-out-of-reach', 'The unit is unknown or outside what you manage', {
      errors: [{ pointer: '/unitId', detail: 'unknown or outside what you manage' }],
    });
  }
}

export async function updateUser(
  db: Queryable,
  companyId: string,
  id: string,
  changes: { displayName?: string; roles?: string[]; unitId?: string },
): Promise<User> {
  const { rows } = await db
    .query(
      `UPDATE accounts.users
          SET display_name = COALESCE($3, display_name), roles = COALESCE($4, roles), unit_id = COALESCE($5, unit_id)
        WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [companyId, id, changes.displayName ?? null, changes.roles ?? null, changes.unitId ?? null],
    )
    .catch((error: unknown) => {
      unitGone(error);
      throw error;
    });
  if (!rows[0]) throw new NotFound('User');
  return toUser(rows[0]);
}

export async function setUserStatus(
  db: Queryable,
  companyId: string,
  id: string,
  status: 'active' | 'disabled',
): Promise<User> {
  const { rows } = await db.query(
    // An invited user stays invited when "enabled": they still have to accept the invitation.
    `UPDATE accounts.users
        SET status = CASE WHEN $3 = 'active' AND password_hash IS NULL THEN 'invited' ELSE $3 END
      WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [companyId, id, status],
  );
  if (!rows[0]) throw new NotFound('User');
  return toUser(rows[0]);
}

/** A fresh reset token for the user (replacing any earlier one). */
export async function issuePasswordReset(db: Queryable, companyId: string, id: string): Promise<string> {
  const { token, hash } = issueOneTimeToken();
  const { rowCount } = await db.query(
    `UPDATE accounts.users SET reset_token_hash = $3, reset_expires_at = now() + make_interval(hours => $4)
      WHERE company_id = $1 AND id = $2`,
    [companyId, id, hash, RESET_TTL_HOURS],
  );
  if (!rowCount) throw new NotFound('User');
  return token;
}

/**
 * Sets the password of the user holding a valid invitation or reset token, consuming the token
 * (one use). Accepting an invitation activates the user; a disabled user stays disabled.
 */
export async function redeemOneTimeToken(
  db: Queryable,
  kind: 'invite' | 'reset',
  token: string,
  passwordHash: string,
): Promise<User | undefined> {
  const hash = hashOneTimeToken(token);
  const sql =
    kind === 'invite'
      ? `UPDATE accounts.users
            SET password_hash = $2, status = 'active', invite_token_hash = NULL, invite_expires_at = NULL
          WHERE invite_token_hash = $1 AND invite_expires_at > now() AND status = 'invited'
          RETURNING ${COLUMNS}`
      : `UPDATE accounts.users
            SET password_hash = $2, reset_token_hash = NULL, reset_expires_at = NULL
          WHERE reset_token_hash = $1 AND reset_expires_at > now() AND status = 'active'
          RETURNING ${COLUMNS}`;
  const { rows } = await db.query(sql, [hash, passwordHash]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function recordLogin(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE accounts.users SET last_login_at = now() WHERE id = $1', [id]);
}
