import { randomInt } from 'node:crypto';
import type { Database, Queryable, Transaction } from '../platform/database/database.ts';
import { NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import {
  allocate,
  balanceOf,
  findInvoice,
  type Invoice,
  invoiceByReference,
  unpaidInvoices,
} from './invoices.ts';
import { ensureAccount, findAccount, postEntry } from './ledger.ts';
import { type Amount, minBig, moneyOf } from './money.ts';
import type { PaymentGateway } from './payment-gateway.ts';

/**
 * Payments: money the company pays us. `online` goes through the payment port (confirmed by the
 * provider's signed callback), `bank_transfer` (对公转账) waits for the transfer with a remittance
 * code in its note (confirmed by staff, or by a bank statement line carrying the code), and
 * `on_account` is money staff recorded as received without an order (a credit customer settling
 * its invoices). Every receipt posts a `payment` entry to the ledger and is allocated to invoices;
 * what is not allocated yet waits for the order's invoice, or pays the oldest invoice on account.
 */
export type PaymentMethod = 'online' | 'bank_transfer' | 'on_account';
export type PaymentStatus = 'pending' | 'partially_received' | 'confirmed' | 'failed';

/** Where buyers send a bank transfer: the hub operator's receiving account. */
export interface BankAccountDetails {
  accountName: string;
  bankName: string;
  accountNumber: string;
}

export interface Payment {
  id: string;
  companyId: string;
  reference: string | null;
  method: PaymentMethod;
  amount: Amount;
  received: bigint;
  allocated: bigint;
  refunded: bigint;
  status: PaymentStatus;
  remittanceCode: string | null;
  provider: string | null;
  instructions: Record<string, unknown>;
  failureReason: string | null;
  createdAt: Date;
  confirmedAt: Date | null;
}

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
const toPayment = (row: any): Payment => ({
  id: row.id,
  companyId: row.company_id,
  reference: row.reference,
  method: row.method,
  amount: { minor: row.amount_minor, currency: row.currency },
  received: row.received_minor,
  allocated: row.allocated_minor,
  refunded: row.refunded_minor,
  status: row.status,
  remittanceCode: row.remittance_code,
  provider: row.provider,
  instructions: row.instructions ?? {},
  failureReason: row.failure_reason,
  createdAt: new Date(row.created_at),
  confirmedAt: row.confirmed_at ? new Date(row.confirmed_at) : null,
});

export const unallocatedOf = (payment: Payment): bigint =>
  payment.received - payment.allocated - payment.refunded;

/** The canonical `entities/payment-record` view. */
export function paymentView(payment: Payment) {
  const money = (minor: bigint) => moneyOf(minor, payment.amount.currency);
  return {
    id: payment.id,
    companyId: payment.companyId,
    reference: payment.reference,
    method: payment.method,
    amount: money(payment.amount.minor),
    received: money(payment.received),
    allocated: money(payment.allocated),
    refunded: money(payment.refunded),
    unallocated: money(unallocatedOf(payment)),
    status: payment.status,
    remittanceCode: payment.remittanceCode,
    instructions: payment.instructions,
    failureReason: payment.failureReason,
    createdAt: payment.createdAt.toISOString(),
    confirmedAt: payment.confirmedAt?.toISOString() ?? null,
  };
}

export async function findPayment(
  db: Queryable,
  id: string,
  options: { lock?: boolean; companyId?: string } = {},
): Promise<Payment | undefined> {
  const { rows } = await db.query(
    `SELECT * FROM credit.payments WHERE id = $1 AND ($2::uuid IS NULL OR company_id = $2) ${options.lock ? 'FOR UPDATE' : ''}`,
    [id, options.companyId ?? null],
  );
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function paymentByRemittanceCode(db: Queryable, code: string): Promise<Payment | undefined> {
  const { rows } = await db.query(`SELECT * FROM credit.payments WHERE remittance_code = $1`, [code]);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function listPayments(
  db: Queryable,
  filter: {
    companyId?: string | undefined;
    status?: PaymentStatus | undefined;
    method?: PaymentMethod | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<Payment[]> {
  const { rows } = await db.query(
    `SELECT * FROM credit.payments
      WHERE ($1::uuid IS NULL OR company_id = $1) AND ($2::text IS NULL OR status = $2)
        AND ($3::text IS NULL OR method = $3) AND ($4::uuid IS NULL OR id > $4)
      ORDER BY id LIMIT $5`,
    [
      filter.companyId ?? null,
      filter.status ?? null,
      filter.method ?? null,
      filter.after ?? null,
      filter.limit,
    ],
  );
  return rows.map(toPayment);
}

/** Crockford's base32 without I, L, O, U: unambiguous when a clerk types it into a transfer note. */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Remittance codes as they are found in a statement's remark (附言), among other text. */
export const REMITTANCE_CODE = /\bHB[0-9A-HJKMNP-TV-Z]{8}\b/;

function newRemittanceCode(): string {
  let code = 'HB';
  for (let i = 0; i < 8; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

interface Caller {
  actor: string;
  requestId: string | undefined;
}

/**
 * Starts paying `amount` for `reference` (idempotent per reference: a repeat answers the payment
 * already started, unless it failed). Online: the payment is created at the provider and the
 * answer carries its redirect / QR URL. Bank transfer: the answer carries the hub's account and a
 * remittance code the buyer writes in the transfer's note (附言), which matches the transfer when
 * staff confirm it or a bank statement is imported.
 */
export async function startPayment(
  db: Database,
  gateway: PaymentGateway,
  bank: BankAccountDetails,
  params: { reference: string; companyId: string; method: 'online' | 'bank_transfer'; amount: Amount },
): Promise<Payment> {
  const existing = await activePaymentFor(db, params.reference);
  if (existing) return existing;
  const account = await findAccount(db, params.companyId);
  if (account && account.currency !== params.amount.currency) {
    throw new UnprocessableRequest(
      'currency-mismatch',
      `The company's account is kept in ${account.currency}, not ${params.amount.currency}`,
      { errors: [{ pointer: '/amount/currency', detail: `must be ${account.currency}` }] },
    );
  }
  const remittanceCode = params.method === 'bank_transfer' ? newRemittanceCode() : null;
  const { rows } = await db.query(
    `INSERT INTO credit.payments (company_id, reference, method, currency, amount_minor, status, remittance_code, provider)
     VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)
     ON CONFLICT (reference) WHERE status <> 'failed' DO NOTHING RETURNING *`,
    [
      params.companyId,
      params.reference,
      params.method,
      params.amount.currency,
      params.amount.minor,
      remittanceCode,
      params.method === 'online' ? gateway.provider : null,
    ],
  );
  if (!rows[0]) return (await activePaymentFor(db, params.reference))!;
  const payment = toPayment(rows[0]);
  let instructions: Record<string, unknown>;
  if (params.method === 'online') {
    // The provider is called outside any transaction: a real one is a remote HTTP call.
    const created = await gateway.createPayment({
      paymentId: payment.id,
      amountMinor: params.amount.minor,
      currency: params.amount.currency,
      subject: params.reference,
    });
    instructions = {
      kind: 'redirect',
      provider: gateway.provider,
      redirectUrl: created.redirectUrl,
      qrCode: created.qrCode,
      expiresAt: created.expiresAt,
    };
    await db.query(
      `UPDATE credit.payments SET provider_payment_id = $2, instructions = $3::jsonb, updated_at = now() WHERE id = $1`,
      [payment.id, created.providerPaymentId, JSON.stringify(instructions)],
    );
  } else {
    instructions = {
      kind: 'bank_transfer',
      payee: bank,
      remittanceCode,
      amount: moneyOf(params.amount.minor, params.amount.currency),
      note: `请在转账附言中填写 ${remittanceCode} / Put ${remittanceCode} in the transfer note`,
    };
    await db.query(`UPDATE credit.payments SET instructions = $2::jsonb, updated_at = now() WHERE id = $1`, [
      payment.id,
      JSON.stringify(instructions),
    ]);
  }
  return { ...payment, instructions };
}

async function activePaymentFor(db: Queryable, reference: string): Promise<Payment | undefined> {
  const { rows } = await db.query(
    `SELECT * FROM credit.payments WHERE reference = $1 AND status <> 'failed'`,
    [reference],
  );
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export interface Receipt {
  amount: bigint;
  source: 'online' | 'manual' | 'statement';
  /** `<provider>:<transaction id>` or `bank:<bank reference>`: a repeat of it counts once. */
  dedupeKey: string;
  receivedOn: string;
  /** Staff may name the invoice money on account pays; otherwise the order's, then oldest first. */
  invoiceId?: string | undefined;
}

/**
 * Records money received for a payment, once per dedupe key: the payment's received sum grows, a
 * `payment` ledger entry lowers what is owed, and the money is allocated to invoices. The payment is
 * confirmed once everything expected arrived, and `payment.confirmed` is announced (outbox, same
 * transaction) exactly then. Answers `duplicate` for a receipt already recorded.
 */
export async function recordReceipt(
  tx: Transaction,
  paymentId: string,
  receipt: Receipt,
  caller: Caller,
): Promise<{ payment: Payment; duplicate: boolean; confirmedNow: boolean }> {
  const before = await findPayment(tx, paymentId, { lock: true });
  if (!before) throw new NotFound('Payment');
  const { rowCount } = await tx.query(
    `INSERT INTO credit.payment_receipts (payment_id, company_id, source, dedupe_key, amount_minor, received_on, actor)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING`,
    [
      paymentId,
      before.companyId,
      receipt.source,
      receipt.dedupeKey,
      receipt.amount,
      receipt.receivedOn,
      caller.actor,
    ],
  );
  if (!rowCount) return { payment: before, duplicate: true, confirmedNow: false };
  if (before.status === 'failed') {
    throw new UnprocessableRequest(
      'payment-failed',
      'This payment failed; money cannot be recorded against it',
    );
  }
  const currency = before.amount.currency;
  await ensureAccount(tx, before.companyId, currency);
  const received = before.received + receipt.amount;
  const confirmedNow = before.status !== 'confirmed' && received >= before.amount.minor;
  const { rows } = await tx.query(
    `UPDATE credit.payments SET received_minor = $2, status = $3, updated_at = now(),
            confirmed_at = CASE WHEN $4 THEN now() ELSE confirmed_at END
      WHERE id = $1 RETURNING *`,
    [paymentId, received, received >= before.amount.minor ? 'confirmed' : 'partially_received', confirmedNow],
  );
  const payment = toPayment(rows[0]);
  await postEntry(tx, {
    companyId: payment.companyId,
    kind: 'payment',
    reference: payment.reference,
    amount: { minor: receipt.amount, currency },
    owedDelta: -receipt.amount,
    paymentId: payment.id,
    note: `${receipt.source} receipt ${receipt.dedupeKey}`,
    actor: caller.actor,
    requestId: caller.requestId,
  });
  await allocatePayment(tx, payment, receipt.invoiceId);
  if (confirmedNow) {
    await writeOutbox(
      tx,
      [
        {
          kind: 'event',
          name: 'payment.confirmed',
          companyId: payment.companyId,
          payload: {
            paymentId: payment.id,
            reference: payment.reference,
            companyId: payment.companyId,
            method: payment.method,
            amount: moneyOf(payment.received, currency),
          },
        },
      ],
      { requestId: caller.requestId },
    );
  }
  return { payment: (await findPayment(tx, paymentId))!, duplicate: false, confirmedNow };
}

/** Allocates a payment's free money: to the named invoice, else the order's invoice, else oldest first. */
async function allocatePayment(
  tx: Transaction,
  payment: Payment,
  invoiceId: string | undefined,
): Promise<void> {
  let free = unallocatedOf((await findPayment(tx, payment.id))!);
  if (free <= 0n) return;
  let targets: Invoice[];
  if (invoiceId) {
    const named = await findInvoice(tx, invoiceId, { companyId: payment.companyId, lock: true });
    if (!named) throw new NotFound('Invoice');
    targets = [named];
  } else if (payment.reference) {
    const own = await invoiceByReference(tx, payment.reference, { lock: true });
    targets = own && own.companyId === payment.companyId ? [own] : [];
  } else {
    targets = await unpaidInvoices(tx, payment.companyId, payment.amount.currency);
  }
  for (const invoice of targets) {
    if (free <= 0n) break;
    const due = balanceOf(invoice);
    if (due <= 0n || invoice.amount.currency !== payment.amount.currency) continue;
    const amount = minBig(due, free);
    await allocate(tx, {
      companyId: payment.companyId,
      paymentId: payment.id,
      invoiceId: invoice.id,
      amount,
    });
    free -= amount;
  }
}

/** The provider said the payment failed (only a pending one fails); `payment.failed` is announced. */
export async function failPayment(
  tx: Transaction,
  paymentId: string,
  reason: string,
  caller: Caller,
): Promise<Payment> {
  const payment = await findPayment(tx, paymentId, { lock: true });
  if (!payment) throw new NotFound('Payment');
  if (payment.status !== 'pending') return payment;
  const { rows } = await tx.query(
    `UPDATE credit.payments SET status = 'failed', failure_reason = $2, updated_at = now() WHERE id = $1 RETURNING *`,
    [paymentId, reason.slice(0, 500)],
  );
  await writeOutbox(
    tx,
    [
      {
        kind: 'event',
        name: 'payment.failed',
        companyId: payment.companyId,
        payload: {
          paymentId: payment.id,
          reference: payment.reference,
          companyId: payment.companyId,
          method: payment.method,
          amount: moneyOf(payment.amount.minor, payment.amount.currency),
          reason: reason.slice(0, 500),
        },
      },
    ],
    { requestId: caller.requestId },
  );
  return toPayment(rows[0]);
}

/** Money received on account (no order): a confirmed payment of its own, allocated oldest first. */
export async function receiveOnAccount(
  tx: Transaction,
  params: {
    companyId: string;
    amount: Amount;
    receivedOn: string;
    bankReference: string;
    invoiceId?: string | undefined;
  },
  caller: Caller,
): Promise<{ payment: Payment; duplicate: boolean }> {
  const { rows: prior } = await tx.query(
    `SELECT payment_id FROM credit.payment_receipts WHERE dedupe_key = $1`,
    [`bank:${params.bankReference}`],
  );
  if (prior[0]) return { payment: (await findPayment(tx, prior[0].payment_id))!, duplicate: true };
  await ensureAccount(tx, params.companyId, params.amount.currency);
  const { rows } = await tx.query(
    `INSERT INTO credit.payments (company_id, method, currency, amount_minor, status)
     VALUES ($1, 'on_account', $2, $3, 'pending') RETURNING id`,
    [params.companyId, params.amount.currency, params.amount.minor],
  );
  const recorded = await recordReceipt(
    tx,
    rows[0]!.id,
    {
      amount: params.amount.minor,
      source: 'manual',
      dedupeKey: `bank:${params.bankReference}`,
      receivedOn: params.receivedOn,
      invoiceId: params.invoiceId,
    },
    caller,
  );
  return { payment: recorded.payment, duplicate: recorded.duplicate };
}

/**
 * Pays money back out of a payment's unallocated part (a cancelled prepaid order): a `refund`
 * ledger entry raises what is owed back by the amount.
 */
export async function refundPayment(
  tx: Transaction,
  paymentId: string,
  amount: bigint,
  reason: string,
  caller: Caller,
): Promise<Payment> {
  const payment = await findPayment(tx, paymentId, { lock: true });
  if (!payment) throw new NotFound('Payment');
  const free = unallocatedOf(payment);
  if (amount > free) {
    throw new UnprocessableRequest(
      'refund-exceeds-unallocated',
      'Only money not allocated to invoices is refunded',
      {
        errors: [{ pointer: '/amount/amountMinor', detail: `must be at most ${free}` }],
        unallocated: moneyOf(free, payment.amount.currency),
      },
    );
  }
  const { rows } = await tx.query(
    `UPDATE credit.payments SET refunded_minor = refunded_minor + $2, updated_at = now() WHERE id = $1 RETURNING *`,
    [paymentId, amount],
  );
  await postEntry(tx, {
    companyId: payment.companyId,
    kind: 'refund',
    reference: payment.reference,
    amount: { minor: amount, currency: payment.amount.currency },
    owedDelta: amount,
    paymentId,
    note: reason,
    actor: caller.actor,
    requestId: caller.requestId,
  });
  return toPayment(rows[0]);
}
