import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import moleculer from 'moleculer';
import { pino } from 'pino';
import { applyMigrations } from '../database/migrations.ts';
import { createBullJobQueue, jobIdForKey } from '../jobs/bullmq-job-queue.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { platformMigrations } from '../migrations.ts';
import {
  createTestDatabase,
  deleteRedisKeys,
  type TestDatabase,
  testServers,
  uniqueName,
} from '../testing/test-servers.ts';
import { sleep, waitFor } from '../testing/wait-for.ts';
import { consumeOnce } from './consume-once.ts';
import type { OutboxClaimMode, PublishedOutboxEvent } from './outbox-relay.ts';
import { writeOutbox } from './outbox-writer.ts';

/**
 * "Nothing is lost and nothing is published twice", shown for real: a relay process is killed
 * with SIGKILL between publishing and recording, and a state-changing process is killed right
 * after (and right before) its commit. A fresh relay process then finishes the work. The consumer
 * side is real too: jobs land in BullMQ, events travel over NATS to a subscriber that acts once
 * per event id (consumeOnce) although the killed relay's events arrive twice.
 */

const NODE = path.resolve(import.meta.dirname, '../../../node_modules/.bin/node');
const RELAY_PROCESS = path.join(import.meta.dirname, 'testing', 'outbox-relay-process.ts');
const CONSUMER = 'outbox-test-consumer';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function runRelayProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [RELAY_PROCESS], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`relay process timed out:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

interface Setup {
  jobs: 'postgres' | 'redis';
  claimMode: OutboxClaimMode;
}

describe.each<Setup>([
  { jobs: 'postgres', claimMode: 'transaction' },
  { jobs: 'redis', claimMode: 'transaction' },
  { jobs: 'postgres', claimMode: 'lease' },
])('a relay killed mid-way (jobs on $jobs, $claimMode claims)', ({ jobs: jobsBackend, claimMode }) => {
  let database: TestDatabase;
  let jobs: JobQueue;
  let consumer: moleculer.ServiceBroker;
  const namespace = uniqueName('outbox_crash');
  const jobsPrefix = uniqueName('outbox_crash');
  const queue = uniqueName('erp');
  /** Every delivery the subscriber received, duplicates included. */
  const deliveries: string[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    await applyMigrations(database.db, [platformMigrations]);
    await database.db.query(`
      CREATE SCHEMA outbox_fixture;
      CREATE TABLE outbox_fixture.orders (id text PRIMARY KEY);
      -- deliberately no unique key: a second effect for one event must be visible, not refused
      CREATE TABLE outbox_fixture.effects (event_id bigint NOT NULL, order_id text NOT NULL);
    `);
    jobs = createBullJobQueue({
      databaseUrl: database.url,
      redisUrl: jobsBackend === 'redis' ? testServers.redis : undefined,
      prefix: jobsPrefix,
      logger: pino({ level: 'silent' }),
    });
    consumer = new moleculer.ServiceBroker({
      namespace,
      nodeID: `consumer-${process.pid}`,
      transporter: { type: 'NATS', options: { url: testServers.nats } },
      logger: false,
    });
    consumer.createService({
      name: CONSUMER,
      events: {
        async 'order.placed'(ctx: moleculer.Context<PublishedOutboxEvent>) {
          const event = ctx.params;
          deliveries.push(event.id);
          await database.db.transaction(async (tx) => {
            if (await consumeOnce(tx, 'test.on-order-placed', event.id)) {
              await tx.query('INSERT INTO outbox_fixture.effects (event_id, order_id) VALUES ($1, $2)', [
                event.id,
                event.data.orderId,
              ]);
            }
          });
        },
      },
    });
    await consumer.start();
    env = {
      DATABASE_URL: database.url,
      JOBS_QUEUE: queue,
      JOBS_PREFIX: jobsPrefix,
      ...(jobsBackend === 'redis' ? { REDIS_URL: testServers.redis } : {}),
      NATS_URL: testServers.nats,
      HUB_NAMESPACE: namespace,
      WAIT_FOR_SERVICES: CONSUMER,
      OUTBOX_CLAIM_MODE: claimMode,
      OUTBOX_LEASE_MS: '2000',
      OUTBOX_PUBLISH_TIMEOUT_MS: '1000',
    };
  }, 30_000);

  afterAll(async () => {
    await consumer?.stop();
    await jobs?.close();
    await database?.drop();
    if (jobsBackend === 'redis') {
      await deleteRedisKeys(jobsPrefix);
    }
  });

  async function outboxState(): Promise<{ unpublished: number; total: number }> {
    const { rows } = await database.db.query<{ unpublished: bigint; total: bigint }>(
      'SELECT count(*) FILTER (WHERE published_at IS NULL) AS unpublished, count(*) AS total FROM platform.outbox',
    );
    return { unpublished: Number(rows[0]!.unpublished), total: Number(rows[0]!.total) };
  }

  async function effectsByEvent(): Promise<Record<string, number>> {
    const { rows } = await database.db.query<{ event_id: bigint; n: bigint }>(
      'SELECT event_id, count(*) AS n FROM outbox_fixture.effects GROUP BY event_id',
    );
    return Object.fromEntries(rows.map((row) => [String(row.event_id), Number(row.n)]));
  }

  function deliveriesOf(id: bigint | string): number {
    return deliveries.filter((delivered) => delivered === String(id)).length;
  }

  async function jobCount(): Promise<number> {
    const counts = await jobs.counts(queue);
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  it('between publishing and recording: re-published, each job once, each event acted on once', async () => {
    const orderIds = ['o-1', 'o-2', 'o-3'];
    const eventIds: bigint[] = [];
    for (const orderId of orderIds) {
      const [eventId] = await database.db.transaction(async (tx) => {
        await tx.query('INSERT INTO outbox_fixture.orders (id) VALUES ($1)', [orderId]);
        return writeOutbox(tx, [
          { kind: 'event', name: 'order.placed', payload: { orderId } },
          {
            kind: 'job',
            job: { queue, name: 'push-order', key: `order:${orderId}:push`, data: { orderId } },
          },
        ]);
      });
      eventIds.push(eventId!);
    }

    // Rows in order: event o-1, job o-1, event o-2, ... The relay dies after publishing three.
    const killed = await runRelayProcess({
      ...env,
      // A lease long enough that a busy machine still publishes all three rows inside it (a
      // shorter one hands the rest back and records the first rows, which is right but not the
      // crash this test is about); the fresh relay then waits this long for the lease to lapse.
      OUTBOX_LEASE_MS: '8000',
      OUTBOX_PUBLISH_TIMEOUT_MS: '2000',
      OUTBOX_RELAY_CRASH_AFTER: 'publish',
      OUTBOX_RELAY_CRASH_AT: '3',
    });
    expect(killed.signal).toBe('SIGKILL');
    // The two events did reach the subscriber and the job was enqueued, yet nothing is recorded.
    await waitFor(() => deliveries.length === 2, 'the killed relay to have delivered two events');
    expect(deliveries).toEqual([String(eventIds[0]), String(eventIds[1])]);
    expect(await jobCount()).toBe(1);
    expect(await outboxState()).toEqual({ unpublished: 6, total: 6 });

    const fresh = await runRelayProcess(env);
    expect(fresh).toMatchObject({ code: 0, signal: null });
    expect(fresh.output).toMatch(/drained after publishing 6 rows/);

    await waitFor(async () => Object.keys(await effectsByEvent()).length === 3, 'every event to be acted on');
    await sleep(300); // late duplicates would show up now
    expect(await outboxState()).toEqual({ unpublished: 0, total: 6 });
    // The killed relay's events arrived twice; the subscriber acted once per event anyway.
    expect(eventIds.map(deliveriesOf)).toEqual([2, 2, 1]);
    expect(await effectsByEvent()).toEqual(Object.fromEntries(eventIds.map((id) => [String(id), 1])));
    // One job per key, although the first was enqueued by both relays.
    expect(await jobCount()).toBe(3);
    for (const orderId of orderIds) {
      const job = await jobs.get(queue, jobIdForKey(`order:${orderId}:push`));
      expect(job).toMatchObject({ name: 'push-order', data: { orderId } });
    }
  }, 60_000);

  it('right after the state change committed, before any relay ran: published once by the next relay', async () => {
    const before = deliveries.length;
    const killed = await runRelayProcess({
      ...env,
      OUTBOX_RELAY_CRASH_AFTER: 'state-commit',
      ORDER_ID: 'o-4',
    });
    expect(killed.signal).toBe('SIGKILL');
    const { rows: orders } = await database.db.query('SELECT id FROM outbox_fixture.orders WHERE id = $1', [
      'o-4',
    ]);
    expect(orders).toHaveLength(1);
    const { rows: pending } = await database.db.query<{ id: bigint; kind: string }>(
      `SELECT id, kind FROM platform.outbox WHERE published_at IS NULL ORDER BY id`,
    );
    expect(pending.map((row) => row.kind)).toEqual(['event', 'job']);
    expect(await jobs.get(queue, jobIdForKey('order:o-4:push'))).toBeUndefined();

    expect(await runRelayProcess(env)).toMatchObject({ code: 0, signal: null });
    const eventId = String(pending[0]!.id);
    await waitFor(async () => (await effectsByEvent())[eventId] === 1, 'the o-4 event to be acted on');
    await sleep(300);
    expect(deliveries.slice(before)).toEqual([eventId]);
    expect((await effectsByEvent())[eventId]).toBe(1);
    expect(await jobs.get(queue, jobIdForKey('order:o-4:push'))).toMatchObject({ data: { orderId: 'o-4' } });
    expect(await jobCount()).toBe(4);
    expect((await outboxState()).unpublished).toBe(0);
  }, 60_000);

  it('inside the state change, before its commit: neither the order nor its messages exist', async () => {
    const before = { deliveries: deliveries.length, outbox: await outboxState(), jobs: await jobCount() };
    const killed = await runRelayProcess({
      ...env,
      OUTBOX_RELAY_CRASH_AFTER: 'state-before-commit',
      ORDER_ID: 'o-5',
    });
    expect(killed.signal).toBe('SIGKILL');
    const { rows } = await database.db.query('SELECT id FROM outbox_fixture.orders WHERE id = $1', ['o-5']);
    expect(rows).toEqual([]);
    expect(await outboxState()).toEqual(before.outbox);

    expect(await runRelayProcess(env)).toMatchObject({ code: 0, signal: null });
    await sleep(300);
    expect(deliveries.length).toBe(before.deliveries);
    expect(await jobCount()).toBe(before.jobs);
    expect(await jobs.get(queue, jobIdForKey('order:o-5:push'))).toBeUndefined();
  }, 60_000);
});
