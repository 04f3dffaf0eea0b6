import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ActionSchema, Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { type AuthContext, originOf } from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import { HubError, NotFound, PayloadTooLarge } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { sendFile, uploadOf } from '../platform/http/uploads.ts';
import {
  ATTACHMENT_SNIFF_BYTES,
  attachmentFileName,
  checkDeclaredAttachmentType,
  DECLARABLE_ATTACHMENT_TYPES,
  recogniseAttachment,
  STORED_ATTACHMENT_TYPES,
} from './attachment-formats.ts';
import { attachmentView, type QuoteRow, requireQuote, toAttachment } from './quote-store.ts';
import { buyerOf, LIMITS, type QuotesArea, type QuotesContext, READ, staffOf, TAG } from './quotes-area.ts';
import { ATTACHMENT_ROUTE_MAX_BYTES } from './quotes-config.ts';

/**
 * A refused body is still read (and dropped) up to this much before answering, so the client,
 * usually still sending, reads the refusal instead of a connection reset; past it the connection is cut.
 */
const DRAIN_BYTES = 16 * 1024 * 1024;

/** An upload lasts as long as its body takes to arrive, not the broker's 30 s request timeout. */
const UPLOAD_TIMEOUT_MS = 10 * 60_000;

function uploadAction(action: ActionSchema): ActionSchema {
  // Moleculer's timeout middleware honours an action's own `timeout`, though its types omit it.
  return Object.assign(action, { timeout: UPLOAD_TIMEOUT_MS });
}

/**
 * The version an upload belongs to. Buyers attach to their own latest version (the request or a
 * counter) while the quote waits for staff (approval included); staff attach to their version waiting for approval,
 * or to the version the buyer is looking at. Otherwise 409 `quote-attachment-not-allowed`.
 */
async function versionToAttachTo(db: Queryable, quote: QuoteRow, who: 'buyer' | 'staff'): Promise<number> {
  if (who === 'buyer' && ['requested', 'in_review', 'pending_approval', 'countered'].includes(quote.state)) {
    const { rows } = await db.query<{ number: number }>(
      `SELECT max(number) AS number FROM quotes.quote_versions WHERE quote_id = $1 AND author_kind = 'buyer'`,
      [quote.id],
    );
    return rows[0]!.number;
  }
  if (who === 'staff') {
    if (quote.pendingVersion !== null) return quote.pendingVersion;
    if (quote.state === 'quoted' && quote.quotedVersion !== null) return quote.quotedVersion;
  }
  throw new HubError(
    409,
    'quote-attachment-not-allowed',
    who === 'buyer'
      ? 'Buyers attach files while the quote waits for staff (requested, in review, pending approval, countered)'
      : 'Staff attach files to a quoted version or one waiting for approval',
    { state: quote.state },
  );
}

/** Whether `audience` may see a version's files: buyers never see a staff version not yet approved. */
async function versionVisible(db: Queryable, quoteId: string, version: number, audience: 'buyer' | 'staff') {
  if (audience === 'staff') return true;
  const { rows } = await db.query<{ approval: string }>(
    'SELECT approval FROM quotes.quote_versions WHERE quote_id = $1 AND number = $2',
    [quoteId, version],
  );
  return rows[0] !== undefined && ['not_required', 'approved'].includes(rows[0].approval);
}

/**
 * Files attached to quotes (drawings, specifications, CAD, office files, archives): streamed
 * uploads, checked by their bytes, bounded per file and per quote, kept in the object store under
 * `quotes/<quote id>/<attachment id>`; downloads for the quote's company and staff only.
 */
export function quoteAttachmentsArea({ platform, config }: QuotesContext): QuotesArea {
  const { db } = platform;
  const log = platform.logger?.child({ area: 'quote-attachments' });

  async function discard(key: string, ctx: Context): Promise<void> {
    await platform.storage
      .delete(key)
      .catch((error) =>
        log?.warn({ err: error, key, requestId: originOf(ctx).requestId }, 'quote attachment not removed'),
      );
  }

  async function attachedBytes(quoteId: string): Promise<{ bytes: number; count: number }> {
    const { rows } = await db.query<{ bytes: string; count: number }>(
      'SELECT coalesce(sum(size_bytes), 0)::text AS bytes, count(*)::int AS count FROM quotes.quote_attachments WHERE quote_id = $1',
      [quoteId],
    );
    return { bytes: Number(rows[0]!.bytes), count: rows[0]!.count };
  }

  function tooMany(): HubError {
    return new HubError(
      409,
      'quote-attachments-full',
      `A quote has at most ${LIMITS.attachments} attachments`,
      { max: LIMITS.attachments },
    );
  }

  /**
   * Takes one upload: checks who may attach to which version and the declared type and length
   * before reading, the real format from the first bytes, then streams the body to the store
   * bounded by what the file and the quote may still hold. The row is written under the quote's
   * lock, where both bounds are checked again (two uploads at once cannot pass the quote's bound).
   */
  async function receive(
    ctx: Context<{ id: string }>,
    who: 'buyer' | 'staff',
    scope: { companyId: string | null },
    uploader: { id: string; auth: AuthContext },
  ) {
    const upload = uploadOf(ctx);
    const chunks = upload.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let ended = false;
    const key = `quotes/${ctx.params.id}/${randomUUID()}`;
    let stored: Awaited<ReturnType<typeof platform.storage.put>>;
    let version: number;
    let fileName: string;
    let mediaType: string;
    try {
      const quote = await requireQuote(db, ctx.params.id, scope);
      version = await versionToAttachTo(db, quote, who);
      checkDeclaredAttachmentType(upload.contentType);
      const held = await attachedBytes(quote.id);
      if (held.count >= LIMITS.attachments) throw tooMany();
      const room = Math.min(config.attachmentMaxBytes, config.attachmentsMaxBytes - held.bytes);
      if (room <= 0) throw new PayloadTooLarge(0);
      const length = (ctx.meta as { upload?: { length?: number } }).upload?.length;
      if (length !== undefined && length > room) throw new PayloadTooLarge(room);

      const head: Buffer[] = [];
      let headLength = 0;
      while (headLength < ATTACHMENT_SNIFF_BYTES && !ended) {
        const next = await chunks.next();
        if (next.done) ended = true;
        else {
          head.push(next.value);
          headLength += next.value.length;
        }
      }
      const first = Buffer.concat(head);
      const format = await recogniseAttachment(upload.contentType, first.subarray(0, ATTACHMENT_SNIFF_BYTES));
      mediaType = format.mediaType;
      fileName = attachmentFileName(format, upload.filename, `attachment-${key.slice(-8)}`);
      async function* whole() {
        yield first;
        while (!ended) {
          const next = await chunks.next();
          if (next.done) ended = true;
          else yield next.value;
        }
      }
      stored = await platform.storage.put(key, Readable.from(whole(), { objectMode: false }), {
        contentType: format.mediaType,
        maxBytes: room,
      });
    } catch (error) {
      // Read and drop what is left, so the client reads the refusal rather than a reset.
      let dropped = 0;
      try {
        while (!ended && dropped <= DRAIN_BYTES) {
          const next = await chunks.next();
          if (next.done) ended = true;
          else dropped += next.value.length;
        }
      } catch {
        // A body failing while dropped (over the bound, client gone) needs nothing more.
      }
      if (!ended) upload.stream.destroy();
      throw error;
    }

    try {
      const result = await db.transaction(async (tx) => {
        await requireQuote(tx, ctx.params.id, scope, { lock: true });
        const same = await tx.query(
          'SELECT * FROM quotes.quote_attachments WHERE quote_id = $1 AND version = $2 AND sha256 = $3',
          [ctx.params.id, version, stored.sha256],
        );
        if (same.rows[0]) return { row: same.rows[0], created: false };
        const { rows } = await tx.query<{ bytes: string; count: number }>(
          'SELECT coalesce(sum(size_bytes), 0)::text AS bytes, count(*)::int AS count FROM quotes.quote_attachments WHERE quote_id = $1',
          [ctx.params.id],
        );
        if (rows[0]!.count >= LIMITS.attachments) throw tooMany();
        const room = config.attachmentsMaxBytes - Number(rows[0]!.bytes);
        if (stored.size > room) throw new PayloadTooLarge(Math.max(room, 0));
        const inserted = await tx.query(
          `INSERT INTO quotes.quote_attachments
             (id, quote_id, company_id, version, file_name, content_type, size_bytes, sha256, storage_key, uploaded_by, uploader_kind)
           SELECT $1, id, company_id, $3, $4, $5, $6, $7, $8, $9, $10 FROM quotes.quotes WHERE id = $2
           RETURNING *`,
          [
            key.split('/').at(-1),
            ctx.params.id,
            version,
            fileName,
            mediaType,
            stored.size,
            stored.sha256,
            key,
            uploader.id,
            who,
          ],
        );
        const row = inserted.rows[0]!;
        if (who === 'staff') {
          await recordAudit(tx, uploader.auth, originOf(ctx), {
            action: 'quote.attachment_added',
            entityType: 'quote',
            entityId: ctx.params.id,
            companyId: row.company_id as string,
            details: { attachment: attachmentView(row) },
          });
        }
        return { row, created: true };
      });
      if (!result.created) {
        // The same bytes are already attached to this version: answer that one, keep no second copy.
        await discard(key, ctx);
        (ctx.meta as Record<string, unknown>).$statusCode = 200;
      }
      return attachmentView(result.row);
    } catch (error) {
      await discard(key, ctx);
      throw error;
    }
  }

  async function download(
    ctx: Context<{ id: string; attachmentId: string }>,
    audience: 'buyer' | 'staff',
    scope: { companyId: string | null },
  ) {
    const quote = await requireQuote(db, ctx.params.id, scope);
    const { rows } = await db.query(
      'SELECT * FROM quotes.quote_attachments WHERE id = $1 AND quote_id = $2',
      [ctx.params.attachmentId, quote.id],
    );
    if (!rows[0]) throw new NotFound('Attachment');
    const attachment = toAttachment(rows[0]);
    if (!(await versionVisible(db, quote.id, attachment.version, audience))) throw new NotFound('Attachment');
    const body = await platform.storage.get(attachment.storageKey);
    // Always a download: these are files other people sent, never shown in the hub's origin.
    return sendFile(
      ctx,
      { contentType: attachment.contentType, filename: attachment.fileName, size: attachment.sizeBytes },
      body,
    );
  }

  return {
    actions: {
      'attachments.upload': uploadAction({
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const buyer = buyerOf(ctx);
          return receive(
            ctx,
            'buyer',
            { companyId: buyer.companyId },
            { id: buyer.userId, auth: buyer.auth },
          );
        },
      }),
      'attachments.download': {
        params: schemaRef('api/quotes/quote-attachment-params'),
        async handler(ctx: Context<{ id: string; attachmentId: string }>) {
          const buyer = buyerOf(ctx);
          return download(ctx, 'buyer', { companyId: buyer.companyId });
        },
      },
      'staff.attachments.upload': uploadAction({
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = staffOf(ctx);
          return receive(ctx, 'staff', { companyId: null }, { id: auth.principalId, auth });
        },
      }),
      'staff.attachments.download': {
        params: schemaRef('api/quotes/quote-attachment-params'),
        async handler(ctx: Context<{ id: string; attachmentId: string }>) {
          staffOf(ctx, READ);
          return download(ctx, 'staff', { companyId: null });
        },
      },
    },
    routes: ROUTES,
  };
}

const upload = { contentTypes: [...DECLARABLE_ATTACHMENT_TYPES], maxBytes: ATTACHMENT_ROUTE_MAX_BYTES };
const download = { contentTypes: [...STORED_ATTACHMENT_TYPES] };

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/quotes/:id/attachments',
    action: 'quotes.attachments.upload',
    operationId: 'attachQuoteFile',
    tag: TAG,
    summary:
      "Attach a file (PDF, image, CAD, office file, zip; the raw body, name in Content-Disposition) to the buyer's request or latest counter; the same bytes again answer 200",
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/quote-attachment',
    successStatus: 201,
    upload,
  },
  {
    method: 'GET',
    path: '/api/quotes/:id/attachments/:attachmentId',
    action: 'quotes.attachments.download',
    operationId: 'getQuoteFile',
    tag: TAG,
    summary: "A file attached to one of the company's quotes (404 for any other)",
    audience: 'buyer',
    paramsSchema: 'api/quotes/quote-attachment-params',
    download,
  },
  {
    method: 'POST',
    path: '/api/staff/quotes/:id/attachments',
    action: 'quotes.staff.attachments.upload',
    operationId: 'attachStaffQuoteFile',
    tag: TAG,
    summary:
      'Attach a file to the staff version waiting for approval, or else to the quoted version (staff, quotes.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/quote-attachment',
    successStatus: 201,
    upload,
  },
  {
    method: 'GET',
    path: '/api/staff/quotes/:id/attachments/:attachmentId',
    action: 'quotes.staff.attachments.download',
    operationId: 'getStaffQuoteFile',
    tag: TAG,
    summary: 'A file attached to a quote (staff, quotes.read)',
    audience: 'staff',
    paramsSchema: 'api/quotes/quote-attachment-params',
    download,
  },
];
