import type { AccessTokens } from '../platform/auth/access-tokens.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import { verifyPassword } from '../platform/auth/password-hashing.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Unauthorized } from '../platform/errors/hub-errors.ts';
import { findCompany } from './companies.ts';
import { grantsForRoles } from './custom-roles.ts';
import { encodeGrants, staffPermissions } from './roles.ts';
import { findUserByEmail, recordLogin, type User } from './users.ts';

export interface LoginResult {
  auth: AuthContext;
  accessToken: string;
  expiresIn: number;
}

/**
 * The caller a user becomes: tenant, unit and the permissions their roles grant right now. The
 * access token freezes this: a later change to the user's roles, to a custom role's grants or to
 * the user's unit reaches them at their next login (or token redemption), not the tokens already
 * issued.
 */
export async function authContextFor(db: Queryable, user: User): Promise<AuthContext> {
  if (user.kind === 'staff') {
    return {
      kind: 'staff',
      principalId: user.id,
      companyId: null,
      permissions: staffPermissions(user.roles),
    };
  }
  return {
    kind: 'buyer',
    principalId: user.id,
    companyId: user.companyId,
    unitId: user.unitId,
    permissions: encodeGrants(await grantsForRoles(db, user.companyId!, user.roles)),
  };
}

/** Whether the user's company lets them in: suspended and closed companies do not. */
export async function companyAdmits(db: Queryable, user: User): Promise<boolean> {
  if (!user.companyId) return true;
  const company = await findCompany(db, user.companyId);
  return Boolean(company && company.status !== 'suspended' && company.status !== 'closed');
}

/**
 * Email + password → access token. Every failure answers the same 401 (no hint whether the email
 * exists, the account is disabled or invited, or the company suspended) and costs the same
 * hashing time.
 */
export async function logIn(
  db: Queryable,
  tokens: AccessTokens,
  email: string,
  password: string,
): Promise<LoginResult> {
  const user = await findUserByEmail(db, email);
  const passwordOk = await verifyPassword(user?.passwordHash ?? undefined, password);
  if (!user || !passwordOk || user.status !== 'active' || !(await companyAdmits(db, user))) {
    throw new Unauthorized('Invalid email or password');
  }
  await recordLogin(db, user.id);
  const auth = await authContextFor(db, user);
  return { auth, accessToken: await tokens.issue(auth), expiresIn: tokens.ttlSeconds };
}
