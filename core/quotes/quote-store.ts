import type { Context } from 'moleculer';
import type {
  Quote,
  QuoteAttachment,
  QuoteLine,
  QuoteSummary,
  QuoteVersion,
} from '../../schemas/generated/types.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { type AuthContext, originOf } from '../platform/auth/auth-context.ts';
import type { Queryable, Transaction } from '../platform/database/database.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { type Actor, eventOf, nextState, type QuoteAction, type QuoteState } from './quote-states.ts';

/** A quote's row, as the code works with it (amounts as bigint). */
export interface QuoteRow {
  id: string;
  companyId: string;
  requestedBy: string;
  state: QuoteState;
  currency: string;
  title: string | null;
  neededBy: string | null;
  targetTotalMinor: bigint | null;
  sourceCartId: string | null;
  latestVersion: number;
  quotedVersion: number | null;
  validUntil: Date | null;
  pendingVersion: number | null;
  approvalId: string | null;
  acceptedVersion: number | null;
  orderStatus: 'pending' | 'placed' | 'failed' | null;
  orderId: string | null;
  orderError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A line as stored in a version. */
export interface LineRow {
  lineNo: number;
  skuId: string | null;
  skuCode: string | null;
  description: string | null;
  quantity: number;
  unit: string | null;
  listUnitMinor: bigint | null;
  vatRate: number | null;
  targetUnitMinor: bigint | null;
  unitPriceMinor: bigint | null;
  discountBp: number | null;
  discountMinor: bigint | null;
  lineTotalMinor: bigint | null;
  note: string | null;
}

export interface VersionInput {
  number: number;
  kind: 'request' | 'quote' | 'counter';
  authorKind: 'buyer' | 'staff';
  authorId: string;
  validUntil: Date | null;
  note: string | null;
  totalMinor: bigint | null;
  listTotalMinor: bigint | null;
  approval: 'not_required' | 'pending';
  lines: LineRow[];
}

const big = (value: unknown): bigint | null =>
  value === null || value === undefined ? null : BigInt(value as string);

function toQuote(row: Record<string, unknown>): QuoteRow {
  return {
    id: row.id as string,
    companyId: row.company_id as string,
    requestedBy: row.requested_by as string,
    state: row.state as QuoteState,
    currency: row.currency as string,
    title: (row.title as string) ?? null,
    neededBy: row.needed_by ? String(row.needed_by) : null,
    targetTotalMinor: big(row.target_total_minor),
    sourceCartId: (row.source_cart_id as string) ?? null,
    latestVersion: row.latest_version as number,
    quotedVersion: (row.quoted_version as number) ?? null,
    validUntil: (row.valid_until as Date) ?? null,
    pendingVersion: (row.pending_version as number) ?? null,
    approvalId: (row.approval_id as string) ?? null,
    acceptedVersion: (row.accepted_version as number) ?? null,
    orderStatus: (row.order_status as QuoteRow['orderStatus']) ?? null,
    orderId: (row.order_id as string) ?? null,
    orderError: (row.order_error as string) ?? null,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

const QUOTE_COLUMNS = `id, company_id, requested_by, state, currency, title, needed_by::text AS needed_by,
  target_total_minor, source_cart_id, latest_version, quoted_version, valid_until, pending_version,
  approval_id, accepted_version, order_status, order_id, order_error, created_at, updated_at`;

/**
 * The quote `id`; for a buyer only within their company (another company's quote reads exactly
 * like one that does not exist: 404). `lock` takes the row lock for a change.
 */
export async function requireQuote(
  db: Queryable,
  id: string,
  scope: { companyId: string | null },
  options: { lock?: boolean } = {},
): Promise<QuoteRow> {
  const { rows } = await db.query(
    `SELECT ${QUOTE_COLUMNS} FROM quotes.quotes
      WHERE id = $1 AND ($2::uuid IS NULL OR company_id = $2)${options.lock ? ' FOR UPDATE' : ''}`,
    [id, scope.companyId],
  );
  if (!rows[0]) throw new NotFound('Quote');
  return toQuote(rows[0]);
}

export async function insertQuote(
  tx: Transaction,
  quote: {
    companyId: string;
    requestedBy: string;
    currency: string;
    title: string | null;
    neededBy: string | null;
    targetTotalMinor: bigint | null;
    sourceCartId: string | null;
  },
): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO quotes.quotes (company_id, requested_by, state, currency, title, needed_by, target_total_minor, source_cart_id)
     VALUES ($1, $2, 'requested', $3, $4, $5, $6, $7) RETURNING id`,
    [
      quote.companyId,
      quote.requestedBy,
      quote.currency,
      quote.title,
      quote.neededBy,
      quote.targetTotalMinor,
      quote.sourceCartId,
    ],
  );
  return rows[0]!.id;
}

/** Writes a new immutable version with its lines and makes it the quote's latest. */
export async function insertVersion(tx: Transaction, quoteId: string, version: VersionInput): Promise<void> {
  await tx.query(
    `INSERT INTO quotes.quote_versions
       (quote_id, number, kind, author_kind, author_id, valid_until, note, total_minor, list_total_minor, approval)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      quoteId,
      version.number,
      version.kind,
      version.authorKind,
      version.authorId,
      version.validUntil,
      version.note,
      version.totalMinor,
      version.listTotalMinor,
      version.approval,
    ],
  );
  const columns = 15;
  const values: unknown[] = [];
  const tuples = version.lines.map((line, index) => {
    values.push(
      quoteId,
      version.number,
      line.lineNo,
      line.skuId,
      line.skuCode,
      line.description,
      line.quantity,
      line.unit,
      line.listUnitMinor,
      line.vatRate,
      line.targetUnitMinor,
      line.unitPriceMinor,
      line.discountBp,
      line.discountMinor,
      line.lineTotalMinor,
    );
    const base = index * (columns + 1);
    values.push(line.note);
    return `(${Array.from({ length: columns + 1 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
  });
  await tx.query(
    `INSERT INTO quotes.quote_version_lines
       (quote_id, version, line_no, sku_id, sku_code, description, quantity, unit, list_unit_minor, vat_rate,
        target_unit_minor, unit_price_minor, discount_bp, discount_minor, line_total_minor, note)
     VALUES ${tuples.join(', ')}`,
    values,
  );
  await tx.query('UPDATE quotes.quotes SET latest_version = $2, updated_at = now() WHERE id = $1', [
    quoteId,
    version.number,
  ]);
}

export async function linesOfVersion(db: Queryable, quoteId: string, version: number): Promise<LineRow[]> {
  const { rows } = await db.query(
    `SELECT * FROM quotes.quote_version_lines WHERE quote_id = $1 AND version = $2 ORDER BY line_no`,
    [quoteId, version],
  );
  return rows.map(toLine);
}

function toLine(row: Record<string, unknown>): LineRow {
  return {
    lineNo: row.line_no as number,
    skuId: (row.sku_id as string) ?? null,
    skuCode: (row.sku_code as string) ?? null,
    description: (row.description as string) ?? null,
    quantity: row.quantity as number,
    unit: (row.unit as string) ?? null,
    listUnitMinor: big(row.list_unit_minor),
    vatRate: (row.vat_rate as number) ?? null,
    targetUnitMinor: big(row.target_unit_minor),
    unitPriceMinor: big(row.unit_price_minor),
    discountBp: (row.discount_bp as number) ?? null,
    discountMinor: big(row.discount_minor),
    lineTotalMinor: big(row.line_total_minor),
    note: (row.note as string) ?? null,
  };
}

export interface Mover {
  kind: Actor;
  id: string | null;
  auth?: AuthContext;
}

/**
 * Moves a quote by `action` (the transition table decides where, 409 if nowhere), records the
 * history row and announces `quote.<state>` through the outbox, in the caller's transaction.
 * Staff moves are audited.
 */
export async function move(
  tx: Transaction,
  ctx: Context | null,
  quote: QuoteRow,
  action: QuoteAction,
  actor: Mover,
  details: { version?: number | null; reason?: string | null; total?: bigint | null } = {},
  patch: Record<string, unknown> = {},
): Promise<QuoteState> {
  const to = nextState(quote.state, action, actor.kind);
  await changeState(tx, ctx, quote, quote.state, to, action, actor, details, patch);
  return to;
}

/** The history row, the state change and the event (also for the first arrival, `from` null). */
export async function changeState(
  tx: Transaction,
  ctx: Context | null,
  quote: Pick<QuoteRow, 'id' | 'companyId' | 'currency'>,
  from: QuoteState | null,
  to: QuoteState,
  action: QuoteAction | 'request',
  actor: Mover,
  details: { version?: number | null; reason?: string | null; total?: bigint | null },
  patch: Record<string, unknown> = {},
): Promise<void> {
  const sets = ['state = $2', 'updated_at = now()'];
  const values: unknown[] = [quote.id, to];
  for (const [column, value] of Object.entries(patch)) {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  }
  await tx.query(`UPDATE quotes.quotes SET ${sets.join(', ')} WHERE id = $1`, values);
  const { rows } = await tx.query<{ at: Date }>(
    `INSERT INTO quotes.quote_history (quote_id, from_state, to_state, action, actor_kind, actor_id, version, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING at`,
    [quote.id, from, to, action, actor.kind, actor.id, details.version ?? null, details.reason ?? null],
  );
  await writeOutbox(
    tx,
    [
      {
        kind: 'event',
        name: eventOf(to),
        companyId: quote.companyId,
        payload: {
          quoteId: quote.id,
          companyId: quote.companyId,
          from,
          to,
          action,
          actor: { kind: actor.kind, id: actor.id },
          version: details.version ?? null,
          reason: details.reason ?? null,
          total:
            details.total !== undefined && details.total !== null
              ? { amountMinor: details.total.toString(), currency: quote.currency }
              : null,
          at: rows[0]!.at.toISOString(),
        },
      },
    ],
    ctx ? originOf(ctx) : undefined,
  );
  if (actor.kind === 'staff' && actor.auth && ctx) {
    await recordAudit(tx, actor.auth, originOf(ctx), {
      action: `quote.${action}`,
      entityType: 'quote',
      entityId: quote.id,
      companyId: quote.companyId,
      details: { from, to, version: details.version ?? null, reason: details.reason ?? null },
    });
  }
}

/** A file attached to a quote version, as stored. */
export interface AttachmentRow {
  id: string;
  quoteId: string;
  version: number;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  storageKey: string;
  uploaderKind: 'buyer' | 'staff';
  uploadedBy: string;
  createdAt: Date;
}

export function toAttachment(row: Record<string, unknown>): AttachmentRow {
  return {
    id: row.id as string,
    quoteId: row.quote_id as string,
    version: row.version as number,
    fileName: row.file_name as string,
    contentType: row.content_type as string,
    sizeBytes: row.size_bytes as number,
    sha256: row.sha256 as string,
    storageKey: row.storage_key as string,
    uploaderKind: row.uploader_kind as 'buyer' | 'staff',
    uploadedBy: row.uploaded_by as string,
    createdAt: row.created_at as Date,
  };
}

export function attachmentView(row: Record<string, unknown>): QuoteAttachment {
  const attachment = toAttachment(row);
  return {
    id: attachment.id,
    fileName: attachment.fileName,
    contentType: attachment.contentType,
    sizeBytes: attachment.sizeBytes,
    sha256: attachment.sha256,
    uploadedBy: { kind: attachment.uploaderKind, id: attachment.uploadedBy },
    version: attachment.version,
    createdAt: attachment.createdAt.toISOString(),
  };
}

const money = (minor: bigint | null, currency: string) =>
  minor === null ? null : { amountMinor: minor.toString(), currency };

function lineView(line: LineRow, currency: string): QuoteLine {
  return {
    lineNo: line.lineNo,
    skuId: line.skuId,
    skuCode: line.skuCode,
    description: line.description,
    quantity: line.quantity,
    unit: line.unit,
    listUnitPrice: money(line.listUnitMinor, currency),
    targetUnitPrice: money(line.targetUnitMinor, currency),
    unitPrice: money(line.unitPriceMinor, currency),
    discountBp: line.discountBp,
    discount: money(line.discountMinor, currency),
    lineTotal: money(line.lineTotalMinor, currency),
    note: line.note,
  };
}

/** The quote as `audience` reads it: buyers never see a staff version that is not approved. */
export async function quoteView(db: Queryable, quote: QuoteRow, audience: 'buyer' | 'staff'): Promise<Quote> {
  const [versions, lines, history, attachments, quoted] = await Promise.all([
    db.query('SELECT * FROM quotes.quote_versions WHERE quote_id = $1 ORDER BY number', [quote.id]),
    db.query('SELECT * FROM quotes.quote_version_lines WHERE quote_id = $1 ORDER BY version, line_no', [
      quote.id,
    ]),
    db.query('SELECT * FROM quotes.quote_history WHERE quote_id = $1 ORDER BY id', [quote.id]),
    db.query('SELECT * FROM quotes.quote_attachments WHERE quote_id = $1 ORDER BY created_at, id', [
      quote.id,
    ]),
    quotedTotal(db, quote),
  ]);
  const linesByVersion = new Map<number, QuoteLine[]>();
  for (const row of lines.rows) {
    const list = linesByVersion.get(row.version) ?? [];
    list.push(lineView(toLine(row), quote.currency));
    linesByVersion.set(row.version, list);
  }
  const shown = versions.rows.filter(
    (row) => audience === 'staff' || row.approval === 'not_required' || row.approval === 'approved',
  );
  const shownNumbers = new Set(shown.map((row) => row.number as number));
  return {
    ...summaryOf(quote, quoted, audience),
    sourceCartId: quote.sourceCartId,
    pendingApproval:
      audience === 'staff' && quote.pendingVersion !== null
        ? { version: quote.pendingVersion, approvalId: quote.approvalId }
        : null,
    acceptedVersion: quote.acceptedVersion,
    order: quote.orderStatus
      ? { status: quote.orderStatus, orderId: quote.orderId, error: quote.orderError }
      : null,
    versions: shown.map(
      (row): QuoteVersion => ({
        number: row.number,
        kind: row.kind,
        author: { kind: row.author_kind, id: row.author_id },
        validUntil: row.valid_until ? row.valid_until.toISOString() : null,
        note: row.note ?? null,
        total: money(big(row.total_minor), quote.currency),
        listTotal: money(big(row.list_total_minor), quote.currency),
        approval: row.approval,
        createdAt: row.created_at.toISOString(),
        lines: linesByVersion.get(row.number) ?? [],
      }),
    ),
    history: history.rows.map((row) => ({
      from: row.from_state ?? null,
      to: row.to_state,
      action: row.action,
      actor: { kind: row.actor_kind, id: row.actor_id ?? null },
      version: row.version ?? null,
      reason: row.reason ?? null,
      at: row.at.toISOString(),
    })),
    attachments: attachments.rows.filter((row) => shownNumbers.has(row.version)).map(attachmentView),
  };
}

async function quotedTotal(db: Queryable, quote: QuoteRow): Promise<bigint | null> {
  if (quote.quotedVersion === null) return null;
  const { rows } = await db.query(
    'SELECT total_minor FROM quotes.quote_versions WHERE quote_id = $1 AND number = $2',
    [quote.id, quote.quotedVersion],
  );
  return big(rows[0]?.total_minor);
}

export function summaryOf(
  quote: QuoteRow,
  quoted: bigint | null,
  _audience: 'buyer' | 'staff',
): QuoteSummary {
  return {
    id: quote.id,
    companyId: quote.companyId,
    requestedBy: quote.requestedBy,
    state: quote.state,
    currency: quote.currency,
    title: quote.title,
    neededBy: quote.neededBy,
    targetTotal: money(quote.targetTotalMinor, quote.currency),
    // The latest version the reader may see: a pending staff version is not one for buyers.
    latestVersion:
      _audience === 'buyer' && quote.pendingVersion !== null ? quote.pendingVersion - 1 : quote.latestVersion,
    quotedVersion: quote.quotedVersion,
    quotedTotal: money(quoted, quote.currency),
    validUntil: quote.validUntil ? quote.validUntil.toISOString() : null,
    createdAt: quote.createdAt.toISOString(),
    updatedAt: quote.updatedAt.toISOString(),
  };
}

/** Newest first, for a buyer's company or (staff) any or one company. */
export async function listQuotes(
  db: Queryable,
  filter: { companyId?: string | undefined; state?: string | undefined; limit: number },
  audience: 'buyer' | 'staff',
): Promise<QuoteSummary[]> {
  const { rows } = await db.query(
    `SELECT q.id, q.company_id, q.requested_by, q.state, q.currency, q.title, q.needed_by::text AS needed_by,
            q.target_total_minor, q.source_cart_id, q.latest_version, q.quoted_version, q.valid_until,
            q.pending_version, q.approval_id, q.accepted_version, q.order_status, q.order_id, q.order_error,
            q.created_at, q.updated_at, v.total_minor AS quoted_total_minor
       FROM quotes.quotes q
       LEFT JOIN quotes.quote_versions v ON v.quote_id = q.id AND v.number = q.quoted_version
      WHERE ($1::uuid IS NULL OR q.company_id = $1) AND ($2::text IS NULL OR q.state = $2)
      ORDER BY q.created_at DESC, q.id DESC LIMIT $3`,
    [filter.companyId ?? null, filter.state ?? null, filter.limit],
  );
  return rows.map((row) => summaryOf(toQuote(row), big(row.quoted_total_minor), audience));
}
