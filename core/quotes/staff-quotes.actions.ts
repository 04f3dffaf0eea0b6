import type { Context } from 'moleculer';
import type { QuoteListQuery, QuoteReasonParams, StaffQuoteParams } from '../../schemas/generated/types.ts';
import { schemaRef } from '../../schemas/index.ts';
import { HubError, UnprocessableRequest, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { enqueueMarginApproval, requestMarginApproval, withdrawMarginApproval } from './margin-approval.ts';
import { discountDepthBp, lineFigures, sumTotals } from './quote-money.ts';
import { nextState } from './quote-states.ts';
import {
  insertVersion,
  type LineRow,
  linesOfVersion,
  listQuotes,
  move,
  quoteView,
  requireQuote,
} from './quote-store.ts';
import { LIMITS, type QuotesArea, type QuotesContext, READ, staffOf, TAG } from './quotes-area.ts';

/** Staff: every company's quotes; review, respond with versions (below the floor: to the approvals engine), decline, cancel. */
export function staffQuotesArea({ platform, config }: QuotesContext): QuotesArea {
  const { db } = platform;
  const all = { companyId: null };

  async function view(id: string) {
    return quoteView(db, await requireQuote(db, id, all), 'staff');
  }

  return {
    actions: {
      'staff.list': {
        params: schemaRef('api/quotes/quote-list-query'),
        async handler(ctx: Context<QuoteListQuery>) {
          staffOf(ctx, READ);
          const { companyId, state, limit } = ctx.params;
          return {
            items: await listQuotes(
              db,
              { companyId, state, limit: Math.min(limit ?? 50, LIMITS.listLimit) },
              'staff',
            ),
          };
        },
      },

      'staff.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          staffOf(ctx, READ);
          return view(ctx.params.id);
        },
      },

      'staff.review': {
        params: schemaRef('api/quotes/quote-reason-params'),
        async handler(ctx: Context<QuoteReasonParams>) {
          const auth = staffOf(ctx);
          await db.transaction(async (tx) => {
            const quote = await requireQuote(tx, ctx.params.id, all, { lock: true });
            await move(
              tx,
              ctx,
              quote,
              'review',
              { kind: 'staff', id: auth.principalId, auth },
              { reason: ctx.params.reason ?? null },
            );
          });
          return view(ctx.params.id);
        },
      },

      'staff.respond': {
        params: schemaRef('api/quotes/staff-quote-params'),
        async handler(ctx: Context<StaffQuoteParams>) {
          const auth = staffOf(ctx);
          const { id, basedOn, note } = ctx.params;
          const validUntil = new Date(ctx.params.validUntil);
          if (validUntil.getTime() <= Date.now()) {
            throw new ValidationFailed([{ pointer: '/validUntil', detail: 'must be in the future' }]);
          }
          let held: number | null = null;
          await db.transaction(async (tx) => {
            const quote = await requireQuote(tx, id, all, { lock: true });
            // Refused by the table before anything else (a quoted quote waits for the buyer).
            nextState(quote.state, 'quote', 'staff');
            if (quote.latestVersion !== basedOn || quote.pendingVersion !== null) {
              throw new HubError(
                409,
                'quote-version-stale',
                'The quote has a newer version than the one answered',
                {
                  version: quote.latestVersion,
                  pendingVersion: quote.pendingVersion,
                },
              );
            }
            const base = await linesOfVersion(tx, id, basedOn);
            const given = new Map<number, StaffQuoteParams['lines'][number] & { index: number }>();
            ctx.params.lines.forEach((line, index) => {
              if (!base.some((b) => b.lineNo === line.lineNo)) {
                throw new ValidationFailed([
                  { pointer: `/lines/${index}/lineNo`, detail: 'is not a line of this quote' },
                ]);
              }
              if (given.has(line.lineNo))
                throw new ValidationFailed([{ pointer: `/lines/${index}/lineNo`, detail: 'appears twice' }]);
              given.set(line.lineNo, { ...line, index });
            });
            const missing = base.find((b) => !given.has(b.lineNo));
            if (missing) {
              throw new ValidationFailed([
                { pointer: '/lines', detail: `line ${missing.lineNo} has no price` },
              ]);
            }
            let belowFloor = false;
            const lines: LineRow[] = base.map((line) => {
              const input = given.get(line.lineNo)!;
              const pointer = `/lines/${input.index}`;
              const unitPriceMinor = minorIn(input.unitPrice, quote.currency, `${pointer}/unitPrice`);
              const discountMinor = input.discount
                ? minorIn(input.discount, quote.currency, `${pointer}/discount`)
                : undefined;
              let figures: ReturnType<typeof lineFigures>;
              try {
                figures = lineFigures({
                  unitPriceMinor,
                  quantity: line.quantity,
                  discountBp: input.discountBp,
                  discountMinor,
                });
              } catch {
                throw new ValidationFailed([
                  { pointer: `${pointer}/discount`, detail: 'is more than the line amount' },
                ]);
              }
              if (line.listUnitMinor !== null) {
                const listAmount = line.listUnitMinor * BigInt(line.quantity);
                if (discountDepthBp(listAmount, figures.total) > config.maxDiscountBp) belowFloor = true;
              }
              return {
                ...line,
                unitPriceMinor,
                discountBp: input.discountBp ?? null,
                discountMinor: figures.discount,
                lineTotalMinor: figures.total,
                note: input.note ?? null,
              };
            });
            const total = sumTotals(lines.map((line) => ({ total: line.lineTotalMinor! })));
            const listed = lines.filter((line) => line.listUnitMinor !== null);
            const listTotal =
              listed.length === lines.length
                ? sumTotals(listed.map((line) => ({ total: line.listUnitMinor! * BigInt(line.quantity) })))
                : null;
            const next = quote.latestVersion + 1;
            await insertVersion(tx, id, {
              number: next,
              kind: 'quote',
              authorKind: 'staff',
              authorId: auth.principalId,
              validUntil,
              note: note ?? null,
              totalMinor: total,
              listTotalMinor: listTotal,
              approval: belowFloor ? 'pending' : 'not_required',
              lines,
            });
            if (belowFloor) {
              // The buyer sees nothing of it until the approvals engine agrees (margin-approval.ts).
              await move(
                tx,
                ctx,
                quote,
                'submit_for_approval',
                { kind: 'staff', id: auth.principalId, auth },
                { version: next, total },
                { pending_version: next, approval_id: null },
              );
              await enqueueMarginApproval(tx, id, next);
              held = next;
              return;
            }
            await move(
              tx,
              ctx,
              quote,
              'quote',
              { kind: 'staff', id: auth.principalId, auth },
              { version: next, total },
              { quoted_version: next, valid_until: validUntil },
            );
          });
          if (held !== null) {
            // Usually names the request in this answer; the committed job asks again if this fails.
            await requestMarginApproval(db, ctx.broker, id, held).catch((error: unknown) =>
              ctx.broker.logger.warn('quote margin approval not requested yet; the job retries', error),
            );
          }
          return view(id);
        },
      },

      'staff.decline': {
        params: schemaRef('api/quotes/quote-reason-params'),
        async handler(ctx: Context<QuoteReasonParams>) {
          const auth = staffOf(ctx);
          const before = await db.transaction(async (tx) => {
            const quote = await requireQuote(tx, ctx.params.id, all, { lock: true });
            await move(
              tx,
              ctx,
              quote,
              'decline',
              { kind: 'staff', id: auth.principalId, auth },
              { reason: ctx.params.reason ?? null },
              { pending_version: null },
            );
            return quote;
          });
          if (before.state === 'pending_approval') {
            await withdrawMarginApproval(ctx, before, auth.principalId, 'quote declined');
          }
          return view(ctx.params.id);
        },
      },

      'staff.cancel': {
        params: schemaRef('api/quotes/quote-reason-params'),
        async handler(ctx: Context<QuoteReasonParams>) {
          const auth = staffOf(ctx);
          const before = await db.transaction(async (tx) => {
            const quote = await requireQuote(tx, ctx.params.id, all, { lock: true });
            await move(
              tx,
              ctx,
              quote,
              'cancel',
              { kind: 'staff', id: auth.principalId, auth },
              { reason: ctx.params.reason ?? null },
              { pending_version: null },
            );
            return quote;
          });
          if (before.state === 'pending_approval') {
            await withdrawMarginApproval(ctx, before, auth.principalId, 'quote cancelled');
          }
          return view(ctx.params.id);
        },
      },
    },
    routes: ROUTES,
  };
}

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

const BASE = '/api/staff/quotes';
const reason = {
  paramsSchema: 'api/common/id-params',
  requestSchema: 'api/quotes/quote-reason-request',
  responseSchema: 'entities/quote',
};

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'quotes.staff.list',
    operationId: 'listAllQuotes',
    tag: TAG,
    summary: "Every company's quotes (or one company's), newest first",
    audience: 'staff',
    querySchema: 'api/quotes/quote-list-query',
    responseSchema: 'api/quotes/quote-list-response',
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'quotes.staff.get',
    operationId: 'getAnyQuote',
    tag: TAG,
    summary: 'A quote with every version, including one waiting for margin approval',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/quote',
  },
  {
    method: 'POST',
    path: `${BASE}/:id/review`,
    action: 'quotes.staff.review',
    operationId: 'reviewQuote',
    tag: TAG,
    summary: 'Take a requested quote into review',
    audience: 'staff',
    ...reason,
  },
  {
    method: 'POST',
    path: `${BASE}/:id/versions`,
    action: 'quotes.staff.respond',
    operationId: 'respondToQuote',
    tag: TAG,
    summary:
      'Answer with a quote version (line prices, discounts, validity); below the margin floor it waits for approval',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    requestSchema: 'api/quotes/staff-quote-request',
    responseSchema: 'entities/quote',
    successStatus: 201,
    location: `${BASE}/{id}`,
  },
  {
    method: 'POST',
    path: `${BASE}/:id/decline`,
    action: 'quotes.staff.decline',
    operationId: 'declineQuote',
    tag: TAG,
    summary: 'Decline a quote in review or a counter-offer',
    audience: 'staff',
    ...reason,
  },
  {
    method: 'POST',
    path: `${BASE}/:id/cancel`,
    action: 'quotes.staff.cancel',
    operationId: 'cancelAnyQuote',
    tag: TAG,
    summary: 'Cancel an open quote',
    audience: 'staff',
    ...reason,
  },
];
