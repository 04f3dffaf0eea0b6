import type { Context } from 'moleculer';
import type {
  CounterQuoteParams,
  PriceLinesResponse,
  QuoteDecisionParams,
  QuoteListQuery,
  QuoteReasonParams,
  RequestQuoteRequest,
} from '../../schemas/generated/types.ts';
import { schemaRef } from '../../schemas/index.ts';
import type { Transaction } from '../platform/database/database.ts';
import { HubError, UnprocessableRequest, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { withdrawMarginApproval } from './margin-approval.ts';
import { lineFigures, sumTotals } from './quote-money.ts';
import {
  changeState,
  insertQuote,
  insertVersion,
  type LineRow,
  linesOfVersion,
  listQuotes,
  move,
  type QuoteRow,
  quoteView,
  requireQuote,
} from './quote-store.ts';
import { buyerOf, LIMITS, type QuotesArea, type QuotesContext, TAG } from './quotes-area.ts';

interface IncomingLine {
  pointer: string;
  skuId?: string;
  skuCode?: string;
  description?: string;
  quantity: number;
  unit?: string | null;
  targetUnitMinor: bigint | null;
  note?: string | null;
}

/** Money in the quote's currency as minor units; 422 with the pointer otherwise. */
function minorIn(
  money: { amountMinor: string; currency: string },
  currency: string,
  pointer: string,
): bigint {
  if (money.currency !== currency) {
    throw new UnprocessableRequest('currency-mismatch', `Amounts of this quote are in ${currency}`, {
      errors: [{ pointer: `${pointer}/currency`, detail: `must be ${currency}` }],
    });
  }
  const minor = BigInt(money.amountMinor);
  if (minor < 0n)
    throw new ValidationFailed([{ pointer: `${pointer}/amountMinor`, detail: 'must not be negative' }]);
  return minor;
}

/** The quote the buyer saw must still be the one quoted (409 otherwise) and still valid (422). */
export function expectQuotedVersion(quote: QuoteRow, version: number, now = new Date()): void {
  if (quote.quotedVersion !== version || quote.latestVersion !== version) {
    throw new HubError(409, 'quote-version-stale', 'The quote has changed since you read it', {
      version: quote.quotedVersion,
    });
  }
  if (quote.state === 'quoted' && quote.validUntil && quote.validUntil <= now) {
    throw new UnprocessableRequest('quote-expired', 'This quote is no longer valid; ask for a new one', {
      validUntil: quote.validUntil.toISOString(),
    });
  }
}

/** Buyers: ask for a quote (from a cart or lines), read their company's quotes, counter, accept, reject, cancel. */
export function buyerQuotesArea({ platform, config }: QuotesContext): QuotesArea {
  const { db } = platform;

  async function view(id: string, companyId: string) {
    return quoteView(db, await requireQuote(db, id, { companyId }), 'buyer');
  }

  return {
    actions: {
      request: {
        params: schemaRef('api/quotes/request-quote-request'),
        async handler(ctx: Context<RequestQuoteRequest>) {
          const buyer = buyerOf(ctx);
          const params = ctx.params;
          const incoming: IncomingLine[] = [];
          if (params.fromCartId) {
            const cart = (await ctx.call('carts.internal.checkoutLines', { cartId: params.fromCartId })) as {
              lines: Array<{ skuId: string; skuCode: string; unit: string | null; quantity: number }>;
            };
            if (!cart.lines.length) {
              throw new UnprocessableRequest('cart-empty', 'The cart has no lines to ask a quote for', {
                errors: [{ pointer: '/fromCartId', detail: 'the cart is empty' }],
              });
            }
            for (const line of cart.lines) {
              incoming.push({ pointer: '/fromCartId', ...line, targetUnitMinor: null });
            }
          }
          const currency = params.currency ?? config.currency;
          (params.lines ?? []).forEach((line, index) => {
            const pointer = `/lines/${index}`;
            incoming.push({
              pointer,
              ...(line.skuId ? { skuId: line.skuId } : { description: line.description! }),
              quantity: line.quantity,
              unit: line.unit ?? null,
              note: line.note ?? null,
              targetUnitMinor: line.targetUnitPrice
                ? minorIn(line.targetUnitPrice, currency, `${pointer}/targetUnitPrice`)
                : null,
            });
          });
          if (incoming.length > LIMITS.lines) {
            throw new UnprocessableRequest('too-many-lines', `A quote has at most ${LIMITS.lines} lines`, {
              errors: [{ pointer: '/lines', detail: `${incoming.length} lines with the cart's` }],
            });
          }
          const targetTotal = params.targetTotal
            ? minorIn(params.targetTotal, currency, '/targetTotal')
            : null;

          // The buyer's list prices today, for reference (and for the staff margin floor).
          const skuLines = incoming.filter((line) => line.skuId);
          const priced = skuLines.length
            ? ((await ctx.call('pricing.internal.priceLines', {
                currency,
                lines: skuLines.map((line) => ({
                  skuId: line.skuId!,
                  quantity: line.quantity,
                  ...(line.unit ? { unit: line.unit } : {}),
                })),
              })) as PriceLinesResponse)
            : null;
          const lines: LineRow[] = [];
          let skuIndex = 0;
          incoming.forEach((line, index) => {
            let listUnitMinor: bigint | null = null;
            let skuCode: string | null = null;
            let vatRate: number | null = null;
            if (line.skuId) {
              const price = priced!.lines[skuIndex++]!;
              if (price.errors.some((error) => error.code === 'unavailable')) {
                throw new UnprocessableRequest('sku-unavailable', 'A line names a product you cannot order', {
                  errors: [
                    {
                      pointer: line.pointer === '/fromCartId' ? line.pointer : `${line.pointer}/skuId`,
                      detail: 'no such product for you',
                    },
                  ],
                });
              }
              skuCode = price.code;
              vatRate = price.vatRate;
              // Quotes negotiate quantities and unlisted prices too: only a price the buyer has today is kept.
              if (price.status === 'priced' && price.unitPrice)
                listUnitMinor = BigInt(price.unitPrice.amountMinor);
            }
            lines.push({
              lineNo: index + 1,
              skuId: line.skuId ?? null,
              skuCode: skuCode ?? line.skuCode ?? null,
              description: line.description ?? null,
              quantity: line.quantity,
              unit: line.unit ?? null,
              listUnitMinor,
              vatRate,
              targetUnitMinor: line.targetUnitMinor,
              unitPriceMinor: null,
              discountBp: null,
              discountMinor: null,
              lineTotalMinor: null,
              note: line.note ?? null,
            });
          });
          const listTotal = lines.every((line) => line.listUnitMinor !== null)
            ? sumTotals(
                lines.map((line) =>
                  lineFigures({ unitPriceMinor: line.listUnitMinor!, quantity: line.quantity }),
                ),
              )
            : null;
          const id = await db.transaction(async (tx) => {
            const quoteId = await insertQuote(tx, {
              companyId: buyer.companyId,
              requestedBy: buyer.userId,
              currency,
              title: params.title ?? null,
              neededBy: params.neededBy ?? null,
              targetTotalMinor: targetTotal,
              sourceCartId: params.fromCartId ?? null,
            });
            await insertVersion(tx, quoteId, {
              number: 1,
              kind: 'request',
              authorKind: 'buyer',
              authorId: buyer.userId,
              validUntil: null,
              note: params.note ?? null,
              totalMinor: targetTotal,
              listTotalMinor: listTotal,
              approval: 'not_required',
              lines,
            });
            await changeState(
              tx,
              ctx,
              { id: quoteId, companyId: buyer.companyId, currency },
              null,
              'requested',
              'request',
              { kind: 'buyer', id: buyer.userId },
              { version: 1, total: targetTotal },
            );
            return quoteId;
          });
          return view(id, buyer.companyId);
        },
      },

      list: {
        params: schemaRef('api/quotes/quote-list-query'),
        async handler(ctx: Context<QuoteListQuery>) {
          const buyer = buyerOf(ctx);
          // The tenant is the caller's company, whatever companyId the query names.
          const items = await listQuotes(
            db,
            { companyId: buyer.companyId, state: ctx.params.state, limit: ctx.params.limit ?? 50 },
            'buyer',
          );
          return { items };
        },
      },

      get: {
        params: schemaRef('api/common/id-params'),
        handler: (ctx: Context<{ id: string }>) => view(ctx.params.id, buyerOf(ctx).companyId),
      },

      counter: {
        params: schemaRef('api/quotes/counter-quote-params'),
        async handler(ctx: Context<CounterQuoteParams>) {
          const buyer = buyerOf(ctx);
          const { id, version, note } = ctx.params;
          await db.transaction(async (tx) => {
            const quote = await requireQuote(tx, id, { companyId: buyer.companyId }, { lock: true });
            if (quote.state !== 'quoted')
              await move(tx, ctx, quote, 'counter', { kind: 'buyer', id: buyer.userId });
            expectQuotedVersion(quote, version);
            const quoted = await linesOfVersion(tx, id, version);
            const targets = new Map<number, bigint>();
            ctx.params.lines.forEach((line, index) => {
              const pointer = `/lines/${index}`;
              if (!quoted.some((q) => q.lineNo === line.lineNo)) {
                throw new ValidationFailed([
                  { pointer: `${pointer}/lineNo`, detail: 'is not a line of this quote' },
                ]);
              }
              if (targets.has(line.lineNo)) {
                throw new ValidationFailed([{ pointer: `${pointer}/lineNo`, detail: 'appears twice' }]);
              }
              targets.set(
                line.lineNo,
                minorIn(line.targetUnitPrice, quote.currency, `${pointer}/targetUnitPrice`),
              );
            });
            // What the buyer proposes to pay: their target where they named one, the quoted price elsewhere.
            const lines: LineRow[] = quoted.map((line) => {
              const target = targets.get(line.lineNo) ?? null;
              const total =
                target !== null
                  ? lineFigures({ unitPriceMinor: target, quantity: line.quantity }).total
                  : line.lineTotalMinor;
              return {
                ...line,
                targetUnitMinor: target,
                unitPriceMinor: target === null ? line.unitPriceMinor : null,
                discountBp: target === null ? line.discountBp : null,
                discountMinor: target === null ? line.discountMinor : null,
                lineTotalMinor: total,
              };
            });
            const total = sumTotals(lines.map((line) => ({ total: line.lineTotalMinor ?? 0n })));
            const next = quote.latestVersion + 1;
            await insertVersion(tx, id, {
              number: next,
              kind: 'counter',
              authorKind: 'buyer',
              authorId: buyer.userId,
              validUntil: null,
              note: note ?? null,
              totalMinor: total,
              listTotalMinor: null,
              approval: 'not_required',
              lines,
            });
            await move(
              tx,
              ctx,
              quote,
              'counter',
              { kind: 'buyer', id: buyer.userId },
              { version: next, total },
            );
          });
          return view(id, buyer.companyId);
        },
      },

      accept: {
        params: schemaRef('api/quotes/quote-decision-params'),
        async handler(ctx: Context<QuoteDecisionParams>) {
          const buyer = buyerOf(ctx);
          const { id, version, reason } = ctx.params;
          await db.transaction(async (tx) => {
            const quote = await requireQuote(tx, id, { companyId: buyer.companyId }, { lock: true });
            if (quote.state !== 'quoted')
              await move(tx, ctx, quote, 'accept', { kind: 'buyer', id: buyer.userId });
            expectQuotedVersion(quote, version);
            const { rows } = await tx.query(
              'SELECT total_minor FROM quotes.quote_versions WHERE quote_id = $1 AND number = $2',
              [id, version],
            );
            await move(
              tx,
              ctx,
              quote,
              'accept',
              { kind: 'buyer', id: buyer.userId },
              { version, reason: reason ?? null, total: BigInt(rows[0]!.total_minor) },
              {
                accepted_version: version,
                order_status: 'pending',
                accepted_by: buyer.userId,
                accepted_auth: JSON.stringify(buyer.auth),
                payment_method: ctx.params.paymentMethod ?? 'credit',
              },
            );
            await enqueueConversion(tx, id, version);
          });
          return view(id, buyer.companyId);
        },
      },

      reject: {
        params: schemaRef('api/quotes/quote-decision-params'),
        async handler(ctx: Context<QuoteDecisionParams>) {
          const buyer = buyerOf(ctx);
          const { id, version, reason } = ctx.params;
          await db.transaction(async (tx) => {
            const quote = await requireQuote(tx, id, { companyId: buyer.companyId }, { lock: true });
            if (quote.state !== 'quoted')
              await move(tx, ctx, quote, 'reject', { kind: 'buyer', id: buyer.userId });
            // Saying no to a quote needs no validity: only that it is the one the buyer saw.
            expectQuotedVersion(quote, version, new Date(0));
            await move(
              tx,
              ctx,
              quote,
              'reject',
              { kind: 'buyer', id: buyer.userId },
              { version, reason: reason ?? null },
            );
          });
          return view(id, buyer.companyId);
        },
      },

      cancel: {
        params: schemaRef('api/quotes/quote-reason-params'),
        async handler(ctx: Context<QuoteReasonParams>) {
          const buyer = buyerOf(ctx);
          const before = await db.transaction(async (tx) => {
            const quote = await requireQuote(
              tx,
              ctx.params.id,
              { companyId: buyer.companyId },
              { lock: true },
            );
            await move(
              tx,
              ctx,
              quote,
              'cancel',
              { kind: 'buyer', id: buyer.userId },
              { reason: ctx.params.reason ?? null },
              { pending_version: null },
            );
            return quote;
          });
          if (before.state === 'pending_approval') {
            await withdrawMarginApproval(ctx, before, buyer.userId, 'quote cancelled by the buyer');
          }
          return view(ctx.params.id, buyer.companyId);
        },
      },
    },
    routes: ROUTES,
  };
}

/** The order conversion, as durable work: the outbox enqueues it once per quote and version. */
export async function enqueueConversion(tx: Transaction, id: string, version: number): Promise<void> {
  await writeOutbox(tx, [
    {
      kind: 'job',
      job: {
        queue: CONVERSION_QUEUE,
        name: 'place-order',
        key: `quote:${id}:${version}:order`,
        data: { quoteId: id, version },
      },
    },
  ]);
}

export const CONVERSION_QUEUE = 'quotes-orders';

const BASE = '/api/quotes';

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: BASE,
    action: 'quotes.request',
    operationId: 'requestQuote',
    tag: TAG,
    summary:
      'Ask for a quote (一键询价) from one of your carts and/or lines: catalog SKUs or free-text items, target prices, needed-by date',
    audience: 'buyer',
    requestSchema: 'api/quotes/request-quote-request',
    responseSchema: 'entities/quote',
    successStatus: 201,
    location: `${BASE}/{id}`,
  },
  {
    method: 'GET',
    path: BASE,
    action: 'quotes.list',
    operationId: 'listQuotes',
    tag: TAG,
    summary: "Your company's quotes, newest first",
    audience: 'buyer',
    querySchema: 'api/quotes/quote-list-query',
    responseSchema: 'api/quotes/quote-list-response',
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'quotes.get',
    operationId: 'getQuote',
    tag: TAG,
    summary: 'A quote of your company with its versions (rounds) and history',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/quote',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/counter`,
    action: 'quotes.counter',
    operationId: 'counterQuote',
    tag: TAG,
    summary: 'Counter the quoted version you saw with target unit prices (a new version; 409 if it changed)',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/quotes/counter-quote-request',
    responseSchema: 'entities/quote',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/accept`,
    action: 'quotes.accept',
    operationId: 'acceptQuote',
    tag: TAG,
    summary: 'Accept the quoted version you saw while it is valid; it becomes an order at its prices',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/quotes/quote-decision-request',
    responseSchema: 'entities/quote',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/reject`,
    action: 'quotes.reject',
    operationId: 'rejectQuote',
    tag: TAG,
    summary: 'Reject the quoted version you saw',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/quotes/quote-decision-request',
    responseSchema: 'entities/quote',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/cancel`,
    action: 'quotes.cancel',
    operationId: 'cancelQuote',
    tag: TAG,
    summary: 'Withdraw a quote that is still open',
    audience: 'buyer',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/quotes/quote-reason-request',
    responseSchema: 'entities/quote',
  },
];
