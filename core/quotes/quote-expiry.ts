/**
 * Quoted versions past their `validUntil` expire. The sweep runs as BullMQ jobs through the
 * platform's job port, one per time slot for the whole cluster (the same chain of delayed jobs
 * keyed by slot as inventory's reservation sweep: every process enqueues the next slot, the key
 * makes the copies one job). Quotes are claimed with SKIP LOCKED, so two sweeps expire each once.
 */
import type { Database } from '../platform/database/database.ts';
import type { JobQueue } from '../platform/jobs/job-queue.ts';
import { move, requireQuote } from './quote-store.ts';

export const EXPIRY_QUEUE = 'quotes-expiry';

/** Expires every quoted quote whose validity ended by `now`; returns their ids. */
export async function expireQuotes(db: Database, now: Date, batch = 500): Promise<string[]> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT id FROM quotes.quotes WHERE state = 'quoted' AND valid_until <= $1
        ORDER BY valid_until LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, batch],
    );
    for (const { id } of rows) {
      const quote = await requireQuote(tx, id, { companyId: null });
      await move(
        tx,
        null,
        quote,
        'expire',
        { kind: 'system', id: null },
        {
          version: quote.quotedVersion,
          reason: `valid until ${quote.validUntil!.toISOString()}`,
        },
      );
    }
    return rows.map((row) => row.id);
  });
}

export async function scheduleNextExpiry(jobs: JobQueue, intervalSeconds: number, now = Date.now()) {
  const interval = intervalSeconds * 1000;
  const slot = Math.floor(now / interval) + 1;
  return jobs.enqueue({
    queue: EXPIRY_QUEUE,
    name: 'expire-quotes',
    key: `quotes-expiry:${intervalSeconds}:${slot}`,
    data: { slot, intervalSeconds },
    delayMs: Math.max(0, slot * interval - now),
    attempts: 3,
  });
}

export async function startQuoteExpiry(
  platform: { db: Database; jobs: JobQueue },
  intervalSeconds: number,
  onSwept?: (expired: string[]) => void,
): Promise<void> {
  const { db, jobs } = platform;
  await jobs.process(EXPIRY_QUEUE, async () => {
    try {
      const expired = await expireQuotes(db, new Date());
      onSwept?.(expired);
      return { expired: expired.length };
    } finally {
      await scheduleNextExpiry(jobs, intervalSeconds);
    }
  });
  await scheduleNextExpiry(jobs, intervalSeconds);
}
