import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import {
  type Grant,
  invalidGrants,
  isPresetBuyerRole,
  PRESET_BUYER_ROLES,
  presetBuyerRole,
} from './roles.ts';

export interface Role {
  key: string;
  name: string;
  description: string | null;
  preset: boolean;
  grants: Grant[];
}

function toRole(row: Record<string, unknown>): Role {
  return {
    key: row.key as string,
    name: row.name as string,
    description: (row.description as string | null) ?? null,
    preset: false,
    grants: row.grants as Grant[],
  };
}

const PRESETS: Role[] = Object.entries(PRESET_BUYER_ROLES).map(([key, role]) => ({
  key,
  name: role.name,
  description: null,
  preset: true,
  grants: [...role.grants],
}));

/** Preset roles first, then the company's own. */
export async function listRoles(db: Queryable, companyId: string): Promise<Role[]> {
  const { rows } = await db.query(
    'SELECT key, name, description, grants FROM accounts.custom_roles WHERE company_id = $1 ORDER BY key',
    [companyId],
  );
  return [...PRESETS, ...rows.map(toRole)];
}

export async function findRole(db: Queryable, companyId: string, key: string): Promise<Role | undefined> {
  const preset = PRESETS.find((r) => r.key === key);
  if (preset) return preset;
  const { rows } = await db.query(
    'SELECT key, name, description, grants FROM accounts.custom_roles WHERE company_id = $1 AND key = $2',
    [companyId, key],
  );
  return rows[0] ? toRole(rows[0]) : undefined;
}

/** Everything the given role keys grant in this company (unknown keys grant nothing). */
export async function grantsForRoles(
  db: Queryable,
  companyId: string,
  roles: readonly string[],
): Promise<Grant[]> {
  const grants: Grant[] = roles.flatMap((key) => presetBuyerRole(key)?.grants ?? []);
  const custom = roles.filter((key) => !isPresetBuyerRole(key));
  if (custom.length) {
    const { rows } = await db.query(
      'SELECT grants FROM accounts.custom_roles WHERE company_id = $1 AND key = ANY($2::text[])',
      [companyId, custom],
    );
    for (const row of rows) grants.push(...(row.grants as Grant[]));
  }
  return grants;
}

/** Role keys that are neither preset nor defined by this company. */
export async function unknownBuyerRoles(
  db: Queryable,
  companyId: string | null,
  roles: readonly string[],
): Promise<string[]> {
  const custom = roles.filter((key) => !isPresetBuyerRole(key));
  if (!custom.length || !companyId) return custom;
  const { rows } = await db.query(
    'SELECT key FROM accounts.custom_roles WHERE company_id = $1 AND key = ANY($2::text[])',
    [companyId, custom],
  );
  const known = new Set(rows.map((r) => r.key as string));
  return custom.filter((key) => !known.has(key));
}

function checkGrants(grants: readonly Grant[]) {
  const problems = invalidGrants(grants);
  if (problems.length)
    throw new UnprocessableRequest('invalid-grants', 'The role grants unknown permissions or scopes', {
      errors: problems,
    });
}

export async function createRole(
  db: Queryable,
  companyId: string,
  input: { key: string; name: string; description?: string | null; grants: Grant[] },
): Promise<Role> {
  if (isPresetBuyerRole(input.key)) throw new Conflict(`${input.key} is a preset role`);
  checkGrants(input.grants);
  try {
    const { rows } = await db.query(
      `INSERT INTO accounts.custom_roles (company_id, key, name, description, grants) VALUES ($1, $2, $3, $4, $5)
       RETURNING key, name, description, grants`,
      [companyId, input.key, input.name, input.description ?? null, JSON.stringify(input.grants)],
    );
    return toRole(rows[0]!);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new Conflict(`Role ${input.key} already exists`);
    throw error;
  }
}

/**
 * Changes a custom role. Holders get the new grants at their next login: an access token carries
 * the permissions it was issued with (`authContextFor`) and is never re-read, so a token issued
 * before the change keeps the old grants until it expires (`HUB_ACCESS_TOKEN_TTL`, minutes).
 */
export async function updateRole(
  db: Queryable,
  companyId: string,
  key: string,
  changes: { name?: string; description?: string | null; grants?: Grant[] },
): Promise<{ before: Role; after: Role }> {
  if (isPresetBuyerRole(key)) throw new Conflict(`${key} is a preset role and cannot be changed`);
  const before = await findRole(db, companyId, key);
  if (!before) throw new NotFound('Role');
  if (changes.grants) checkGrants(changes.grants);
  const { rows } = await db.query(
    `UPDATE accounts.custom_roles SET name = $3, description = $4, grants = $5, updated_at = now()
      WHERE company_id = $1 AND key = $2 RETURNING key, name, description, grants`,
    [
      companyId,
      key,
      changes.name ?? before.name,
      changes.description !== undefined ? changes.description : before.description,
      JSON.stringify(changes.grants ?? before.grants),
    ],
  );
  return { before, after: toRole(rows[0]!) };
}

/** Deletes a custom role nobody holds any more. */
export async function deleteRole(db: Queryable, companyId: string, key: string): Promise<Role> {
  if (isPresetBuyerRole(key)) throw new Conflict(`${key} is a preset role and cannot be deleted`);
  const role = await findRole(db, companyId, key);
  if (!role) throw new NotFound('Role');
  const { rows } = await db.query(
    'SELECT count(*)::int AS holders FROM accounts.users WHERE company_id = $1 AND $2 = ANY(roles)',
    [companyId, key],
  );
  if (rows[0]!.holders > 0)
    throw new Conflict('Users still hold this role; change their roles first', rows[0]);
  await db.query('DELETE FROM accounts.custom_roles WHERE company_id = $1 AND key = $2', [companyId, key]);
  return role;
}
