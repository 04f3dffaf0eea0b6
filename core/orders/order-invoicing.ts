import type { ServiceBroker } from 'moleculer';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import type { JobQueue } from '../platform/jobs/job-queue.ts';
import type { OutboxJob } from '../platform/outbox/outbox.ts';
import { findOrder } from './order-store.ts';

/**
 * The receivable of a credit order (账期) is issued when its first shipment leaves, for the whole
 * order. Why then and not at confirmation: credit terms (`net` N, `month_end` N in
 * core/credit/terms.ts) count from the invoice's issue date, and the buyer owes from delivery; and
 * an order may be cancelled until something shipped, which must give the credit back
 * (`credit.internal.release`), while an invoiced purchase cannot be released (finance would have to
 * post a credit note). After the first shipment the order can no longer be cancelled, so the
 * invoice is final.
 *
 * The shipment's transaction writes an outbox job (queue `orders-invoicing`, key
 * `order:<id>:invoice`, so it is enqueued once however often it is relayed); the job calls
 * `receivables.internal.issueInvoice`, which is idempotent per reference `order:<id>`: a job run
 * twice, or a second shipment's job, answers the same invoice. The job port retries while the
 * receivables service is down.
 */
export const INVOICING_QUEUE = 'orders-invoicing';

/** The system caller of the invoicing job: no company, so receivables records it as the system. */
const SYSTEM: { meta: { auth: AuthContext } } = {
  meta: {
    auth: {
      kind: 'system',
      principalId: '00000000-0000-4000-8000-00000000f10b',
      companyId: null,
      permissions: [],
    },
  },
};

/** The outbox job that invoices `orderId` (written with the first shipment of a credit order). */
export function invoiceJob(orderId: string): OutboxJob {
  return {
    kind: 'job',
    job: {
      queue: INVOICING_QUEUE,
      name: 'issue-invoice',
      key: `order:${orderId}:invoice`,
      data: { orderId },
    },
  };
}

/** Statuses in which goods have left: the order can no longer be cancelled. */
const SHIPPED = new Set(['partially_shipped', 'shipped', 'completed']);

/**
 * Issues the order's invoice (or answers the one it has): the order as placed, lines and all.
 * Only a credit order whose goods left (also when on hold after a partial shipment) is invoiced;
 * anything else answers null.
 */
export async function invoiceOrder(
  db: Queryable,
  broker: ServiceBroker,
  orderId: string,
): Promise<{ invoiceId: string; number: string } | null> {
  const order = await findOrder(db, orderId, null);
  if (order?.paymentMethod !== 'credit') return null;
  const shipped =
    SHIPPED.has(order.status) || (order.status === 'on_hold' && order.heldFrom === 'partially_shipped');
  if (!shipped) return null;
  const invoice = (await broker.call(
    'receivables.internal.issueInvoice',
    {
      reference: `order:${order.id}`,
      companyId: order.companyId,
      amount: order.totals.gross,
      userId: order.placedBy,
      ...(order.unitId ? { unitId: order.unitId } : {}),
      lines: order.lines.map((line) => ({
        skuId: line.skuId,
        code: line.skuCode,
        ...(line.name ? { description: line.name.slice(0, 300) } : {}),
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        amount: line.gross,
      })),
    },
    SYSTEM,
  )) as { id: string; number: string };
  return { invoiceId: invoice.id, number: invoice.number };
}

export async function startOrderInvoicing(
  platform: { db: Queryable; jobs: JobQueue },
  broker: ServiceBroker,
): Promise<void> {
  await platform.jobs.process<{ orderId: string }>(INVOICING_QUEUE, (job) =>
    invoiceOrder(platform.db, broker, job.data.orderId),
  );
}
