import { Readable } from 'node:stream';
import type { Context } from 'moleculer';
import { schemaRef } from '../../../schemas/index.ts';
import { loadPdfFont, PdfFontUnavailable } from '../../platform/documents/pdf-font.ts';
import { Conflict, NotFound } from '../../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../../platform/http/route-spec.ts';
import { sendFile } from '../../platform/http/uploads.ts';
import { requireOrder, scopeFilter } from '../order-store.ts';
import {
  BASE,
  type OrdersArea,
  type OrdersContext,
  readerOf,
  requireOrdersStaff,
  STAFF_BASE,
  TAG,
} from '../orders-area.ts';
import { shipmentsOf } from '../shipment-store.ts';
import {
  DOCUMENT_TITLES,
  type OrderDocumentKind,
  type PrintedInvoice,
  renderOrderDocument,
} from './order-pdf.ts';

interface DocumentParams {
  id: string;
  kind: OrderDocumentKind;
}

/**
 * Printable papers of an order as PDF (sales order, delivery note, invoice): for the buyers who may
 * read the order (the same `orders.read` scope as the history; anyone else gets 404) and for staff
 * with `orders.read`. Made on request from the order as placed (nothing is stored): the company's
 * name comes from accounts, the invoice from receivables (409 before one was issued).
 */
export function documentsArea({ platform }: OrdersContext): OrdersArea {
  const { db } = platform;
  const log = platform.logger?.child({ area: 'order-documents' });

  async function answer(ctx: Context<DocumentParams>, companyId: string | null) {
    const { id, kind } = ctx.params;
    const order = await requireOrder(db, id, companyId);
    let font: ReturnType<typeof loadPdfFont>;
    try {
      font = loadPdfFont();
    } catch (error) {
      if (error instanceof PdfFontUnavailable) log?.error(`order document refused: ${error.reason}`);
      throw error;
    }
    const company = (await ctx.call('accounts.internal.companyContext', { companyId: order.companyId })) as {
      name: string;
    } | null;
    const invoice =
      kind === 'invoice'
        ? ((await ctx.call('receivables.internal.invoiceByReference', {
            reference: `order:${order.id}`,
          })) as PrintedInvoice | null)
        : null;
    if (kind === 'invoice' && !invoice) throw new Conflict('No invoice has been issued for this order yet');
    const { heldFrom: _h, unitPath: _u, ...view } = order;
    const bytes = await renderOrderDocument(
      kind,
      {
        order: view,
        companyName: company?.name ?? '',
        shipments: kind === 'delivery-note' ? await shipmentsOf(db, order.id) : [],
        invoice,
        generatedAt: new Date(),
      },
      font,
    );
    const title = DOCUMENT_TITLES[kind];
    return sendFile(
      ctx,
      { contentType: 'application/pdf', filename: `${title.zh}-${order.number}.pdf`, size: bytes.length },
      Readable.from([bytes]),
    );
  }

  return {
    actions: {
      'documents.get': {
        params: schemaRef('api/orders/order-document-params'),
        async handler(ctx: Context<DocumentParams>) {
          const reader = readerOf(ctx);
          const scope = scopeFilter(reader, 2);
          const { rows } = await db.query(`SELECT 1 FROM orders.orders o WHERE o.id = $1 AND ${scope.sql}`, [
            ctx.params.id,
            ...scope.values,
          ]);
          if (!rows[0]) throw new NotFound('Order');
          return answer(ctx, reader.companyId);
        },
      },

      'staff.documents.get': {
        params: schemaRef('api/orders/order-document-params'),
        async handler(ctx: Context<DocumentParams>) {
          requireOrdersStaff(ctx, 'read');
          return answer(ctx, null);
        },
      },
    },
    routes: ROUTES,
  };
}

const PDF = { contentTypes: ['application/pdf'] };

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: `${BASE}/:id/documents/:kind`,
    action: 'orders.documents.get',
    operationId: 'getOrderDocument',
    tag: TAG,
    summary:
      'A printable paper of an order the caller may see, as PDF: sales order (销售订单), delivery note (送货单) or invoice (发票; 409 until one is issued)',
    audience: 'buyer',
    paramsSchema: 'api/orders/order-document-params',
    download: PDF,
  },
  {
    method: 'GET',
    path: `${STAFF_BASE}/:id/documents/:kind`,
    action: 'orders.staff.documents.get',
    operationId: 'staffGetOrderDocument',
    tag: TAG,
    summary: 'A printable paper of any order, as PDF: sales order, delivery note or invoice',
    audience: 'staff',
    paramsSchema: 'api/orders/order-document-params',
    download: PDF,
  },
];
