import type { Queryable, Transaction } from '../platform/database/database.ts';
import { NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { OutboxMessage } from '../platform/outbox/outbox.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { attachPoDocument } from './po-documents.ts';
import { type ActorKind, checkTransition, type OrderStatus } from './state-machine.ts';

/**
 * The orders' tables. Every read for a buyer is scoped by the auth context's company (and the
 * `orders.read` scope, see `scopeFilter`); an order of another company reads as not found.
 */

export interface Money {
  amountMinor: string;
  currency: string;
}

export interface Actor {
  kind: ActorKind;
  id: string;
}

export interface OpenLine {
  skuId: string;
  skuCode: string;
  productId: string | null;
  name: string | null;
  unit: string | null;
  quantity: number;
  unitPrice: Money;
  vatRate: number;
  pricesIncludeTax: boolean;
  net: Money;
  tax: Money;
  gross: Money;
  priceListCode: string | null;
}

export interface OpenOrderInput {
  orderId: string;
  companyId: string;
  placedBy: string;
  unitId: string | null;
  unitPath: string[];
  checkoutKey: string;
  source: 'cart' | 'lines' | 'quote' | 'reorder';
  cartId: string | null;
  quoteId: string | null;
  paymentMethod: 'credit' | 'bank_transfer' | 'online';
  poNumber: string | null;
  /** A PO document the placer uploaded, attached in the order's transaction. */
  poDocumentId?: string | null;
  note: string | null;
  currency: string;
  totals: { net: Money; tax: Money; gross: Money };
  lines: OpenLine[];
}

export interface OrderLineView {
  lineNo: number;
  skuId: string;
  skuCode: string;
  productId: string | null;
  name: string | null;
  unit: string | null;
  quantity: number;
  shippedQuantity: number;
  /** Units still to ship (the backorder once part of the order shipped). */
  openQuantity: number;
  unitPrice: Money;
  vatRate: number;
  pricesIncludeTax: boolean;
  net: Money;
  tax: Money;
  gross: Money;
  priceListCode: string | null;
}

export interface OrderView {
  id: string;
  number: string;
  companyId: string;
  placedBy: string;
  unitId: string | null;
  status: OrderStatus;
  source: OpenOrderInput['source'];
  cartId: string | null;
  quoteId: string | null;
  paymentMethod: OpenOrderInput['paymentMethod'];
  paymentId: string | null;
  poNumber: string | null;
  note: string | null;
  totals: { net: Money; tax: Money; gross: Money };
  cancelReason: string | null;
  placedAt: string;
  updatedAt: string;
  version: number;
  lines: OrderLineView[];
}

export interface OrderSummary {
  id: string;
  number: string;
  placedBy: string;
  unitId: string | null;
  status: OrderStatus;
  paymentMethod: OpenOrderInput['paymentMethod'];
  poNumber: string | null;
  totals: { net: Money; tax: Money; gross: Money };
  lineCount: number;
  placedAt: string;
}

export interface HistoryEntry {
  from: OrderStatus | null;
  to: OrderStatus;
  actor: Actor;
  reason: string | null;
  at: string;
}

const iso = (value: Date | string) => new Date(value).toISOString();
const money = (minor: bigint | string | number, currency: string): Money => ({
  amountMinor: String(minor),
  currency,
});

// biome-ignore lint/suspicious/noExplicitAny: rows of pg
type Row = any;

function totalsOf(row: Row) {
  return {
    net: money(row.net_minor, row.currency),
    tax: money(row.tax_minor, row.currency),
    gross: money(row.gross_minor, row.currency),
  };
}

function toLine(row: Row, currency: string): OrderLineView {
  return {
    lineNo: row.line_no,
    skuId: row.sku_id,
    skuCode: row.sku_code,
    productId: row.product_id ?? null,
    name: row.name ?? null,
    unit: row.unit ?? null,
    quantity: row.quantity,
    shippedQuantity: row.shipped_qty,
    openQuantity: row.quantity - row.shipped_qty,
    unitPrice: money(row.unit_price_minor, currency),
    vatRate: row.vat_rate,
    pricesIncludeTax: row.prices_include_tax,
    net: money(row.net_minor, currency),
    tax: money(row.tax_minor, currency),
    gross: money(row.gross_minor, currency),
    priceListCode: row.price_list_code ?? null,
  };
}

function toOrder(row: Row, lines: Row[]): OrderView {
  return {
    id: row.id,
    number: row.number,
    companyId: row.company_id,
    placedBy: row.placed_by,
    unitId: row.unit_id ?? null,
    status: row.status,
    source: row.source,
    cartId: row.cart_id ?? null,
    quoteId: row.quote_id ?? null,
    paymentMethod: row.payment_method,
    paymentId: row.payment_id ?? null,
    poNumber: row.po_number ?? null,
    note: row.note ?? null,
    totals: totalsOf(row),
    cancelReason: row.cancel_reason ?? null,
    placedAt: iso(row.placed_at),
    updatedAt: iso(row.updated_at),
    version: row.version,
    lines: lines.map((line) => toLine(line, row.currency)),
  };
}

/** Order numbers people read out on the phone: SO + date (Asia/Shanghai) + a sequence. */
const NUMBER_SQL = `'SO' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(nextval('orders.order_number_seq')::text, 6, '0')`;

/**
 * Writes the order in `placing` with its priced lines, unless the company already has an order
 * for the same checkout key: then that one is answered (`created: false`). The unique index makes
 * racing checkouts of the same cart end as one order.
 */
export async function openOrder(
  tx: Transaction,
  input: OpenOrderInput,
  actor: Actor,
): Promise<{ created: boolean; orderId: string }> {
  const { rows } = await tx.query(
    `INSERT INTO orders.orders (id, number, company_id, placed_by, unit_id, unit_path, status, checkout_key, source,
       cart_id, quote_id, payment_method, po_number, note, currency, net_minor, tax_minor, gross_minor)
     VALUES ($1, ${NUMBER_SQL}, $2, $3, $4, $5, 'placing', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (company_id, checkout_key) WHERE checkout_key IS NOT NULL DO NOTHING
     RETURNING id`,
    [
      input.orderId,
      input.companyId,
      input.placedBy,
      input.unitId,
      input.unitPath,
      input.checkoutKey,
      input.source,
      input.cartId,
      input.quoteId,
      input.paymentMethod,
      input.poNumber,
      input.note,
      input.currency,
      input.totals.net.amountMinor,
      input.totals.tax.amountMinor,
      input.totals.gross.amountMinor,
    ],
  );
  if (!rows[0]) {
    const existing = await tx.query(
      'SELECT id FROM orders.orders WHERE company_id = $1 AND checkout_key = $2',
      [input.companyId, input.checkoutKey],
    );
    return { created: false, orderId: existing.rows[0]!.id };
  }
  const values: unknown[] = [];
  const tuples = input.lines.map((line, index) => {
    values.push(
      input.orderId,
      index + 1,
      line.skuId,
      line.skuCode,
      line.productId,
      line.name,
      line.unit,
      line.quantity,
      line.unitPrice.amountMinor,
      line.vatRate,
      line.pricesIncludeTax,
      line.net.amountMinor,
      line.tax.amountMinor,
      line.gross.amountMinor,
      line.priceListCode,
    );
    const n = values.length - 15;
    return `(${Array.from({ length: 15 }, (_, i) => `$${n + i + 1}`).join(', ')})`;
  });
  await tx.query(
    `INSERT INTO orders.order_lines (order_id, line_no, sku_id, sku_code, product_id, name, unit, quantity,
       unit_price_minor, vat_rate, prices_include_tax, net_minor, tax_minor, gross_minor, price_list_code)
     VALUES ${tuples.join(', ')}`,
    values,
  );
  await tx.query(
    `INSERT INTO orders.order_history (order_id, company_id, from_status, to_status, actor_kind, actor_id, reason)
     VALUES ($1, $2, NULL, 'placing', $3, $4, 'checkout')`,
    [input.orderId, input.companyId, actor.kind, actor.id],
  );
  if (input.poDocumentId) {
    await attachPoDocument(tx, {
      documentId: input.poDocumentId,
      orderId: input.orderId,
      companyId: input.companyId,
      placedBy: input.placedBy,
    });
  }
  return { created: true, orderId: input.orderId };
}

/** The order with its lines; `companyId` (a buyer's tenant) narrows it, null for staff and the system. */
export async function findOrder(
  db: Queryable,
  orderId: string,
  companyId: string | null,
  options: { lock?: boolean } = {},
): Promise<(OrderView & { heldFrom: OrderStatus | null; unitPath: string[] }) | null> {
  const { rows } = await db.query(
    `SELECT * FROM orders.orders WHERE id = $1 AND ($2::uuid IS NULL OR company_id = $2) ${options.lock ? 'FOR UPDATE' : ''}`,
    [orderId, companyId],
  );
  const row = rows[0];
  if (!row) return null;
  const lines = await db.query('SELECT * FROM orders.order_lines WHERE order_id = $1 ORDER BY line_no', [
    orderId,
  ]);
  return { ...toOrder(row, lines.rows), heldFrom: row.held_from ?? null, unitPath: row.unit_path ?? [] };
}

export async function requireOrder(
  db: Queryable,
  orderId: string,
  companyId: string | null,
  options: { lock?: boolean } = {},
) {
  const order = await findOrder(db, orderId, companyId, options);
  if (!order) throw new NotFound('Order');
  return order;
}

export async function historyOf(db: Queryable, orderId: string): Promise<HistoryEntry[]> {
  const { rows } = await db.query(
    `SELECT from_status, to_status, actor_kind, actor_id, reason, at FROM orders.order_history
      WHERE order_id = $1 ORDER BY id`,
    [orderId],
  );
  return rows.map((row) => ({
    from: row.from_status ?? null,
    to: row.to_status,
    actor: { kind: row.actor_kind, id: row.actor_id },
    reason: row.reason ?? null,
    at: iso(row.at),
  }));
}

export interface TransitionResult {
  order: OrderView;
  from: OrderStatus;
  changed: boolean;
}

/** Event names a status reached announces besides `order.status_changed`. */
const EVENT_OF: Partial<Record<OrderStatus, string>> = {
  confirmed: 'order.confirmed',
  shipped: 'order.shipped',
  cancelled: 'order.cancelled',
};

/**
 * Moves the order to `to` in the caller's transaction, as the state machine allows: locks the row,
 * checks the transition (409/403/422), records the history row, and writes `order.status_changed`
 * (plus `order.placed` when checkout ends in a live order, and `order.confirmed` / `order.shipped` /
 * `order.cancelled`) to the outbox in the same transaction. `ifFrom` makes the call a no-op when
 * the order is already elsewhere (a repeated event); `patch` sets payment id or approval id too.
 */
export async function transition(
  tx: Transaction,
  input: {
    orderId: string;
    companyId: string | null;
    to: OrderStatus;
    actor: Actor;
    reason?: string | null | undefined;
    ifFrom?: readonly OrderStatus[];
    patch?: { paymentId?: string; approvalId?: string };
  },
  origin?: { requestId?: string | undefined },
): Promise<TransitionResult> {
  const order = await requireOrder(tx, input.orderId, input.companyId, { lock: true });
  const from = order.status;
  if (input.ifFrom && !input.ifFrom.includes(from)) return { order, from, changed: false };
  const quantity = order.lines.reduce((sum, line) => sum + line.quantity, 0);
  const shipped = order.lines.reduce((sum, line) => sum + line.shippedQuantity, 0);
  checkTransition({ status: from, heldFrom: order.heldFrom, quantity, shipped }, input.to, input.actor.kind);
  const reason = input.reason ?? null;
  const { rows } = await tx.query(
    `UPDATE orders.orders
        SET status = $2,
            held_from = CASE WHEN $2 = 'on_hold' THEN status ELSE NULL END,
            cancel_reason = CASE WHEN $2 IN ('cancelled', 'failed') THEN $3 ELSE cancel_reason END,
            -- A checkout that failed frees its key, so the buyer may check the same cart out again.
            checkout_key = CASE WHEN $2 = 'failed' THEN NULL ELSE checkout_key END,
            payment_id = coalesce($4, payment_id),
            approval_id = coalesce($5::uuid, approval_id),
            version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING updated_at, version`,
    [input.orderId, input.to, reason, input.patch?.paymentId ?? null, input.patch?.approvalId ?? null],
  );
  await tx.query(
    `INSERT INTO orders.order_history (order_id, company_id, from_status, to_status, actor_kind, actor_id, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [input.orderId, order.companyId, from, input.to, input.actor.kind, input.actor.id, reason],
  );
  const base = { orderId: order.id, number: order.number, companyId: order.companyId };
  const messages: OutboxMessage[] = [
    {
      kind: 'event',
      name: 'order.status_changed',
      companyId: order.companyId,
      payload: { ...base, from, to: input.to, reason, actor: input.actor },
    },
  ];
  if (from === 'placing' && input.to !== 'failed') {
    messages.push({
      kind: 'event',
      name: 'order.placed',
      companyId: order.companyId,
      payload: {
        ...base,
        placedBy: order.placedBy,
        status: input.to,
        paymentMethod: order.paymentMethod,
        poNumber: order.poNumber,
        total: order.totals.gross,
        lines: order.lines.map((line) => ({
          skuId: line.skuId,
          skuCode: line.skuCode,
          quantity: line.quantity,
        })),
      },
    });
  }
  const named = from !== input.to ? EVENT_OF[input.to] : undefined;
  if (named) {
    messages.push({
      kind: 'event',
      name: named,
      companyId: order.companyId,
      payload: { ...base, from, reason, total: order.totals.gross },
    });
  }
  await writeOutbox(tx, messages, origin);
  const after = {
    ...order,
    status: input.to,
    cancelReason: input.to === 'cancelled' || input.to === 'failed' ? reason : order.cancelReason,
    paymentId: input.patch?.paymentId ?? order.paymentId,
    updatedAt: iso(rows[0]!.updated_at),
    version: rows[0]!.version,
  };
  const { heldFrom: _h, unitPath: _u, ...view } = after;
  return { order: view, from, changed: true };
}

/**
 * Keeps where the reservation put each line, in one statement: the rows are written only for an
 * order of `companyId` (null: any), and a repeat writes nothing (idempotent per order, SKU and
 * warehouse). Answers false when there is no such order.
 */
export async function recordAllocations(
  db: Queryable,
  orderId: string,
  companyId: string | null,
  allocations: ReadonlyArray<{ skuId: string; warehouseId: string; quantity: number }>,
): Promise<boolean> {
  const { rows } = await db.query(
    `WITH target AS (SELECT id FROM orders.orders WHERE id = $1 AND ($2::uuid IS NULL OR company_id = $2)),
          written AS (
            INSERT INTO orders.order_allocations (order_id, sku_id, warehouse_id, quantity)
            SELECT target.id, a.sku_id, a.warehouse_id, a.quantity
              FROM target, unnest($3::uuid[], $4::uuid[], $5::int[]) AS a(sku_id, warehouse_id, quantity)
            ON CONFLICT (order_id, sku_id, warehouse_id) DO NOTHING RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM target) AS found`,
    [
      orderId,
      companyId,
      allocations.map((a) => a.skuId),
      allocations.map((a) => a.warehouseId),
      allocations.map((a) => a.quantity),
    ],
  );
  return rows[0]!.found;
}

export async function allocationsOf(db: Queryable, orderId: string) {
  const { rows } = await db.query(
    `SELECT sku_id, warehouse_id, quantity, shipped_qty FROM orders.order_allocations
      WHERE order_id = $1 ORDER BY sku_id, warehouse_id`,
    [orderId],
  );
  return rows.map((row) => ({
    skuId: row.sku_id as string,
    warehouseId: row.warehouse_id as string,
    quantity: row.quantity as number,
    shippedQuantity: row.shipped_qty as number,
  }));
}

/** The buyer's reach over orders: always their own; wider with `orders.read@unit|unit_tree|company`. */
export interface Reader {
  companyId: string;
  userId: string;
  unitId: string | null;
  scope: 'own' | 'unit' | 'unit_tree' | 'company';
}

/** SQL condition on `o` for the orders `reader` may see, values numbered from `$first`. */
export function scopeFilter(reader: Reader, first: number): { sql: string; values: unknown[] } {
  const p = (offset: number) => `$${first + offset}`;
  const values: unknown[] = [reader.companyId, reader.userId];
  let wider = 'false';
  if (reader.scope === 'company') wider = 'true';
  else if (reader.scope === 'unit' && reader.unitId) {
    values.push(reader.unitId);
    wider = `o.unit_id = ${p(2)}`;
  } else if (reader.scope === 'unit_tree' && reader.unitId) {
    values.push([reader.unitId]);
    wider = `o.unit_path @> ${p(2)}::uuid[]`;
  }
  return { sql: `o.company_id = ${p(0)} AND (o.placed_by = ${p(1)} OR ${wider})`, values };
}

export interface ListFilter {
  status?: OrderStatus[] | undefined;
  from?: string | undefined;
  to?: string | undefined;
  q?: string | undefined;
  placedBy?: string | undefined;
  companyId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

function decodeCursor(cursor: string | undefined): { at: string; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\|([0-9a-f-]{36})$/.exec(text);
  if (!match) throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  return { at: match[1]!, id: match[2]! };
}

/**
 * Orders newest first, keyset-paged on (placed_at, id). Checkouts in progress or undone
 * (`placing`, `failed`) are listed only when asked for by status.
 */
export async function listOrders(
  db: Queryable,
  scope: { sql: string; values: unknown[] } | null,
  filter: ListFilter,
): Promise<{ items: OrderSummary[]; nextCursor: string | null }> {
  const values: unknown[] = scope ? [...scope.values] : [];
  const where: string[] = scope ? [scope.sql] : [];
  const add = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.status?.length) where.push(`o.status = ANY (${add(filter.status)}::text[])`);
  else where.push(`o.status NOT IN ('placing', 'failed')`);
  if (filter.from) where.push(`o.placed_at >= ${add(filter.from)}::timestamptz`);
  if (filter.to) where.push(`o.placed_at < ${add(filter.to)}::timestamptz`);
  if (filter.placedBy) where.push(`o.placed_by = ${add(filter.placedBy)}::uuid`);
  if (filter.companyId) where.push(`o.company_id = ${add(filter.companyId)}::uuid`);
  if (filter.q) {
    const like = add(`%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(
      `(o.number ILIKE ${like} OR o.po_number ILIKE ${like} OR EXISTS (SELECT 1 FROM orders.order_lines l WHERE l.order_id = o.id AND l.sku_code ILIKE ${like}))`,
    );
  }
  const cursor = decodeCursor(filter.cursor);
  if (cursor) where.push(`(o.placed_at, o.id) < (${add(cursor.at)}::timestamptz, ${add(cursor.id)}::uuid)`);
  const { rows } = await db.query(
    `SELECT o.*, (SELECT count(*) FROM orders.order_lines l WHERE l.order_id = o.id)::int AS line_count
       FROM orders.orders o
      WHERE ${where.join(' AND ')}
      ORDER BY o.placed_at DESC, o.id DESC
      LIMIT ${add(filter.limit)}`,
    values,
  );
  const items: OrderSummary[] = rows.map((row) => ({
    id: row.id,
    number: row.number,
    placedBy: row.placed_by,
    unitId: row.unit_id ?? null,
    status: row.status,
    paymentMethod: row.payment_method,
    poNumber: row.po_number ?? null,
    totals: totalsOf(row),
    lineCount: row.line_count,
    placedAt: iso(row.placed_at),
  }));
  const last = rows[rows.length - 1];
  return {
    items,
    nextCursor:
      rows.length === filter.limit && last
        ? Buffer.from(`${iso(last.placed_at)}|${last.id}`).toString('base64url')
        : null,
  };
}

export interface CheckoutSettings {
  poNumberRequired: boolean;
  poDocumentRequired: boolean;
}

export async function checkoutSettings(db: Queryable, companyId: string): Promise<CheckoutSettings> {
  const { rows } = await db.query(
    'SELECT po_number_required, po_document_required FROM orders.company_settings WHERE company_id = $1',
    [companyId],
  );
  return {
    poNumberRequired: rows[0]?.po_number_required ?? false,
    poDocumentRequired: rows[0]?.po_document_required ?? false,
  };
}

export async function putSettings(
  tx: Transaction,
  companyId: string,
  settings: CheckoutSettings,
): Promise<void> {
  await tx.query(
    `INSERT INTO orders.company_settings (company_id, po_number_required, po_document_required) VALUES ($1, $2, $3)
     ON CONFLICT (company_id) DO UPDATE SET po_number_required = $2, po_document_required = $3, updated_at = now()`,
    [companyId, settings.poNumberRequired, settings.poDocumentRequired],
  );
}
