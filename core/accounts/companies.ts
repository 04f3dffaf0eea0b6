import type { Queryable } from '../platform/database/database.ts';
import { HubError, UnprocessableRequest } from '../platform/errors/hub-errors.ts';

export type CompanyStatus = 'pending' | 'active' | 'suspended' | 'closed';

export interface Company {
  id: string;
  name: string;
  status: CompanyStatus;
  statusReason: string | null;
  legalName: string | null;
  taxId: string | null;
  invoiceTitle: string | null;
  phone: string | null;
  website: string | null;
  industry: string | null;
  tier: string | null;
  tags: string[];
  accountManager: { id: string; displayName: string } | null;
  createdAt: string;
  updatedAt: string;
}

/** What a buyer admin may edit about their own company (the rest is staff's). */
export const PROFILE_FIELDS = ['legalName', 'taxId', 'invoiceTitle', 'phone', 'website', 'industry'] as const;

/** Every field a change may set, and its column. */
const COLUMN_OF = {
  name: 'name',
  legalName: 'legal_name',
  taxId: 'tax_id',
  invoiceTitle: 'invoice_title',
  phone: 'phone',
  website: 'website',
  industry: 'industry',
  tier: 'tier',
  tags: 'tags',
  accountManagerId: 'account_manager_id',
} as const;

export type CompanyField = keyof typeof COLUMN_OF;

/** A partial change: an absent key keeps the value, null clears it. */
export type CompanyChanges = {
  name?: string;
  tags?: string[];
} & { [K in Exclude<CompanyField, 'name' | 'tags'>]?: string | null };

/**
 * The lifecycle: pending → active | closed, active ⇄ suspended, active | suspended → closed.
 * Closed is final. Anything else (including "to the same status") is refused.
 */
export const COMPANY_TRANSITIONS: Readonly<Record<CompanyStatus, readonly CompanyStatus[]>> = {
  pending: ['active', 'closed'],
  active: ['suspended', 'closed'],
  suspended: ['active', 'closed'],
  closed: [],
};

const SELECT = `SELECT c.id, c.name, c.status, c.status_reason, c.legal_name, c.tax_id, c.invoice_title, c.phone,
         c.website, c.industry, c.tier, c.tags, c.account_manager_id, m.display_name AS account_manager_name,
         c.created_at, c.updated_at
    FROM accounts.companies c LEFT JOIN accounts.users m ON m.id = c.account_manager_id`;

function toCompany(row: Record<string, unknown>): Company {
  const managerId = (row.account_manager_id as string | null) ?? null;
  return {
    id: row.id as string,
    name: row.name as string,
    status: row.status as CompanyStatus,
    statusReason: (row.status_reason as string | null) ?? null,
    legalName: (row.legal_name as string | null) ?? null,
    taxId: (row.tax_id as string | null) ?? null,
    invoiceTitle: (row.invoice_title as string | null) ?? null,
    phone: (row.phone as string | null) ?? null,
    website: (row.website as string | null) ?? null,
    industry: (row.industry as string | null) ?? null,
    tier: (row.tier as string | null) ?? null,
    tags: (row.tags as string[] | null) ?? [],
    accountManager: managerId ? { id: managerId, displayName: row.account_manager_name as string } : null,
    createdAt: new Date(row.created_at as string).toISOString(),
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

const TAX_ID_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const TAX_ID_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/**
 * Whether a 统一社会信用代码 is well formed and its 18th character is the check character of the
 * first 17 (GB 32100-2015: weighted sum modulo 31). The schema checks the shape; this catches typos.
 */
export function isValidTaxId(taxId: string): boolean {
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(taxId)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += TAX_ID_CHARS.indexOf(taxId[i]!) * TAX_ID_WEIGHTS[i]!;
  return TAX_ID_CHARS[(31 - (sum % 31)) % 31] === taxId[17];
}

/**
 * 422 naming the field when a change carries a tax id with a wrong check character or an account
 * manager who is not an active staff user.
 */
export async function checkCompanyChanges(db: Queryable, changes: CompanyChanges): Promise<void> {
  if (changes.taxId && !isValidTaxId(changes.taxId)) {
    throw new UnprocessableRequest('invalid-tax-id', 'The unified social credit code is not valid', {
      errors: [{ pointer: '/taxId', detail: 'check character does not match' }],
    });
  }
  if (changes.accountManagerId) {
    const { rows } = await db.query(
      `SELECT 1 FROM accounts.users WHERE id = $1 AND kind = 'staff' AND status = 'active'`,
      [changes.accountManagerId],
    );
    if (!rows[0]) {
      throw new UnprocessableRequest(
        'invalid-account-manager',
        'The account manager must be an active staff user',
        {
          errors: [{ pointer: '/accountManagerId', detail: 'is not an active staff user' }],
        },
      );
    }
  }
}

/** The changes among `input`'s keys (ignores anything that is not a company field). */
export function pickChanges(input: Record<string, unknown>, fields: readonly CompanyField[]): CompanyChanges {
  const changes: Record<string, unknown> = {};
  for (const field of fields) if (input[field] !== undefined) changes[field] = input[field];
  return changes as CompanyChanges;
}

export async function insertCompany(
  db: Queryable,
  input: { name: string; status?: CompanyStatus } & Omit<CompanyChanges, 'name'>,
): Promise<Company> {
  const changes = pickChanges(input, Object.keys(COLUMN_OF) as CompanyField[]);
  const columns = ['status', ...Object.keys(changes).map((field) => COLUMN_OF[field as CompanyField])];
  const values = [input.status ?? 'pending', ...Object.values(changes)];
  const { rows } = await db.query(
    `INSERT INTO accounts.companies (${columns.join(', ')})
     VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    values,
  );
  return (await findCompany(db, rows[0]!.id as string))!;
}

/** The company; `forUpdate` locks its row until the transaction ends (serialises changes to it). */
export async function findCompany(
  db: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Company | undefined> {
  const { rows } = await db.query(`${SELECT} WHERE c.id = $1${options.forUpdate ? ' FOR UPDATE OF c' : ''}`, [
    id,
  ]);
  return rows[0] ? toCompany(rows[0]) : undefined;
}

export interface CompanyFilter {
  limit: number;
  after?: string | undefined;
  status?: CompanyStatus | undefined;
  tier?: string | undefined;
  tag?: string | undefined;
  accountManagerId?: string | undefined;
  /** Name contains, case-insensitive; LIKE wildcards in it are taken literally. */
  q?: string | undefined;
}

/** Companies matching every given filter, keyset-paged by id. */
export async function listCompanies(db: Queryable, filter: CompanyFilter): Promise<Company[]> {
  const q = filter.q === undefined ? null : `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const { rows } = await db.query(
    `${SELECT}
      WHERE ($1::uuid IS NULL OR c.id > $1::uuid)
        AND ($3::text IS NULL OR c.status = $3)
        AND ($4::text IS NULL OR c.tier = $4)
        AND ($5::text IS NULL OR c.tags @> ARRAY[$5::text])
        AND ($6::uuid IS NULL OR c.account_manager_id = $6::uuid)
        AND ($7::text IS NULL OR c.name ILIKE $7)
      ORDER BY c.id LIMIT $2`,
    [
      filter.after ?? null,
      filter.limit,
      filter.status ?? null,
      filter.tier ?? null,
      filter.tag ?? null,
      filter.accountManagerId ?? null,
      q,
    ],
  );
  return rows.map(toCompany);
}

/** Applies the changes (absent keys kept, null cleared) and answers the company as it is now. */
export async function updateCompany(db: Queryable, id: string, changes: CompanyChanges): Promise<Company> {
  const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
  if (entries.length) {
    const sets = entries.map(([field], i) => `${COLUMN_OF[field as CompanyField]} = $${i + 2}`);
    await db.query(`UPDATE accounts.companies SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`, [
      id,
      ...entries.map(([, value]) => value),
    ]);
  }
  return (await findCompany(db, id))!;
}

/**
 * Moves the company along its lifecycle; 409 `invalid-transition` unless `COMPANY_TRANSITIONS`
 * allows it. The caller holds the row lock (`findCompany(..., { forUpdate: true })`).
 */
export async function changeCompanyStatus(
  db: Queryable,
  company: Company,
  to: CompanyStatus,
  reason: string | null,
): Promise<Company> {
  if (!COMPANY_TRANSITIONS[company.status].includes(to)) {
    throw new HubError(409, 'invalid-transition', `A company cannot go from ${company.status} to ${to}`, {
      from: company.status,
      to,
      allowed: COMPANY_TRANSITIONS[company.status],
    });
  }
  await db.query(
    'UPDATE accounts.companies SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1',
    [company.id, to, reason],
  );
  return (await findCompany(db, company.id))!;
}

/** Locks the company row: serialises changes to the company's addresses and contacts. */
export async function lockCompany(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM accounts.companies WHERE id = $1 FOR UPDATE', [id]);
  return rows.length > 0;
}
