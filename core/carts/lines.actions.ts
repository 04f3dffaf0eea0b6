import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { Database } from '../platform/database/database.ts';
import { NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { expectVersion, linesOf, removeLine, requireCart, touchCart, updateLine } from './cart-store.ts';
import { cartView } from './cart-view.ts';
import { buyerOf, type CartsArea, type CartsContext, TAG } from './carts-area.ts';
import { listItems } from './catalog-lookups.ts';
import { type IncomingRow, type IntakePlan, planIntake, type Reason, takeIn } from './line-intake.ts';

/** Where in the request a rejected line's reason points. */
const POINTER: Record<Reason, string> = {
  unknown_sku: 'sku',
  not_visible: 'sku',
  not_orderable: 'sku',
  no_price: 'sku',
  below_moq: '/quantity',
  not_multiple: '/quantity',
  above_max: '/quantity',
  insufficient_stock: '/quantity',
  invalid_quantity: '/quantity',
  duplicate_merged: '',
  cart_full: '',
};

/**
 * A single line that cannot go in: 422 whose problem type is the report's reason
 * (`.../problems/below-moq`), with a pointer at the field to fix.
 */
function rejectLine(plan: IntakePlan, skuField: '/skuId' | '/code'): void {
  const row = plan.rows[0]!;
  if (row.status === 'added') return;
  const reason = row.reason!;
  const pointer = POINTER[reason] === 'sku' ? skuField : POINTER[reason];
  throw new UnprocessableRequest(
    reason.replaceAll('_', '-'),
    `The line cannot go in the cart: ${row.detail}`,
    {
      errors: [{ pointer, detail: row.detail ?? reason }],
    },
  );
}

/**
 * Lines of a cart: add (merging with the same SKU and unit), change the quantity or note, remove,
 * and merge a requisition list. Viewers of a shared cart get 403; additions may send a version,
 * changes and removals must.
 */
export function linesArea({ platform }: CartsContext): CartsArea {
  const db: Database = platform.db;

  async function view(ctx: Context, id: string) {
    return cartView(ctx, db, await requireCart(db, buyerOf(ctx), id, 'view'));
  }

  return {
    actions: {
      'lines.add': {
        params: schemaRef('api/carts/add-cart-line-params'),
        async handler(
          ctx: Context<{
            id: string;
            skuId?: string;
            code?: string;
            quantity: number;
            unit?: string;
            note?: string;
            version?: number;
          }>,
        ) {
          const buyer = buyerOf(ctx);
          const { id, skuId, code, quantity, unit, note, version } = ctx.params;
          const row: IncomingRow = { row: 1, skuId, code, quantity, unit: unit ?? null, note };
          // A rejected line writes nothing and answers 422 with its reason.
          rejectLine(await takeIn(ctx, db, buyer, id, [row], version), skuId ? '/skuId' : '/code');
          return view(ctx, id);
        },
      },

      'lines.update': {
        params: schemaRef('api/carts/update-cart-line-params'),
        async handler(
          ctx: Context<{
            id: string;
            lineId: string;
            version: number;
            quantity?: number;
            note?: string | null;
          }>,
        ) {
          const buyer = buyerOf(ctx);
          const { id, lineId, version, quantity, note } = ctx.params;
          const cart = await requireCart(db, buyer, id, 'edit');
          expectVersion(cart, version);
          const lines = await linesOf(db, id);
          const line = lines.find((l) => l.id === lineId);
          if (!line) throw new NotFound('Cart line');
          let seen: { amountMinor: string; currency: string } | undefined;
          if (quantity !== undefined && quantity !== line.quantity) {
            // The new quantity is judged like an addition of the difference would be: against
            // visibility, the quantity rule, a price and stock, at the quantity the line will hold.
            const others = lines.filter((l) => l.id !== lineId);
            const plan = await planIntake(ctx, others, [
              { row: 1, skuId: line.skuId, quantity, unit: line.unit },
            ]);
            rejectLine(plan, '/skuId');
            seen = plan.writes[0]?.seen ?? undefined;
          }
          await db.transaction(async (tx) => {
            const locked = await requireCart(tx, buyer, id, 'edit', { lock: true });
            expectVersion(locked, version);
            await updateLine(tx, id, lineId, { quantity, note, seen });
            await touchCart(tx, id);
          });
          return view(ctx, id);
        },
      },

      'lines.remove': {
        params: schemaRef('api/carts/remove-cart-line-query'),
        async handler(ctx: Context<{ id: string; lineId: string; version: number }>) {
          const buyer = buyerOf(ctx);
          const { id, lineId, version } = ctx.params;
          await db.transaction(async (tx) => {
            const cart = await requireCart(tx, buyer, id, 'edit', { lock: true });
            expectVersion(cart, version);
            await removeLine(tx, id, lineId);
            await touchCart(tx, id);
          });
          return view(ctx, id);
        },
      },

      'lines.fromList': {
        params: schemaRef('api/carts/cart-from-list-params'),
        async handler(ctx: Context<{ id: string; listId: string; version?: number }>) {
          const buyer = buyerOf(ctx);
          const { id, listId, version } = ctx.params;
          await requireCart(db, buyer, id, 'edit');
          const list = await listItems(ctx, listId);
          const rows: IncomingRow[] = list.items.map((item, index) => ({
            row: index + 1,
            skuId: item.skuId,
            quantity: item.quantity,
          }));
          const done = await takeIn(ctx, db, buyer, id, rows, version);
          // A list item is named by its SKU's code, even when the buyer may not see it any more.
          const codes = new Map(list.items.map((item) => [item.skuId, item.skuCode]));
          const report = done.rows.map((row) => ({
            ...row,
            sku: row.sku ?? codes.get(row.skuId ?? '') ?? null,
          }));
          return intakeAnswer(report, done.stockChecked, await view(ctx, id));
        },
      },
    },
    routes: ROUTES,
  };
}

export function intakeAnswer(rows: IntakePlan['rows'], stockChecked: boolean, cart: unknown) {
  const added = rows.filter((row) => row.status === 'added').length;
  return { rows, added, rejected: rows.length - added, stockChecked, cart };
}

const BASE = '/api/carts/:id/lines';

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: BASE,
    action: 'carts.lines.add',
    operationId: 'addCartLine',
    tag: TAG,
    summary:
      'Put a SKU in the cart (quantities add up with the same SKU); 422 with the reason when it cannot go in',
    audience: 'buyer',
    paramsSchema: 'api/carts/add-cart-line-params',
    requestSchema: 'api/carts/add-cart-line-request',
    responseSchema: 'entities/cart',
  },
  {
    method: 'PATCH',
    path: `${BASE}/:lineId`,
    action: 'carts.lines.update',
    operationId: 'updateCartLine',
    tag: TAG,
    summary: "Change a line's quantity or note at the version the caller saw",
    audience: 'buyer',
    paramsSchema: 'api/carts/update-cart-line-params',
    requestSchema: 'api/carts/update-cart-line-request',
    responseSchema: 'entities/cart',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:lineId`,
    action: 'carts.lines.remove',
    operationId: 'removeCartLine',
    tag: TAG,
    summary: 'Take a line out of the cart at the version the caller saw (?version=)',
    audience: 'buyer',
    querySchema: 'api/carts/remove-cart-line-query',
    responseSchema: 'entities/cart',
  },
  {
    method: 'POST',
    path: `${BASE}/from-list`,
    action: 'carts.lines.fromList',
    operationId: 'addListToCart',
    tag: TAG,
    summary:
      "Merge one of the caller's product lists (requisition list) into the cart, reporting every item added or skipped",
    audience: 'buyer',
    paramsSchema: 'api/carts/cart-from-list-params',
    requestSchema: 'api/carts/cart-from-list-request',
    responseSchema: 'api/carts/cart-intake-response',
  },
];
