/**
 * A relay in its own process, for the crash tests: they kill it at chosen moments and check
 * what a fresh relay makes of the remains. Run with `node_modules/.bin/node` (Node 24 runs the
 * TypeScript directly); configured by environment only:
 *
 * - DATABASE_URL                  the hub database (platform migrations applied)
 * - REDIS_URL, JOBS_PREFIX        jobs on Redis under this prefix; unset = BullMQ on DATABASE_URL
 * - NATS_URL, HUB_NAMESPACE       events go out over this mesh (Moleculer, balanced emit)
 * - WAIT_FOR_SERVICES             comma-separated services to see on the mesh before relaying
 * - OUTBOX_CLAIM_MODE, OUTBOX_LEASE_MS, OUTBOX_PUBLISH_TIMEOUT_MS   relay settings
 * - OUTBOX_RELAY_CRASH_AFTER      where to die with SIGKILL (no clean-up, no flush):
 *     `publish`             after the OUTBOX_RELAY_CRASH_AT-th row (default 1) was published,
 *                           before the batch is recorded as published
 *     `state-commit`        after committing a state change (ORDER_ID: a row in
 *                           outbox_fixture.orders plus its outbox event and job), before relaying
 *     `state-before-commit` inside that transaction, after both writes, before COMMIT
 *   unset: relay until no unpublished row is left, then stop cleanly and exit 0.
 */
import moleculer from 'moleculer';
import { pino } from 'pino';
import { Database } from '../../database/database.ts';
import { createBullJobQueue } from '../../jobs/bullmq-job-queue.ts';
import { type OutboxClaimMode, OutboxRelay } from '../outbox-relay.ts';
import { writeOutbox } from '../outbox-writer.ts';

const env = process.env;
const logger = pino({ level: env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
const crashAfter = env.OUTBOX_RELAY_CRASH_AFTER ?? '';
const crashAt = Number(env.OUTBOX_RELAY_CRASH_AT ?? '1');

/** Dies the way a power cut or OOM kill does: no finally blocks, no socket closed politely. */
function die(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

/** The state change of the crash tests: an order and, in the same transaction, its outbox rows. */
async function placeOrder(db: Database, orderId: string, crashBeforeCommit: boolean): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('INSERT INTO outbox_fixture.orders (id) VALUES ($1)', [orderId]);
    await writeOutbox(tx, [
      { kind: 'event', name: 'order.placed', payload: { orderId } },
      {
        kind: 'job',
        job: { queue: env.JOBS_QUEUE!, name: 'push-order', key: `order:${orderId}:push`, data: { orderId } },
      },
    ]);
    if (crashBeforeCommit) die();
  });
}

async function main(): Promise<void> {
  const db = new Database(env.DATABASE_URL!, { max: 4, applicationName: 'outbox-relay-process' });
  if (crashAfter === 'state-commit' || crashAfter === 'state-before-commit') {
    await placeOrder(db, env.ORDER_ID!, crashAfter === 'state-before-commit');
    die();
  }

  const jobs = createBullJobQueue({
    databaseUrl: env.DATABASE_URL!,
    redisUrl: env.REDIS_URL || undefined,
    prefix: env.JOBS_PREFIX,
    logger,
  });
  const broker = new moleculer.ServiceBroker({
    namespace: env.HUB_NAMESPACE!,
    nodeID: `outbox-relay-${process.pid}`,
    transporter: env.NATS_URL ? { type: 'NATS', options: { url: env.NATS_URL } } : null,
    logger: false,
  });
  await broker.start();
  if (env.WAIT_FOR_SERVICES) await broker.waitForServices(env.WAIT_FOR_SERVICES.split(','), 15_000);

  let published = 0;
  const relay = new OutboxRelay({
    db,
    jobs,
    logger,
    claimMode: (env.OUTBOX_CLAIM_MODE as OutboxClaimMode | undefined) ?? 'transaction',
    leaseMs: Number(env.OUTBOX_LEASE_MS ?? 60_000),
    publishTimeoutMs: Number(env.OUTBOX_PUBLISH_TIMEOUT_MS ?? 15_000),
    pollIntervalMs: 50,
    publish: (event) => broker.emit(event.name, event),
    async afterPublish() {
      published += 1;
      if (crashAfter === 'publish' && published >= crashAt) {
        // Let the NATS client flush, so subscribers really receive what is about to be "lost".
        await new Promise((resolve) => setTimeout(resolve, 300));
        die();
      }
    },
  });
  relay.start();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { rows } = await db.query('SELECT 1 FROM platform.outbox WHERE published_at IS NULL LIMIT 1');
    if (rows.length === 0) break;
  }
  await relay.stop();
  await broker.stop();
  await jobs.close();
  await db.close();
  process.stdout.write(`drained after publishing ${published} rows\n`);
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'outbox relay process failed');
  process.exit(1);
});
