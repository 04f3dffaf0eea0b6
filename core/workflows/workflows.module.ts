import path from 'node:path';
import type { Context, ServiceSchema } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { AuthContext, HubMeta } from '../platform/auth/auth-context.ts';
import { UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import type { HubModule } from '../platform/hub-module.ts';
import type { PublishedOutboxEvent } from '../platform/outbox/outbox-relay.ts';
import type { Platform } from '../platform/platform.ts';
import { type CheckoutRequest, type LockedLine, prepareCheckout } from './checkout.ts';
import { DuplicateCheckout, type PlaceOrderData, placeOrderSaga } from './place-order.saga.ts';
import { SagaRunner } from './saga-runner.ts';

export interface WorkflowsOptions {
  /** How often crashed sagas are looked for (ms); 0 turns the periodic sweep off (tests sweep by hand). */
  sweepIntervalMs?: number;
  /** How long a worker holds a saga between steps before the sweep may take it over. */
  leaseMs?: number;
}

/**
 * Event handlers act as the system: a trusted caller without a company. Its principal is a fixed
 * uuid because domains record the caller's id in uuid columns (inventory movements, credit ledger).
 */
const SYSTEM: { meta: { auth: AuthContext } } = {
  meta: {
    auth: {
      kind: 'system',
      principalId: '00000000-0000-4000-8000-00000000f10a',
      companyId: null,
      permissions: [],
    },
  },
};

const ORDER_REFERENCE = /^order:([0-9a-f-]{36})$/;

/** How long a repeated checkout waits for the first one to settle before answering. */
const SETTLE_MS = 15_000;

export function workflowsService(platform: Platform, options: WorkflowsOptions = {}): ServiceSchema {
  let runner: SagaRunner | undefined;
  let timer: NodeJS.Timeout | undefined;
  const logger = platform.logger.child({ service: 'workflows' });
  const sagas = () => {
    if (!runner) throw new Error('workflows service not started');
    return runner;
  };

  async function settled(ctx: Context, orderId: string) {
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const order = (await ctx.call('orders.internal.get', { orderId })) as {
        status: string;
        cancelReason: string | null;
      };
      if (order.status !== 'placing' || Date.now() > deadline) return order;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function place(
    ctx: Context,
    request: CheckoutRequest & { source?: 'quote' | 'reorder'; quoteId?: string; lockedLines?: LockedLine[] },
  ) {
    const { cart, ...data } = await prepareCheckout(ctx, request);
    const meta = { auth: (ctx.meta as HubMeta).auth, origin: (ctx.meta as HubMeta).origin ?? {} };
    const result = await sagas().start<PlaceOrderData>(placeOrderSaga, data, meta, data.orderId);
    let orderId = data.orderId;
    let replayed = false;
    if (result.status === 'compensated') {
      if (!(result.error instanceof DuplicateCheckout)) throw result.error;
      orderId = result.error.orderId;
      replayed = true;
      const first = await settled(ctx, orderId);
      if (first.status === 'failed') {
        throw new UnprocessableRequest('checkout-failed', `This checkout failed: ${first.cancelReason}`);
      }
    } else if (cart) {
      // The cart is ordered: emptied unless someone changed it meanwhile. Best effort, never fails the order.
      await ctx
        .call('carts.internal.checkedOut', { cartId: cart.id, version: cart.version, orderId })
        .catch((error: unknown) => logger.warn({ err: error, orderId }, 'emptying the ordered cart failed'));
    }
    const order = await ctx.call('orders.internal.get', { orderId });
    (ctx.meta as { $location?: string }).$location = `/api/orders/${orderId}`;
    const saga = replayed ? await sagas().get<PlaceOrderData>(orderId) : result;
    return { order, replayed, paymentInstructions: saga?.data.paymentInstructions ?? null };
  }

  async function onCancelled(orderId: string, reason: string) {
    const saga = await sagas().get<PlaceOrderData>(orderId);
    if (saga?.status === 'waiting') await sagas().abort(orderId, null, reason);
  }

  return {
    name: 'workflows',
    actions: {
      placeOrder: {
        params: schemaRef('api/orders/place-order-request'),
        handler: (ctx: Context<CheckoutRequest>) => place(ctx, ctx.params),
      },

      /** Mesh-only, for quotes: the quote's locked prices are kept (not repriced); everything else runs. */
      'internal.placeFromQuote': {
        visibility: 'public' as const,
        params: schemaRef('api/orders/place-from-quote-params'),
        handler: (
          ctx: Context<{
            quoteId: string;
            quoteVersion: number;
            lines: LockedLine[];
            paymentMethod: CheckoutRequest['paymentMethod'];
            poNumber?: string;
            poDocumentId?: string;
            note?: string;
          }>,
        ) =>
          place(ctx, {
            source: 'quote',
            quoteId: `${ctx.params.quoteId}@${ctx.params.quoteVersion}`,
            lockedLines: ctx.params.lines,
            paymentMethod: ctx.params.paymentMethod,
            ...(ctx.params.poNumber ? { poNumber: ctx.params.poNumber } : {}),
            ...(ctx.params.poDocumentId ? { poDocumentId: ctx.params.poDocumentId } : {}),
            ...(ctx.params.note ? { note: ctx.params.note } : {}),
          }),
      },

      /** Mesh-only: take over crashed sagas now (the periodic sweep calls the same). */
      'internal.sweep': {
        visibility: 'public' as const,
        params: schemaRef('api/common/empty-params'),
        handler: async () => ({ takenOver: await sagas().sweep() }),
      },
    },
    events: {
      'approval.approved': {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          const subject = ctx.params.data.subject as { type: string; id: string };
          if (subject?.type === 'order') await sagas().resume(subject.id, 'approval');
        },
      },
      'approval.rejected': {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          const { subject, comment } = ctx.params.data as {
            subject: { type: string; id: string };
            comment: string;
          };
          if (subject?.type === 'order') {
            await sagas().abort(subject.id, 'approval', `rejected by an approver: ${comment}`);
          }
        },
      },
      'payment.confirmed': {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          const reference = String(ctx.params.data.reference ?? '');
          const orderId = ORDER_REFERENCE.exec(reference)?.[1];
          if (!orderId) return;
          await ctx.call('inventory.internal.confirm', { reference }, SYSTEM);
          await ctx.call(
            'orders.internal.transition',
            { orderId, to: 'confirmed', reason: 'payment received', ifFrom: ['pending_payment'] },
            SYSTEM,
          );
        },
      },
      'stock.reservation_expired': {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          const reference = String(ctx.params.data.reference ?? '');
          const orderId = ORDER_REFERENCE.exec(reference)?.[1];
          if (!orderId) return;
          const reason = 'the stock reservation expired before the order was confirmed';
          const saga = await sagas().get<PlaceOrderData>(orderId);
          if (saga?.status === 'waiting') {
            await sagas().abort(orderId, null, reason);
            return;
          }
          const abandoned = (await ctx.call('orders.internal.abandon', { orderId, reason }, SYSTEM)) as {
            changed: boolean;
          };
          if (abandoned.changed) await ctx.call('credit.internal.release', { reference }, SYSTEM);
        },
      },
      'order.cancelled': {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          const { orderId, reason } = ctx.params.data as { orderId: string; reason: string | null };
          await onCancelled(orderId, reason ?? 'cancelled');
        },
      },
    },
    async started() {
      runner = new SagaRunner({
        db: platform.db,
        broker: this.broker,
        logger,
        ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
      });
      runner.register(placeOrderSaga);
      const every = options.sweepIntervalMs ?? 15_000;
      if (every > 0) {
        timer = setInterval(() => {
          runner?.sweep().catch((error: unknown) => logger.warn({ err: error }, 'saga sweep failed'));
        }, every);
        timer.unref();
      }
    },
    async stopped() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/orders',
    action: 'workflows.placeOrder',
    operationId: 'placeOrder',
    tag: 'orders',
    summary:
      'Check out a cart or explicit lines: priced for the buyer now, credit held (credit payment), stock reserved, approval if a rule applies, then confirmed or awaiting payment; a failure undoes every step. A retried checkout (same cart version or checkoutToken) answers the same order',
    audience: 'buyer',
    requestSchema: 'api/orders/place-order-request',
    responseSchema: 'api/orders/place-order-response',
    successStatus: 201,
  },
];

export function createWorkflowsModule(options: WorkflowsOptions = {}): HubModule {
  return {
    name: 'workflows',
    description:
      'Cross-domain sagas with compensation and crash recovery: placing an order (pricing, credit, stock, approval, payment)',
    migrations: { domain: 'workflows', directory: path.join(import.meta.dirname, 'migrations') },
    routes: ROUTES,
    service: (platform: Platform): ServiceSchema => workflowsService(platform, options),
  };
}

export const workflowsModule: HubModule = createWorkflowsModule();
