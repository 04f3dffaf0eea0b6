/**
 * The one way stock changes: `applyMovements` writes the movement rows and adds their deltas to the
 * stock levels inside the caller's transaction, then checks the low-stock thresholds of the SKUs
 * it touched. So a stock level is always the sum of its ledger, and the CHECK constraints of `inventory.stock_levels` refuse anything that would make stock
 * negative or reserve more than is on hand, whatever the caller computed.
 *
 * Lock order, everywhere in this domain: a reservation row, then stock rows sorted by
 * (sku_id, warehouse_id), then threshold rows sorted by id. Transactions that follow it cannot
 * deadlock one another.
 */
import type { RequestOrigin } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { evaluateThresholds } from './low-stock.ts';

export const MOVEMENT_KINDS = [
  'in',
  'out',
  'transfer_out',
  'transfer_in',
  'adjust',
  'reserve',
  'release',
] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

export interface Actor {
  kind: 'staff' | 'buyer' | 'system';
  id: string | null;
}

export interface Movement {
  skuId: string;
  warehouseId: string;
  kind: MovementKind;
  /** Positive magnitude. */
  quantity: number;
  onHandDelta: number;
  reservedDelta: number;
  reference?: string | null | undefined;
  reason?: string | null | undefined;
  transferId?: string | null | undefined;
}

/** What each kind does to (on hand, reserved), per unit; `adjust` takes its sign from the delta. */
const EFFECT: Record<Exclude<MovementKind, 'adjust'>, [onHand: number, reserved: number]> = {
  in: [1, 0],
  out: [-1, -1],
  transfer_out: [-1, 0],
  transfer_in: [1, 0],
  reserve: [0, 1],
  release: [0, -1],
};

/**
 * A movement of `kind`; `quantity` is positive, except for `adjust`, where it is the signed change
 * of on hand.
 */
export function movement(
  kind: MovementKind,
  skuId: string,
  warehouseId: string,
  quantity: number,
  extra: { reference?: string | null; reason?: string | null; transferId?: string | null } = {},
): Movement {
  if (!Number.isSafeInteger(quantity) || quantity === 0 || (kind !== 'adjust' && quantity < 0)) {
    throw new RangeError(`A ${kind} movement needs a positive whole quantity, not ${quantity}`);
  }
  const [onHand, reserved] = kind === 'adjust' ? [Math.sign(quantity), 0] : EFFECT[kind];
  const magnitude = Math.abs(quantity);
  // Lower case, so the sort below agrees with PostgreSQL's uuid order (the lock order).
  return {
    skuId: skuId.toLowerCase(),
    warehouseId: warehouseId.toLowerCase(),
    kind,
    quantity: magnitude,
    onHandDelta: onHand * magnitude,
    reservedDelta: reserved * magnitude,
    ...extra,
  };
}

export interface StockLevelRow {
  skuId: string;
  warehouseId: string;
  onHand: number;
  reserved: number;
  available: number;
  updatedAt: string;
}

export const levelKey = (skuId: string, warehouseId: string) => `${skuId}/${warehouseId}`;

function toLevel(row: Record<string, unknown>): StockLevelRow {
  const onHand = Number(row.on_hand);
  const reserved = Number(row.reserved);
  return {
    skuId: row.sku_id as string,
    warehouseId: row.warehouse_id as string,
    onHand,
    reserved,
    available: onHand - reserved,
    updatedAt: (row.updated_at as Date).toISOString(),
  };
}

/**
 * Locks the stock rows of these SKUs (in every warehouse, or only `warehouseIds`) in the domain's
 * lock order and answers them. Rows that do not exist yet are not locked (nothing to lock): the
 * upsert in `applyMovements` creates them in the same order.
 */
export async function lockLevels(
  tx: Transaction,
  skuIds: readonly string[],
  warehouseIds?: readonly string[],
): Promise<Map<string, StockLevelRow>> {
  const { rows } = await tx.query(
    `SELECT sku_id, warehouse_id, on_hand, reserved, updated_at FROM inventory.stock_levels
      WHERE sku_id = ANY($1::uuid[]) AND ($2::uuid[] IS NULL OR warehouse_id = ANY($2::uuid[]))
      ORDER BY sku_id, warehouse_id
        FOR UPDATE`,
    [[...new Set(skuIds)], warehouseIds ? [...new Set(warehouseIds)] : null],
  );
  return new Map(rows.map((row) => [levelKey(row.sku_id, row.warehouse_id), toLevel(row)]));
}

/**
 * Appends `movements` to the ledger and adds their deltas to the stock levels (`locked`: the caller
 * already holds those rows, locked by `lockLevels`), then re-checks the low-stock thresholds of the
 * SKUs touched (emitting `stock.low` through the outbox on a crossing).
 * Answers the resulting levels. A CHECK violation (negative stock, over-reservation) rejects the
 * whole transaction: see `isStockCheckViolation`.
 */
export async function applyMovements(
  tx: Transaction,
  movements: readonly Movement[],
  actor: Actor,
  origin?: RequestOrigin,
  options: { locked?: boolean } = {},
): Promise<StockLevelRow[]> {
  if (!movements.length) return [];
  const net = new Map<string, { skuId: string; warehouseId: string; onHand: number; reserved: number }>();
  for (const m of movements) {
    const key = levelKey(m.skuId, m.warehouseId);
    const entry = net.get(key) ?? { skuId: m.skuId, warehouseId: m.warehouseId, onHand: 0, reserved: 0 };
    entry.onHand += m.onHandDelta;
    entry.reserved += m.reservedDelta;
    net.set(key, entry);
  }
  const deltas = [...net.values()].sort((a, b) =>
    a.skuId === b.skuId ? compare(a.warehouseId, b.warehouseId) : compare(a.skuId, b.skuId),
  );
  const levels: StockLevelRow[] = [];
  let pending = deltas;
  let watched = false;
  // A row another transaction creates between our read and our insert is updated on a second pass.
  for (let pass = 0; pending.length && pass < 3; pass++) {
    const done = await addDeltas(tx, pending, {
      lock: pass > 0 || !options.locked,
      ...(pass === 0 ? { ledger: { movements, actor } } : {}),
    });
    watched ||= done.watched;
    levels.push(...done.levels);
    const seen = new Set(done.levels.map((l) => levelKey(l.skuId, l.warehouseId)));
    pending = pending.filter((d) => !seen.has(levelKey(d.skuId, d.warehouseId)));
  }
  if (pending.length) throw new Error('Stock levels kept changing under a movement; try again');
  // SKUs whose availability may have changed state: some warehouse went from nothing available
  // to some or back, or a threshold was crossed either way (catalog search re-reads them).
  const changed = new Set<string>();
  for (const level of levels) {
    const delta = net.get(levelKey(level.skuId, level.warehouseId));
    const before = level.available - (delta ? delta.onHand - delta.reserved : 0);
    if (before > 0 !== level.available > 0) changed.add(level.skuId);
  }
  if (watched) {
    const crossings = await evaluateThresholds(
      tx,
      deltas.map((d) => d.skuId),
      origin,
    );
    for (const crossing of crossings) changed.add(crossing.skuId);
  }
  if (changed.size) {
    const skuIds = [...changed].sort();
    const events = [];
    for (let i = 0; i < skuIds.length; i += 500) {
      events.push({
        kind: 'event' as const,
        name: 'stock.availability_changed',
        companyId: null,
        payload: { skuIds: skuIds.slice(i, i + 500) },
      });
    }
    await writeOutbox(tx, events, origin);
  }
  return levels;
}

type Delta = { skuId: string; warehouseId: string; onHand: number; reserved: number };

/**
 * Adds deltas to existing rows and creates the missing ones. Not one `INSERT ... ON CONFLICT DO
 * UPDATE`: PostgreSQL checks CHECK constraints on the row proposed for insertion before it finds
 * the conflict, so a reservation (on hand +0, reserved +n) would be refused as over-reserved. Rows
 * are locked first in the domain's order (unless the caller already holds them); missing rows are
 * inserted in that order too. Answers the rows written (a row someone else inserted meanwhile is
 * missing from it).
 */
async function addDeltas(
  tx: Transaction,
  deltas: readonly Delta[],
  options: { lock: boolean; ledger?: { movements: readonly Movement[]; actor: Actor } },
): Promise<{ levels: StockLevelRow[]; watched: boolean }> {
  const values: unknown[] = [
    deltas.map((d) => d.skuId),
    deltas.map((d) => d.warehouseId),
    deltas.map((d) => d.onHand),
    deltas.map((d) => d.reserved),
  ];
  if (options.lock) {
    await tx.query(
      `SELECT 1 FROM inventory.stock_levels
        WHERE (sku_id, warehouse_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
        ORDER BY sku_id, warehouse_id FOR UPDATE`,
      values.slice(0, 2),
    );
  }
  // The ledger rows go in the same statement (one round trip less on every change).
  let ledger = '';
  const movements = options.ledger?.movements;
  if (movements) {
    values.push(
      movements.map((m) => m.skuId),
      movements.map((m) => m.warehouseId),
      movements.map((m) => m.kind),
      movements.map((m) => m.quantity),
      movements.map((m) => m.onHandDelta),
      movements.map((m) => m.reservedDelta),
      movements.map((m) => m.reference ?? null),
      movements.map((m) => m.reason ?? null),
      movements.map((m) => m.transferId ?? null),
      options.ledger!.actor.kind,
      options.ledger!.actor.id,
    );
    ledger = `, ledger AS (
       INSERT INTO inventory.movements
         (sku_id, warehouse_id, kind, quantity, on_hand_delta, reserved_delta, reference, reason, transfer_id, actor_kind, actor_id)
       SELECT sku, wh, kind, qty, d_on_hand, d_reserved, ref, reason, transfer, $14, $15
         FROM unnest($5::uuid[], $6::uuid[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::uuid[])
              WITH ORDINALITY AS m(sku, wh, kind, qty, d_on_hand, d_reserved, ref, reason, transfer, n)
        ORDER BY n
     )`;
  }
  // `watched`: whether any threshold watches these SKUs, so the common case skips that check.
  const { rows } = await tx.query(
    `WITH d AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[]) AS d(sku, wh, d_on_hand, d_reserved)
     ), updated AS (
       UPDATE inventory.stock_levels s
          SET on_hand = s.on_hand + d.d_on_hand, reserved = s.reserved + d.d_reserved, updated_at = now()
         FROM d WHERE s.sku_id = d.sku AND s.warehouse_id = d.wh
       RETURNING s.sku_id, s.warehouse_id, s.on_hand, s.reserved, s.updated_at
     ), inserted AS (
       INSERT INTO inventory.stock_levels (sku_id, warehouse_id, on_hand, reserved)
       SELECT sku, wh, d_on_hand, d_reserved FROM d
        WHERE NOT EXISTS (SELECT 1 FROM inventory.stock_levels x WHERE x.sku_id = d.sku AND x.warehouse_id = d.wh)
        ORDER BY sku, wh
       ON CONFLICT (sku_id, warehouse_id) DO NOTHING
       RETURNING sku_id, warehouse_id, on_hand, reserved, updated_at
     )${ledger}
     SELECT l.*, EXISTS (SELECT 1 FROM inventory.thresholds t WHERE t.sku_id = ANY($1::uuid[])) AS watched
       FROM (SELECT * FROM updated UNION ALL SELECT * FROM inserted) l`,
    values,
  );
  return { levels: rows.map(toLevel), watched: rows.some((row) => row.watched) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The database refused a change that would make stock negative or over-reserve it. */
export function isStockCheckViolation(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return (
    code === '23514' &&
    (constraint === 'stock_reserved_not_negative' || constraint === 'stock_on_hand_covers_reserved')
  );
}
