import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { hasPermission, originOf } from '../platform/auth/auth-context.ts';
import { Conflict, NotFound, UnprocessableRequest, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { sendFile, type Upload, uploadOf } from '../platform/http/uploads.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import {
  audit,
  type CreditArea,
  type CreditContext,
  page,
  requireBuyer,
  requireFinanceStaff,
  TAGS,
  uuidCursor,
} from './credit-area.ts';
import {
  findInvoiceRequest,
  type InvoiceRequest,
  type InvoiceRequestStatus,
  invoiceRequestView,
  listInvoiceRequests,
} from './invoice-requests.ts';
import { findInvoice } from './invoices.ts';
import { canSeeInvoice } from './receivables.actions.ts';
import { taxNumberProblem } from './tax-number.ts';

/** An e-invoice PDF (数电发票 / 电子发票) is well under a megabyte; 10 MB leaves room for scans. */
const E_INVOICE_MAX_BYTES = 10 * 1024 * 1024;

interface CreateParams {
  invoiceId: string;
  type: 'normal' | 'special';
  title: string;
  taxNumber: string;
  bankName?: string;
  bankAccount?: string;
  address?: string;
  phone?: string;
  email: string;
}

const SPECIAL_FIELDS = ['bankName', 'bankAccount', 'address', 'phone'] as const;

function checkCreate(params: CreateParams): void {
  const problem = taxNumberProblem(params.taxNumber);
  if (problem) throw new ValidationFailed([{ pointer: '/taxNumber', detail: problem }]);
  if (params.type === 'special') {
    const missing = SPECIAL_FIELDS.find((field) => !params[field]?.trim());
    if (missing) {
      throw new ValidationFailed([
        { pointer: `/${missing}`, detail: 'is required for a special VAT invoice (增值税专用发票)' },
      ]);
    }
  }
}

async function readAll(upload: Upload): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of upload.stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Reads a refused upload to its end (bounded by the route) so the client gets the answer, not a reset. */
function discard(upload: Upload): void {
  upload.stream.resume();
  upload.stream.on('error', () => {});
}

/**
 * Invoice requests (开票申请、下载、查询): a buyer with `invoices.request` asks for a tax invoice for one
 * of their receivables (title 抬头, tax number 税号, type 普票 / 专票, email); finance staff issue it
 * by attaching the e-invoice PDF (kept in the object store) or reject it with a reason; the buyer
 * lists their requests and downloads issued invoices.
 */
export function invoiceRequestsArea({ platform }: CreditContext): CreditArea {
  const { db, storage } = platform;

  /** A request the buyer may see: their own, or any of the company's with invoices.read at company scope. */
  async function visibleRequest(ctx: Context, id: string): Promise<InvoiceRequest> {
    const { auth, companyId } = requireBuyer(ctx, 'invoices.read');
    const request = await findInvoiceRequest(db, id, { companyId });
    const companyWide = hasPermission(auth, 'invoices.read', 'company');
    if (!request || (!companyWide && request.requestedBy !== auth.principalId))
      throw new NotFound('Invoice request');
    return request;
  }

  function decided(request: InvoiceRequest, status: 'issued' | 'rejected') {
    return {
      kind: 'event' as const,
      name: 'invoice_request.decided',
      companyId: request.companyId,
      payload: {
        invoiceRequestId: request.id,
        companyId: request.companyId,
        invoiceId: request.invoiceId,
        status,
        requestedBy: request.requestedBy,
        email: request.email,
      },
    };
  }

  return {
    actions: {
      'invoiceRequests.create': {
        params: schemaRef('api/receivables/create-invoice-request-request'),
        async handler(ctx: Context<CreateParams>) {
          const buyer = requireBuyer(ctx, 'invoices.request');
          checkCreate(ctx.params);
          const invoice = await findInvoice(db, ctx.params.invoiceId, { companyId: buyer.companyId });
          // The receivable must be one the buyer can read; anything else reads like a missing one.
          const readScope = hasPermission(buyer.auth, 'invoices.read')
            ? requireBuyer(ctx, 'invoices.read')
            : { ...buyer, scope: 'own' as const };
          if (!invoice || !canSeeInvoice(readScope, invoice)) throw new NotFound('Invoice');
          const p = ctx.params;
          const special = p.type === 'special';
          const id = await db.transaction(async (tx) => {
            const { rows } = await tx.query(
              `INSERT INTO credit.invoice_requests
                 (company_id, invoice_id, type, title, tax_number, bank_name, bank_account, address, phone, email, status,
                  requested_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'requested', $11)
               ON CONFLICT (invoice_id) WHERE status <> 'rejected' DO NOTHING RETURNING id`,
              [
                buyer.companyId,
                invoice.id,
                p.type,
                p.title.trim(),
                p.taxNumber,
                special ? p.bankName!.trim() : (p.bankName?.trim() ?? null),
                special ? p.bankAccount!.trim() : (p.bankAccount?.trim() ?? null),
                special ? p.address!.trim() : (p.address?.trim() ?? null),
                special ? p.phone!.trim() : (p.phone?.trim() ?? null),
                p.email,
                buyer.auth.principalId,
              ],
            );
            if (!rows[0]) {
              throw new Conflict('This invoice already has an open or issued invoice request', {
                invoiceId: invoice.id,
              });
            }
            await audit(ctx, tx, buyer.auth, {
              action: 'invoice_request.created',
              entityType: 'invoice_request',
              entityId: rows[0].id,
              companyId: buyer.companyId,
              details: { invoiceId: invoice.id, type: p.type, title: p.title, taxNumber: p.taxNumber },
            });
            return rows[0].id as string;
          });
          return invoiceRequestView((await findInvoiceRequest(db, id))!);
        },
      },

      'invoiceRequests.list': {
        params: schemaRef('api/receivables/invoice-request-list-query'),
        async handler(ctx: Context<{ limit: number; cursor?: string; status?: InvoiceRequestStatus }>) {
          const { auth, companyId } = requireBuyer(ctx, 'invoices.read');
          const companyWide = hasPermission(auth, 'invoices.read', 'company');
          const items = await listInvoiceRequests(db, {
            companyId,
            requestedBy: companyWide ? undefined : auth.principalId,
            status: ctx.params.status,
            after: uuidCursor(ctx.params),
            limit: ctx.params.limit,
          });
          return page(items.map(invoiceRequestView), ctx.params.limit, (item) => item.id);
        },
      },

      'invoiceRequests.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          return invoiceRequestView(await visibleRequest(ctx, ctx.params.id));
        },
      },

      'invoiceRequests.file': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const request = await visibleRequest(ctx, ctx.params.id);
          if (request.status !== 'issued' || !request.fileKey) throw new NotFound('Issued invoice file');
          const body = await storage.get(request.fileKey);
          return sendFile(
            ctx,
            {
              contentType: 'application/pdf',
              filename: request.fileName!,
              size: request.fileSize ?? undefined,
            },
            body,
          );
        },
      },

      'staff.invoiceRequests.list': {
        params: schemaRef('api/receivables/staff-invoice-request-list-query'),
        async handler(
          ctx: Context<{ limit: number; cursor?: string; status?: InvoiceRequestStatus; companyId?: string }>,
        ) {
          requireFinanceStaff(ctx, 'read');
          const items = await listInvoiceRequests(db, {
            companyId: ctx.params.companyId,
            status: ctx.params.status,
            after: uuidCursor(ctx.params),
            limit: ctx.params.limit,
          });
          return page(items.map(invoiceRequestView), ctx.params.limit, (item) => item.id);
        },
      },

      'staff.invoiceRequests.issue': {
        params: schemaRef('api/receivables/issue-invoice-request-query'),
        async handler(ctx: Context<{ id: string; eInvoiceNumber?: string }>) {
          const upload = uploadOf(ctx);
          let auth: ReturnType<typeof requireFinanceStaff>;
          let request: InvoiceRequest | undefined;
          try {
            auth = requireFinanceStaff(ctx);
            request = await findInvoiceRequest(db, ctx.params.id);
            if (!request) throw new NotFound('Invoice request');
            if (request.status !== 'requested') {
              throw new Conflict(`The request is ${request.status} already`, { status: request.status });
            }
          } catch (error) {
            discard(upload);
            throw error;
          }
          const bytes = await readAll(upload);
          if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
            throw new UnprocessableRequest('not-a-pdf', 'The e-invoice must be a PDF file');
          }
          const key = `credit/invoice-requests/${request.id}/${randomUUID()}.pdf`;
          const stored = await storage.put(key, Readable.from([bytes]), {
            contentType: 'application/pdf',
            maxBytes: E_INVOICE_MAX_BYTES,
          });
          const fileName = `${request.invoiceNumber}${ctx.params.eInvoiceNumber ? `-${ctx.params.eInvoiceNumber}` : ''}.pdf`;
          try {
            await db.transaction(async (tx) => {
              const { rowCount } = await tx.query(
                `UPDATE credit.invoice_requests SET status = 'issued', file_key = $2, file_name = $3, file_size = $4,
                        e_invoice_no = $5, decided_by = $6, decided_at = now()
                  WHERE id = $1 AND status = 'requested'`,
                [
                  request.id,
                  key,
                  fileName,
                  stored.size,
                  ctx.params.eInvoiceNumber ?? null,
                  `${auth.kind}:${auth.principalId}`,
                ],
              );
              if (!rowCount) throw new Conflict('The request was decided meanwhile');
              await audit(ctx, tx, auth, {
                action: 'invoice_request.issued',
                entityType: 'invoice_request',
                entityId: request.id,
                companyId: request.companyId,
                details: {
                  eInvoiceNumber: ctx.params.eInvoiceNumber ?? null,
                  sha256: stored.sha256,
                  size: stored.size,
                },
              });
              await writeOutbox(tx, [decided(request, 'issued')], originOf(ctx));
            });
          } catch (error) {
            await storage.delete(key).catch(() => {});
            throw error;
          }
          return invoiceRequestView((await findInvoiceRequest(db, request.id))!);
        },
      },

      'staff.invoiceRequests.reject': {
        params: schemaRef('api/receivables/reject-invoice-request-params'),
        async handler(ctx: Context<{ id: string; reason: string }>) {
          const auth = requireFinanceStaff(ctx);
          await db.transaction(async (tx) => {
            const request = await findInvoiceRequest(tx, ctx.params.id, { lock: true });
            if (!request) throw new NotFound('Invoice request');
            if (request.status !== 'requested') {
              throw new Conflict(`The request is ${request.status} already`, { status: request.status });
            }
            await tx.query(
              `UPDATE credit.invoice_requests SET status = 'rejected', reject_reason = $2, decided_by = $3, decided_at = now()
                WHERE id = $1`,
              [request.id, ctx.params.reason, `${auth.kind}:${auth.principalId}`],
            );
            await audit(ctx, tx, auth, {
              action: 'invoice_request.rejected',
              entityType: 'invoice_request',
              entityId: request.id,
              companyId: request.companyId,
              details: { reason: ctx.params.reason },
            });
            await writeOutbox(tx, [decided(request, 'rejected')], originOf(ctx));
          });
          return invoiceRequestView((await findInvoiceRequest(db, ctx.params.id))!);
        },
      },
    },
    routes: ROUTES,
  };
}

const tag = TAGS.receivables;

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/invoice-requests',
    action: 'receivables.invoiceRequests.create',
    operationId: 'createInvoiceRequest',
    tag,
    summary:
      'Request a tax invoice (开票申请) for a receivable: title, tax number, 普票/专票, email (invoices.request)',
    audience: 'buyer',
    requestSchema: 'api/receivables/create-invoice-request-request',
    responseSchema: 'entities/invoice-request',
    successStatus: 201,
    location: '/api/invoice-requests/{id}',
  },
  {
    method: 'GET',
    path: '/api/invoice-requests',
    action: 'receivables.invoiceRequests.list',
    operationId: 'listInvoiceRequests',
    tag,
    summary: "The caller's invoice requests, or the company's with invoices.read at company scope",
    audience: 'buyer',
    querySchema: 'api/receivables/invoice-request-list-query',
    responseSchema: 'api/receivables/invoice-request-list-response',
  },
  {
    method: 'GET',
    path: '/api/invoice-requests/:id',
    action: 'receivables.invoiceRequests.get',
    operationId: 'getInvoiceRequest',
    tag,
    summary: 'One invoice request and its status',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/invoice-request',
  },
  {
    method: 'GET',
    path: '/api/invoice-requests/:id/file',
    action: 'receivables.invoiceRequests.file',
    operationId: 'downloadIssuedInvoice',
    tag,
    summary: 'Download the issued e-invoice PDF of a request',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    download: { contentTypes: ['application/pdf'] },
  },
  {
    method: 'GET',
    path: '/api/staff/receivables/invoice-requests',
    action: 'receivables.staff.invoiceRequests.list',
    operationId: 'listStaffInvoiceRequests',
    tag,
    summary: 'Invoice requests to work on (finance.read)',
    audience: 'staff',
    querySchema: 'api/receivables/staff-invoice-request-list-query',
    responseSchema: 'api/receivables/invoice-request-list-response',
  },
  {
    method: 'POST',
    path: '/api/staff/receivables/invoice-requests/:id/issue',
    action: 'receivables.staff.invoiceRequests.issue',
    operationId: 'issueInvoiceRequest',
    tag,
    summary: 'Issue a requested invoice: the body is the e-invoice PDF (finance.manage; audited)',
    audience: 'staff',
    querySchema: 'api/receivables/issue-invoice-request-query',
    responseSchema: 'entities/invoice-request',
    upload: { contentTypes: ['application/pdf'], maxBytes: E_INVOICE_MAX_BYTES },
  },
  {
    method: 'POST',
    path: '/api/staff/receivables/invoice-requests/:id/reject',
    action: 'receivables.staff.invoiceRequests.reject',
    operationId: 'rejectInvoiceRequest',
    tag,
    summary: 'Reject an invoice request with a reason the buyer sees (finance.manage; audited)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/receivables/reject-invoice-request-request',
    responseSchema: 'entities/invoice-request',
  },
];
