import type { Queryable } from '../platform/database/database.ts';
import { Conflict } from '../platform/errors/hub-errors.ts';
import type { SpendMode } from './limits.ts';
import { type Amount, moneyOf } from './money.ts';
import {
  formatLocalDate,
  type LocalDate,
  type PeriodKind,
  type PeriodWindow,
  periodFrom,
} from './periods.ts';

/** One budget as stored. */
export interface Budget {
  id: string;
  companyId: string;
  costCentre: string;
  period: PeriodKind;
  periodStart: LocalDate;
  timeZone: string;
  startsAt: Date;
  endsAt: Date;
  amount: Amount;
  mode: SpendMode;
  unitId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, company_id, cost_centre, period, to_char(period_start, 'YYYY-MM-DD') AS period_start, time_zone,
  starts_at, ends_at, currency, amount_minor, mode, unit_id, created_at, updated_at`;

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
function toBudget(row: any): Budget {
  const [year, month, day] = String(row.period_start).split('-').map(Number);
  return {
    id: row.id,
    companyId: row.company_id,
    costCentre: row.cost_centre,
    period: row.period,
    periodStart: { year: year!, month: month!, day: day! },
    timeZone: row.time_zone,
    startsAt: new Date(row.starts_at),
    endsAt: new Date(row.ends_at),
    amount: { minor: row.amount_minor as bigint, currency: row.currency },
    mode: row.mode,
    unitId: row.unit_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** The budget's period as a window (label: first and last day). */
export function budgetWindow(budget: Budget): PeriodWindow {
  const window = periodFrom(budget.periodStart, budget.period, budget.timeZone);
  return {
    kind: window.kind,
    label: window.label,
    start: budget.startsAt,
    end: budget.endsAt,
    timeZone: budget.timeZone,
  };
}

/** The wire shape (entities/spending-budget), without `consumption`. */
export function budgetView(budget: Budget) {
  const window = periodFrom(budget.periodStart, budget.period, budget.timeZone);
  return {
    id: budget.id,
    companyId: budget.companyId,
    costCentre: budget.costCentre,
    period: budget.period,
    periodStart: formatLocalDate(budget.periodStart),
    periodEnd: formatLocalDate(window.dayAfter),
    timeZone: budget.timeZone,
    startsAt: budget.startsAt.toISOString(),
    endsAt: budget.endsAt.toISOString(),
    amount: moneyOf(budget.amount.minor, budget.amount.currency),
    mode: budget.mode,
    unitId: budget.unitId,
    createdAt: budget.createdAt.toISOString(),
    updatedAt: budget.updatedAt.toISOString(),
  };
}

export async function insertBudget(
  db: Queryable,
  values: {
    companyId: string;
    costCentre: string;
    period: PeriodKind;
    periodStart: LocalDate;
    timeZone: string;
    amount: Amount;
    mode: SpendMode;
    unitId: string | null;
    createdBy: string;
  },
): Promise<Budget> {
  const window = periodFrom(values.periodStart, values.period, values.timeZone);
  try {
    const { rows } = await db.query(
      `INSERT INTO spending.budgets
         (company_id, cost_centre, period, period_start, time_zone, starts_at, ends_at, currency, amount_minor, mode,
          unit_id, created_by)
       VALUES ($1, $2, $3, $4::date, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
      [
        values.companyId,
        values.costCentre,
        values.period,
        formatLocalDate(values.periodStart),
        values.timeZone,
        window.start,
        window.end,
        values.amount.currency,
        values.amount.minor,
        values.mode,
        values.unitId,
        values.createdBy,
      ],
    );
    return toBudget(rows[0]);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new Conflict(
        `Cost centre ${values.costCentre} already has a ${values.period} budget from ${formatLocalDate(values.periodStart)} in ${values.amount.currency}`,
      );
    }
    throw error;
  }
}

export async function findBudget(
  db: Queryable,
  companyId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<Budget | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM spending.budgets WHERE company_id = $1 AND id = $2 ${options.lock ? 'FOR UPDATE' : ''}`,
    [companyId, id],
  );
  return rows[0] ? toBudget(rows[0]) : undefined;
}

export async function listBudgets(
  db: Queryable,
  companyId: string,
  page: {
    limit: number;
    after?: string | undefined;
    costCentre?: string | undefined;
    activeAt?: Date | undefined;
  },
): Promise<Budget[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM spending.budgets
      WHERE company_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid)
        AND ($4::text IS NULL OR cost_centre = $4)
        AND ($5::timestamptz IS NULL OR (starts_at <= $5 AND ends_at > $5))
      ORDER BY id LIMIT $3`,
    [companyId, page.after ?? null, page.limit, page.costCentre ?? null, page.activeAt ?? null],
  );
  return rows.map(toBudget);
}

export async function updateBudget(
  db: Queryable,
  companyId: string,
  id: string,
  changes: { amount?: Amount | undefined; mode?: SpendMode | undefined },
): Promise<Budget> {
  try {
    const { rows } = await db.query(
      `UPDATE spending.budgets
          SET currency = COALESCE($3, currency), amount_minor = COALESCE($4, amount_minor),
              mode = COALESCE($5, mode), updated_at = now()
        WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [companyId, id, changes.amount?.currency ?? null, changes.amount?.minor ?? null, changes.mode ?? null],
    );
    return toBudget(rows[0]);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new Conflict('The cost centre already has a budget for this period in that currency');
    }
    throw error;
  }
}

export async function deleteBudget(db: Queryable, companyId: string, id: string): Promise<void> {
  await db.query('DELETE FROM spending.budgets WHERE company_id = $1 AND id = $2', [companyId, id]);
}

/** The budgets of `costCentre` whose period contains `at`; with `lock`, row-locked in id order. */
export async function applicableBudgets(
  db: Queryable,
  companyId: string,
  costCentre: string,
  at: Date,
  options: { lock?: boolean } = {},
): Promise<Budget[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM spending.budgets
      WHERE company_id = $1 AND cost_centre = $2 AND starts_at <= $3 AND ends_at > $3
      ORDER BY id ${options.lock ? 'FOR UPDATE' : ''}`,
    [companyId, costCentre, at],
  );
  return rows.map(toBudget);
}
