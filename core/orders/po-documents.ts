import { Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import type { Database, Queryable, Transaction } from '../platform/database/database.ts';
import { UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { Upload } from '../platform/http/uploads.ts';
import type { ObjectStore, StoredObject } from '../platform/storage/object-store.ts';

/**
 * PO documents: the buyer's purchase order (PDF, PNG or JPEG) uploaded before checkout, then
 * attached to the order whose checkout names it. The format is what the bytes say (file-type),
 * never the declared media type alone; the size is bounded by the route and again by the store.
 */

export const PO_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024;
/** Uploaded documents no checkout named yet, per buyer: more is refused (422) until some are used or swept. */
export const UNATTACHED_PER_UPLOADER = 20;
/** Unattached documents older than this are removed (rows and bytes) by the sweep. */
export const UNATTACHED_KEEP_HOURS = 48;
export const PO_DOCUMENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg'] as const;
export type PoDocumentType = (typeof PO_DOCUMENT_TYPES)[number];

const EXTENSION: Record<PoDocumentType, string> = {
  'application/pdf': '.pdf',
  'image/png': '.png',
  'image/jpeg': '.jpg',
};

/** Enough of the head for file-type to recognise PDF, PNG and JPEG. */
const SNIFF_BYTES = 4100;

/**
 * How much of a refused body is still read and dropped before answering, so the client, usually
 * still sending, reads the refusal instead of a reset connection. Past it the connection is cut.
 */
const DRAIN_BYTES = 2 * PO_DOCUMENT_MAX_BYTES;

export interface PoDocument {
  id: string;
  orderId: string | null;
  fileName: string;
  contentType: PoDocumentType;
  sizeBytes: number;
  sha256: string;
  uploadedBy: string;
  uploadedAt: string;
  /** Not part of the API view. */
  fileKey: string;
  companyId: string;
}

export type PoDocumentView = Omit<PoDocument, 'fileKey' | 'companyId'>;

export function poDocumentView({ fileKey: _k, companyId: _c, ...view }: PoDocument): PoDocumentView {
  return view;
}

/** A row of `orders.po_documents` as pg returns it (bigint as text, timestamptz as Date). */
interface PoDocumentRow {
  id: string;
  order_id: string | null;
  file_name: string;
  content_type: PoDocumentType;
  size_bytes: string | number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: Date | string;
  file_key: string;
  company_id: string;
}

function toDocument(row: PoDocumentRow): PoDocument {
  return {
    id: row.id,
    orderId: row.order_id ?? null,
    fileName: row.file_name,
    contentType: row.content_type,
    sizeBytes: Number(row.size_bytes),
    sha256: row.sha256,
    uploadedBy: row.uploaded_by,
    uploadedAt: new Date(row.uploaded_at).toISOString(),
    fileKey: row.file_key,
    companyId: row.company_id,
  };
}

/** An upload's body through one iterator: its first bytes, then the rest, or what is left dropped. */
class UploadBody {
  readonly #chunks: AsyncIterator<Buffer>;
  readonly #stream: Upload['stream'];
  #done = false;

  constructor(upload: Upload) {
    this.#stream = upload.stream;
    this.#chunks = upload.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async head(bytes: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    while (length < bytes && !this.#done) {
      const next = await this.#chunks.next();
      if (next.done) this.#done = true;
      else {
        chunks.push(next.value);
        length += next.value.length;
      }
    }
    return Buffer.concat(chunks);
  }

  async *rest(): AsyncGenerator<Buffer> {
    while (!this.#done) {
      const next = await this.#chunks.next();
      if (next.done) this.#done = true;
      else yield next.value;
    }
  }

  async discard(): Promise<void> {
    let dropped = 0;
    try {
      while (!this.#done && dropped <= DRAIN_BYTES) {
        const next = await this.#chunks.next();
        if (next.done) this.#done = true;
        else dropped += next.value.length;
      }
    } catch {
      // Over the route's bound or the client went away: nothing more to read.
      return;
    }
    if (!this.#done) this.#stream.destroy();
  }
}

/** What file-type makes of the first bytes, if it is one of the PO document formats. */
async function sniff(head: Buffer): Promise<{ type: PoDocumentType | undefined; seen: string }> {
  let mime: string | undefined;
  try {
    mime = (await fileTypeFromBuffer(head))?.mime;
  } catch {
    mime = undefined;
  }
  const type = PO_DOCUMENT_TYPES.find((allowed) => allowed === mime);
  return { type, seen: mime ?? (head.length === 0 ? 'empty' : 'not a recognised format') };
}

/** `po.pdf` stays; a name without the format's extension gets it; no name becomes `PO-<id>.<ext>`. */
function fileNameFor(id: string, given: string | undefined, type: PoDocumentType): string {
  const extension = EXTENSION[type];
  if (!given) return `PO-${id}${extension}`;
  const lower = given.toLowerCase();
  const known = type === 'image/jpeg' ? ['.jpg', '.jpeg'] : [extension];
  return known.some((ext) => lower.endsWith(ext))
    ? given
    : `${given.slice(0, 255 - extension.length)}${extension}`;
}

/**
 * Takes the upload into the object store under `orders/po-documents/<company>/<id>`: sniffs the
 * first bytes (422 `po-document-type` unless PDF, PNG or JPEG), then streams the whole body to the
 * store bounded by `PO_DOCUMENT_MAX_BYTES` (413, nothing kept). A refused body is drained (bounded).
 */
export async function storePoDocument(
  storage: ObjectStore,
  upload: Upload,
  ids: { id: string; companyId: string },
): Promise<{ stored: StoredObject; key: string; contentType: PoDocumentType; fileName: string }> {
  const body = new UploadBody(upload);
  try {
    const head = await body.head(SNIFF_BYTES);
    const { type, seen } = await sniff(head);
    if (!type) {
      throw new UnprocessableRequest(
        'po-document-type',
        `A PO document must be a PDF, PNG or JPEG file; its bytes are ${seen}`,
        { errors: [{ pointer: '', detail: `the content is ${seen}, not a PDF, PNG or JPEG` }] },
      );
    }
    const key = `orders/po-documents/${ids.companyId}/${ids.id}${EXTENSION[type]}`;
    async function* whole() {
      yield head;
      yield* body.rest();
    }
    const stored = await storage.put(key, Readable.from(whole(), { objectMode: false }), {
      contentType: type,
      maxBytes: PO_DOCUMENT_MAX_BYTES,
    });
    return { stored, key, contentType: type, fileName: fileNameFor(ids.id, upload.filename, type) };
  } catch (error) {
    await body.discard();
    throw error;
  }
}

/** 422 `too-many-po-documents` when the buyer already has the maximum of unattached uploads. */
export async function checkUploadAllowance(db: Queryable, companyId: string, userId: string): Promise<void> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM orders.po_documents
      WHERE company_id = $1 AND uploaded_by = $2 AND order_id IS NULL`,
    [companyId, userId],
  );
  if (rows[0]!.n >= UNATTACHED_PER_UPLOADER) {
    throw new UnprocessableRequest(
      'too-many-po-documents',
      `You have ${UNATTACHED_PER_UPLOADER} PO documents no order uses yet; place an order with one, or wait until unused ones are removed after ${UNATTACHED_KEEP_HOURS} hours`,
    );
  }
}

/**
 * Removes PO documents no checkout named within `keepHours` (rows, then bytes; a crash between
 * leaves an orphaned object, never a row without its bytes). Several processes may sweep at once:
 * rows are claimed with SKIP LOCKED. Answers how many were removed.
 */
export async function sweepUnattachedPoDocuments(
  db: Database,
  storage: ObjectStore,
  keepHours = UNATTACHED_KEEP_HOURS,
  limit = 500,
): Promise<number> {
  const keys = await db.transaction(async (tx) => {
    const { rows } = await tx.query(
      `DELETE FROM orders.po_documents WHERE id IN (
         SELECT id FROM orders.po_documents
          WHERE order_id IS NULL AND uploaded_at < now() - make_interval(hours => $1)
          ORDER BY uploaded_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING file_key`,
      [keepHours, limit],
    );
    return rows.map((row) => row.file_key as string);
  });
  for (const key of keys) await storage.delete(key);
  return keys.length;
}

export async function insertPoDocument(
  db: Queryable,
  document: Omit<PoDocument, 'orderId' | 'uploadedAt'>,
): Promise<PoDocument> {
  const { rows } = await db.query<PoDocumentRow>(
    `INSERT INTO orders.po_documents (id, company_id, uploaded_by, file_key, file_name, content_type, size_bytes, sha256)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [
      document.id,
      document.companyId,
      document.uploadedBy,
      document.fileKey,
      document.fileName,
      document.contentType,
      document.sizeBytes,
      document.sha256,
    ],
  );
  return toDocument(rows[0]!);
}

/** The document attached to an order, if any. */
export async function poDocumentOf(db: Queryable, orderId: string): Promise<PoDocument | null> {
  const { rows } = await db.query<PoDocumentRow>('SELECT * FROM orders.po_documents WHERE order_id = $1', [
    orderId,
  ]);
  return rows[0] ? toDocument(rows[0]) : null;
}

/**
 * Attaches the placer's own unattached document to the order being opened, in its transaction;
 * anything else (unknown, another company's or user's, attached to another order) is 422
 * `po-document-not-usable` at `/poDocumentId`, and the order is not written.
 */
export async function attachPoDocument(
  tx: Transaction,
  input: { documentId: string; orderId: string; companyId: string; placedBy: string },
): Promise<void> {
  const { rowCount } = await tx.query(
    `UPDATE orders.po_documents SET order_id = $2
      WHERE id = $1 AND company_id = $3 AND uploaded_by = $4 AND order_id IS NULL`,
    [input.documentId, input.orderId, input.companyId, input.placedBy],
  );
  if (!rowCount) {
    throw new UnprocessableRequest(
      'po-document-not-usable',
      'The PO document is not one you uploaded, or it is attached to another order already',
      { errors: [{ pointer: '/poDocumentId', detail: 'upload the PO document for this order first' }] },
    );
  }
}
