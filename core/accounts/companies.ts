import type { Queryable } from '../platform/database/database.ts';

export interface Company {
  id: string;
  name: string;
  status: 'pending' | 'active' | 'suspended' | 'closed';
  createdAt: string;
}

const COLUMNS = 'id, name, status, created_at';

function toCompany(row: Record<string, unknown>): Company {
  return {
    id: row.id as string,
    name: row.name as string,
    status: row.status as Company['status'],
    createdAt: new Date(row.created_at as string).toISOString(),
  };
}

export async function insertCompany(
  db: Queryable,
  input: { name: string; status?: Company['status'] },
): Promise<Company> {
  const { rows } = await db.query(
    `INSERT INTO accounts.companies (name, status) VALUES ($1, $2) RETURNING ${COLUMNS}`,
    [input.name, input.status ?? 'pending'],
  );
  return toCompany(rows[0]!);
}

export async function findCompany(db: Queryable, id: string): Promise<Company | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM accounts.companies WHERE id = $1`, [id]);
  return rows[0] ? toCompany(rows[0]) : undefined;
}

export async function listCompanies(
  db: Queryable,
  page: { limit: number; after?: string | undefined },
): Promise<Company[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.companies WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
    [page.after ?? null, page.limit],
  );
  return rows.map(toCompany);
}
