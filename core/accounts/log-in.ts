import type { AccessTokens } from '../platform/auth/access-tokens.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import { verifyPassword } from '../platform/auth/password-hashing.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Unauthorized } from '../platform/errors/hub-errors.ts';
import { findCompany } from './companies.ts';
import { permissionsForRoles } from './roles.ts';
import { findUserByEmail } from './users.ts';

export interface LoginResult {
  auth: AuthContext;
  accessToken: string;
  expiresIn: number;
}

/**
 * Email + password → access token. Every failure answers the same 401 (no hint whether the email
 * exists, the account is disabled or the company suspended) and costs the same hashing time.
 */
export async function logIn(
  db: Queryable,
  tokens: AccessTokens,
  email: string,
  password: string,
): Promise<LoginResult> {
  const user = await findUserByEmail(db, email);
  const passwordOk = await verifyPassword(user?.passwordHash, password);
  if (!user || !passwordOk || user.status !== 'active') throw new Unauthorized('Invalid email or password');
  if (user.companyId) {
    const company = await findCompany(db, user.companyId);
    if (!company || company.status === 'suspended' || company.status === 'closed') {
      throw new Unauthorized('Invalid email or password');
    }
  }
  const auth: AuthContext = {
    kind: user.kind,
    principalId: user.id,
    companyId: user.companyId,
    permissions: permissionsForRoles(user.kind, user.roles),
  };
  return { auth, accessToken: await tokens.issue(auth), expiresIn: tokens.ttlSeconds };
}
