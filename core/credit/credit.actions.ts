import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import type { Queryable, Transaction } from '../platform/database/database.ts';
import { NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import {
  actorOf,
  audit,
  type CreditArea,
  type CreditContext,
  page,
  requireBuyer,
  requireFinanceStaff,
  serialCursor,
  TAGS,
  uuidCursor,
} from './credit-area.ts';
import { captureHold, placeHold, releaseHold } from './holds.ts';
import { balanceOf, creditInvoice, findInvoice } from './invoices.ts';
import {
  type Account,
  accountView,
  blockOf,
  findAccount,
  listEntries,
  postEntry,
  requireAccount,
  toAccount,
} from './ledger.ts';
import { amountOf, type Money, moneyOf, positiveAmount } from './money.ts';
import { businessDate, type Terms } from './terms.ts';

interface PageParams {
  limit: number;
  cursor?: string;
}

/** What finance staff set on an account, as `entities/credit-account-settings`. */
function settingsOf(account: Account) {
  return {
    currency: account.currency,
    creditEnabled: account.creditEnabled,
    limit: moneyOf(account.limit, account.currency),
    terms: account.terms,
    graceDays: account.graceDays,
    onHold: account.onHold,
    holdReason: account.holdReason,
  };
}

async function recordChange(
  tx: Transaction,
  change: { companyId: string; before: unknown; after: unknown; reason: string | null; changedBy: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO credit.account_changes (company_id, before, after, reason, changed_by)
     VALUES ($1, $2::jsonb, $3::jsonb, $4, $5)`,
    [
      change.companyId,
      JSON.stringify(change.before),
      JSON.stringify(change.after),
      change.reason,
      change.changedBy,
    ],
  );
}

async function listAccounts(
  db: Queryable,
  filter: {
    after?: string | undefined;
    onHold?: boolean | undefined;
    creditEnabled?: boolean | undefined;
    limit: number;
  },
): Promise<Account[]> {
  const { rows } = await db.query(
    `SELECT * FROM credit.accounts
      WHERE ($1::uuid IS NULL OR company_id > $1) AND ($2::boolean IS NULL OR on_hold = $2)
        AND ($3::boolean IS NULL OR credit_enabled = $3)
      ORDER BY company_id LIMIT $4`,
    [filter.after ?? null, filter.onHold ?? null, filter.creditEnabled ?? null, filter.limit],
  );
  return rows.map(toAccount);
}

/**
 * Credit accounts (账期): buyers read their company's account and ledger (`credit.read`); finance
 * staff open and change accounts (limit, terms, grace; audited old → new, `credit.limit_changed`),
 * put them on hold and post adjustments; orders hold, capture and release credit over the mesh.
 */
export function creditArea({ platform, now }: CreditContext): CreditArea {
  const { db } = platform;
  const today = () => businessDate(now());
  const callerOf = (ctx: Context) => ({
    actor: actorOf(ctx),
    requestId: originOf(ctx).requestId,
    today: today(),
  });

  async function view(account: Account) {
    return accountView(account, await blockOf(db, account, today()));
  }

  return {
    actions: {
      'account.get': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const { companyId } = requireBuyer(ctx, 'credit.read');
          return view(await requireAccount(db, companyId));
        },
      },

      'ledger.list': {
        params: schemaRef('api/credit/credit-ledger-query'),
        async handler(ctx: Context<PageParams>) {
          const { companyId } = requireBuyer(ctx, 'credit.read');
          await requireAccount(db, companyId);
          const items = await listEntries(db, companyId, {
            limit: ctx.params.limit,
            before: serialCursor(ctx.params),
          });
          return page(items, ctx.params.limit, (entry) => entry.id);
        },
      },

      'staff.accounts.list': {
        params: schemaRef('api/credit/staff-credit-account-list-query'),
        async handler(ctx: Context<PageParams & { onHold?: boolean; creditEnabled?: boolean }>) {
          requireFinanceStaff(ctx, 'read');
          const accounts = await listAccounts(db, {
            after: uuidCursor(ctx.params),
            onHold: ctx.params.onHold,
            creditEnabled: ctx.params.creditEnabled,
            limit: ctx.params.limit,
          });
          const items = await Promise.all(accounts.map(view));
          return page(items, ctx.params.limit, (account) => account.companyId);
        },
      },

      'staff.accounts.get': {
        params: schemaRef('api/credit/credit-company-params'),
        async handler(ctx: Context<{ companyId: string }>) {
          requireFinanceStaff(ctx, 'read');
          return view(await requireAccount(db, ctx.params.companyId));
        },
      },

      'staff.accounts.put': {
        params: schemaRef('api/credit/put-credit-account-params'),
        async handler(
          ctx: Context<{
            companyId: string;
            limit: Money;
            terms: Terms;
            graceDays: number;
            creditEnabled: boolean;
            reason?: string;
          }>,
        ) {
          const auth = requireFinanceStaff(ctx);
          const { companyId, terms, graceDays, creditEnabled } = ctx.params;
          const limit = amountOf(ctx.params.limit);
          if (limit.minor < 0n) {
            throw new UnprocessableRequest('invalid-amount', 'A credit limit cannot be negative', {
              errors: [{ pointer: '/limit/amountMinor', detail: 'must not be negative' }],
            });
          }
          // The company must exist (accounts over the mesh); a stranger's id answers 404.
          if (!(await ctx.call('accounts.internal.companyContext', { companyId })))
            throw new NotFound('Company');
          const account = await db.transaction(async (tx) => {
            const before = await findAccount(tx, companyId, { lock: true });
            if (before && before.currency !== limit.currency) {
              throw new UnprocessableRequest(
                'currency-mismatch',
                `The account is kept in ${before.currency}; its currency does not change`,
                { errors: [{ pointer: '/limit/currency', detail: `must be ${before.currency}` }] },
              );
            }
            const { rows } = await tx.query(
              `INSERT INTO credit.accounts (company_id, currency, credit_enabled, limit_minor, terms_kind, terms_days, grace_days)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (company_id) DO UPDATE SET credit_enabled = $3, limit_minor = $4, terms_kind = $5,
                 terms_days = $6, grace_days = $7, updated_at = now()
               RETURNING *`,
              [companyId, limit.currency, creditEnabled, limit.minor, terms.kind, terms.days, graceDays],
            );
            const after = toAccount(rows[0]);
            const change = {
              companyId,
              before: before ? settingsOf(before) : null,
              after: settingsOf(after),
              reason: ctx.params.reason ?? null,
              changedBy: `${auth.kind}:${auth.principalId}`,
            };
            await recordChange(tx, change);
            await audit(ctx, tx, auth, {
              action: 'credit_account.changed',
              entityType: 'credit_account',
              entityId: companyId,
              companyId,
              details: { before: change.before, after: change.after, reason: change.reason },
            });
            await writeOutbox(
              tx,
              [{ kind: 'event', name: 'credit.limit_changed', companyId, payload: change }],
              originOf(ctx),
            );
            return after;
          });
          return view(account);
        },
      },

      'staff.accounts.hold': {
        params: schemaRef('api/credit/credit-account-hold-params'),
        async handler(ctx: Context<{ companyId: string; onHold: boolean; reason?: string }>) {
          const auth = requireFinanceStaff(ctx);
          const { companyId, onHold } = ctx.params;
          const reason = onHold ? (ctx.params.reason ?? 'On hold by finance') : null;
          const account = await db.transaction(async (tx) => {
            const before = await findAccount(tx, companyId, { lock: true });
            if (!before) throw new NotFound('Credit account');
            const { rows } = await tx.query(
              `UPDATE credit.accounts SET on_hold = $2, hold_reason = $3, updated_at = now() WHERE company_id = $1 RETURNING *`,
              [companyId, onHold, reason],
            );
            const after = toAccount(rows[0]);
            const change = {
              companyId,
              before: settingsOf(before),
              after: settingsOf(after),
              reason: ctx.params.reason ?? null,
              changedBy: `${auth.kind}:${auth.principalId}`,
            };
            await recordChange(tx, change);
            await audit(ctx, tx, auth, {
              action: onHold ? 'credit_account.held' : 'credit_account.hold_lifted',
              entityType: 'credit_account',
              entityId: companyId,
              companyId,
              details: { before: change.before, after: change.after, reason: change.reason },
            });
            return after;
          });
          return view(account);
        },
      },

      'staff.accounts.changes': {
        params: schemaRef('api/credit/staff-credit-ledger-query'),
        async handler(ctx: Context<PageParams & { companyId: string }>) {
          requireFinanceStaff(ctx, 'read');
          const before = serialCursor(ctx.params);
          const { rows } = await db.query(
            `SELECT id, before, after, reason, changed_by, changed_at FROM credit.account_changes
              WHERE company_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
            [ctx.params.companyId, before ?? null, ctx.params.limit],
          );
          const items = rows.map((row) => ({
            id: String(row.id),
            before: row.before,
            after: row.after,
            reason: row.reason,
            changedBy: row.changed_by,
            changedAt: new Date(row.changed_at).toISOString(),
          }));
          return page(items, ctx.params.limit, (item) => item.id);
        },
      },

      'staff.ledger.list': {
        params: schemaRef('api/credit/staff-credit-ledger-query'),
        async handler(ctx: Context<PageParams & { companyId: string }>) {
          requireFinanceStaff(ctx, 'read');
          await requireAccount(db, ctx.params.companyId);
          const items = await listEntries(db, ctx.params.companyId, {
            limit: ctx.params.limit,
            before: serialCursor(ctx.params),
          });
          return page(items, ctx.params.limit, (entry) => entry.id);
        },
      },

      'staff.adjustments.create': {
        params: schemaRef('api/credit/credit-adjustment-params'),
        async handler(
          ctx: Context<{ companyId: string; amount: Money; reason: string; invoiceId?: string }>,
        ) {
          const auth = requireFinanceStaff(ctx);
          const { companyId, reason, invoiceId } = ctx.params;
          const amount = amountOf(ctx.params.amount);
          if (amount.minor === 0n) {
            throw new UnprocessableRequest('invalid-amount', 'An adjustment moves a non-zero amount', {
              errors: [{ pointer: '/amount/amountMinor', detail: 'must not be zero' }],
            });
          }
          const account = await db.transaction(async (tx) => {
            const before = await findAccount(tx, companyId, { lock: true });
            if (!before) throw new NotFound('Credit account');
            if (before.currency !== amount.currency) {
              throw new UnprocessableRequest(
                'currency-mismatch',
                `The account is kept in ${before.currency}`,
                {
                  errors: [{ pointer: '/amount/currency', detail: `must be ${before.currency}` }],
                },
              );
            }
            if (invoiceId) {
              const invoice = await findInvoice(tx, invoiceId, { companyId, lock: true });
              if (!invoice) throw new NotFound('Invoice');
              if (amount.minor > 0n || -amount.minor > balanceOf(invoice)) {
                throw new UnprocessableRequest(
                  'invalid-credit-note',
                  'A credit note on an invoice is negative and at most its balance',
                  {
                    errors: [
                      { pointer: '/amount/amountMinor', detail: `must be -1..-${balanceOf(invoice)}` },
                    ],
                  },
                );
              }
              await creditInvoice(tx, invoiceId, -amount.minor);
            }
            const after = await postEntry(tx, {
              companyId,
              kind: 'adjustment',
              amount,
              owedDelta: amount.minor,
              invoiceId: invoiceId ?? null,
              note: reason,
              actor: `${auth.kind}:${auth.principalId}`,
              requestId: originOf(ctx).requestId,
            });
            await audit(ctx, tx, auth, {
              action: 'credit_account.adjusted',
              entityType: 'credit_account',
              entityId: companyId,
              companyId,
              details: { amount: ctx.params.amount, reason, invoiceId: invoiceId ?? null },
            });
            return after!;
          });
          return view(account);
        },
      },

      /** Mesh-only (orders): hold credit for an order; see holds.ts for the refusals. */
      'internal.hold': {
        visibility: 'public' as const,
        params: schemaRef('api/credit/credit-hold-params'),
        async handler(ctx: Context<{ reference: string; companyId: string; amount: Money }>) {
          return placeHold(db, { ...ctx.params, amount: positiveAmount(ctx.params.amount) }, callerOf(ctx));
        },
      },

      /** Mesh-only: release the hold (compensation, cancellation); a no-op when there is none. */
      'internal.release': {
        visibility: 'public' as const,
        params: schemaRef('api/credit/credit-reference-params'),
        async handler(ctx: Context<{ reference: string }>) {
          return releaseHold(db, ctx.params.reference, callerOf(ctx));
        },
      },

      /** Mesh-only: the order was confirmed; its hold becomes a purchase. */
      'internal.capture': {
        visibility: 'public' as const,
        params: schemaRef('api/credit/credit-capture-params'),
        async handler(ctx: Context<{ reference: string; amount?: Money }>) {
          return captureHold(
            db,
            {
              reference: ctx.params.reference,
              amount: ctx.params.amount ? positiveAmount(ctx.params.amount) : undefined,
            },
            callerOf(ctx),
          );
        },
      },

      /** Mesh-only: a company's account as `entities/credit-account`, or null without one. */
      'internal.account': {
        visibility: 'public' as const,
        params: schemaRef('api/credit/credit-company-params'),
        async handler(ctx: Context<{ companyId: string }>) {
          const account = await findAccount(db, ctx.params.companyId);
          return account ? view(account) : null;
        },
      },
    },
    routes: ROUTES,
  };
}

const tag = TAGS.credit;
const STAFF = '/api/staff/credit/accounts/:companyId';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/credit/account',
    action: 'credit.account.get',
    operationId: 'getCreditAccount',
    tag,
    summary: "The company's credit account: limit, terms, exposure, available credit, blocks (credit.read)",
    audience: 'buyer',
    responseSchema: 'entities/credit-account',
  },
  {
    method: 'GET',
    path: '/api/credit/ledger',
    action: 'credit.ledger.list',
    operationId: 'listCreditLedger',
    tag,
    summary: "The company's credit ledger, newest first (credit.read)",
    audience: 'buyer',
    querySchema: 'api/credit/credit-ledger-query',
    responseSchema: 'api/credit/credit-ledger-response',
  },
  {
    method: 'GET',
    path: '/api/staff/credit/accounts',
    action: 'credit.staff.accounts.list',
    operationId: 'listCreditAccounts',
    tag,
    summary: 'Credit accounts of every company (finance.read)',
    audience: 'staff',
    querySchema: 'api/credit/staff-credit-account-list-query',
    responseSchema: 'api/credit/credit-account-list-response',
  },
  {
    method: 'GET',
    path: STAFF,
    action: 'credit.staff.accounts.get',
    operationId: 'getCompanyCreditAccount',
    tag,
    summary: "A company's credit account (finance.read)",
    audience: 'staff',
    paramsSchema: 'api/credit/credit-company-params',
    responseSchema: 'entities/credit-account',
  },
  {
    method: 'PUT',
    path: STAFF,
    action: 'credit.staff.accounts.put',
    operationId: 'putCompanyCreditAccount',
    tag,
    summary:
      "Open or change a company's credit account: limit, terms (net N / month-end), grace days (finance.manage; audited, credit.limit_changed)",
    audience: 'staff',
    paramsSchema: 'api/credit/credit-company-params',
    requestSchema: 'api/credit/put-credit-account-request',
    responseSchema: 'entities/credit-account',
  },
  {
    method: 'POST',
    path: `${STAFF}/hold`,
    action: 'credit.staff.accounts.hold',
    operationId: 'holdCompanyCreditAccount',
    tag,
    summary: 'Put a credit account on hold (no new credit orders) or lift the hold (finance.manage; audited)',
    audience: 'staff',
    paramsSchema: 'api/credit/credit-company-params',
    requestSchema: 'api/credit/credit-account-hold-request',
    responseSchema: 'entities/credit-account',
  },
  {
    method: 'GET',
    path: `${STAFF}/changes`,
    action: 'credit.staff.accounts.changes',
    operationId: 'listCreditAccountChanges',
    tag,
    summary: "History of a credit account's settings, old → new (finance.read)",
    audience: 'staff',
    querySchema: 'api/credit/staff-credit-ledger-query',
    responseSchema: 'api/credit/credit-account-change-list-response',
  },
  {
    method: 'GET',
    path: `${STAFF}/ledger`,
    action: 'credit.staff.ledger.list',
    operationId: 'listCompanyCreditLedger',
    tag,
    summary: "A company's credit ledger, newest first (finance.read)",
    audience: 'staff',
    querySchema: 'api/credit/staff-credit-ledger-query',
    responseSchema: 'api/credit/credit-ledger-response',
  },
  {
    method: 'POST',
    path: `${STAFF}/adjustments`,
    action: 'credit.staff.adjustments.create',
    operationId: 'adjustCompanyCredit',
    tag,
    summary:
      'Post a ledger adjustment: a charge, a write-off, or a credit note on an invoice (finance.manage; audited)',
    audience: 'staff',
    paramsSchema: 'api/credit/credit-company-params',
    requestSchema: 'api/credit/credit-adjustment-request',
    responseSchema: 'entities/credit-account',
    successStatus: 201,
  },
];
