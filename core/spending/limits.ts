import type { Queryable } from '../platform/database/database.ts';
import { Conflict } from '../platform/errors/hub-errors.ts';
import { type Amount, moneyOf } from './money.ts';

export type LimitWindow = 'order' | 'month' | 'quarter';
export type SpendMode = 'block' | 'warn';

export interface Subject {
  type: 'user' | 'unit';
  id: string;
}

/** One spending limit as stored. */
export interface Limit {
  id: string;
  companyId: string;
  subject: Subject;
  per: LimitWindow;
  amount: Amount;
  mode: SpendMode;
  timeZone: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, company_id, subject_type, subject_id, per, currency, amount_minor, mode, time_zone,
  created_at, updated_at`;

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
function toLimit(row: any): Limit {
  return {
    id: row.id,
    companyId: row.company_id,
    subject: { type: row.subject_type, id: row.subject_id },
    per: row.per,
    amount: { minor: row.amount_minor as bigint, currency: row.currency },
    mode: row.mode,
    timeZone: row.time_zone,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** The wire shape (entities/spending-limit), without `currentPeriod`. */
export function limitView(limit: Limit) {
  return {
    id: limit.id,
    companyId: limit.companyId,
    subject: limit.subject,
    per: limit.per,
    amount: moneyOf(limit.amount.minor, limit.amount.currency),
    mode: limit.mode,
    timeZone: limit.timeZone,
    createdAt: limit.createdAt.toISOString(),
    updatedAt: limit.updatedAt.toISOString(),
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

export async function insertLimit(
  db: Queryable,
  values: {
    companyId: string;
    subject: Subject;
    per: LimitWindow;
    amount: Amount;
    mode: SpendMode;
    timeZone: string;
    createdBy: string;
  },
): Promise<Limit> {
  try {
    const { rows } = await db.query(
      `INSERT INTO spending.limits
         (company_id, subject_type, subject_id, per, currency, amount_minor, mode, time_zone, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [
        values.companyId,
        values.subject.type,
        values.subject.id,
        values.per,
        values.amount.currency,
        values.amount.minor,
        values.mode,
        values.timeZone,
        values.createdBy,
      ],
    );
    return toLimit(rows[0]);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new Conflict(
        `This ${values.subject.type} already has a ${values.per} limit in ${values.amount.currency}`,
      );
    }
    throw error;
  }
}

/** One limit of one company; `lock` takes its row lock for an update in the same transaction. */
export async function findLimit(
  db: Queryable,
  companyId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<Limit | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM spending.limits WHERE company_id = $1 AND id = $2 ${options.lock ? 'FOR UPDATE' : ''}`,
    [companyId, id],
  );
  return rows[0] ? toLimit(rows[0]) : undefined;
}

export async function listLimits(
  db: Queryable,
  companyId: string,
  page: {
    limit: number;
    after?: string | undefined;
    subjectType?: string | undefined;
    subjectId?: string | undefined;
  },
): Promise<Limit[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM spending.limits
      WHERE company_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid)
        AND ($4::text IS NULL OR subject_type = $4) AND ($5::uuid IS NULL OR subject_id = $5::uuid)
      ORDER BY id LIMIT $3`,
    [companyId, page.after ?? null, page.limit, page.subjectType ?? null, page.subjectId ?? null],
  );
  return rows.map(toLimit);
}

export async function updateLimit(
  db: Queryable,
  companyId: string,
  id: string,
  changes: { amount?: Amount | undefined; mode?: SpendMode | undefined; timeZone?: string | undefined },
): Promise<Limit> {
  try {
    const { rows } = await db.query(
      `UPDATE spending.limits
          SET currency = COALESCE($3, currency), amount_minor = COALESCE($4, amount_minor),
              mode = COALESCE($5, mode), time_zone = COALESCE($6, time_zone), updated_at = now()
        WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [
        companyId,
        id,
        changes.amount?.currency ?? null,
        changes.amount?.minor ?? null,
        changes.mode ?? null,
        changes.timeZone ?? null,
      ],
    );
    return toLimit(rows[0]);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new Conflict('The subject already has a limit of this window in that currency');
    throw error;
  }
}

export async function deleteLimit(db: Queryable, companyId: string, id: string): Promise<void> {
  await db.query('DELETE FROM spending.limits WHERE company_id = $1 AND id = $2', [companyId, id]);
}

/**
 * The limits that apply to a purchase by `userId` placed in `unitPath`: the user's own and those of
 * every unit on the path (ancestors included). With `lock`, their rows are locked in id order (one
 * order for every caller, so two purchases never deadlock) until the transaction ends.
 */
export async function applicableLimits(
  db: Queryable,
  companyId: string,
  userId: string,
  unitPath: string[],
  options: { lock?: boolean } = {},
): Promise<Limit[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM spending.limits
      WHERE company_id = $1
        AND ((subject_type = 'user' AND subject_id = $2) OR (subject_type = 'unit' AND subject_id = ANY($3::uuid[])))
      ORDER BY id ${options.lock ? 'FOR UPDATE' : ''}`,
    [companyId, userId, unitPath],
  );
  return rows.map(toLimit);
}
