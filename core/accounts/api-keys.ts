import { randomUUID } from 'node:crypto';
import { issueApiKey, parseApiKey, secretMatches } from '../platform/auth/api-keys.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';

export interface CreatedApiKey {
  id: string;
  name: string;
  key: string;
  permissions: string[];
  companyId: string | null;
}

export async function createApiKey(
  db: Queryable,
  input: { name: string; permissions: string[]; companyId: string | null; createdBy: string },
): Promise<CreatedApiKey> {
  const id = randomUUID();
  const { key, secretHash } = issueApiKey(id);
  await db.query(
    `INSERT INTO accounts.api_keys (id, name, company_id, permissions, secret_hash, created_by)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, input.name, input.companyId, input.permissions, secretHash, input.createdBy],
  );
  return { id, name: input.name, key, permissions: input.permissions, companyId: input.companyId };
}

/** The caller behind an API key, or undefined for a malformed, unknown or revoked key. */
export async function authenticateApiKey(db: Queryable, key: string): Promise<AuthContext | undefined> {
  const parsed = parseApiKey(key);
  if (!parsed) return undefined;
  const { rows } = await db.query(
    `UPDATE accounts.api_keys SET last_used_at = now()
      WHERE id = $1 AND revoked_at IS NULL
      RETURNING id, company_id, permissions, secret_hash`,
    [parsed.keyId],
  );
  const row = rows[0];
  if (!row || !secretMatches(parsed.secret, row.secret_hash)) return undefined;
  return {
    kind: 'system',
    principalId: row.id,
    companyId: row.company_id ?? null,
    permissions: row.permissions,
  };
}
