/**
 * An accepted quote becomes an order at its locked prices. Acceptance commits with an outbox job
 * (`quotes-orders`, key `quote:<id>:<version>:order`), so the conversion is asked for exactly once
 * and survives a crash or an orders service that is down: the job port retries with backoff. The
 * call, `workflows.internal.placeFromQuote`, is idempotent per quote id and version on the orders
 * side, and runs with the accepting buyer's auth context as it was at acceptance.
 *
 * Orders take catalog SKUs at whole unit prices: a free-text line, or a line whose discounted total
 * does not divide into a whole unit price, cannot be ordered as it stands. Such a quote is marked
 * `failed` with the reason (staff then quote it again with a SKU or a whole price).
 */
import type { ServiceBroker } from 'moleculer';
import type { Database } from '../platform/database/database.ts';
import { PermanentFailure } from '../platform/jobs/job-error-taxonomy.ts';
import type { JobQueue } from '../platform/jobs/job-queue.ts';
import { CONVERSION_QUEUE } from './buyer-quotes.actions.ts';
import { linesOfVersion, requireQuote } from './quote-store.ts';

export interface OrderLine {
  skuId: string;
  quantity: number;
  unit?: string;
  unitPrice: { amountMinor: string; currency: string };
  vatRate: number;
}

/** The order lines of an accepted version, or why it cannot be ordered as it stands. */
export function orderLinesOf(
  lines: Awaited<ReturnType<typeof linesOfVersion>>,
  currency: string,
): { lines: OrderLine[] } | { error: string } {
  const out: OrderLine[] = [];
  for (const line of lines) {
    if (!line.skuId || line.vatRate === null) return { error: `line ${line.lineNo} is not a catalog SKU` };
    const total = line.lineTotalMinor!;
    if (total % BigInt(line.quantity) !== 0n) {
      return {
        error: `line ${line.lineNo}: ${total} does not divide into ${line.quantity} whole unit prices`,
      };
    }
    out.push({
      skuId: line.skuId,
      quantity: line.quantity,
      ...(line.unit ? { unit: line.unit } : {}),
      unitPrice: { amountMinor: (total / BigInt(line.quantity)).toString(), currency },
      vatRate: line.vatRate,
    });
  }
  return { lines: out };
}

/** Places the order of one accepted quote version; records the order id or a permanent failure. */
export async function convertQuote(db: Database, broker: ServiceBroker, quoteId: string, version: number) {
  const quote = await requireQuote(db, quoteId, { companyId: null });
  if (quote.acceptedVersion !== version || quote.orderStatus === 'placed') return { orderId: quote.orderId };
  const { rows } = await db.query('SELECT accepted_auth, payment_method FROM quotes.quotes WHERE id = $1', [
    quoteId,
  ]);
  const prepared = orderLinesOf(await linesOfVersion(db, quoteId, version), quote.currency);
  if ('error' in prepared) {
    await markFailed(db, quoteId, prepared.error);
    return { error: prepared.error };
  }
  let order: { order?: { id: string } };
  try {
    order = (await broker.call(
      'workflows.internal.placeFromQuote',
      {
        quoteId,
        quoteVersion: version,
        lines: prepared.lines,
        paymentMethod: rows[0]!.payment_method ?? 'credit',
      },
      { meta: { auth: rows[0]!.accepted_auth } },
    )) as { order?: { id: string } };
  } catch (error) {
    // A business refusal (422: no credit, no stock) will not change by retrying: record it.
    if ((error as { code?: number }).code === 422) {
      await markFailed(db, quoteId, (error as Error).message);
      throw new PermanentFailure((error as Error).message);
    }
    throw error; // the orders service is unreachable or crashed: the job port retries
  }
  const orderId = order.order?.id ?? null;
  await db.query(
    `UPDATE quotes.quotes SET order_status = 'placed', order_id = $2, order_error = NULL, updated_at = now() WHERE id = $1`,
    [quoteId, orderId],
  );
  return { orderId };
}

async function markFailed(db: Database, quoteId: string, error: string) {
  await db.query(
    `UPDATE quotes.quotes SET order_status = 'failed', order_error = $2, updated_at = now() WHERE id = $1`,
    [quoteId, error.slice(0, 1000)],
  );
}

export async function startOrderConversion(
  platform: { db: Database; jobs: JobQueue },
  broker: ServiceBroker,
) {
  await platform.jobs.process<{ quoteId: string; version: number }>(CONVERSION_QUEUE, (job) =>
    convertQuote(platform.db, broker, job.data.quoteId, job.data.version),
  );
}
