import type { Database, Queryable, Transaction } from '../platform/database/database.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { findHold } from './holds.ts';
import { ensureAccount, postEntry } from './ledger.ts';
import { type Amount, minBig, moneyOf } from './money.ts';
import { type BusinessDate, daysPast, dueDate } from './terms.ts';

/**
 * Receivables: one invoice per order reference, due by the company's credit terms, paid by
 * allocations of payments (oldest first, or to a named invoice), optionally reduced by credit notes
 * (negative adjustments). Status: open → partially_paid → paid; the overdue sweep marks an unpaid
 * invoice past its due date `overdue` (it stays overdue until paid) and announces `invoice.overdue`.
 */
export type InvoiceStatus = 'open' | 'partially_paid' | 'paid' | 'overdue';

export interface InvoiceLine {
  skuId?: string;
  code?: string;
  description?: string;
  quantity: number;
  unitPrice?: { amountMinor: string; currency: string };
  amount: { amountMinor: string; currency: string };
}

export interface Invoice {
  id: string;
  number: string;
  companyId: string;
  reference: string;
  amount: Amount;
  paid: bigint;
  credited: bigint;
  issuedOn: BusinessDate;
  dueDate: BusinessDate;
  status: InvoiceStatus;
  lines: InvoiceLine[];
  placedBy: string | null;
  placedUnit: string | null;
  createdAt: Date;
}

const COLUMNS = `id, number, company_id, reference, currency, amount_minor, paid_minor, credited_minor,
  issued_on::text AS issued_on, due_date::text AS due_date, status, lines, placed_by, placed_unit, created_at`;

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
const toInvoice = (row: any): Invoice => ({
  id: row.id,
  number: row.number,
  companyId: row.company_id,
  reference: row.reference,
  amount: { minor: row.amount_minor, currency: row.currency },
  paid: row.paid_minor,
  credited: row.credited_minor,
  issuedOn: row.issued_on,
  dueDate: row.due_date,
  status: row.status,
  lines: row.lines ?? [],
  placedBy: row.placed_by,
  placedUnit: row.placed_unit,
  createdAt: new Date(row.created_at),
});

export const balanceOf = (invoice: Invoice): bigint => invoice.amount.minor - invoice.paid - invoice.credited;

/** The canonical `entities/invoice-receivable` view; `today` decides the days overdue. */
export function invoiceView(invoice: Invoice, today: BusinessDate) {
  const currency = invoice.amount.currency;
  const balance = balanceOf(invoice);
  return {
    id: invoice.id,
    number: invoice.number,
    companyId: invoice.companyId,
    reference: invoice.reference,
    amount: moneyOf(invoice.amount.minor, currency),
    paid: moneyOf(invoice.paid, currency),
    credited: moneyOf(invoice.credited, currency),
    balance: moneyOf(balance, currency),
    issuedOn: invoice.issuedOn,
    dueDate: invoice.dueDate,
    status: invoice.status,
    daysOverdue: balance > 0n ? Math.max(0, daysPast(invoice.dueDate, today)) : 0,
    lines: invoice.lines,
    createdAt: invoice.createdAt.toISOString(),
  };
}

export async function findInvoice(
  db: Queryable,
  id: string,
  options: { companyId?: string; lock?: boolean } = {},
): Promise<Invoice | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM credit.invoices WHERE id = $1 AND ($2::uuid IS NULL OR company_id = $2)
      ${options.lock ? 'FOR UPDATE' : ''}`,
    [id, options.companyId ?? null],
  );
  return rows[0] ? toInvoice(rows[0]) : undefined;
}

export async function invoiceByReference(
  db: Queryable,
  reference: string,
  options: { lock?: boolean } = {},
): Promise<Invoice | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM credit.invoices WHERE reference = $1 ${options.lock ? 'FOR UPDATE' : ''}`,
    [reference],
  );
  return rows[0] ? toInvoice(rows[0]) : undefined;
}

export interface InvoiceFilter {
  companyId?: string | undefined;
  status?: InvoiceStatus | undefined;
  /** Unpaid and past due on this date (the overdue list), whether or not the sweep has run. */
  overdueOn?: BusinessDate | undefined;
  placedBy?: string | undefined;
  placedUnit?: string | undefined;
  after?: string | undefined;
  limit: number;
}

/** Invoices matching `filter`, keyset-paged by id. */
export async function listInvoices(db: Queryable, filter: InvoiceFilter): Promise<Invoice[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM credit.invoices
      WHERE ($1::uuid IS NULL OR company_id = $1)
        AND ($2::text IS NULL OR status = $2)
        AND ($3::date IS NULL OR (status <> 'paid' AND due_date < $3))
        AND ($4::uuid IS NULL OR placed_by = $4)
        AND ($5::uuid IS NULL OR placed_unit = $5)
        AND ($6::uuid IS NULL OR id > $6)
      ORDER BY id LIMIT $7`,
    [
      filter.companyId ?? null,
      filter.status ?? null,
      filter.overdueOn ?? null,
      filter.placedBy ?? null,
      filter.placedUnit ?? null,
      filter.after ?? null,
      filter.limit,
    ],
  );
  return rows.map(toInvoice);
}

/** The status after `paid` and `credited` changed; an overdue invoice stays overdue until paid. */
const STATUS_SQL = `CASE WHEN paid_minor + credited_minor >= amount_minor THEN 'paid'
  WHEN status = 'overdue' THEN 'overdue'
  WHEN paid_minor + credited_minor > 0 THEN 'partially_paid' ELSE 'open' END`;

/** Moves `amount` of a payment's unallocated cash onto an invoice. */
export async function allocate(
  tx: Transaction,
  allocation: { companyId: string; paymentId: string; invoiceId: string; amount: bigint },
): Promise<void> {
  await tx.query(
    `INSERT INTO credit.allocations (company_id, payment_id, invoice_id, amount_minor) VALUES ($1, $2, $3, $4)`,
    [allocation.companyId, allocation.paymentId, allocation.invoiceId, allocation.amount],
  );
  await tx.query(
    `UPDATE credit.invoices SET paid_minor = paid_minor + $2, updated_at = now() WHERE id = $1`,
    [allocation.invoiceId, allocation.amount],
  );
  await tx.query(`UPDATE credit.invoices SET status = ${STATUS_SQL} WHERE id = $1`, [allocation.invoiceId]);
  await tx.query(
    `UPDATE credit.payments SET allocated_minor = allocated_minor + $2, updated_at = now() WHERE id = $1`,
    [allocation.paymentId, allocation.amount],
  );
}

/** A credit note: reduces what is due on an invoice (the ledger entry is the caller's). */
export async function creditInvoice(tx: Transaction, invoiceId: string, amount: bigint): Promise<void> {
  await tx.query(
    `UPDATE credit.invoices SET credited_minor = credited_minor + $2, updated_at = now() WHERE id = $1`,
    [invoiceId, amount],
  );
  await tx.query(`UPDATE credit.invoices SET status = ${STATUS_SQL} WHERE id = $1`, [invoiceId]);
}

/**
 * Pays an invoice from money already received: first payments made for its order (online or
 * transfer before the invoice existed), then money paid on account, oldest first.
 */
async function applyReceivedCash(tx: Transaction, invoice: Invoice): Promise<void> {
  let due = balanceOf(invoice);
  if (due <= 0n) return;
  const { rows } = await tx.query(
    `SELECT id, received_minor - allocated_minor - refunded_minor AS free FROM credit.payments
      WHERE company_id = $1 AND (reference = $2 OR reference IS NULL) AND currency = $3
        AND allocated_minor + refunded_minor < received_minor
      ORDER BY reference IS NULL, created_at, id FOR UPDATE`,
    [invoice.companyId, invoice.reference, invoice.amount.currency],
  );
  for (const row of rows) {
    if (due <= 0n) break;
    const amount = minBig(due, row.free as bigint);
    await allocate(tx, { companyId: invoice.companyId, paymentId: row.id, invoiceId: invoice.id, amount });
    due -= amount;
  }
}

export interface IssueParams {
  reference: string;
  companyId: string;
  amount: Amount;
  dueDate?: BusinessDate | undefined;
  lines?: InvoiceLine[] | undefined;
  placedBy?: string | null | undefined;
  placedUnit?: string | null | undefined;
}

export interface Caller {
  actor: string;
  requestId: string | undefined;
  today: BusinessDate;
}

/**
 * Issues the invoice of an order (idempotent per reference: a repeat answers the first invoice).
 * The due date comes from the company's terms unless given. The ledger learns of the purchase once:
 * a captured credit hold already posted it (a differing invoice amount posts the difference as an
 * adjustment; a still-active hold is captured now); otherwise the invoice posts the purchase.
 * Money already received for the order, or on account, pays it at once.
 */
export async function issueInvoice(
  db: Database,
  params: IssueParams,
  caller: Caller,
): Promise<{ invoice: Invoice; created: boolean }> {
  const existing = await invoiceByReference(db, params.reference);
  if (existing) return { invoice: existing, created: false };
  return db.transaction(async (tx) => {
    const account = await ensureAccount(tx, params.companyId, params.amount.currency);
    const due = params.dueDate ?? dueDate(caller.today, account.terms);
    const { rows: numbered } = await tx.query<{ n: bigint }>(`SELECT nextval('credit.invoice_numbers') AS n`);
    const number = `INV-${caller.today.slice(0, 4)}-${String(numbered[0]!.n).padStart(6, '0')}`;
    const { rows } = await tx.query(
      `INSERT INTO credit.invoices
         (number, company_id, reference, currency, amount_minor, issued_on, due_date, status, lines, placed_by, placed_unit,
          created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8::jsonb, $9, $10, $11)
       ON CONFLICT (reference) DO NOTHING RETURNING ${COLUMNS}`,
      [
        number,
        params.companyId,
        params.reference,
        params.amount.currency,
        params.amount.minor,
        caller.today,
        due,
        JSON.stringify(params.lines ?? []),
        params.placedBy ?? null,
        params.placedUnit ?? null,
        caller.actor,
      ],
    );
    if (!rows[0]) return { invoice: (await invoiceByReference(tx, params.reference))!, created: false };
    const invoice = toInvoice(rows[0]);
    const common = {
      companyId: invoice.companyId,
      reference: invoice.reference,
      invoiceId: invoice.id,
      actor: caller.actor,
      requestId: caller.requestId,
    };
    const currency = invoice.amount.currency;
    const hold = await findHold(tx, invoice.reference, { lock: true });
    const ownHold = hold && hold.companyId === invoice.companyId && !hold.invoiceId ? hold : undefined;
    if (ownHold?.status === 'captured') {
      const difference = invoice.amount.minor - ownHold.captured!;
      if (difference !== 0n) {
        await postEntry(tx, {
          ...common,
          kind: 'adjustment',
          amount: { minor: difference, currency },
          owedDelta: difference,
          note: 'invoice amount differs from the captured purchase',
        });
      }
    } else if (ownHold?.status === 'held') {
      await postEntry(tx, {
        ...common,
        kind: 'capture',
        amount: ownHold.amount,
        heldDelta: -ownHold.amount.minor,
      });
      await postEntry(tx, {
        ...common,
        kind: 'purchase',
        amount: invoice.amount,
        owedDelta: invoice.amount.minor,
      });
      await tx.query(
        `UPDATE credit.holds SET status = 'captured', captured_minor = $2, updated_at = now() WHERE reference = $1`,
        [ownHold.reference, minBig(invoice.amount.minor, ownHold.amount.minor)],
      );
    } else {
      await postEntry(tx, {
        ...common,
        kind: 'purchase',
        amount: invoice.amount,
        owedDelta: invoice.amount.minor,
      });
    }
    if (ownHold && ownHold.status !== 'released') {
      await tx.query(`UPDATE credit.holds SET invoice_id = $2 WHERE reference = $1`, [
        ownHold.reference,
        invoice.id,
      ]);
    }
    await applyReceivedCash(tx, invoice);
    const issued = (await findInvoice(tx, invoice.id))!;
    await writeOutbox(
      tx,
      [
        {
          kind: 'event',
          name: 'invoice.issued',
          companyId: issued.companyId,
          payload: {
            invoiceId: issued.id,
            number: issued.number,
            companyId: issued.companyId,
            reference: issued.reference,
            amount: moneyOf(issued.amount.minor, currency),
            dueDate: issued.dueDate,
          },
        },
      ],
      { requestId: caller.requestId },
    );
    return { invoice: issued, created: true };
  });
}

/**
 * Marks unpaid invoices past their due date `overdue` and announces each once (`invoice.overdue`,
 * through the outbox in the same transaction). Several processes may sweep at once: rows are
 * claimed with SKIP LOCKED, and an invoice already overdue is never announced again.
 */
export async function sweepOverdue(db: Database, today: BusinessDate, batchSize = 200): Promise<number> {
  let marked = 0;
  for (;;) {
    const count = await db.transaction(async (tx) => {
      const { rows } = await tx.query(
        `UPDATE credit.invoices SET status = 'overdue', updated_at = now()
          WHERE id IN (SELECT id FROM credit.invoices
                        WHERE status IN ('open', 'partially_paid') AND due_date < $1::date
                        ORDER BY due_date LIMIT $2 FOR UPDATE SKIP LOCKED)
          RETURNING ${COLUMNS}`,
        [today, batchSize],
      );
      const invoices = rows.map(toInvoice);
      await writeOutbox(
        tx,
        invoices.map((invoice) => ({
          kind: 'event' as const,
          name: 'invoice.overdue',
          companyId: invoice.companyId,
          payload: {
            invoiceId: invoice.id,
            number: invoice.number,
            companyId: invoice.companyId,
            reference: invoice.reference,
            dueDate: invoice.dueDate,
            balance: moneyOf(balanceOf(invoice), invoice.amount.currency),
            daysOverdue: daysPast(invoice.dueDate, today),
          },
        })),
      );
      return invoices.length;
    });
    marked += count;
    if (count < batchSize) return marked;
  }
}

/** Unpaid invoices of a company, oldest due first, locked: where money on account goes. */
export async function unpaidInvoices(
  tx: Transaction,
  companyId: string,
  currency: string,
): Promise<Invoice[]> {
  const { rows } = await tx.query(
    `SELECT ${COLUMNS} FROM credit.invoices
      WHERE company_id = $1 AND currency = $2 AND status <> 'paid'
      ORDER BY due_date, issued_on, number FOR UPDATE`,
    [companyId, currency],
  );
  return rows.map(toInvoice);
}
