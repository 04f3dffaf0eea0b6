import { HubError } from '../platform/errors/hub-errors.ts';
import type { SagaDefinition, SagaIo } from './saga-runner.ts';

/**
 * Placing an order, as a saga over the domains' mesh-only actions (issue 6 contracts):
 *
 * 1. `open`     orders.internal.open: the order in `placing` with its priced lines; a second
 *               checkout with the same key finds the first order and stops here (DuplicateCheckout).
 * 2. `credit`   credit.internal.hold of the order total (credit payment only).
 * 3. `stock`    inventory.internal.reserve of every line (all or none), allocations kept on the order.
 * 4. `approval` approvals.request with the frozen purchase; pending → the order waits in
 *               `pending_approval` with its stock and credit held, and the saga waits for
 *               `approval.approved` (resume) or `approval.rejected` (abort: everything released).
 * 5. `finish`   credit: inventory.internal.confirm + credit.internal.capture → `confirmed`;
 *               bank transfer / online: payments.internal.start → `pending_payment`.
 *
 * Every call is idempotent per `order:<id>`, so the sweep can run a step again after a crash.
 * Compensation undoes in reverse: approval cancelled, stock released, credit released, the order
 * `failed` (still placing: its checkout key is freed) or `cancelled` (it was pending) with the reason.
 */

export interface Money {
  amountMinor: string;
  currency: string;
}

export interface PlaceOrderData {
  orderId: string;
  reference: string;
  companyId: string;
  paymentMethod: 'credit' | 'bank_transfer' | 'online';
  total: Money;
  /** orders.internal.open's params. */
  order: Record<string, unknown>;
  stockLines: Array<{ skuId: string; quantity: number }>;
  snapshot: Record<string, unknown>;
  created?: boolean;
  allocations?: Array<{ skuId: string; warehouseId: string; quantity: number }>;
  approvalId?: string;
  paymentId?: string;
  paymentInstructions?: unknown;
}

/** The checkout key already has an order: the retry answers that one. */
export class DuplicateCheckout extends Error {
  readonly orderId: string;
  constructor(orderId: string) {
    super(`This checkout already placed order ${orderId}`);
    this.orderId = orderId;
  }
}

/** Runs an undo call; "nothing to undo" (a 4xx refusal) is fine, a crash surfaces so the sweep tries again. */
async function quietly(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number' && code >= 400 && code < 500) return;
    throw error;
  }
}

const subject = (data: PlaceOrderData) => ({ type: 'order', id: data.orderId });

export const placeOrderSaga: SagaDefinition<PlaceOrderData> = {
  kind: 'place-order',
  steps: [
    {
      name: 'open',
      async run(data, io) {
        const opened = await io.call<{ created: boolean; orderId: string }>('orders.internal.open', {
          order: data.order,
        });
        // The same id: this saga opened it before a crash, and runs the step again.
        if (!opened.created && opened.orderId !== data.orderId) throw new DuplicateCheckout(opened.orderId);
        return { data: { created: true } };
      },
      async compensate(data, io, reason) {
        if (!data.created) return;
        await io.call('orders.internal.abandon', { orderId: data.orderId, reason: reason.slice(0, 1000) });
      },
    },
    {
      name: 'credit',
      async run(data, io) {
        if (data.paymentMethod !== 'credit') return undefined;
        await io.call('credit.internal.hold', {
          reference: data.reference,
          companyId: data.companyId,
          amount: data.total,
        });
        return undefined;
      },
      async compensate(data, io) {
        if (data.paymentMethod !== 'credit') return;
        await quietly(io.call('credit.internal.release', { reference: data.reference }));
      },
    },
    {
      name: 'stock',
      async run(data, io) {
        const reserved = await io.call<{ allocations: PlaceOrderData['allocations'] }>(
          'inventory.internal.reserve',
          {
            reference: data.reference,
            companyId: data.companyId,
            lines: data.stockLines,
          },
        );
        await io.call('orders.internal.recordAllocations', {
          orderId: data.orderId,
          allocations: reserved.allocations,
        });
        return { data: { allocations: reserved.allocations ?? [] } };
      },
      async compensate(data, io) {
        await quietly(io.call('inventory.internal.release', { reference: data.reference }));
      },
    },
    {
      name: 'approval',
      async run(data, io) {
        const request = await io.call<{ id: string; status: string }>('approvals.request', {
          subject: subject(data),
          snapshot: data.snapshot,
        });
        if (request.status === 'rejected') {
          throw new HubError(422, 'approval-rejected', 'The order was rejected by an approver');
        }
        if (request.status !== 'pending') return undefined;
        await io.call('orders.internal.transition', {
          orderId: data.orderId,
          to: 'pending_approval',
          reason: 'an approval rule applies',
          approvalId: request.id,
          ifFrom: ['placing'],
        });
        return { data: { approvalId: request.id }, wait: 'approval' };
      },
      async compensate(data, io, reason) {
        if (!data.approvalId) return;
        await quietly(io.call('approvals.cancel', { subject: subject(data), reason: reason.slice(0, 500) }));
      },
    },
    {
      name: 'finish',
      async run(data, io) {
        if (data.paymentMethod === 'credit') {
          // Independent and idempotent per reference: confirmed together.
          await Promise.all([
            io.call('inventory.internal.confirm', { reference: data.reference }),
            io.call('credit.internal.capture', { reference: data.reference }),
          ]);
          await io.call('orders.internal.transition', {
            orderId: data.orderId,
            to: 'confirmed',
            reason: data.approvalId ? 'approved; paid on credit' : 'paid on credit',
            ifFrom: ['placing', 'pending_approval'],
          });
          return undefined;
        }
        const payment = await io.call<{ paymentId: string; instructions?: unknown }>(
          'payments.internal.start',
          {
            reference: data.reference,
            companyId: data.companyId,
            method: data.paymentMethod,
            amount: data.total,
          },
        );
        await io.call('orders.internal.transition', {
          orderId: data.orderId,
          to: 'pending_payment',
          reason: `awaiting ${data.paymentMethod === 'online' ? 'online payment' : 'bank transfer'}`,
          paymentId: payment.paymentId,
          ifFrom: ['placing', 'pending_approval'],
        });
        return { data: { paymentId: payment.paymentId, paymentInstructions: payment.instructions ?? null } };
      },
    },
  ],
};

export type { SagaIo };
