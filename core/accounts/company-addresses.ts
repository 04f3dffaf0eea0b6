import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound } from '../platform/errors/hub-errors.ts';

export type AddressKind = 'registered' | 'billing' | 'shipping';

export interface CompanyAddress {
  id: string;
  kind: AddressKind;
  label: string | null;
  recipient: string | null;
  phone: string | null;
  country: string;
  province: string | null;
  city: string | null;
  district: string | null;
  street: string;
  postalCode: string | null;
  isDefault: boolean;
  createdAt: string;
}

export type AddressInput = Partial<Omit<CompanyAddress, 'id' | 'createdAt'>>;

/** A company keeps at most this many addresses (the list answer is not paged). */
export const MAX_ADDRESSES = 100;

const COLUMN_OF = {
  kind: 'kind',
  label: 'label',
  recipient: 'recipient',
  phone: 'phone',
  country: 'country',
  province: 'province',
  city: 'city',
  district: 'district',
  street: 'street',
  postalCode: 'postal_code',
  isDefault: 'is_default',
} as const;

const COLUMNS =
  'id, kind, label, recipient, phone, country, province, city, district, street, postal_code, is_default, created_at';

function toAddress(row: Record<string, unknown>): CompanyAddress {
  return {
    id: row.id as string,
    kind: row.kind as AddressKind,
    label: (row.label as string | null) ?? null,
    recipient: (row.recipient as string | null) ?? null,
    phone: (row.phone as string | null) ?? null,
    country: row.country as string,
    province: (row.province as string | null) ?? null,
    city: (row.city as string | null) ?? null,
    district: (row.district as string | null) ?? null,
    street: row.street as string,
    postalCode: (row.postal_code as string | null) ?? null,
    isDefault: row.is_default as boolean,
    createdAt: new Date(row.created_at as string).toISOString(),
  };
}

/** The known fields of `input` that are set, as [column, value] pairs. */
function columnsOf(input: AddressInput): Array<[string, unknown]> {
  return Object.entries(COLUMN_OF)
    .filter(([field]) => input[field as keyof AddressInput] !== undefined)
    .map(([field, column]) => [column, input[field as keyof AddressInput]]);
}

export async function listAddresses(db: Queryable, companyId: string): Promise<CompanyAddress[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.company_addresses WHERE company_id = $1
      ORDER BY kind, is_default DESC, created_at, id LIMIT ${MAX_ADDRESSES}`,
    [companyId],
  );
  return rows.map(toAddress);
}

/** The address if it belongs to the company; another company's id is as unknown as a made-up one. */
export async function findAddress(
  db: Queryable,
  companyId: string,
  id: string,
): Promise<CompanyAddress | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM accounts.company_addresses WHERE company_id = $1 AND id = $2`,
    [companyId, id],
  );
  return rows[0] ? toAddress(rows[0]) : undefined;
}

/** Clears the default of `kind` on every other address of the company. */
async function unsetDefault(db: Queryable, companyId: string, kind: AddressKind, exceptId: string | null) {
  await db.query(
    `UPDATE accounts.company_addresses SET is_default = false
      WHERE company_id = $1 AND kind = $2 AND is_default AND ($3::uuid IS NULL OR id <> $3::uuid)`,
    [companyId, kind, exceptId],
  );
}

/**
 * Adds an address; a default one takes over from the previous default of its kind. Call inside a
 * transaction holding the company lock (`lockCompany`), so the count and the default stay right.
 */
export async function insertAddress(
  db: Queryable,
  companyId: string,
  input: AddressInput & { kind: AddressKind; street: string },
): Promise<CompanyAddress> {
  const { rows: counted } = await db.query(
    'SELECT count(*)::int AS n FROM accounts.company_addresses WHERE company_id = $1',
    [companyId],
  );
  if ((counted[0]!.n as number) >= MAX_ADDRESSES) {
    throw new Conflict(`A company keeps at most ${MAX_ADDRESSES} addresses`);
  }
  if (input.isDefault) await unsetDefault(db, companyId, input.kind, null);
  const pairs: Array<[string, unknown]> = [['company_id', companyId], ...columnsOf(input)];
  const { rows } = await db.query(
    `INSERT INTO accounts.company_addresses (${pairs.map(([c]) => c).join(', ')})
     VALUES (${pairs.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING ${COLUMNS}`,
    pairs.map(([, v]) => v),
  );
  return toAddress(rows[0]!);
}

/**
 * Changes an address (absent keys kept, null cleared). If it ends up the default of its kind —
 * made default, or a default moved to another kind — the previous default of that kind is unset.
 */
export async function updateAddress(
  db: Queryable,
  companyId: string,
  id: string,
  changes: AddressInput,
): Promise<CompanyAddress> {
  const before = await findAddress(db, companyId, id);
  if (!before) throw new NotFound('Address');
  const kind = changes.kind ?? before.kind;
  if (changes.isDefault ?? before.isDefault) await unsetDefault(db, companyId, kind, id);
  const pairs = columnsOf(changes);
  if (!pairs.length) return before;
  const { rows } = await db.query(
    `UPDATE accounts.company_addresses SET ${pairs.map(([c], i) => `${c} = $${i + 3}`).join(', ')}
      WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [companyId, id, ...pairs.map(([, v]) => v)],
  );
  return toAddress(rows[0]!);
}

export async function deleteAddress(db: Queryable, companyId: string, id: string): Promise<CompanyAddress> {
  const { rows } = await db.query(
    `DELETE FROM accounts.company_addresses WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [companyId, id],
  );
  if (!rows[0]) throw new NotFound('Address');
  return toAddress(rows[0]);
}
