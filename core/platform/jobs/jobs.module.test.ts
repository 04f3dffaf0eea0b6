import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import moleculer from 'moleculer';
import { pino } from 'pino';
import type { AuthContext } from '../auth/auth-context.ts';
import { loadHubConfig } from '../config/hub-config.ts';
import { applyMigrations } from '../database/migrations.ts';
import { platformMigrations } from '../migrations.ts';
import { HubMetrics } from '../observability/metrics.ts';
import type { Platform } from '../platform.ts';
import { createObjectStore } from '../storage/create-object-store.ts';
import {
  createTestDatabase,
  deleteRedisKeys,
  type TestDatabase,
  testServers,
  uniqueName,
} from '../testing/test-servers.ts';
import { waitFor } from '../testing/wait-for.ts';
import { createSchemaValidator } from '../validation/schema-validator.ts';
import { createBullJobQueue, jobIdForKey } from './bullmq-job-queue.ts';
import { PermanentFailure } from './job-error-taxonomy.ts';
import type { JobQueue } from './job-queue.ts';
import { jobsModule } from './jobs.module.ts';

const logger = pino({ level: 'silent' });
const prefix = uniqueName('jobsmodule');
const queue = uniqueName('erp');

let database: TestDatabase;
/** The jobs service's port, as in the process that serves the admin API. */
let jobs: JobQueue;
/** A worker process elsewhere in the mesh: the queue is opened only there. */
let worker: JobQueue;
let broker: moleculer.ServiceBroker;
let fixed = false;
let keys: string[];

function staff(...permissions: string[]): { meta: { auth: AuthContext } } {
  return { meta: { auth: { kind: 'staff', principalId: 'staff-1', companyId: null, permissions } } };
}

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadHubConfig({
    DATABASE_URL: database.url,
    REDIS_URL: testServers.redis,
    HUB_JWT_SECRET: randomBytes(32).toString('base64'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
  });
  jobs = createBullJobQueue({ redisUrl: testServers.redis, databaseUrl: database.url, prefix, logger });
  worker = createBullJobQueue({ redisUrl: testServers.redis, databaseUrl: database.url, prefix, logger });
  const platform: Platform = {
    config,
    db: database.db,
    jobs,
    logger,
    metrics: new HubMetrics(),
    storage: createObjectStore(undefined, config.dataDir),
  };

  await worker.process(queue, async (job) => {
    if (!fixed) throw new PermanentFailure(`ERP rejected ${(job.data as { orderId: string }).orderId}`);
  });
  keys = ['order:1:push', 'order:2:push', 'order:3:push'];
  for (const [index, key] of keys.entries()) {
    await worker.enqueue({ queue, name: 'push-order', key, data: { orderId: `o-${index + 1}` } });
  }
  await waitFor(async () => (await worker.counts(queue)).failed === 3, 'three failed jobs');

  await applyMigrations(database.db, [platformMigrations]);
  broker = new moleculer.ServiceBroker({ logger: false, validator: createSchemaValidator() });
  broker.createService(jobsModule.service(platform));
  await broker.start();
});

afterAll(async () => {
  await broker?.stop();
  await jobs?.close();
  await worker?.close();
  await database?.drop();
  await deleteRedisKeys(prefix);
});

describe('jobs.queues', () => {
  it('lists queues opened anywhere in the mesh with their counts', async () => {
    expect(jobs.knownQueues()).not.toContain(queue);
    const answer = (await broker.call('jobs.queues', {}, staff('jobs.read'))) as {
      items: Array<{ name: string; counts: Record<string, number> }>;
    };
    expect(answer.items).toEqual([
      { name: queue, counts: expect.objectContaining({ failed: 3, waiting: 0 }) },
    ]);
  });

  it('requires a caller holding jobs.read', async () => {
    await expect(broker.call('jobs.queues', {})).rejects.toMatchObject({ code: 401 });
    await expect(broker.call('jobs.queues', {}, staff('jobs.replay'))).rejects.toMatchObject({ code: 403 });
  });
});

describe('jobs.failed', () => {
  it('pages failed jobs with their failure kind', async () => {
    const first = (await broker.call('jobs.failed', { queue, limit: '2' }, staff('jobs.read'))) as {
      items: Array<{ id: string; failureKind: string; failedReason: string }>;
      nextCursor: string | null;
      total: number;
    };
    expect(first.total).toBe(3);
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toBe('2');
    const second = (await broker.call(
      'jobs.failed',
      { queue, limit: '2', cursor: first.nextCursor },
      staff('jobs.read'),
    )) as typeof first;
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();

    const all = [...first.items, ...second.items];
    expect(all.map((job) => job.id).sort()).toEqual(keys.map(jobIdForKey).sort());
    for (const job of all) {
      expect(job.failureKind).toBe('permanent');
      expect(job.failedReason).toMatch(/^ERP rejected o-\d$/);
    }
  });

  it('answers 404 for a queue the store does not know, without opening it', async () => {
    await expect(
      broker.call('jobs.failed', { queue: 'no-such-queue' }, staff('jobs.read')),
    ).rejects.toMatchObject({
      code: 404,
    });
    expect(jobs.knownQueues()).not.toContain('no-such-queue');
  });
});

describe('jobs.replay', () => {
  it('needs jobs.replay, not only jobs.read', async () => {
    const id = jobIdForKey(keys[0]!);
    await expect(broker.call('jobs.replay', { queue, id }, staff('jobs.read'))).rejects.toMatchObject({
      code: 403,
    });
    expect((await jobs.get(queue, id))?.state).toBe('failed');
  });

  it('runs a failed job again; a job that is not failed or does not exist is refused', async () => {
    fixed = true;
    const id = jobIdForKey(keys[1]!);
    const replayed = (await broker.call('jobs.replay', { queue, id }, staff('jobs.read', 'jobs.replay'))) as {
      id: string;
      state: string;
    };
    expect(replayed.id).toBe(id);
    expect(replayed.state).not.toBe('failed');
    await waitFor(
      async () => (await jobs.get(queue, id))?.state === 'completed',
      'the replayed job to complete',
    );

    await expect(broker.call('jobs.replay', { queue, id }, staff('jobs.replay'))).rejects.toMatchObject({
      code: 409,
    });
    await expect(
      broker.call('jobs.replay', { queue, id: 'nope' }, staff('jobs.replay')),
    ).rejects.toMatchObject({
      code: 404,
    });
    expect((await jobs.counts(queue)).failed).toBe(2);
    const { rows } = await database.db.query(
      `SELECT actor_id, action, entity_id FROM platform.audit_log WHERE action = 'job.replayed'`,
    );
    expect(rows).toEqual([{ actor_id: 'staff-1', action: 'job.replayed', entity_id: `${queue}/${id}` }]);
  });
});

describe('routes', () => {
  it('are staff routes served by the module own actions', () => {
    const service = jobsModule.service({ jobs } as Platform);
    const actions = Object.keys(service.actions ?? {}).map((name) => `jobs.${name}`);
    expect(
      jobsModule.routes?.map((route) => [route.method, route.path, route.action, route.operationId]),
    ).toEqual([
      ['GET', '/api/staff/jobs/queues', 'jobs.queues', 'listJobQueues'],
      ['GET', '/api/staff/jobs/queues/:queue/failed', 'jobs.failed', 'listFailedJobs'],
      ['POST', '/api/staff/jobs/queues/:queue/jobs/:id/replay', 'jobs.replay', 'replayFailedJob'],
    ]);
    for (const route of jobsModule.routes ?? []) {
      expect(actions).toContain(route.action);
      expect(route).toMatchObject({ tag: 'jobs', audience: 'staff' });
    }
  });
});
