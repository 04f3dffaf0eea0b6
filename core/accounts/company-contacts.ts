import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound } from '../platform/errors/hub-errors.ts';

export interface CompanyContact {
  id: string;
  name: string;
  title: string | null;
  email: string | null;
  phone: string | null;
  isPrimary: boolean;
  createdAt: string;
}

export type ContactInput = Partial<Omit<CompanyContact, 'id' | 'createdAt'>>;

/** A company keeps at most this many contacts (the list answer is not paged). */
export const MAX_CONTACTS = 100;

const COLUMN_OF = {
  name: 'name',
  title: 'title',
  email: 'email',
  phone: 'phone',
  isPrimary: 'is_primary',
} as const;

const COLUMNS = 'id, name, title, email, phone, is_primary, created_at';

function toContact(row: Record<string, unknown>): CompanyContact {
  return {
    id: row.id as string,
    name: row.name as string,
    title: (row.title as string | null) ?? null,
    email: (row.email as string | null) ?? null,
    phone: (row.phone as string | null) ?? null,
    isPrimary: row.is_primary as boolean,
    createdAt: new Date(row.created_at as string).toISOString(),
  };
}

function columnsOf(input: ContactInput): Array<[string, unknown]> {
  return Object.entries(COLUMN_OF)
    .filter(([field]) => input[field as keyof ContactInput] !== undefined)
    .map(([field, column]) => [column, input[field as keyof ContactInput]]);
}

export async function listContacts(db: Queryable, companyId: string): Promise<CompanyContact[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.company_contacts WHERE company_id = $1
      ORDER BY is_primary DESC, created_at, id LIMIT ${MAX_CONTACTS}`,
    [companyId],
  );
  return rows.map(toContact);
}

/** The contact if it belongs to the company; another company's id is as unknown as a made-up one. */
export async function findContact(
  db: Queryable,
  companyId: string,
  id: string,
): Promise<CompanyContact | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.company_contacts WHERE company_id = $1 AND id = $2`,
    [companyId, id],
  );
  return rows[0] ? toContact(rows[0]) : undefined;
}

/**
 * The table has no unique index on the primary flag, so "at most one primary" rests on this
 * running inside a transaction that holds the company lock (`lockCompany`).
 */
async function unsetPrimary(db: Queryable, companyId: string, exceptId: string | null) {
  await db.query(
    `UPDATE accounts.company_contacts SET is_primary = false
      WHERE company_id = $1 AND is_primary AND ($2::uuid IS NULL OR id <> $2::uuid)`,
    [companyId, exceptId],
  );
}

/** Adds a contact; a primary one takes over from the previous primary. Hold the company lock. */
export async function insertContact(
  db: Queryable,
  companyId: string,
  input: ContactInput & { name: string },
): Promise<CompanyContact> {
  const { rows: counted } = await db.query(
    'SELECT count(*)::int AS n FROM accounts.company_contacts WHERE company_id = $1',
    [companyId],
  );
  if ((counted[0]!.n as number) >= MAX_CONTACTS) {
    throw new Conflict(`A company keeps at most ${MAX_CONTACTS} contacts`);
  }
  if (input.isPrimary) await unsetPrimary(db, companyId, null);
  const pairs: Array<[string, unknown]> = [['company_id', companyId], ...columnsOf(input)];
  const { rows } = await db.query(
    `INSERT INTO accounts.company_contacts (${pairs.map(([c]) => c).join(', ')})
     VALUES (${pairs.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING ${COLUMNS}`,
    pairs.map(([, v]) => v),
  );
  return toContact(rows[0]!);
}

/** Changes a contact (absent keys kept, null cleared); made primary, it takes over. Hold the company lock. */
export async function updateContact(
  db: Queryable,
  companyId: string,
  id: string,
  changes: ContactInput,
): Promise<CompanyContact> {
  const before = await findContact(db, companyId, id);
  if (!before) throw new NotFound('Contact');
  if (changes.isPrimary) await unsetPrimary(db, companyId, id);
  const pairs = columnsOf(changes);
  if (!pairs.length) return before;
  const { rows } = await db.query(
    `UPDATE accounts.company_contacts SET ${pairs.map(([c], i) => `${c} = $${i + 3}`).join(', ')}
      WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [companyId, id, ...pairs.map(([, v]) => v)],
  );
  return toContact(rows[0]!);
}

export async function deleteContact(db: Queryable, companyId: string, id: string): Promise<CompanyContact> {
  const { rows } = await db.query(
    `DELETE FROM accounts.company_contacts WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [companyId, id],
  );
  if (!rows[0]) throw new NotFound('Contact');
  return toContact(rows[0]);
}
