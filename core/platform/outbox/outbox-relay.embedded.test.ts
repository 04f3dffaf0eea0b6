import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Database } from '../database/database.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../database/embedded-postgres.ts';
import { applyMigrations } from '../database/migrations.ts';
import { createBullJobQueue, jobIdForKey } from '../jobs/bullmq-job-queue.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { platformMigrations } from '../migrations.ts';
import { consumeOnce } from './consume-once.ts';
import { OutboxRelay, type PublishedOutboxEvent } from './outbox-relay.ts';
import { writeOutbox } from './outbox-writer.ts';

/**
 * The zero-server default: PGlite behind pglite-socket, BullMQ on the same embedded server. The
 * relay must publish jobs without holding a transaction open (which would block BullMQ's
 * connection behind it), hence lease claims; and it polls.
 */
const logger = pino({ level: 'silent' });
const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-outbox-embedded-'));
let embedded: EmbeddedPostgres;
let db: Database;
let jobs: JobQueue;

beforeAll(async () => {
  embedded = await startEmbeddedPostgres(dataDir);
  db = new Database(embedded.url, { max: 4 });
  await applyMigrations(db, [platformMigrations]);
  jobs = createBullJobQueue({ databaseUrl: embedded.url, logger });
}, 60_000);

afterAll(async () => {
  await jobs?.close();
  await db?.close();
  await embedded?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('relays events and jobs on the embedded server, and consumeOnce dedupes there too', async () => {
  const events: PublishedOutboxEvent[] = [];
  const relay = new OutboxRelay({
    db,
    jobs,
    logger,
    claimMode: 'lease',
    listen: false,
    pollIntervalMs: 50,
    publish: async (event) => void events.push(event),
  });
  const [eventId] = await db.transaction((tx) =>
    writeOutbox(tx, [
      { kind: 'event', name: 'order.placed', payload: { orderId: 'o-1' } },
      {
        kind: 'job',
        job: { queue: 'erp-push', name: 'push-order', key: 'order:o-1:push', data: { orderId: 'o-1' } },
      },
    ]),
  );
  relay.start();
  try {
    const deadline = Date.now() + 15_000;
    while ((await db.query('SELECT 1 FROM platform.outbox WHERE published_at IS NULL')).rows.length > 0) {
      if (Date.now() > deadline) throw new Error('the embedded relay did not drain the outbox');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await relay.stop();
  }
  expect(events.map((event) => event.id)).toEqual([String(eventId)]);
  expect(await jobs.get('erp-push', jobIdForKey('order:o-1:push'))).toMatchObject({
    data: { orderId: 'o-1' },
  });
  expect(await db.transaction((tx) => consumeOnce(tx, 'test', eventId!))).toBe(true);
  expect(await db.transaction((tx) => consumeOnce(tx, 'test', eventId!))).toBe(false);
}, 60_000);
