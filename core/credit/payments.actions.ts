import { createHash } from 'node:crypto';
import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { hasPermission, originOf } from '../platform/auth/auth-context.ts';
import type { Database } from '../platform/database/database.ts';
import { Forbidden, HubError, NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { type Upload, uploadOf } from '../platform/http/uploads.ts';
import { readStatement, STATEMENT_MAX_BYTES, type StatementLine } from './bank-statement.ts';
import {
  actorOf,
  audit,
  type CreditArea,
  type CreditContext,
  page,
  requireBuyer,
  requireFinanceStaff,
  TAGS,
  uuidCursor,
} from './credit-area.ts';
import { type Money, moneyOf, positiveAmount } from './money.ts';
import { InvalidSignature, type PaymentNotification } from './payment-gateway.ts';
import {
  failPayment,
  findPayment,
  listPayments,
  type PaymentMethod,
  type PaymentStatus,
  paymentByRemittanceCode,
  paymentView,
  REMITTANCE_CODE,
  receiveOnAccount,
  recordReceipt,
  refundPayment,
  startPayment,
} from './payments.ts';
import { businessDate } from './terms.ts';

interface PageParams {
  limit: number;
  cursor?: string;
}

type Outcome = 'matched' | 'amount_mismatch' | 'unmatched' | 'duplicate' | 'skipped' | 'invalid';

interface ReportRow {
  row: number;
  outcome: Outcome;
  receivedOn: string | null;
  amount: Money | null;
  bankReference: string | null;
  remittanceCode: string | null;
  paymentId: string | null;
  expected: Money | null;
  detail: string | null;
}

async function readAll(upload: Upload): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of upload.stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * One statement line against the payments it may be for: a remittance code in the remark names the
 * payment; the line is recorded as a receipt (once per bank reference, so importing a statement
 * again, or one overlapping a transfer staff confirmed by hand, records nothing twice).
 */
async function applyLine(
  db: Database,
  line: StatementLine,
  caller: { actor: string; requestId: string | undefined },
): Promise<ReportRow> {
  const base: ReportRow = {
    row: line.row,
    outcome: 'invalid',
    receivedOn: line.receivedOn,
    amount: line.amountMinor === null ? null : moneyOf(line.amountMinor, line.currency),
    bankReference: line.bankReference,
    remittanceCode: null,
    paymentId: null,
    expected: null,
    detail: null,
  };
  if (line.problem) return { ...base, detail: line.problem };
  if (line.outgoing || line.amountMinor === null || line.amountMinor <= 0n) {
    return { ...base, outcome: 'skipped', detail: 'not money received' };
  }
  const code = REMITTANCE_CODE.exec(line.remark.toUpperCase())?.[0] ?? null;
  if (!code) return { ...base, outcome: 'unmatched', detail: 'no remittance code in the remark' };
  const payment = await paymentByRemittanceCode(db, code);
  if (!payment)
    return { ...base, outcome: 'unmatched', remittanceCode: code, detail: 'unknown remittance code' };
  const withPayment = { ...base, remittanceCode: code, paymentId: payment.id };
  if (payment.amount.currency !== line.currency) {
    return {
      ...withPayment,
      detail: `the payment is in ${payment.amount.currency}, the line in ${line.currency}`,
    };
  }
  try {
    const result = await db.transaction(async (tx) => {
      const before = (await findPayment(tx, payment.id, { lock: true }))!;
      const expected = before.amount.minor - before.received;
      const recorded = await recordReceipt(
        tx,
        payment.id,
        {
          amount: line.amountMinor!,
          source: 'statement',
          dedupeKey: line.bankReference ? `bank:${line.bankReference}` : `statement-row:${line.fingerprint}`,
          receivedOn: line.receivedOn!,
        },
        caller,
      );
      return { expected, duplicate: recorded.duplicate };
    });
    const expected = moneyOf(result.expected > 0n ? result.expected : 0n, line.currency);
    if (result.duplicate) {
      return {
        ...withPayment,
        outcome: 'duplicate',
        expected,
        detail: 'this bank reference was recorded before',
      };
    }
    if (line.amountMinor === result.expected) return { ...withPayment, outcome: 'matched', expected };
    return {
      ...withPayment,
      outcome: 'amount_mismatch',
      expected,
      detail:
        line.amountMinor! < result.expected
          ? 'recorded as a partial payment'
          : 'recorded; more than expected arrived (kept on account)',
    };
  } catch (error) {
    if (error instanceof HubError) return { ...withPayment, detail: error.message };
    throw error;
  }
}

/**
 * Payments: starting them (mesh-only, for orders), the online provider's signed callback, staff
 * confirming bank transfers by hand or by importing a bank statement, money received on account,
 * refunds, and the lists finance and buyers read.
 */
export function paymentsArea({ platform, now, gateway, bankAccount }: CreditContext): CreditArea {
  const { db } = platform;
  const callerOf = (ctx: Context) => ({ actor: actorOf(ctx), requestId: originOf(ctx).requestId });

  /** Buyers see their company's payments with invoices.read at company scope (finance people). */
  function companyReader(ctx: Context): string {
    const buyer = requireBuyer(ctx, 'invoices.read');
    if (!hasPermission(buyer.auth, 'invoices.read', 'company')) {
      throw new Forbidden('Payments are shown with invoices.read at company scope');
    }
    return buyer.companyId;
  }

  /** A verified provider notification: success records the receipt once, failure fails the payment. */
  async function apply(ctx: Context, notification: PaymentNotification): Promise<void> {
    const payment = await findPayment(db, notification.paymentId).catch(() => undefined);
    if (payment?.method !== 'online') throw new NotFound('Payment');
    const caller = { actor: `provider:${gateway.provider}`, requestId: originOf(ctx).requestId };
    if (notification.status === 'failed') {
      await db.transaction((tx) =>
        failPayment(tx, payment.id, notification.failureReason ?? 'failed', caller),
      );
      return;
    }
    if (
      notification.amountMinor !== payment.amount.minor ||
      notification.currency !== payment.amount.currency
    ) {
      throw new UnprocessableRequest('amount-mismatch', 'The notified amount is not the payment amount', {
        expected: moneyOf(payment.amount.minor, payment.amount.currency),
      });
    }
    const paidAt = notification.paidAt ? new Date(notification.paidAt) : now();
    await db.transaction((tx) =>
      recordReceipt(
        tx,
        payment.id,
        {
          amount: notification.amountMinor,
          source: 'online',
          dedupeKey: `${gateway.provider}:${notification.providerTransactionId}`,
          receivedOn: businessDate(Number.isNaN(paidAt.getTime()) ? now() : paidAt),
        },
        caller,
      ),
    );
  }

  return {
    actions: {
      /** Mesh-only (orders): start paying for `reference`; idempotent per reference unless it failed. */
      'internal.start': {
        visibility: 'public' as const,
        params: schemaRef('api/payments/start-payment-params'),
        async handler(
          ctx: Context<{
            reference: string;
            companyId: string;
            method: 'online' | 'bank_transfer';
            amount: Money;
          }>,
        ) {
          const payment = await startPayment(db, gateway, bankAccount, {
            ...ctx.params,
            amount: positiveAmount(ctx.params.amount),
          });
          return { paymentId: payment.id, status: payment.status, instructions: payment.instructions };
        },
      },

      /** Mesh-only: one payment as `entities/payment-record`. */
      'internal.get': {
        visibility: 'public' as const,
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const payment = await findPayment(db, ctx.params.id);
          if (!payment) throw new NotFound('Payment');
          return paymentView(payment);
        },
      },

      'hooks.simulator': {
        params: schemaRef('api/payments/simulator-callback-request'),
        async handler(ctx: Context<Record<string, string>>) {
          let notification: PaymentNotification;
          try {
            notification = gateway.verifyCallback(ctx.params);
          } catch (error) {
            if (error instanceof InvalidSignature)
              throw new HubError(401, 'invalid-signature', error.message);
            throw error;
          }
          await apply(ctx, notification);
          return { result: 'success' };
        },
      },

      /**
       * Mesh-only (operations): asks the provider about a pending online payment whose callback never
       * came, and applies the answer as the callback would have.
       */
      'internal.refresh': {
        visibility: 'public' as const,
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const payment = await findPayment(db, ctx.params.id);
          if (payment?.method !== 'online') throw new NotFound('Payment');
          const notification =
            payment.status === 'pending' ? await gateway.queryStatus(payment.id) : undefined;
          if (notification) await apply(ctx, notification);
          return paymentView((await findPayment(db, payment.id))!);
        },
      },

      'payments.list': {
        params: schemaRef('api/payments/payment-list-query'),
        async handler(ctx: Context<PageParams & { status?: PaymentStatus }>) {
          const companyId = companyReader(ctx);
          const items = await listPayments(db, {
            companyId,
            status: ctx.params.status,
            after: uuidCursor(ctx.params),
            limit: ctx.params.limit,
          });
          return page(items.map(paymentView), ctx.params.limit, (item) => item.id);
        },
      },

      'payments.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const companyId = companyReader(ctx);
          const payment = await findPayment(db, ctx.params.id, { companyId });
          if (!payment) throw new NotFound('Payment');
          return paymentView(payment);
        },
      },

      'staff.payments.list': {
        params: schemaRef('api/payments/staff-payment-list-query'),
        async handler(
          ctx: Context<PageParams & { status?: PaymentStatus; method?: PaymentMethod; companyId?: string }>,
        ) {
          requireFinanceStaff(ctx, 'read');
          const items = await listPayments(db, {
            companyId: ctx.params.companyId,
            status: ctx.params.status,
            method: ctx.params.method,
            after: uuidCursor(ctx.params),
            limit: ctx.params.limit,
          });
          return page(items.map(paymentView), ctx.params.limit, (item) => item.id);
        },
      },

      'staff.payments.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireFinanceStaff(ctx, 'read');
          const payment = await findPayment(db, ctx.params.id);
          if (!payment) throw new NotFound('Payment');
          return paymentView(payment);
        },
      },

      'staff.payments.confirmTransfer': {
        params: schemaRef('api/payments/confirm-transfer-params'),
        async handler(
          ctx: Context<{ id: string; amount: Money; receivedOn: string; bankReference: string }>,
        ) {
          const auth = requireFinanceStaff(ctx);
          const amount = positiveAmount(ctx.params.amount);
          const payment = await db.transaction(async (tx) => {
            const before = await findPayment(tx, ctx.params.id, { lock: true });
            if (!before) throw new NotFound('Payment');
            if (before.method !== 'bank_transfer') {
              throw new UnprocessableRequest(
                'not-a-bank-transfer',
                'Only bank transfers are confirmed by hand',
              );
            }
            if (before.amount.currency !== amount.currency) {
              throw new UnprocessableRequest(
                'currency-mismatch',
                `The payment is in ${before.amount.currency}`,
                {
                  errors: [{ pointer: '/amount/currency', detail: `must be ${before.amount.currency}` }],
                },
              );
            }
            const recorded = await recordReceipt(
              tx,
              before.id,
              {
                amount: amount.minor,
                source: 'manual',
                dedupeKey: `bank:${ctx.params.bankReference}`,
                receivedOn: ctx.params.receivedOn,
              },
              callerOf(ctx),
            );
            if (!recorded.duplicate) {
              await audit(ctx, tx, auth, {
                action: 'payment.transfer_confirmed',
                entityType: 'payment',
                entityId: before.id,
                companyId: before.companyId,
                details: {
                  amount: ctx.params.amount,
                  receivedOn: ctx.params.receivedOn,
                  bankReference: ctx.params.bankReference,
                },
              });
            }
            return recorded.payment;
          });
          return paymentView(payment);
        },
      },

      'staff.payments.refund': {
        params: schemaRef('api/payments/refund-payment-params'),
        async handler(ctx: Context<{ id: string; amount: Money; reason: string }>) {
          const auth = requireFinanceStaff(ctx);
          const amount = positiveAmount(ctx.params.amount);
          const payment = await db.transaction(async (tx) => {
            const before = await findPayment(tx, ctx.params.id);
            if (!before) throw new NotFound('Payment');
            if (before.amount.currency !== amount.currency) {
              throw new UnprocessableRequest(
                'currency-mismatch',
                `The payment is in ${before.amount.currency}`,
                {
                  errors: [{ pointer: '/amount/currency', detail: `must be ${before.amount.currency}` }],
                },
              );
            }
            const after = await refundPayment(tx, before.id, amount.minor, ctx.params.reason, callerOf(ctx));
            await audit(ctx, tx, auth, {
              action: 'payment.refunded',
              entityType: 'payment',
              entityId: before.id,
              companyId: before.companyId,
              details: { amount: ctx.params.amount, reason: ctx.params.reason },
            });
            return after;
          });
          return paymentView(payment);
        },
      },

      'staff.receipts.create': {
        params: schemaRef('api/payments/receive-on-account-request'),
        async handler(
          ctx: Context<{
            companyId: string;
            amount: Money;
            receivedOn: string;
            bankReference: string;
            invoiceId?: string;
          }>,
        ) {
          const auth = requireFinanceStaff(ctx);
          if (!(await ctx.call('accounts.internal.companyContext', { companyId: ctx.params.companyId }))) {
            throw new NotFound('Company');
          }
          const amount = positiveAmount(ctx.params.amount);
          const payment = await db.transaction(async (tx) => {
            const { payment, duplicate } = await receiveOnAccount(
              tx,
              { ...ctx.params, amount },
              callerOf(ctx),
            );
            if (!duplicate) {
              await audit(ctx, tx, auth, {
                action: 'payment.received_on_account',
                entityType: 'payment',
                entityId: payment.id,
                companyId: payment.companyId,
                details: {
                  amount: ctx.params.amount,
                  receivedOn: ctx.params.receivedOn,
                  bankReference: ctx.params.bankReference,
                  invoiceId: ctx.params.invoiceId ?? null,
                },
              });
            }
            return payment;
          });
          return paymentView(payment);
        },
      },

      'staff.statements.import': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const upload = uploadOf(ctx);
          let auth: ReturnType<typeof requireFinanceStaff>;
          try {
            auth = requireFinanceStaff(ctx);
          } catch (error) {
            upload.stream.resume();
            upload.stream.on('error', () => {});
            throw error;
          }
          const bytes = await readAll(upload);
          const lines = readStatement(bytes);
          const caller = callerOf(ctx);
          const items: ReportRow[] = [];
          for (const line of lines) items.push(await applyLine(db, line, caller));
          const summary = {
            rows: items.length,
            matched: 0,
            amount_mismatch: 0,
            unmatched: 0,
            duplicate: 0,
            skipped: 0,
            invalid: 0,
          };
          for (const item of items) summary[item.outcome] += 1;
          const importId = await db.transaction(async (tx) => {
            const { rows } = await tx.query(
              `INSERT INTO credit.statement_imports (file_name, sha256, summary, report, imported_by)
               VALUES ($1, $2, $3::jsonb, $4::jsonb, $5) RETURNING id`,
              [
                upload.filename ?? null,
                createHash('sha256').update(bytes).digest('hex'),
                JSON.stringify(summary),
                JSON.stringify(items),
                `${auth.kind}:${auth.principalId}`,
              ],
            );
            await audit(ctx, tx, auth, {
              action: 'payment.statement_imported',
              entityType: 'statement_import',
              entityId: rows[0]!.id,
              companyId: null,
              details: { fileName: upload.filename ?? null, summary },
            });
            return rows[0]!.id as string;
          });
          return { importId, summary, items };
        },
      },
    },
    routes: ROUTES,
  };
}

const tag = TAGS.payments;
const STATEMENT_TYPES = ['text/csv', 'text/plain', 'application/vnd.ms-excel', 'application/octet-stream'];

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: '/hooks/payments/simulator',
    action: 'payments.hooks.simulator',
    operationId: 'paymentSimulatorCallback',
    tag,
    summary:
      "The payment simulator's signed notification (public; HMAC-verified; a repeated transaction counts once)",
    audience: 'public',
    requestSchema: 'api/payments/simulator-callback-request',
    responseSchema: 'api/payments/simulator-callback-response',
  },
  {
    method: 'GET',
    path: '/api/payments',
    action: 'payments.payments.list',
    operationId: 'listPayments',
    tag,
    summary: "The company's payments with what was received and how to pay (invoices.read at company scope)",
    audience: 'buyer',
    querySchema: 'api/payments/payment-list-query',
    responseSchema: 'api/payments/payment-list-response',
  },
  {
    method: 'GET',
    path: '/api/payments/:id',
    action: 'payments.payments.get',
    operationId: 'getPayment',
    tag,
    summary: 'One payment (invoices.read at company scope)',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/payment-record',
  },
  {
    method: 'GET',
    path: '/api/staff/payments',
    action: 'payments.staff.payments.list',
    operationId: 'listStaffPayments',
    tag,
    summary: 'Payments of every company or one (finance.read)',
    audience: 'staff',
    querySchema: 'api/payments/staff-payment-list-query',
    responseSchema: 'api/payments/payment-list-response',
  },
  {
    method: 'GET',
    path: '/api/staff/payments/:id',
    action: 'payments.staff.payments.get',
    operationId: 'getStaffPayment',
    tag,
    summary: 'One payment (finance.read)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/payment-record',
  },
  {
    method: 'POST',
    path: '/api/staff/payments/:id/confirm-transfer',
    action: 'payments.staff.payments.confirmTransfer',
    operationId: 'confirmBankTransfer',
    tag,
    summary:
      'Confirm a bank transfer arrived, in full or in part, by its bank reference (finance.manage; audited; once per reference)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/payments/confirm-transfer-request',
    responseSchema: 'entities/payment-record',
  },
  {
    method: 'POST',
    path: '/api/staff/payments/:id/refund',
    action: 'payments.staff.payments.refund',
    operationId: 'refundPayment',
    tag,
    summary: 'Refund money of a payment not allocated to invoices (finance.manage; audited)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/payments/refund-payment-request',
    responseSchema: 'entities/payment-record',
  },
  {
    method: 'POST',
    path: '/api/staff/payments/receipts',
    action: 'payments.staff.receipts.create',
    operationId: 'receivePaymentOnAccount',
    tag,
    summary:
      'Record money a company paid on account, allocated to a named invoice or the oldest unpaid ones (finance.manage; audited)',
    audience: 'staff',
    requestSchema: 'api/payments/receive-on-account-request',
    responseSchema: 'entities/payment-record',
    successStatus: 201,
  },
  {
    method: 'POST',
    path: '/api/staff/payments/statement-imports',
    action: 'payments.staff.statements.import',
    operationId: 'importBankStatement',
    tag,
    summary:
      'Import a bank statement CSV (UTF-8 or GBK): lines matched by remittance code, with a per-row report (finance.manage)',
    audience: 'staff',
    responseSchema: 'api/payments/statement-import-response',
    upload: { contentTypes: STATEMENT_TYPES, maxBytes: STATEMENT_MAX_BYTES },
  },
];
