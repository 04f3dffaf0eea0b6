import type { Queryable, Transaction } from '../platform/database/database.ts';
import { NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { type Amount, moneyOf } from './money.ts';
import type { Terms } from './terms.ts';

/**
 * Credit accounts and their ledger. The ledger is append-only; each entry moves what is held
 * (active credit holds) and what is owed (purchases less payments, refunds and adjustments), and the
 * account row keeps both sums, written in the entry's transaction:
 *
 *   account.held = Σ held_delta,  account.owed = Σ owed_delta,  exposure = held + owed
 *
 * so exposure is always outstanding receivables (invoiced or captured, not yet paid, less money paid
 * ahead) plus active holds. Reading the two sums off the account row keeps a hold's limit check one
 * conditional UPDATE of one row.
 */
export type EntryKind =
  | 'hold'
  | 'hold_release'
  | 'capture'
  | 'purchase'
  | 'payment'
  | 'refund'
  | 'adjustment';

export interface Account {
  companyId: string;
  currency: string;
  creditEnabled: boolean;
  limit: bigint;
  terms: Terms;
  graceDays: number;
  onHold: boolean;
  holdReason: string | null;
  held: bigint;
  owed: bigint;
  updatedAt: Date;
}

const ACCOUNT_COLUMNS = `company_id, currency, credit_enabled, limit_minor, terms_kind, terms_days, grace_days, on_hold,
  hold_reason, held_minor, owed_minor, updated_at`;

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
export function toAccount(row: any): Account {
  return {
    companyId: row.company_id,
    currency: row.currency,
    creditEnabled: row.credit_enabled,
    limit: row.limit_minor,
    terms: { kind: row.terms_kind, days: row.terms_days },
    graceDays: row.grace_days,
    onHold: row.on_hold,
    holdReason: row.hold_reason,
    held: row.held_minor,
    owed: row.owed_minor,
    updatedAt: new Date(row.updated_at),
  };
}

export async function findAccount(
  db: Queryable,
  companyId: string,
  options: { lock?: boolean } = {},
): Promise<Account | undefined> {
  const { rows } = await db.query(
    `SELECT ${ACCOUNT_COLUMNS} FROM credit.accounts WHERE company_id = $1 ${options.lock ? 'FOR UPDATE' : ''}`,
    [companyId],
  );
  return rows[0] ? toAccount(rows[0]) : undefined;
}

export async function requireAccount(db: Queryable, companyId: string): Promise<Account> {
  const account = await findAccount(db, companyId);
  if (!account) throw new NotFound('Credit account');
  return account;
}

/**
 * The company's account, created without credit (it refuses holds) when the company's first invoice
 * or payment arrives, in that money's currency. Money in another currency than the account's is
 * refused: one currency per account.
 */
export async function ensureAccount(tx: Transaction, companyId: string, currency: string): Promise<Account> {
  await tx.query(
    `INSERT INTO credit.accounts (company_id, currency) VALUES ($1, $2) ON CONFLICT (company_id) DO NOTHING`,
    [companyId, currency],
  );
  const account = (await findAccount(tx, companyId))!;
  if (account.currency !== currency) {
    throw new UnprocessableRequest(
      'currency-mismatch',
      `The company's credit account is kept in ${account.currency}, not ${currency}`,
      { errors: [{ pointer: '/amount/currency', detail: `must be ${account.currency}` }] },
    );
  }
  return account;
}

export interface EntryInput {
  companyId: string;
  kind: EntryKind;
  reference?: string | null;
  amount: Amount;
  heldDelta?: bigint;
  owedDelta?: bigint;
  invoiceId?: string | null;
  paymentId?: string | null;
  note?: string | null;
  actor: string;
  requestId?: string | undefined;
}

/**
 * Appends one entry and moves the account's sums by its deltas, in `tx`. With `withinLimit` the
 * account moves only if it has credit, is not on hold and the new exposure stays within its limit
 * (checked by the UPDATE itself, so concurrent holds serialise on the account row and can never
 * together pass the limit); answers undefined, writing nothing, when it would not.
 */
export async function postEntry(
  tx: Transaction,
  entry: EntryInput,
  options: { withinLimit?: boolean } = {},
): Promise<Account | undefined> {
  const held = entry.heldDelta ?? 0n;
  const owed = entry.owedDelta ?? 0n;
  const guard = options.withinLimit
    ? `AND credit_enabled AND NOT on_hold AND limit_minor - held_minor - owed_minor >= $2::bigint + $3::bigint`
    : '';
  const { rows } = await tx.query(
    `UPDATE credit.accounts SET held_minor = held_minor + $2::bigint, owed_minor = owed_minor + $3::bigint, updated_at = now()
      WHERE company_id = $1 ${guard}
      RETURNING ${ACCOUNT_COLUMNS}`,
    [entry.companyId, held, owed],
  );
  if (!rows[0]) {
    if (options.withinLimit) return undefined;
    throw new NotFound('Credit account');
  }
  await tx.query(
    `INSERT INTO credit.ledger_entries
       (company_id, kind, reference, currency, amount_minor, held_delta, owed_delta, invoice_id, payment_id, note, actor,
        request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      entry.companyId,
      entry.kind,
      entry.reference ?? null,
      entry.amount.currency,
      entry.amount.minor < 0n ? -entry.amount.minor : entry.amount.minor,
      held,
      owed,
      entry.invoiceId ?? null,
      entry.paymentId ?? null,
      entry.note ?? null,
      entry.actor,
      entry.requestId ?? null,
    ],
  );
  return toAccount(rows[0]);
}

/** Why the account refuses new holds right now, if it does. */
export type Block = { reason: 'on_hold'; detail: string } | { reason: 'overdue'; detail: string };

/**
 * Overdue blocking: an unpaid invoice whose due date plus the account's grace days lies before
 * `today` blocks new holds, whether or not the overdue sweep has marked it yet.
 */
export async function blockOf(db: Queryable, account: Account, today: string): Promise<Block | undefined> {
  if (account.onHold) return { reason: 'on_hold', detail: account.holdReason ?? 'The account is on hold' };
  const { rows } = await db.query(
    `SELECT number, due_date::text AS due FROM credit.invoices
      WHERE company_id = $1 AND status <> 'paid' AND due_date + $2::int < $3::date
      ORDER BY due_date LIMIT 1`,
    [account.companyId, account.graceDays, today],
  );
  if (!rows[0]) return undefined;
  return {
    reason: 'overdue',
    detail: `Invoice ${rows[0].number} was due on ${rows[0].due} and is unpaid past ${account.graceDays} grace days`,
  };
}

export const exposureOf = (account: Account): bigint => account.held + account.owed;

/** What may still be held: zero without credit; negative when exposure passed a lowered limit. */
export const availableOf = (account: Account): bigint =>
  account.creditEnabled ? account.limit - exposureOf(account) : 0n;

/** The canonical `entities/credit-account` view. */
export function accountView(account: Account, block: Block | undefined) {
  const money = (minor: bigint) => moneyOf(minor, account.currency);
  return {
    companyId: account.companyId,
    currency: account.currency,
    creditEnabled: account.creditEnabled,
    limit: money(account.limit),
    terms: account.terms,
    graceDays: account.graceDays,
    onHold: account.onHold,
    holdReason: account.holdReason,
    held: money(account.held),
    owed: money(account.owed),
    exposure: money(exposureOf(account)),
    available: money(availableOf(account)),
    blocked: block ? { reason: block.reason, detail: block.detail } : null,
    updatedAt: account.updatedAt.toISOString(),
  };
}

/** Ledger entries of one company, newest first, keyset-paged by id. */
export async function listEntries(
  db: Queryable,
  companyId: string,
  options: { limit: number; before?: bigint | undefined },
) {
  const { rows } = await db.query(
    `SELECT id, kind, reference, currency, amount_minor, held_delta, owed_delta, invoice_id, payment_id, note,
            occurred_at
       FROM credit.ledger_entries
      WHERE company_id = $1 AND ($2::bigint IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [companyId, options.before ?? null, options.limit],
  );
  return rows.map((row) => ({
    id: String(row.id),
    kind: row.kind as EntryKind,
    reference: row.reference as string | null,
    amount: moneyOf(row.amount_minor, row.currency),
    heldChange: moneyOf(row.held_delta, row.currency),
    owedChange: moneyOf(row.owed_delta, row.currency),
    invoiceId: row.invoice_id as string | null,
    paymentId: row.payment_id as string | null,
    note: row.note as string | null,
    occurredAt: new Date(row.occurred_at).toISOString(),
  }));
}
