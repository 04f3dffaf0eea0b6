import type { Transaction } from '../database/database.ts';

const CONSUMER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

/**
 * Outbox events are delivered at least once: a relay that dies after publishing but before
 * recording it publishes again. A subscriber whose effect must happen once calls this first, in
 * the same transaction as its effect, with the event's `id`: true means "first time, act", false
 * means "already done, skip". Because the mark commits or rolls back with the effect, a crash in
 * between leaves the event unconsumed and the redelivery does the work.
 *
 * `consumer` names the effect (e.g. `invoices.on-order-shipped`), so two subscribers of the same
 * event each act once.
 */
export async function consumeOnce(
  tx: Transaction,
  consumer: string,
  eventId: bigint | string,
): Promise<boolean> {
  if (!CONSUMER.test(consumer)) throw new TypeError(`Consumer name ${JSON.stringify(consumer)} is invalid`);
  const id = typeof eventId === 'bigint' ? eventId : BigInt(eventId);
  const { rowCount } = await tx.query(
    'INSERT INTO platform.consumed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [consumer, id.toString()],
  );
  return rowCount === 1;
}
