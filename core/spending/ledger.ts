import type { Queryable } from '../platform/database/database.ts';
import type { Amount } from './money.ts';

/**
 * The spend ledger (spending.entries): append-only rows, one `commit` per purchase reference,
 * at most one `settle` and one `release`. Each row moves money between two columns summed per
 * period: `committed` (placed, open) and `spent` (settled). Consumption = committed + spent.
 */
export type EntryKind = 'commit' | 'settle' | 'release';

export interface Reference {
  type: string;
  id: string;
}

export interface Entry {
  id: bigint;
  kind: EntryKind;
  reference: Reference;
  userId: string;
  unitPath: string[];
  costCentre: string | null;
  amount: Amount;
  occurredAt: Date;
  warnings: unknown[];
}

const COLUMNS = `id, kind, reference_type, reference_id, user_id, unit_path, cost_centre, currency, amount_minor,
  occurred_at, warnings`;

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
function toEntry(row: any): Entry {
  return {
    id: row.id as bigint,
    kind: row.kind,
    reference: { type: row.reference_type, id: row.reference_id },
    userId: row.user_id,
    unitPath: row.unit_path ?? [],
    costCentre: row.cost_centre,
    amount: { minor: row.amount_minor as bigint, currency: row.currency },
    occurredAt: new Date(row.occurred_at),
    warnings: row.warnings ?? [],
  };
}

/**
 * Serialises commit, settle and release of one reference until the transaction ends, so a settle
 * and a release racing each other cannot both read "not settled yet".
 */
export async function lockReference(db: Queryable, companyId: string, reference: Reference): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext('spending:' || $1), hashtext($2 || ':' || $3))`, [
    companyId,
    reference.type,
    reference.id,
  ]);
}

/** The entries of one reference of one company, by kind. */
export async function entriesOf(
  db: Queryable,
  companyId: string,
  reference: Reference,
): Promise<Partial<Record<EntryKind, Entry>>> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM spending.entries WHERE company_id = $1 AND reference_type = $2 AND reference_id = $3`,
    [companyId, reference.type, reference.id],
  );
  return Object.fromEntries(rows.map((row) => [row.kind, toEntry(row)]));
}

/**
 * Appends one entry; answers undefined when the reference already has an entry of this kind
 * (a concurrent retry won: the caller reads that one instead).
 */
export async function appendEntry(
  db: Queryable,
  entry: {
    companyId: string;
    kind: EntryKind;
    reference: Reference;
    userId: string;
    unitPath: string[];
    costCentre: string | null;
    amount: Amount;
    committedDelta: bigint;
    spentDelta: bigint;
    occurredAt: Date;
    warnings: unknown[];
    actorId: string;
    requestId: string | undefined;
  },
): Promise<Entry | undefined> {
  const { rows } = await db.query(
    `INSERT INTO spending.entries
       (company_id, kind, reference_type, reference_id, user_id, unit_path, cost_centre, currency, amount_minor,
        committed_minor, spent_minor, occurred_at, warnings, actor_id, request_id)
     VALUES ($1, $2, $3, $4, $5, $6::uuid[], $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15)
     ON CONFLICT (company_id, reference_type, reference_id, kind) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      entry.companyId,
      entry.kind,
      entry.reference.type,
      entry.reference.id,
      entry.userId,
      entry.unitPath,
      entry.costCentre,
      entry.amount.currency,
      entry.amount.minor,
      entry.committedDelta,
      entry.spentDelta,
      entry.occurredAt,
      JSON.stringify(entry.warnings),
      entry.actorId,
      entry.requestId ?? null,
    ],
  );
  return rows[0] ? toEntry(rows[0]) : undefined;
}

/** Whose spend a sum covers: one user's, a unit subtree's, or one cost centre's. */
export type SpendScope = { user: string } | { unit: string } | { costCentre: string };

export interface Consumption {
  committed: bigint;
  spent: bigint;
}

/** Committed and spent in `currency` by `scope` for purchases made in `[from, to)`. */
export async function consumption(
  db: Queryable,
  companyId: string,
  scope: SpendScope,
  currency: string,
  from: Date,
  to: Date,
): Promise<Consumption> {
  const [filter, value] =
    'user' in scope
      ? ['user_id = $2', scope.user]
      : 'unit' in scope
        ? ['unit_path @> ARRAY[$2::uuid]', scope.unit]
        : ['cost_centre = $2', scope.costCentre];
  const { rows } = await db.query<{ committed: string; spent: string }>(
    `SELECT COALESCE(SUM(committed_minor), 0)::text AS committed, COALESCE(SUM(spent_minor), 0)::text AS spent
       FROM spending.entries
      WHERE company_id = $1 AND ${filter} AND currency = $3 AND occurred_at >= $4 AND occurred_at < $5`,
    [companyId, value, currency, from, to],
  );
  return { committed: BigInt(rows[0]!.committed), spent: BigInt(rows[0]!.spent) };
}
