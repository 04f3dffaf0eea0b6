import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { type AuthContext, originOf } from '../platform/auth/auth-context.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import {
  actorOf,
  audit,
  type Buyer,
  type CreditArea,
  type CreditContext,
  page,
  requireBuyer,
  requireFinanceStaff,
  TAGS,
  uuidCursor,
} from './credit-area.ts';
import {
  findInvoice,
  type Invoice,
  type InvoiceLine,
  type InvoiceStatus,
  invoiceByReference,
  invoiceView,
  issueInvoice,
  listInvoices,
  sweepOverdue,
} from './invoices.ts';
import { type Money, positiveAmount } from './money.ts';
import { businessDate } from './terms.ts';

interface PageParams {
  limit: number;
  cursor?: string;
}

/**
 * What of the company's invoices a buyer sees: all of them with `invoices.read` at company scope;
 * at unit or unit-tree scope those placed from their unit (never wider: descendants are not
 * resolved here); at own scope those they placed.
 */
export function invoiceScope(buyer: Buyer): { placedBy?: string; placedUnit?: string } {
  if (buyer.scope === 'company') return {};
  if ((buyer.scope === 'unit' || buyer.scope === 'unit_tree') && buyer.auth.unitId) {
    return { placedUnit: buyer.auth.unitId };
  }
  return { placedBy: buyer.auth.principalId };
}

export function canSeeInvoice(buyer: Buyer, invoice: Invoice): boolean {
  const scope = invoiceScope(buyer);
  if (scope.placedBy) return invoice.placedBy === scope.placedBy;
  if (scope.placedUnit) return invoice.placedUnit === scope.placedUnit;
  return true;
}

/**
 * Receivables: invoices against orders (issued over the mesh by orders, or by finance staff),
 * buyers' invoice lists within their scope, finance's lists and the overdue list, and the overdue
 * sweep (a timer in each process running the service; several sweepers are safe).
 */
export function receivablesArea({ platform, now }: CreditContext): CreditArea {
  const { db } = platform;
  const today = () => businessDate(now());

  return {
    actions: {
      'invoices.list': {
        params: schemaRef('api/receivables/invoice-list-query'),
        async handler(ctx: Context<PageParams & { status?: InvoiceStatus }>) {
          const buyer = requireBuyer(ctx, 'invoices.read');
          const invoices = await listInvoices(db, {
            companyId: buyer.companyId,
            ...invoiceScope(buyer),
            status: ctx.params.status,
            after: uuidCursor(ctx.params),
            limit: ctx.params.limit,
          });
          const day = today();
          return page(
            invoices.map((invoice) => invoiceView(invoice, day)),
            ctx.params.limit,
            (invoice) => invoice.id,
          );
        },
      },

      'invoices.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const buyer = requireBuyer(ctx, 'invoices.read');
          const invoice = await findInvoice(db, ctx.params.id, { companyId: buyer.companyId });
          if (!invoice || !canSeeInvoice(buyer, invoice)) throw new NotFound('Invoice');
          return invoiceView(invoice, today());
        },
      },

      'staff.invoices.list': {
        params: schemaRef('api/receivables/staff-invoice-list-query'),
        async handler(ctx: Context<PageParams & { status?: InvoiceStatus; companyId?: string }>) {
          requireFinanceStaff(ctx, 'read');
          const invoices = await listInvoices(db, {
            companyId: ctx.params.companyId,
            status: ctx.params.status,
            after: uuidCursor(ctx.params),
            limit: ctx.params.limit,
          });
          const day = today();
          return page(
            invoices.map((invoice) => invoiceView(invoice, day)),
            ctx.params.limit,
            (invoice) => invoice.id,
          );
        },
      },

      'staff.invoices.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireFinanceStaff(ctx, 'read');
          const invoice = await findInvoice(db, ctx.params.id);
          if (!invoice) throw new NotFound('Invoice');
          return invoiceView(invoice, today());
        },
      },

      'staff.invoices.create': {
        params: schemaRef('api/receivables/create-invoice-request'),
        async handler(
          ctx: Context<{
            companyId: string;
            reference: string;
            amount: Money;
            dueDate?: string;
            lines?: InvoiceLine[];
          }>,
        ) {
          const auth = requireFinanceStaff(ctx);
          if (!(await ctx.call('accounts.internal.companyContext', { companyId: ctx.params.companyId }))) {
            throw new NotFound('Company');
          }
          const { invoice, created } = await issueInvoice(
            db,
            { ...ctx.params, amount: positiveAmount(ctx.params.amount) },
            { actor: actorOf(ctx), requestId: originOf(ctx).requestId, today: today() },
          );
          if (created) {
            await audit(ctx, db, auth, {
              action: 'invoice.issued',
              entityType: 'invoice',
              entityId: invoice.id,
              companyId: invoice.companyId,
              details: { number: invoice.number, reference: invoice.reference, amount: ctx.params.amount },
            });
          }
          return invoiceView(invoice, today());
        },
      },

      'staff.overdue.list': {
        params: schemaRef('api/receivables/overdue-list-query'),
        async handler(ctx: Context<PageParams & { companyId?: string }>) {
          requireFinanceStaff(ctx, 'read');
          const day = today();
          const invoices = await listInvoices(db, {
            companyId: ctx.params.companyId,
            overdueOn: day,
            after: uuidCursor(ctx.params),
            limit: ctx.params.limit,
          });
          return page(
            invoices.map((invoice) => invoiceView(invoice, day)),
            ctx.params.limit,
            (invoice) => invoice.id,
          );
        },
      },

      /**
       * Mesh-only (orders): the invoice of an order, idempotent per reference. Who placed it comes
       * from the params or, for a buyer caller, the auth context (buyers read at own/unit scope).
       */
      'internal.issueInvoice': {
        visibility: 'public' as const,
        params: schemaRef('api/receivables/issue-invoice-params'),
        async handler(
          ctx: Context<{
            reference: string;
            companyId: string;
            amount: Money;
            dueDate?: string;
            lines?: InvoiceLine[];
            userId?: string;
            unitId?: string;
          }>,
        ) {
          const auth = (ctx.meta as { auth?: AuthContext }).auth;
          const buyer = auth?.kind === 'buyer' && auth.companyId === ctx.params.companyId ? auth : undefined;
          const { invoice } = await issueInvoice(
            db,
            {
              reference: ctx.params.reference,
              companyId: ctx.params.companyId,
              amount: positiveAmount(ctx.params.amount),
              dueDate: ctx.params.dueDate,
              lines: ctx.params.lines,
              placedBy: ctx.params.userId ?? buyer?.principalId ?? null,
              placedUnit: ctx.params.unitId ?? buyer?.unitId ?? null,
            },
            { actor: actorOf(ctx), requestId: originOf(ctx).requestId, today: today() },
          );
          return invoiceView(invoice, today());
        },
      },

      /**
       * Mesh-only (orders' printable invoice): the invoice issued for a reference (`order:<id>`), or
       * null; a caller carrying a company reaches only that company's invoices.
       */
      'internal.invoiceByReference': {
        visibility: 'public' as const,
        params: schemaRef('api/receivables/invoice-reference-params'),
        async handler(ctx: Context<{ reference: string }>) {
          const invoice = await invoiceByReference(db, ctx.params.reference);
          const tenant = (ctx.meta as { auth?: AuthContext }).auth?.companyId;
          if (!invoice || (tenant && invoice.companyId !== tenant)) return null;
          return invoiceView(invoice, today());
        },
      },

      /** Mesh-only: run the overdue sweep now (operations, tests); `today` defaults to the business date. */
      'internal.sweepOverdue': {
        visibility: 'public' as const,
        params: schemaRef('api/receivables/sweep-overdue-params'),
        async handler(ctx: Context<{ today?: string }>) {
          const day = ctx.params.today ?? today();
          return { marked: await sweepOverdue(db, day), today: day };
        },
      },
    },
    routes: ROUTES,
  };
}

const tag = TAGS.receivables;

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/invoices',
    action: 'receivables.invoices.list',
    operationId: 'listInvoices',
    tag,
    summary: "The company's invoices within the caller's invoices.read scope",
    audience: 'buyer',
    querySchema: 'api/receivables/invoice-list-query',
    responseSchema: 'api/receivables/invoice-list-response',
  },
  {
    method: 'GET',
    path: '/api/invoices/:id',
    action: 'receivables.invoices.get',
    operationId: 'getInvoice',
    tag,
    summary: 'One invoice with its balance, due date and status (invoices.read)',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/invoice-receivable',
  },
  {
    method: 'GET',
    path: '/api/staff/receivables/invoices',
    action: 'receivables.staff.invoices.list',
    operationId: 'listReceivableInvoices',
    tag,
    summary: 'Invoices of every company or one (finance.read)',
    audience: 'staff',
    querySchema: 'api/receivables/staff-invoice-list-query',
    responseSchema: 'api/receivables/invoice-list-response',
  },
  {
    method: 'POST',
    path: '/api/staff/receivables/invoices',
    action: 'receivables.staff.invoices.create',
    operationId: 'createReceivableInvoice',
    tag,
    summary: 'Issue an invoice by hand, due by the company terms unless dated (finance.manage; audited)',
    audience: 'staff',
    requestSchema: 'api/receivables/create-invoice-request',
    responseSchema: 'entities/invoice-receivable',
    successStatus: 201,
    location: '/api/staff/receivables/invoices/{id}',
  },
  {
    method: 'GET',
    path: '/api/staff/receivables/invoices/:id',
    action: 'receivables.staff.invoices.get',
    operationId: 'getReceivableInvoice',
    tag,
    summary: 'One invoice (finance.read)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/invoice-receivable',
  },
  {
    method: 'GET',
    path: '/api/staff/receivables/overdue',
    action: 'receivables.staff.overdue.list',
    operationId: 'listOverdueInvoices',
    tag,
    summary: 'Unpaid invoices past their due date today, with days overdue (finance.read)',
    audience: 'staff',
    querySchema: 'api/receivables/overdue-list-query',
    responseSchema: 'api/receivables/invoice-list-response',
  },
];
