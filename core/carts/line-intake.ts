import type { Context } from 'moleculer';
import type { CartIntakeRow } from '../../schemas/generated/types.ts';
import type { Database } from '../platform/database/database.ts';
import { Conflict } from '../platform/errors/hub-errors.ts';
import { priceFor } from './cart-pricing.ts';
import {
  type CartRow,
  expectVersion,
  type LineRow,
  type LineWrite,
  linesOf,
  requireCart,
  touchCart,
  upsertLines,
} from './cart-store.ts';
import { type Buyer, LIMITS } from './carts-area.ts';
import { knownSkus, type VisibleSku, visibleSkus } from './catalog-lookups.ts';
import { checkStock } from './stock-check.ts';

/**
 * Lines coming into a cart — one added by hand, the rows of a quick order, the items of a
 * requisition list — all take the same path, so they are judged the same way:
 *
 * 1. each row names a SKU (by code or id) and a whole quantity, else `invalid_quantity`;
 * 2. the SKU must be one the buyer may see (`catalog.internal.skus` with the buyer's meta); one that
 *    exists but is not visible to them is `not_visible`, anything else `unknown_sku`;
 * 3. rows of the same SKU and unit are added up on the first of them (`duplicate_merged`), and the
 *    line the cart would then hold (what it holds now plus the rows) is what gets judged;
 * 4. pricing prices those lines for the buyer: not orderable, the quantity rule (minimum, maximum,
 *    multiple) and a missing price reject the rows;
 * 5. stock, when an inventory service answers (`stock-check.ts`);
 * 6. the cart keeps at most 500 lines (`cart_full`).
 *
 * The good rows are then written in one transaction, with the unit price the buyer saw for each.
 */

export type Reason = NonNullable<CartIntakeRow['reason']>;

export interface IncomingRow {
  row: number;
  /** By code (quick order, a line added by code) or by id (list items, a line added by id). */
  code?: string | undefined;
  skuId?: string | undefined;
  quantity: number | null;
  quantityProblem?: string | null | undefined;
  unit?: string | null | undefined;
  note?: string | undefined;
}

export interface IntakePlan {
  rows: CartIntakeRow[];
  writes: LineWrite[];
  stockChecked: boolean;
  /** The quantity each written line held when judged (0: a new line), to check nothing moved since. */
  judgedAgainst: number[];
}

const lineKey = (line: { skuId: string; unit: string | null }) => `${line.skuId}\u0000${line.unit ?? ''}`;

const CODE = /^[A-Za-z0-9][A-Za-z0-9._/+-]*$/;
const isCode = (code: string) => code.length <= 64 && CODE.test(code);

const PRICING_REASON: Record<string, Reason> = {
  unavailable: 'not_visible',
  'not-orderable': 'not_orderable',
  'below-minimum': 'below_moq',
  'above-maximum': 'above_max',
  'not-a-multiple': 'not_multiple',
  'no-price': 'no_price',
};

interface Group {
  key: string;
  sku: VisibleSku;
  unit: string | null;
  rows: IncomingRow[];
  total: number;
  target: number;
  existing: LineRow | undefined;
  outcome?: { reason: Reason; detail: string };
  seen?: { amountMinor: string; currency: string };
}

/** Judges the rows against the cart as it is now (`existing`); writes nothing. */
export async function planIntake(
  ctx: Context,
  existing: readonly LineRow[],
  incoming: readonly IncomingRow[],
): Promise<IntakePlan> {
  const verdicts = new Map<
    IncomingRow,
    { reason: Reason | null; detail: string | null; mergedIntoRow: number | null }
  >();
  const reject = (row: IncomingRow, reason: Reason, detail: string, mergedIntoRow: number | null = null) =>
    verdicts.set(row, { reason, detail, mergedIntoRow });

  // 1. Quantities and the shape of the SKU code.
  const candidates: IncomingRow[] = [];
  for (const row of incoming) {
    if (row.quantity === null) reject(row, 'invalid_quantity', row.quantityProblem ?? 'no whole quantity');
    else if (row.skuId === undefined && !isCode(row.code ?? '')) {
      reject(row, 'unknown_sku', row.code ? 'no SKU has this code' : 'no SKU code given');
    } else candidates.push(row);
  }

  // 2. Which SKUs the buyer may see, and whether the others exist at all.
  const codes = candidates.flatMap((row) => (row.skuId === undefined ? [row.code!] : []));
  const skuIds = candidates.flatMap((row) => (row.skuId !== undefined ? [row.skuId] : []));
  const visible = await visibleSkus(ctx, { codes, skuIds });
  const byCode = new Map(visible.map((sku) => [sku.code, sku]));
  const byId = new Map(visible.map((sku) => [sku.skuId, sku]));
  const skuOf = (row: IncomingRow) => (row.skuId !== undefined ? byId.get(row.skuId) : byCode.get(row.code!));
  const missing = candidates.filter((row) => !skuOf(row));
  const known = await knownSkus(ctx, {
    codes: missing.flatMap((row) => (row.skuId === undefined ? [row.code!] : [])),
    skuIds: missing.flatMap((row) => (row.skuId !== undefined ? [row.skuId] : [])),
  });
  const knownKeys = new Set(known.flatMap((sku) => [sku.code, sku.skuId]));
  for (const row of missing) {
    if (knownKeys.has(row.skuId ?? row.code!)) {
      reject(row, 'not_visible', 'this SKU is not available to your company');
    } else reject(row, 'unknown_sku', 'no SKU has this code');
  }

  // 3. One group per SKU and unit, judged at the quantity the cart line would end up with.
  const existingByKey = new Map(existing.map((line) => [lineKey(line), line]));
  const groups = new Map<string, Group>();
  for (const row of candidates) {
    const sku = skuOf(row);
    if (!sku) continue;
    const unit = row.unit && row.unit !== sku.unitOfMeasure ? row.unit : null;
    const key = lineKey({ skuId: sku.skuId, unit });
    const group = groups.get(key);
    if (group) {
      group.rows.push(row);
      group.total += row.quantity!;
    } else {
      groups.set(key, {
        key,
        sku,
        unit,
        rows: [row],
        total: row.quantity!,
        target: 0,
        existing: existingByKey.get(key),
      });
    }
  }
  const open = [...groups.values()];
  for (const group of open) {
    group.target = (group.existing?.quantity ?? 0) + group.total;
    if (group.target > LIMITS.maxQuantity) {
      group.outcome = {
        reason: 'invalid_quantity',
        detail: `the line would hold ${group.target}, more than ${LIMITS.maxQuantity.toLocaleString('en')}`,
      };
    }
  }

  // 4. Pricing for the buyer: orderable, quantity rule, a price.
  const toPrice = open.filter((group) => !group.outcome);
  for (let start = 0; start < toPrice.length; start += LIMITS.linesPerCart) {
    const chunk = toPrice.slice(start, start + LIMITS.linesPerCart);
    const priced = await priceFor(
      ctx,
      chunk.map((group) => ({ skuId: group.sku.skuId, quantity: group.target, unit: group.unit })),
    );
    chunk.forEach((group, index) => {
      const line = priced!.lines[index]!;
      const error = line.errors[0];
      if (error) group.outcome = { reason: PRICING_REASON[error.code] ?? 'no_price', detail: error.detail };
      else if (line.status !== 'priced' || !line.unitPrice) {
        group.outcome = { reason: 'no_price', detail: 'no price is available to you for this SKU' };
      } else group.seen = line.unitPrice;
    });
  }

  // 5. Stock, when inventory runs.
  const inStockCheck = open.filter((group) => !group.outcome);
  const stock = await checkStock(
    ctx,
    inStockCheck.map((group) => ({ skuId: group.sku.skuId, quantity: group.target })),
  );
  if (stock.checked) {
    for (const group of inStockCheck) {
      const available = stock.available.get(group.sku.skuId) ?? 0;
      if (available < group.target) {
        group.outcome = { reason: 'insufficient_stock', detail: `only ${available} available now` };
      }
    }
  }

  // 6. The cart's line bound: new lines only while there is room, in row order.
  let lines = existing.length;
  for (const group of open) {
    if (group.outcome || group.existing) continue;
    if (lines >= LIMITS.linesPerCart) {
      group.outcome = { reason: 'cart_full', detail: `a cart holds at most ${LIMITS.linesPerCart} lines` };
    } else lines += 1;
  }

  const writes: LineWrite[] = [];
  const judgedAgainst: number[] = [];
  for (const group of open) {
    const [lead, ...rest] = group.rows;
    if (group.outcome) {
      reject(lead!, group.outcome.reason, group.outcome.detail);
      for (const row of rest) reject(row, group.outcome.reason, group.outcome.detail, lead!.row);
      continue;
    }
    verdicts.set(lead!, { reason: null, detail: null, mergedIntoRow: null });
    for (const row of rest) {
      verdicts.set(row, {
        reason: 'duplicate_merged',
        detail: `added to row ${lead!.row}: the line now holds ${group.target}`,
        mergedIntoRow: lead!.row,
      });
    }
    const note = group.rows.find((row) => row.note !== undefined)?.note;
    writes.push({
      skuId: group.sku.skuId,
      skuCode: group.sku.code,
      unit: group.unit,
      quantity: group.target,
      note,
      seen: group.seen ?? null,
    });
    judgedAgainst.push(group.existing?.quantity ?? 0);
  }

  const rows: CartIntakeRow[] = incoming.map((row) => {
    const verdict = verdicts.get(row)!;
    const sku = skuOf(row);
    const added = verdict.reason === null || verdict.reason === 'duplicate_merged';
    return {
      row: row.row,
      sku: sku?.code ?? (row.code !== undefined ? row.code.slice(0, 64) : null),
      skuId: sku?.skuId ?? row.skuId ?? null,
      quantity: row.quantity,
      status: added ? 'added' : 'rejected',
      reason: verdict.reason,
      detail: verdict.detail,
      mergedIntoRow: verdict.mergedIntoRow,
    };
  });
  return { rows, writes, stockChecked: stock.checked, judgedAgainst };
}

/**
 * Whether a plan judged against one state of the cart still holds on its lines now: every line it
 * writes holds what it held when judged, and the new ones still fit. Changes to other lines (or
 * notes) do not matter: the verdicts did not depend on them.
 */
function stillHolds(plan: IntakePlan, now: readonly LineRow[]): boolean {
  const held = new Map(now.map((line) => [lineKey(line), line.quantity]));
  let added = 0;
  for (const [index, write] of plan.writes.entries()) {
    const quantity = held.get(lineKey(write)) ?? 0;
    if (quantity !== plan.judgedAgainst[index]) return false;
    if (quantity === 0) added += 1;
  }
  return now.length + added <= LIMITS.linesPerCart;
}

/** How often an intake is judged again when someone changed the same lines meanwhile. */
const ATTEMPTS = 10;

/**
 * Judges the rows and writes the good ones in one transaction. The judging calls other services,
 * so it happens before the transaction (on the embedded database a transaction never waits on
 * another connection); the transaction then locks the cart and checks the judgement still holds.
 * A caller who sent a version gets 409 if the cart moved on at all; otherwise only a change to the
 * same lines makes the rows be judged again against them (additions are merges: no one's change
 * is lost), after a short random pause so racing requests fall out of step.
 */
export async function takeIn(
  ctx: Context,
  db: Database,
  buyer: Buyer,
  cartId: string,
  incoming: readonly IncomingRow[],
  expectedVersion: number | undefined,
): Promise<IntakePlan & { cart: CartRow }> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const cart = await requireCart(db, buyer, cartId, 'edit');
    expectVersion(cart, expectedVersion);
    const plan = await planIntake(ctx, await linesOf(db, cart.id), incoming);
    const written = await db.transaction(async (tx) => {
      const locked = await requireCart(tx, buyer, cartId, 'edit', { lock: true });
      expectVersion(locked, expectedVersion);
      if (locked.version !== cart.version && !stillHolds(plan, await linesOf(tx, cartId))) return null;
      if (!plan.writes.length) return locked;
      await upsertLines(tx, locked, buyer.userId, plan.writes);
      return { ...locked, version: await touchCart(tx, locked.id) };
    });
    if (written) return { ...plan, cart: written };
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
  }
  throw new Conflict('The cart is being changed by others right now: retry in a moment');
}
