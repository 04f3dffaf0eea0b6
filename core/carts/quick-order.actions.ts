import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { uploadOf } from '../platform/http/uploads.ts';
import { requireCart } from './cart-store.ts';
import { cartView } from './cart-view.ts';
import { buyerOf, type CartsArea, type CartsContext, TAG } from './carts-area.ts';
import { type IncomingRow, takeIn } from './line-intake.ts';
import { intakeAnswer } from './lines.actions.ts';
import { QUICK_ORDER_FILE_TYPES, QUICK_ORDER_MAX_BYTES, rowsOfUpload } from './quick-order-files.ts';
import { type QuickOrderRow, quickOrderRows, rowsOfText } from './quick-order-rows.ts';

/**
 * Quick order (快速下单): SKU codes and quantities pasted as text or uploaded as CSV / XLSX. Every
 * row gets a verdict (line-intake.ts); the good rows go in the cart in one transaction, the others
 * change nothing.
 */
export function quickOrderArea({ platform }: CartsContext): CartsArea {
  const { db } = platform;

  async function order(ctx: Context, id: string, parsed: QuickOrderRow[], version: number | undefined) {
    const buyer = buyerOf(ctx);
    const rows: IncomingRow[] = parsed.map((row) => ({
      row: row.row,
      code: row.sku,
      quantity: row.quantity,
      quantityProblem: row.quantityProblem,
    }));
    const done = await takeIn(ctx, db, buyer, id, rows, version);
    return intakeAnswer(
      done.rows,
      done.stockChecked,
      await cartView(ctx, db, await requireCart(db, buyer, id, 'view')),
    );
  }

  return {
    actions: {
      quickOrder: {
        params: schemaRef('api/carts/quick-order-params'),
        async handler(ctx: Context<{ id: string; text: string; version?: number }>) {
          // Access first: a cart the caller cannot edit is refused before any parsing.
          await requireCart(db, buyerOf(ctx), ctx.params.id, 'edit');
          return order(ctx, ctx.params.id, rowsOfText(ctx.params.text), ctx.params.version);
        },
      },

      quickOrderFile: {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const upload = uploadOf(ctx);
          try {
            await requireCart(db, buyerOf(ctx), ctx.params.id, 'edit');
          } catch (error) {
            upload.stream.resume();
            throw error;
          }
          return order(ctx, ctx.params.id, quickOrderRows(await rowsOfUpload(upload)), undefined);
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/carts/:id/quick-order',
    action: 'carts.quickOrder',
    operationId: 'quickOrder',
    tag: TAG,
    summary:
      'Quick order from pasted lines of SKU and quantity (Excel cells, SKU,qty or SKU qty; up to 500): a verdict per row, the good rows added',
    audience: 'buyer',
    paramsSchema: 'api/carts/quick-order-params',
    requestSchema: 'api/carts/quick-order-request',
    responseSchema: 'api/carts/cart-intake-response',
  },
  {
    method: 'POST',
    path: '/api/carts/:id/quick-order/file',
    action: 'carts.quickOrderFile',
    operationId: 'quickOrderFromFile',
    tag: TAG,
    summary:
      'Quick order from an uploaded CSV (UTF-8 or GBK) or XLSX file of SKU and quantity columns: a verdict per row, the good rows added',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'api/carts/cart-intake-response',
    upload: { contentTypes: QUICK_ORDER_FILE_TYPES, maxBytes: QUICK_ORDER_MAX_BYTES },
  },
];
