/**
 * Reservations: stock held for an order from placement until it is confirmed (firm), shipped,
 * released (cancel, compensation) or expires. Every operation is one transaction and idempotent
 * per handle — the reservation per `reference`, a shipment per `shipmentId`, a partial release per
 * `releaseId` — so the order saga can retry any step.
 *
 * Concurrency: `reserve` inserts its reservation row first (a concurrent twin with the same
 * reference waits on the unique index and then answers the first one's result), then locks every
 * stock row of the SKUs asked for in (sku, warehouse) order with FOR UPDATE. Read committed hands
 * each waiter the rows as the previous holder committed them, so the allocation it computes is
 * against current stock; the CHECK constraints stay the last word. 50 buyers racing for the last
 * 10 units get exactly 10 units between them (reservations.concurrency.test.ts).
 */
import type { RequestOrigin } from '../platform/auth/auth-context.ts';
import type { Database, Queryable, Transaction } from '../platform/database/database.ts';
import { Conflict, NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { type Allocation, allocate, mergeLines, type WarehouseStock } from './allocation.ts';
import { type Actor, applyMovements, levelKey, type Movement, movement } from './stock-ledger.ts';

export const RESERVATION_STATUSES = ['reserved', 'confirmed', 'released', 'expired', 'shipped'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export interface ReservationLine {
  skuId: string;
  warehouseId: string;
  quantity: number;
  released: number;
  shipped: number;
  /** Still held: quantity − released − shipped. */
  open: number;
}

export interface Reservation {
  id: string;
  reference: string;
  companyId: string;
  status: ReservationStatus;
  expiresAt: string | null;
  lines: ReservationLine[];
  createdAt: string;
  updatedAt: string;
}

interface StoredReservation extends Reservation {
  request: { companyId: string; lines: Array<{ skuId: string; quantity: number }> };
}

export interface ReserveInput {
  reference: string;
  companyId: string;
  lines: ReadonlyArray<{ skuId: string; quantity: number }>;
  expiresInSeconds: number;
}

export interface ReserveAnswer {
  reference: string;
  reservationId: string;
  status: ReservationStatus;
  expiresAt: string | null;
  allocations: Allocation[];
}

export interface StockChange {
  skuId: string;
  warehouseId: string;
  quantity: number;
}

const COLUMNS =
  'r.id, r.reference, r.company_id, r.status, r.expires_at, r.request, r.created_at, r.updated_at';

function toReservation(row: Record<string, unknown>, lines: ReservationLine[]): StoredReservation {
  return {
    id: row.id as string,
    reference: row.reference as string,
    companyId: row.company_id as string,
    status: row.status as ReservationStatus,
    expiresAt: row.expires_at ? (row.expires_at as Date).toISOString() : null,
    lines,
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
    request: row.request as StoredReservation['request'],
  };
}

/** Lines of many reservations, each list in (SKU, warehouse priority, code) order. */
async function linesOf(db: Queryable, ids: readonly string[]): Promise<Map<string, ReservationLine[]>> {
  const { rows } = await db.query(
    `SELECT l.reservation_id, l.sku_id, l.warehouse_id, l.quantity, l.released, l.shipped
       FROM inventory.reservation_lines l JOIN inventory.warehouses w ON w.id = l.warehouse_id
      WHERE l.reservation_id = ANY($1::uuid[])
      ORDER BY l.reservation_id, l.sku_id, w.priority DESC, w.code`,
    [ids],
  );
  const result = new Map<string, ReservationLine[]>(ids.map((id) => [id, []]));
  for (const row of rows) {
    const quantity = Number(row.quantity);
    const released = Number(row.released);
    const shipped = Number(row.shipped);
    result.get(row.reservation_id)?.push({
      skuId: row.sku_id,
      warehouseId: row.warehouse_id,
      quantity,
      released,
      shipped,
      open: quantity - released - shipped,
    });
  }
  return result;
}

async function loadBy(
  db: Queryable,
  where: 'id' | 'reference',
  value: string,
  lock = false,
): Promise<StoredReservation | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM inventory.reservations r WHERE r.${where} = $1${lock ? ' FOR UPDATE' : ''}`,
    [value],
  );
  if (!rows[0]) return undefined;
  return toReservation(rows[0], (await linesOf(db, [rows[0].id])).get(rows[0].id) ?? []);
}

export async function findReservation(db: Queryable, id: string): Promise<Reservation | undefined> {
  const found = await loadBy(db, 'id', id);
  return found ? publicView(found) : undefined;
}

function publicView({ request: _request, ...reservation }: StoredReservation): Reservation {
  return reservation;
}

function answerOf(reservation: Reservation): ReserveAnswer {
  return {
    reference: reservation.reference,
    reservationId: reservation.id,
    status: reservation.status,
    expiresAt: reservation.expiresAt,
    allocations: reservation.lines.map((l) => ({
      skuId: l.skuId,
      warehouseId: l.warehouseId,
      quantity: l.quantity,
    })),
  };
}

function sameRequest(a: StoredReservation['request'], b: StoredReservation['request']): boolean {
  return (
    a.companyId === b.companyId &&
    a.lines.length === b.lines.length &&
    a.lines.every((line, i) => line.skuId === b.lines[i]!.skuId && line.quantity === b.lines[i]!.quantity)
  );
}

/**
 * Reserves every line or none. A repeat with the same reference answers the reservation made the
 * first time (whatever its status now); a repeat with other lines or another company is refused
 * (409). Refusal for stock: 422 `insufficient-stock` with `lines: [{ skuId, requested, available }]`
 * for each short line.
 */
export async function reserve(
  db: Database,
  input: ReserveInput,
  actor: Actor,
  origin?: RequestOrigin,
): Promise<ReserveAnswer> {
  const companyId = input.companyId.toLowerCase();
  const request = { companyId, lines: mergeLines(input.lines) };
  return db.transaction(async (tx) => {
    const { rows: inserted } = await tx.query(
      `INSERT INTO inventory.reservations (reference, company_id, status, expires_at, request)
       VALUES ($1, $2, 'reserved', now() + make_interval(secs => $3), $4::jsonb)
       ON CONFLICT (reference) DO NOTHING
       RETURNING id, reference, company_id, status, expires_at, created_at, updated_at`,
      [input.reference, companyId, input.expiresInSeconds, JSON.stringify(request)],
    );
    const created = inserted[0];
    if (!created) {
      const existing = (await loadBy(tx, 'reference', input.reference))!;
      if (!sameRequest(existing.request, request)) {
        throw new Conflict(`Reference ${input.reference} was used for another reservation`, {
          reference: input.reference,
        });
      }
      return answerOf(existing);
    }
    const skuIds = request.lines.map((l) => l.skuId);
    // The company's preferred warehouse rides along with the locked rows (one round trip less).
    const { rows: stock } = await tx.query(
      `SELECT s.sku_id, s.warehouse_id, s.on_hand, s.reserved, w.code, w.priority,
              (SELECT p.warehouse_id FROM inventory.company_preferences p WHERE p.company_id = $2) AS preferred
         FROM inventory.stock_levels s JOIN inventory.warehouses w ON w.id = s.warehouse_id
        WHERE s.sku_id = ANY($1::uuid[]) AND w.active
        ORDER BY s.sku_id, s.warehouse_id
          FOR UPDATE OF s`,
      [skuIds, companyId],
    );
    const bySku = new Map<string, WarehouseStock[]>();
    for (const row of stock) {
      const list = bySku.get(row.sku_id) ?? [];
      list.push({
        warehouseId: row.warehouse_id,
        code: row.code,
        priority: row.priority,
        available: Number(row.on_hand) - Number(row.reserved),
      });
      bySku.set(row.sku_id, list);
    }
    const result = allocate(request.lines, bySku, stock[0]?.preferred ?? null);
    if (!result.ok) {
      throw new UnprocessableRequest('insufficient-stock', 'Not enough stock for every line', {
        lines: result.shortages,
      });
    }
    await insertLines(tx, created.id, result.allocations);
    await applyMovements(
      tx,
      result.allocations.map((a) =>
        movement('reserve', a.skuId, a.warehouseId, a.quantity, { reference: input.reference }),
      ),
      actor,
      origin,
      { locked: true },
    );
    return {
      reference: created.reference,
      reservationId: created.id,
      status: created.status,
      expiresAt: (created.expires_at as Date).toISOString(),
      allocations: result.allocations,
    };
  });
}

async function insertLines(tx: Transaction, reservationId: string, allocations: readonly Allocation[]) {
  await tx.query(
    `INSERT INTO inventory.reservation_lines (reservation_id, sku_id, warehouse_id, quantity)
     SELECT $1, sku, wh, qty FROM unnest($2::uuid[], $3::uuid[], $4::bigint[]) AS a(sku, wh, qty)`,
    [
      reservationId,
      allocations.map((a) => a.skuId),
      allocations.map((a) => a.warehouseId),
      allocations.map((a) => a.quantity),
    ],
  );
}

/**
 * The reservation becomes firm: it no longer expires. Confirming a confirmed or shipped one changes
 * nothing. One the sweep has not released yet can still be confirmed after its expiry (the stock is
 * still held); a released or expired one is refused with 422 `reservation-released` /
 * `reservation-expired`.
 */
export async function confirm(db: Database, reference: string): Promise<Reservation> {
  return db.transaction(async (tx) => {
    const reservation = await loadBy(tx, 'reference', reference, true);
    if (!reservation) throw new NotFound('Reservation');
    refuseClosed(reservation);
    if (reservation.status !== 'reserved') return publicView(reservation);
    await tx.query(
      `UPDATE inventory.reservations SET status = 'confirmed', expires_at = NULL, updated_at = now() WHERE id = $1`,
      [reservation.id],
    );
    return publicView((await loadBy(tx, 'id', reservation.id))!);
  });
}

function refuseClosed(reservation: Reservation): void {
  if (reservation.status === 'released' || reservation.status === 'expired') {
    throw new UnprocessableRequest(
      `reservation-${reservation.status}`,
      `Reservation ${reservation.reference} was ${reservation.status}`,
      { reference: reservation.reference, status: reservation.status },
    );
  }
}

/** A line's open quantity per (SKU, warehouse) and the status after `changes`. */
function statusAfter(lines: readonly ReservationLine[], status: ReservationStatus): ReservationStatus {
  if (lines.some((l) => l.open > 0)) return status;
  return lines.some((l) => l.shipped > 0) ? 'shipped' : status === 'expired' ? 'expired' : 'released';
}

export interface ReleaseInput {
  reference: string;
  /** What to release; all that is open when absent. */
  lines?: ReadonlyArray<{ skuId: string; quantity: number; warehouseId?: string }> | undefined;
  /** Makes a partial release idempotent: the same id is applied once. */
  releaseId?: string | undefined;
}

export interface ReleaseAnswer {
  reference: string;
  status: ReservationStatus | null;
  released: StockChange[];
}

/**
 * Releases all that is still held (or the given quantities, from the lowest-ranked warehouse
 * first unless a line names one). Releasing more than is held releases what is held; an unknown
 * reference or a closed reservation is a no-op success (`status: null` when there is none), so
 * compensation can always call it.
 */
export async function release(
  db: Database,
  input: ReleaseInput,
  actor: Actor,
  origin?: RequestOrigin,
  options: {
    reason?: string;
    /** Runs in the release's transaction when something was released (the staff audit record). */
    onReleased?: (tx: Transaction, released: StockChange[]) => Promise<void>;
  } = {},
): Promise<ReleaseAnswer> {
  const reason = options.reason ?? 'released';
  return db.transaction(async (tx) => {
    const reservation = await loadBy(tx, 'reference', input.reference, true);
    if (!reservation) return { reference: input.reference, status: null, released: [] };
    if (input.releaseId) {
      const done = await priorEvent(tx, 'release', input.releaseId, reservation.id);
      if (done) return { reference: reservation.reference, status: reservation.status, released: done };
    }
    const changes = input.lines ? partialRelease(reservation.lines, input.lines) : openLines(reservation);
    const status = await releaseLines(tx, reservation, changes, 'released', actor, origin, reason);
    if (input.releaseId) await recordEvent(tx, 'release', input.releaseId, reservation.id, changes);
    if (changes.length && options.onReleased) await options.onReleased(tx, changes);
    return { reference: reservation.reference, status, released: changes };
  });
}

function openLines(reservation: Reservation): StockChange[] {
  return reservation.lines
    .filter((l) => l.open > 0)
    .map((l) => ({ skuId: l.skuId, warehouseId: l.warehouseId, quantity: l.open }));
}

function partialRelease(
  lines: readonly ReservationLine[],
  wanted: NonNullable<ReleaseInput['lines']>,
): StockChange[] {
  const open = new Map(lines.map((l) => [levelKey(l.skuId, l.warehouseId), l.open]));
  const changes = new Map<string, StockChange>();
  for (const want of wanted) {
    const skuId = want.skuId.toLowerCase();
    const warehouseId = want.warehouseId?.toLowerCase();
    // Lines come in allocation rank order; release from the last-ranked warehouse first.
    const candidates = lines
      .filter((l) => l.skuId === skuId && (!warehouseId || l.warehouseId === warehouseId))
      .reverse();
    let remaining = want.quantity;
    for (const line of candidates) {
      const key = levelKey(line.skuId, line.warehouseId);
      const take = Math.min(open.get(key) ?? 0, remaining);
      if (take <= 0) continue;
      open.set(key, (open.get(key) ?? 0) - take);
      remaining -= take;
      const change = changes.get(key) ?? { skuId: line.skuId, warehouseId: line.warehouseId, quantity: 0 };
      change.quantity += take;
      changes.set(key, change);
    }
  }
  return [...changes.values()];
}

/** Moves `changes` from reserved back to available; answers the reservation's new status. */
async function releaseLines(
  tx: Transaction,
  reservation: Reservation,
  changes: readonly StockChange[],
  closedAs: 'released' | 'expired',
  actor: Actor,
  origin: RequestOrigin | undefined,
  reason: string,
): Promise<ReservationStatus> {
  if (!changes.length) return reservation.status;
  await tx.query(
    `UPDATE inventory.reservation_lines l SET released = l.released + c.qty
       FROM unnest($2::uuid[], $3::uuid[], $4::bigint[]) AS c(sku, wh, qty)
      WHERE l.reservation_id = $1 AND l.sku_id = c.sku AND l.warehouse_id = c.wh`,
    [
      reservation.id,
      changes.map((c) => c.skuId),
      changes.map((c) => c.warehouseId),
      changes.map((c) => c.quantity),
    ],
  );
  await applyMovements(
    tx,
    changes.map((c) =>
      movement('release', c.skuId, c.warehouseId, c.quantity, { reference: reservation.reference, reason }),
    ),
    actor,
    origin,
  );
  const released = new Map(changes.map((c) => [levelKey(c.skuId, c.warehouseId), c.quantity]));
  const after = reservation.lines.map((l) => {
    const more = released.get(levelKey(l.skuId, l.warehouseId)) ?? 0;
    return { ...l, released: l.released + more, open: l.open - more };
  });
  const status = statusAfter(after, closedAs === 'expired' ? 'expired' : reservation.status);
  const closed = !after.some((l) => l.open > 0);
  await tx.query(
    `UPDATE inventory.reservations
        SET status = $2, expires_at = CASE WHEN $3 THEN NULL ELSE expires_at END, updated_at = now()
      WHERE id = $1`,
    [reservation.id, closed ? status : reservation.status, closed],
  );
  return closed ? status : reservation.status;
}

async function priorEvent(
  tx: Transaction,
  kind: 'ship' | 'release',
  key: string,
  reservationId: string,
): Promise<StockChange[] | undefined> {
  const { rows } = await tx.query(
    'SELECT reservation_id, lines FROM inventory.reservation_events WHERE kind = $1 AND key = $2',
    [kind, key],
  );
  if (!rows[0]) return undefined;
  if (rows[0].reservation_id !== reservationId) {
    throw new Conflict(`${kind === 'ship' ? 'Shipment' : 'Release'} ${key} belongs to another reservation`);
  }
  return rows[0].lines as StockChange[];
}

async function recordEvent(
  tx: Transaction,
  kind: 'ship' | 'release',
  key: string,
  reservationId: string,
  lines: readonly StockChange[],
): Promise<void> {
  await tx.query(
    'INSERT INTO inventory.reservation_events (reservation_id, kind, key, lines) VALUES ($1, $2, $3, $4::jsonb)',
    [reservationId, kind, key, JSON.stringify(lines)],
  );
}

export interface ShipInput {
  reference: string;
  shipmentId: string;
  lines: ReadonlyArray<StockChange>;
}

export interface ShipAnswer {
  reference: string;
  shipmentId: string;
  status: ReservationStatus;
  shipped: StockChange[];
}

/**
 * Turns reserved units into an `out` movement (on hand and reserved both go down): partial
 * shipments allowed, once per `shipmentId`. Shipping an unconfirmed reservation makes it firm.
 * More than is held in that warehouse is refused (422 `exceeds-reservation`); a released or
 * expired reservation too (422 `reservation-released` / `reservation-expired`).
 */
export async function ship(
  db: Database,
  input: ShipInput,
  actor: Actor,
  origin?: RequestOrigin,
): Promise<ShipAnswer> {
  return db.transaction(async (tx) => {
    const reservation = await loadBy(tx, 'reference', input.reference, true);
    if (!reservation) throw new NotFound('Reservation');
    const done = await priorEvent(tx, 'ship', input.shipmentId, reservation.id);
    if (done) {
      return {
        reference: reservation.reference,
        shipmentId: input.shipmentId,
        status: reservation.status,
        shipped: done,
      };
    }
    refuseClosed(reservation);
    const wanted = new Map<string, StockChange>();
    for (const line of input.lines) {
      const skuId = line.skuId.toLowerCase();
      const warehouseId = line.warehouseId.toLowerCase();
      const key = levelKey(skuId, warehouseId);
      const entry = wanted.get(key) ?? { skuId, warehouseId, quantity: 0 };
      entry.quantity += line.quantity;
      wanted.set(key, entry);
    }
    const open = new Map(reservation.lines.map((l) => [levelKey(l.skuId, l.warehouseId), l.open]));
    const over = [...wanted.values()]
      .filter((w) => w.quantity > (open.get(levelKey(w.skuId, w.warehouseId)) ?? 0))
      .map((w) => ({ ...w, requested: w.quantity, open: open.get(levelKey(w.skuId, w.warehouseId)) ?? 0 }))
      .map(({ quantity: _quantity, ...rest }) => rest);
    if (over.length) {
      throw new UnprocessableRequest('exceeds-reservation', 'A shipment line exceeds what is reserved', {
        lines: over,
      });
    }
    const changes = [...wanted.values()];
    await tx.query(
      `UPDATE inventory.reservation_lines l SET shipped = l.shipped + c.qty
         FROM unnest($2::uuid[], $3::uuid[], $4::bigint[]) AS c(sku, wh, qty)
        WHERE l.reservation_id = $1 AND l.sku_id = c.sku AND l.warehouse_id = c.wh`,
      [
        reservation.id,
        changes.map((c) => c.skuId),
        changes.map((c) => c.warehouseId),
        changes.map((c) => c.quantity),
      ],
    );
    const movements: Movement[] = changes.map((c) =>
      movement('out', c.skuId, c.warehouseId, c.quantity, {
        reference: reservation.reference,
        reason: `shipment ${input.shipmentId}`,
      }),
    );
    await applyMovements(tx, movements, actor, origin);
    const shipped = new Map(changes.map((c) => [levelKey(c.skuId, c.warehouseId), c.quantity]));
    const after = reservation.lines.map((l) => {
      const more = shipped.get(levelKey(l.skuId, l.warehouseId)) ?? 0;
      return { ...l, shipped: l.shipped + more, open: l.open - more };
    });
    const status: ReservationStatus = after.some((l) => l.open > 0) ? 'confirmed' : 'shipped';
    await tx.query(
      `UPDATE inventory.reservations SET status = $2, expires_at = NULL, updated_at = now() WHERE id = $1`,
      [reservation.id, status],
    );
    await recordEvent(tx, 'ship', input.shipmentId, reservation.id, changes);
    return { reference: reservation.reference, shipmentId: input.shipmentId, status, shipped: changes };
  });
}

/**
 * Releases reservations still unconfirmed at `now` (status `expired`) and announces each with
 * `stock.reservation_expired`. Claims a batch at a time with SKIP LOCKED, so parallel sweeps (one
 * per process) share the work instead of waiting on each other; loops until none is due.
 */
export async function expireReservations(
  db: Database,
  now: Date,
  options: { batchSize?: number } = {},
): Promise<{ expired: string[] }> {
  const batchSize = options.batchSize ?? 50;
  const expired: string[] = [];
  const system: Actor = { kind: 'system', id: null };
  for (;;) {
    const claimed = await db.transaction(async (tx) => {
      const { rows } = await tx.query(
        `SELECT ${COLUMNS} FROM inventory.reservations r
          WHERE r.status = 'reserved' AND r.expires_at <= $1
          ORDER BY r.expires_at LIMIT $2
            FOR UPDATE SKIP LOCKED`,
        [now, batchSize],
      );
      if (!rows.length) return 0;
      const lines = await linesOf(
        tx,
        rows.map((row) => row.id),
      );
      const reservations = rows.map((row) => toReservation(row, lines.get(row.id) ?? []));
      const changes = reservations.flatMap((r) => openLines(r).map((c) => ({ ...c, reservation: r })));
      if (changes.length) {
        await tx.query(
          `UPDATE inventory.reservation_lines SET released = quantity - shipped
            WHERE reservation_id = ANY($1::uuid[])`,
          [reservations.map((r) => r.id)],
        );
        await applyMovements(
          tx,
          changes.map((c) =>
            movement('release', c.skuId, c.warehouseId, c.quantity, {
              reference: c.reservation.reference,
              reason: 'expired',
            }),
          ),
          system,
        );
      }
      await tx.query(
        `UPDATE inventory.reservations SET status = 'expired', expires_at = NULL, updated_at = now()
          WHERE id = ANY($1::uuid[])`,
        [reservations.map((r) => r.id)],
      );
      await writeOutbox(
        tx,
        reservations.map((r) => ({
          kind: 'event' as const,
          name: 'stock.reservation_expired',
          companyId: r.companyId,
          payload: {
            reference: r.reference,
            reservationId: r.id,
            companyId: r.companyId,
            lines: openLines(r),
          },
        })),
      );
      expired.push(...reservations.map((r) => r.reference));
      return rows.length;
    });
    if (claimed < batchSize) return { expired };
  }
}

export interface ReservationFilter {
  status?: ReservationStatus | undefined;
  companyId?: string | undefined;
  reference?: string | undefined;
  limit: number;
  after?: string | undefined;
}

export async function listReservations(db: Queryable, filter: ReservationFilter): Promise<Reservation[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM inventory.reservations r
      WHERE ($1::uuid IS NULL OR r.id > $1) AND ($2::text IS NULL OR r.status = $2)
        AND ($3::uuid IS NULL OR r.company_id = $3) AND ($4::text IS NULL OR r.reference = $4)
      ORDER BY r.id LIMIT $5`,
    [
      filter.after ?? null,
      filter.status ?? null,
      filter.companyId ?? null,
      filter.reference ?? null,
      filter.limit,
    ],
  );
  const lines = await linesOf(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => publicView(toReservation(row, lines.get(row.id) ?? [])));
}

export async function findReservationByReference(
  db: Queryable,
  reference: string,
): Promise<Reservation | undefined> {
  const found = await loadBy(db, 'reference', reference);
  return found ? publicView(found) : undefined;
}
