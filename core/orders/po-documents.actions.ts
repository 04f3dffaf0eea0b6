import { randomUUID } from 'node:crypto';
import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { hasPermission, requireBuyerCompany } from '../platform/auth/auth-context.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { sendFile, uploadOf } from '../platform/http/uploads.ts';
import { scopeFilter } from './order-store.ts';
import {
  BASE,
  type OrdersArea,
  type OrdersContext,
  readerOf,
  requireOrdersStaff,
  STAFF_BASE,
  TAG,
} from './orders-area.ts';
import {
  checkUploadAllowance,
  insertPoDocument,
  PO_DOCUMENT_MAX_BYTES,
  PO_DOCUMENT_TYPES,
  type PoDocument,
  poDocumentOf,
  poDocumentView,
  storePoDocument,
  sweepUnattachedPoDocuments,
} from './po-documents.ts';

/** An upload lasts as long as its body takes to arrive, not the broker's 30 s request timeout. */
const UPLOAD_TIMEOUT_MS = 10 * 60_000;

/**
 * PO documents at checkout: a buyer who may place orders uploads the PO (PDF, PNG or JPEG, at most
 * 10 MB, format sniffed from the bytes), names it in `POST /api/orders` as `poDocumentId`, and from
 * then on it belongs to that order: downloadable by whoever may read the order (the buyer's
 * company within their `orders.read` scope) and by staff with `orders.read`; 404 for anyone else.
 */
export function poDocumentsArea({ platform }: OrdersContext): OrdersArea {
  const { db, storage } = platform;

  function send(ctx: Context, document: PoDocument | null) {
    if (!document) throw new NotFound('PO document');
    return storage.get(document.fileKey).then((body) =>
      sendFile(
        ctx,
        {
          contentType: document.contentType,
          filename: document.fileName,
          size: document.sizeBytes,
          disposition: document.contentType === 'application/pdf' ? 'attachment' : 'inline',
        },
        body,
      ),
    );
  }

  return {
    actions: {
      // Moleculer honours an action's `timeout`; its ActionSchema type does not declare it.
      'poDocuments.upload': Object.assign(
        {
          async handler(ctx: Context) {
            const upload = uploadOf(ctx);
            const id = randomUUID();
            let uploader: { companyId: string; userId: string };
            try {
              const { auth, companyId } = requireBuyerCompany(ctx);
              if (auth.kind !== 'buyer' || !hasPermission(auth, 'orders.place')) {
                throw new Forbidden('Missing permission orders.place');
              }
              uploader = { companyId, userId: auth.principalId };
              await checkUploadAllowance(db, companyId, auth.principalId);
            } catch (error) {
              upload.stream.resume();
              upload.stream.on('error', () => {});
              throw error;
            }
            const { stored, key, contentType, fileName } = await storePoDocument(storage, upload, {
              id,
              companyId: uploader.companyId,
            });
            try {
              const document = await insertPoDocument(db, {
                id,
                companyId: uploader.companyId,
                uploadedBy: uploader.userId,
                fileKey: key,
                fileName,
                contentType,
                sizeBytes: stored.size,
                sha256: stored.sha256,
              });
              return poDocumentView(document);
            } catch (error) {
              await storage.delete(key).catch(() => {});
              throw error;
            }
          },
        },
        { timeout: UPLOAD_TIMEOUT_MS },
      ),

      'poDocuments.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const reader = readerOf(ctx);
          const scope = scopeFilter(reader, 2);
          const { rows } = await db.query(`SELECT 1 FROM orders.orders o WHERE o.id = $1 AND ${scope.sql}`, [
            ctx.params.id,
            ...scope.values,
          ]);
          if (!rows[0]) throw new NotFound('Order');
          return send(ctx, await poDocumentOf(db, ctx.params.id));
        },
      },

      /** Mesh-only: remove unattached PO documents now (the orders service does it hourly). */
      'internal.sweepPoDocuments': {
        visibility: 'public' as const,
        params: schemaRef('api/orders/sweep-po-documents-params'),
        async handler(ctx: Context<{ keepHours?: number }>) {
          return { removed: await sweepUnattachedPoDocuments(db, storage, ctx.params.keepHours) };
        },
      },

      'staff.poDocuments.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireOrdersStaff(ctx, 'read');
          return send(ctx, await poDocumentOf(db, ctx.params.id));
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: `${BASE}/po-documents`,
    action: 'orders.poDocuments.upload',
    operationId: 'uploadPoDocument',
    tag: TAG,
    summary:
      'Upload a PO document for checkout (the body is the PDF, PNG or JPEG file, ≤ 10 MB; its bytes must be one of those); name it as poDocumentId when placing the order',
    audience: 'buyer',
    responseSchema: 'entities/order-po-document',
    successStatus: 201,
    upload: { contentTypes: [...PO_DOCUMENT_TYPES], maxBytes: PO_DOCUMENT_MAX_BYTES },
  },
  {
    method: 'GET',
    path: `${BASE}/:id/po-document`,
    action: 'orders.poDocuments.get',
    operationId: 'getOrderPoDocument',
    tag: TAG,
    summary: 'The PO document of an order the caller may see (404 when it has none)',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    download: { contentTypes: [...PO_DOCUMENT_TYPES] },
  },
  {
    method: 'GET',
    path: `${STAFF_BASE}/:id/po-document`,
    action: 'orders.staff.poDocuments.get',
    operationId: 'getOrderPoDocumentStaff',
    tag: TAG,
    summary: 'The PO document of an order (orders.read)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    download: { contentTypes: [...PO_DOCUMENT_TYPES] },
  },
];
