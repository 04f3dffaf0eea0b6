import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Database } from '../database/database.ts';
import { applyMigrations } from '../database/migrations.ts';
import { createBullJobQueue, jobIdForKey } from '../jobs/bullmq-job-queue.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { platformMigrations } from '../migrations.ts';
import { createTestDatabase, type TestDatabase, uniqueName } from '../testing/test-servers.ts';
import { sleep, waitFor } from '../testing/wait-for.ts';
import type { OutboxMessage } from './outbox.ts';
import {
  type OutboxClaimMode,
  OutboxRelay,
  type OutboxRelayOptions,
  type PublishedOutboxEvent,
} from './outbox-relay.ts';
import { writeOutbox } from './outbox-writer.ts';

const logger = pino({ level: 'silent' });
const COMPANY = '0b8e9c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d';

let database: TestDatabase;
let jobs: JobQueue;
const relays: OutboxRelay[] = [];
const extraDatabases: Database[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await applyMigrations(database.db, [platformMigrations]);
  jobs = createBullJobQueue({ databaseUrl: database.url, logger });
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  await Promise.all(extraDatabases.splice(0).map((db) => db.close()));
  // Each test starts from an empty outbox.
  await database.db.query('DELETE FROM platform.outbox');
});

afterAll(async () => {
  await jobs.close();
  await database.drop();
});

function relay(options: Partial<OutboxRelayOptions> & Pick<OutboxRelayOptions, 'publish'>): OutboxRelay {
  const created = new OutboxRelay({ db: database.db, jobs, logger, ...options });
  relays.push(created);
  return created;
}

async function write(messages: OutboxMessage[], requestId?: string): Promise<bigint[]> {
  return database.db.transaction((tx) => writeOutbox(tx, messages, requestId ? { requestId } : undefined));
}

async function unpublished(): Promise<bigint[]> {
  const { rows } = await database.db.query<{ id: bigint }>(
    'SELECT id FROM platform.outbox WHERE published_at IS NULL ORDER BY id',
  );
  return rows.map((row) => row.id);
}

describe('one batch', () => {
  it('publishes events and enqueues jobs in id order, then marks them published', async () => {
    const queue = uniqueName('erp');
    const events: PublishedOutboxEvent[] = [];
    const [placed, job, shipped] = await write(
      [
        { kind: 'event', name: 'order.placed', companyId: COMPANY, payload: { orderId: 'o-1' } },
        {
          kind: 'job',
          job: { queue, name: 'push-order', key: 'order:o-1:push', data: { orderId: 'o-1' }, attempts: 3 },
        },
        { kind: 'event', name: 'order.shipped', payload: { orderId: 'o-1' } },
      ],
      'req-42',
    );
    const result = await relay({ publish: async (event) => void events.push(event) }).relayBatch();

    expect(result).toEqual({ claimed: 3, published: 3, failed: 0 });
    expect(events.map((event) => event.id)).toEqual([String(placed), String(shipped)]);
    expect(events[0]).toEqual({
      id: String(placed),
      name: 'order.placed',
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      companyId: COMPANY,
      requestId: 'req-42',
      data: { orderId: 'o-1' },
    });
    const enqueued = await jobs.get(queue, jobIdForKey('order:o-1:push'));
    expect(enqueued).toMatchObject({ name: 'push-order', state: 'waiting', data: { orderId: 'o-1' } });
    expect(await unpublished()).toEqual([]);
    expect(job).toBeDefined();

    // Published rows are not claimed again.
    expect(await relay({ publish: async (event) => void events.push(event) }).relayBatch()).toEqual({
      claimed: 0,
      published: 0,
      failed: 0,
    });
    expect(events).toHaveLength(2);
  });

  it('claims at most a batch, oldest first', async () => {
    const ids = await write(
      Array.from({ length: 5 }, (_, n) => ({ kind: 'event' as const, name: 'item.counted', payload: { n } })),
    );
    const seen: string[] = [];
    const result = await relay({
      batchSize: 2,
      publish: async (event) => void seen.push(event.id),
    }).relayBatch();
    expect(result.claimed).toBe(2);
    expect(seen).toEqual(ids.slice(0, 2).map(String));
    expect(await unpublished()).toEqual(ids.slice(2));
  });

  it('records a failing row with backoff and goes on with the others', async () => {
    const [good1, bad, good2] = await write([
      { kind: 'event', name: 'order.placed', payload: { n: 1 } },
      { kind: 'event', name: 'order.placed', payload: { n: 2 } },
      { kind: 'event', name: 'order.placed', payload: { n: 3 } },
    ]);
    let failing = true;
    const seen: string[] = [];
    const flaky = relay({
      retryBaseDelayMs: 300,
      publish: async (event) => {
        if (failing && event.id === String(bad)) throw new Error('bus unavailable');
        seen.push(event.id);
      },
    });
    expect(await flaky.relayBatch()).toEqual({ claimed: 3, published: 2, failed: 1 });
    expect(seen).toEqual([String(good1), String(good2)]);
    const { rows } = await database.db.query(
      `SELECT attempts, last_error, next_attempt_at > now() AS waiting FROM platform.outbox WHERE id = $1`,
      [bad],
    );
    expect(rows[0]).toEqual({ attempts: 1, last_error: 'bus unavailable', waiting: true });

    // Not retried before its backoff has passed...
    failing = false;
    expect((await flaky.relayBatch()).claimed).toBe(0);
    // ...and published once it has.
    await sleep(350);
    expect(await flaky.relayBatch()).toEqual({ claimed: 1, published: 1, failed: 0 });
    expect(seen).toEqual([String(good1), String(good2), String(bad)]);
    expect(await unpublished()).toEqual([]);
  });

  it('counts a publication that hangs as failed instead of stalling the relay', async () => {
    const [hanging, next] = await write([
      { kind: 'event', name: 'order.placed', payload: {} },
      { kind: 'event', name: 'order.placed', payload: {} },
    ]);
    const seen: string[] = [];
    const result = await relay({
      publishTimeoutMs: 100,
      publish: async (event) => {
        if (event.id === String(hanging)) await new Promise(() => {});
        seen.push(event.id);
      },
    }).relayBatch();
    expect(result).toEqual({ claimed: 2, published: 1, failed: 1 });
    expect(seen).toEqual([String(next)]);
    expect(await unpublished()).toEqual([hanging]);
  });
});

describe('running in the background', () => {
  it('is woken by the insert notification long before its poll interval', async () => {
    const seen: string[] = [];
    const running = relay({ pollIntervalMs: 60_000, publish: async (event) => void seen.push(event.id) });
    running.start();
    await sleep(300); // the listener connects
    const written = Date.now();
    const [id] = await write([{ kind: 'event', name: 'order.placed', payload: {} }]);
    await waitFor(() => seen.includes(String(id)), 'the notified relay to publish', 5_000);
    expect(Date.now() - written).toBeLessThan(2_000);
  });

  it('still finds rows by polling when it does not listen', async () => {
    const seen: string[] = [];
    relay({ listen: false, pollIntervalMs: 100, publish: async (event) => void seen.push(event.id) }).start();
    const [id] = await write([{ kind: 'event', name: 'order.placed', payload: {} }]);
    await waitFor(() => seen.includes(String(id)), 'the polling relay to publish', 5_000);
  });

  it('stop() waits for the publication in flight, records it and leaves the rest of the batch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: string[] = [];
    const running = relay({
      listen: false,
      pollIntervalMs: 20,
      publish: async (event) => {
        started.push(event.id);
        await gate;
      },
    });
    const [first, second] = await write([
      { kind: 'event', name: 'order.placed', payload: {} },
      { kind: 'event', name: 'order.placed', payload: {} },
    ]);
    running.start();
    await waitFor(() => started.length === 1, 'the first publication to start');

    let stopped = false;
    const stopping = running.stop().then(() => {
      stopped = true;
    });
    await sleep(200);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(started).toEqual([String(first)]);
    expect(await unpublished()).toEqual([second]);
  });

  it('prunes published rows past their retention, never unpublished ones', async () => {
    const [old, recent, pending] = await write([
      { kind: 'event', name: 'order.placed', payload: {} },
      { kind: 'event', name: 'order.placed', payload: {} },
      { kind: 'event', name: 'order.placed', payload: {} },
    ]);
    await database.db.query(
      `UPDATE platform.outbox SET published_at = now() - interval '2 hours' WHERE id = $1;`,
      [old],
    );
    await database.db.query(`UPDATE platform.outbox SET published_at = now() WHERE id = $1`, [recent]);
    await database.db.query(
      `UPDATE platform.outbox SET created_at = now() - interval '3 hours', next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
      [pending],
    );
    relay({ listen: false, retainPublishedMs: 60 * 60_000, publish: async () => {} }).start();
    await waitFor(async () => {
      const { rows } = await database.db.query('SELECT 1 FROM platform.outbox WHERE id = $1', [old]);
      return rows.length === 0;
    }, 'the old row to be pruned');
    const { rows } = await database.db.query<{ id: bigint }>('SELECT id FROM platform.outbox ORDER BY id');
    expect(rows.map((row) => row.id)).toEqual([recent, pending]);
  });
});

describe.each<OutboxClaimMode>(['transaction', 'lease'])(
  'several relays on one database (%s claims)',
  (claimMode) => {
    it('publish every row exactly once between them', async () => {
      const ids = await write(
        Array.from({ length: 300 }, (_, n) => ({
          kind: 'event' as const,
          name: 'stock.counted',
          payload: { n },
        })),
      );
      const publications = new Map<string, string[]>();
      const publisher = (name: string) => async (event: PublishedOutboxEvent) => {
        // Slow enough that the relays' batches overlap in time.
        await sleep(Math.random() * 3);
        publications.set(event.id, [...(publications.get(event.id) ?? []), name]);
      };
      for (const name of ['a', 'b', 'c']) {
        // Each relay on its own pool, as separate processes would be.
        const db = new Database(database.url, { max: 2 });
        extraDatabases.push(db);
        const created = new OutboxRelay({
          db,
          jobs,
          logger,
          claimMode,
          leaseMs: 5_000,
          publishTimeoutMs: 1_000,
          batchSize: 10,
          pollIntervalMs: 20,
          listen: false,
          publish: publisher(name),
        });
        relays.push(created);
        created.start();
      }
      await waitFor(async () => (await unpublished()).length === 0, 'every row to be published', 20_000);

      expect([...publications.keys()].sort()).toEqual(ids.map(String).sort());
      const twice = [...publications.entries()].filter(([, by]) => by.length > 1);
      expect(twice).toEqual([]);
      // The work was really shared, so the claims really competed.
      const byRelay = new Set([...publications.values()].map((by) => by[0]));
      expect(byRelay.size).toBeGreaterThan(1);
    });
  },
);

describe('lease claims', () => {
  it('leave a row claimed by a relay that died alone until the lease expires', async () => {
    const [id] = await write([{ kind: 'event', name: 'order.placed', payload: {} }]);
    // What a lease relay that died after claiming leaves behind.
    await database.db.query(
      `UPDATE platform.outbox SET next_attempt_at = now() + interval '800 milliseconds' WHERE id = $1`,
      [id],
    );
    const seen: string[] = [];
    const survivor = relay({
      claimMode: 'lease',
      leaseMs: 5_000,
      publishTimeoutMs: 1_000,
      publish: async (event) => void seen.push(event.id),
    });
    expect((await survivor.relayBatch()).claimed).toBe(0);
    await sleep(900);
    expect(await survivor.relayBatch()).toEqual({ claimed: 1, published: 1, failed: 0 });
    expect(seen).toEqual([String(id)]);
  });

  it('must outlast a publication', () => {
    expect(() =>
      relay({ claimMode: 'lease', leaseMs: 1_000, publishTimeoutMs: 1_000, publish: async () => {} }),
    ).toThrow(RangeError);
  });
});
