import type { Transaction } from '../database/database.ts';
import type { OutboxMessage } from './outbox.ts';

/** Past-tense dotted event names, `company.created`, `order.line.added`. */
const EVENT_NAME = /^[a-z][a-zA-Z0-9_-]*(\.[a-z][a-zA-Z0-9_-]*)+$/;
/** The canonical queue name (schemas/entities/queue-name), checked here so a bad row cannot be committed. */
const QUEUE_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** One state change emits a handful of messages; a caller sending more is likely looping. */
const MAX_MESSAGES = 1000;

/** JSON has no 64-bit integers: bigint amounts and ids travel as decimal strings, exactly. */
function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export class InvalidOutboxMessage extends Error {}

interface OutboxRow {
  kind: 'event' | 'job';
  topic: string;
  payload: unknown;
  companyId: string | null;
}

function toRow(message: OutboxMessage): OutboxRow {
  if (message.kind === 'event') {
    if (!EVENT_NAME.test(message.name)) {
      throw new InvalidOutboxMessage(
        `Event name ${JSON.stringify(message.name)} must look like entity.verb-ed`,
      );
    }
    const companyId = message.companyId ?? null;
    if (companyId !== null && !UUID.test(companyId)) {
      throw new InvalidOutboxMessage(`companyId ${JSON.stringify(companyId)} is not a uuid`);
    }
    return { kind: 'event', topic: message.name, payload: message.payload, companyId };
  }
  const { job } = message;
  if (!QUEUE_NAME.test(job.queue))
    throw new InvalidOutboxMessage(`Queue name ${JSON.stringify(job.queue)} is invalid`);
  if (!job.name) throw new InvalidOutboxMessage('A job needs a name');
  // Without a key the relay could not make re-publication idempotent.
  if (!job.key) throw new InvalidOutboxMessage(`Job ${job.name} needs an idempotency key`);
  return { kind: 'job', topic: job.queue, payload: job, companyId: null };
}

/**
 * Records messages in the platform outbox inside the caller's transaction, so they commit or roll
 * back with the state change that caused them; the relay publishes them after commit. Returns the
 * outbox ids in the order of `messages` (event subscribers see the id as the event id).
 * Invalid messages are refused here, failing the caller's transaction rather than the relay later.
 * Payloads are stored as JSON; bigint values become decimal strings.
 */
export async function writeOutbox(
  tx: Transaction,
  messages: OutboxMessage[],
  origin?: { requestId?: string | undefined },
): Promise<bigint[]> {
  if (messages.length === 0) return [];
  if (messages.length > MAX_MESSAGES) {
    throw new InvalidOutboxMessage(`${messages.length} outbox messages in one call; at most ${MAX_MESSAGES}`);
  }
  const rows = messages.map(toRow);
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    values.push(row.kind, row.topic, JSON.stringify(row.payload, bigintAsString), row.companyId);
    const n = values.length;
    return `($${n - 3}, $${n - 2}, $${n - 1}::jsonb, $${n}::uuid, $${rows.length * 4 + 1})`;
  });
  values.push(origin?.requestId ?? null);
  const { rows: inserted } = await tx.query<{ id: bigint }>(
    `INSERT INTO platform.outbox (kind, topic, payload, company_id, request_id) VALUES ${tuples.join(', ')} RETURNING id`,
    values,
  );
  // Identity values are drawn in VALUES order within the statement, so ascending ids are message order.
  return inserted.map((row) => row.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
