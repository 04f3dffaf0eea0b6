import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import moleculer from 'moleculer';
import { pino } from 'pino';
import { loadHubConfig } from '../config/hub-config.ts';
import { applyMigrations } from '../database/migrations.ts';
import { createBullJobQueue, jobIdForKey } from '../jobs/bullmq-job-queue.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { platformMigrations } from '../migrations.ts';
import { HubMetrics } from '../observability/metrics.ts';
import type { Platform } from '../platform.ts';
import { createObjectStore } from '../storage/create-object-store.ts';
import { createTestDatabase, type TestDatabase, uniqueName } from '../testing/test-servers.ts';
import { waitFor } from '../testing/wait-for.ts';
import { outboxModule } from './outbox.module.ts';
import type { PublishedOutboxEvent } from './outbox-relay.ts';
import { writeOutbox } from './outbox-writer.ts';

const logger = pino({ level: 'silent' });
let database: TestDatabase;
let jobs: JobQueue;

beforeAll(async () => {
  database = await createTestDatabase();
  await applyMigrations(database.db, [platformMigrations]);
  jobs = createBullJobQueue({ databaseUrl: database.url, logger });
});

afterAll(async () => {
  await jobs.close();
  await database.drop();
});

// With DATABASE_URL the relay claims in a transaction and listens; without (the embedded default,
// simulated here on the real server) it claims by lease and polls. The outside behaviour is equal.
describe.each([
  ['a configured PostgreSQL', true],
  ['the embedded default', false],
])('the outbox service on %s', (_label, configured) => {
  it('publishes committed events to every subscribing service once and enqueues jobs; stops with the broker', async () => {
    const config = loadHubConfig({
      ...(configured ? { DATABASE_URL: database.url } : { HUB_DATA_DIR: `/tmp/${uniqueName('hub')}` }),
      HUB_JWT_SECRET: randomBytes(32).toString('base64'),
      HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    });
    const platform: Platform = {
      config,
      db: database.db,
      jobs,
      logger,
      metrics: new HubMetrics(),
      storage: createObjectStore(undefined, config.dataDir),
    };
    const received: Record<string, PublishedOutboxEvent[]> = { invoices: [], analytics: [] };
    const broker = new moleculer.ServiceBroker({ logger: false, nodeID: uniqueName('node') });
    broker.createService(outboxModule.service(platform));
    for (const name of ['invoices', 'analytics']) {
      broker.createService({
        name,
        events: {
          'order.shipped'(ctx: moleculer.Context<PublishedOutboxEvent>) {
            received[name]!.push(ctx.params);
          },
        },
      });
    }
    await broker.start();

    const queue = uniqueName('wms');
    const key = `shipment:${queue}:notify`;
    const [eventId] = await database.db.transaction((tx) =>
      writeOutbox(
        tx,
        [
          { kind: 'event', name: 'order.shipped', payload: { orderId: 'o-9' } },
          { kind: 'job', job: { queue, name: 'notify-wms', key, data: { orderId: 'o-9' } } },
        ],
        { requestId: 'req-9' },
      ),
    );
    await waitFor(() => received.invoices!.length + received.analytics!.length === 2, 'both subscribers');
    for (const name of ['invoices', 'analytics']) {
      expect(received[name]).toEqual([
        {
          id: String(eventId),
          name: 'order.shipped',
          occurredAt: expect.any(String),
          companyId: null,
          requestId: 'req-9',
          data: { orderId: 'o-9' },
        },
      ]);
    }
    await waitFor(async () => (await jobs.get(queue, jobIdForKey(key))) !== undefined, 'the job');

    await broker.stop();
    const [late] = await database.db.transaction((tx) =>
      writeOutbox(tx, [{ kind: 'event', name: 'order.shipped', payload: { orderId: 'o-10' } }]),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { rows } = await database.db.query('SELECT published_at FROM platform.outbox WHERE id = $1', [
      late,
    ]);
    expect(rows).toEqual([{ published_at: null }]);
    await database.db.query('DELETE FROM platform.outbox');
  });
});

it('is the module named outbox, with no migrations of its own', () => {
  expect(outboxModule).toMatchObject({ name: 'outbox', description: expect.any(String) });
  expect(outboxModule.migrations).toBeUndefined();
});
