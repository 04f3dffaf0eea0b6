import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createTestDatabase,
  deleteRedisKeys,
  type TestDatabase,
  testServers,
  uniqueName,
} from '../testing/test-servers.ts';
import { createBullJobQueue, jobIdForKey, keyForJobId, retryDelayMs } from './bullmq-job-queue.ts';
import { PermanentFailure, RateLimitedFailure, RetryableFailure } from './job-error-taxonomy.ts';
import type { JobQueue, JobSummary } from './job-queue.ts';

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function waitForState(jobs: JobQueue, queue: string, id: string, state: string): Promise<JobSummary> {
  return waitFor(async () => {
    const job = await jobs.get(queue, id);
    return job?.state === state ? job : undefined;
  }, `job ${id} to be ${state}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('job ids from idempotency keys', () => {
  it('are accepted by BullMQ, distinct for distinct keys and reversible', () => {
    const keys = [
      'order:42:push',
      'order%3A42%3Apush',
      'order_42_push',
      '42',
      '-7',
      '0',
      '042',
      'a~b',
      'plain',
      'kingdee 销售订单 SO-001',
      'tab\there',
    ];
    const ids = keys.map(jobIdForKey);
    expect(new Set(ids).size).toBe(keys.length);
    for (const [index, id] of ids.entries()) {
      expect(id).not.toContain(':');
      expect(`${Number.parseInt(id, 10)}`).not.toBe(id);
      expect(keyForJobId(id)).toBe(keys[index]);
      // The canonical job id (schemas/api/jobs/job-params): printable ASCII.
      expect(id).toMatch(/^[\x21-\x7e]+$/);
    }
    expect(jobIdForKey('order:42:push')).toBe('order%3A42%3Apush');
    expect(jobIdForKey('订单 1')).toBe('%E8%AE%A2%E5%8D%95%201');
  });

  it('shortens very long keys with a hash that still tells them apart', () => {
    const long = 'x'.repeat(1000);
    const id = jobIdForKey(long);
    expect(id.length).toBeLessThanOrEqual(256);
    expect(jobIdForKey(`${long}y`)).not.toBe(id);
    expect(keyForJobId(id)).toBeUndefined();
  });
});

describe('retry delays', () => {
  const settings = { baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.2 };

  it('grow exponentially for retryable failures, jitter only shortening, up to the cap', () => {
    expect(retryDelayMs(1, { kind: 'retryable' }, settings, () => 0)).toBe(1000);
    expect(retryDelayMs(3, { kind: 'retryable' }, settings, () => 0)).toBe(4000);
    expect(retryDelayMs(3, { kind: 'retryable' }, settings, () => 1)).toBe(3200);
    expect(retryDelayMs(20, { kind: 'retryable' }, settings, () => 0)).toBe(60_000);
    // The smallest next delay still exceeds the largest previous one.
    expect(retryDelayMs(2, undefined, settings, () => 1)).toBeGreaterThan(
      retryDelayMs(1, undefined, settings, () => 0),
    );
  });

  it('never come sooner than a rate limit asks, whatever the attempt', () => {
    for (const random of [0, 0.5, 1]) {
      const delay = retryDelayMs(1, { kind: 'rate_limited', retryAfterMs: 30_000 }, settings, () => random);
      expect(delay).toBeGreaterThanOrEqual(30_000);
      expect(delay).toBeLessThanOrEqual(33_000);
    }
  });
});

interface Backend {
  name: 'postgres' | 'redis';
  open(): Promise<{ jobs: JobQueue; cleanUp(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'postgres',
    async open() {
      const database: TestDatabase = await createTestDatabase();
      const jobs = createBullJobQueue({ databaseUrl: database.url, backoff: { baseDelayMs: 100 } });
      return { jobs, cleanUp: () => database.drop() };
    },
  },
  {
    name: 'redis',
    async open() {
      const prefix = uniqueName('hubtest');
      const jobs = createBullJobQueue({
        redisUrl: testServers.redis,
        databaseUrl: 'postgres://unused',
        prefix,
        backoff: { baseDelayMs: 100 },
      });
      return {
        jobs,
        cleanUp: () => deleteRedisKeys(prefix),
      };
    },
  },
];

describe.each(backends)('BullMQ job queue on $name', (backend) => {
  let jobs: JobQueue;
  let cleanUp: () => Promise<void>;

  beforeAll(async () => {
    ({ jobs, cleanUp } = await backend.open());
  });

  afterAll(async () => {
    await jobs.close();
    await cleanUp();
  });

  it('reports its backend and answers a ping', async () => {
    expect(jobs.backend).toBe(backend.name);
    await expect(jobs.ping()).resolves.toBeUndefined();
  });

  it('creates one job per key, however often the key is enqueued', async () => {
    const queue = uniqueName('dedup');
    const first = await jobs.enqueue({ queue, name: 'push-order', key: 'order:42:push', data: { n: 1 } });
    const second = await jobs.enqueue({ queue, name: 'push-order', key: 'order:42:push', data: { n: 2 } });
    expect(first).toEqual({ id: 'order%3A42%3Apush', created: true });
    expect(second).toEqual({ id: first.id, created: false });
    // Keys a naive sanitiser would merge stay separate jobs; an integer-looking key is accepted.
    expect((await jobs.enqueue({ queue, name: 'push-order', key: 'order_42_push', data: {} })).created).toBe(
      true,
    );
    expect((await jobs.enqueue({ queue, name: 'push-order', key: '42', data: {} })).created).toBe(true);

    const counts = await jobs.counts(queue);
    expect(counts.waiting).toBe(3);
    const stored = await jobs.get(queue, first.id);
    expect(stored).toMatchObject({
      queue,
      id: first.id,
      name: 'push-order',
      state: 'waiting',
      data: { n: 1 },
    });
    expect(await jobs.get(queue, 'no-such-job')).toBeUndefined();
    expect(jobs.knownQueues()).toContain(queue);
    const discovered = (await jobs.discoverQueues()) as Array<{ name: string }>;
    expect(discovered.map((found) => found.name)).toContain(queue);
    expect(jobs.bullQueues().length).toBe(jobs.knownQueues().length);
  });

  it('refuses queue names BullMQ cannot store', async () => {
    await expect(jobs.enqueue({ queue: 'Erp-Push', name: 'x', key: 'k', data: {} })).rejects.toThrow(
      /Queue name/,
    );
    await expect(jobs.enqueue({ queue: 'erp:push', name: 'x', key: 'k', data: {} })).rejects.toThrow(
      /Queue name/,
    );
    await expect(jobs.enqueue({ queue: 'ok', name: 'x', key: '', data: {} })).rejects.toThrow(/empty/);
  });

  it('retries retryable (and unclassified) failures with growing delays until the job succeeds', async () => {
    const queue = uniqueName('retry');
    const calls: Array<{ at: number; attemptsMade: number }> = [];
    await jobs.process(queue, async (job) => {
      calls.push({ at: Date.now(), attemptsMade: job.attemptsMade });
      if (calls.length === 1) throw new Error('unexpected bug');
      if (calls.length <= 3) throw new RetryableFailure('ERP timed out');
      return 'pushed';
    });
    const { id } = await jobs.enqueue({ queue, name: 'push', key: 'order:1', data: {}, attempts: 5 });
    const done = await waitForState(jobs, queue, id, 'completed');

    expect(calls.map((call) => call.attemptsMade)).toEqual([0, 1, 2, 3]);
    expect(done.attemptsMade).toBe(4);
    const gaps = calls.slice(1).map((call, index) => call.at - calls[index]!.at);
    // base 100 ms, doubling, jitter shortening by at most 20%.
    expect(gaps[0]).toBeGreaterThanOrEqual(80);
    expect(gaps[1]).toBeGreaterThanOrEqual(160);
    expect(gaps[2]).toBeGreaterThanOrEqual(320);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]!).toBeGreaterThan(gaps[1]!);
  });

  it('waits at least the retry-after of a rate-limited failure', async () => {
    const queue = uniqueName('ratelimit');
    const calls: number[] = [];
    await jobs.process(queue, async () => {
      calls.push(Date.now());
      if (calls.length === 1) throw new RateLimitedFailure('429 from ERP', 700);
    });
    const { id } = await jobs.enqueue({ queue, name: 'push', key: 'order:2', data: {} });
    await waitForState(jobs, queue, id, 'completed');
    expect(calls).toHaveLength(2);
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(700);
  });

  it('fails a permanent failure after exactly one attempt and keeps the job with its kind', async () => {
    const queue = uniqueName('permanent');
    let calls = 0;
    await jobs.process(queue, async () => {
      calls += 1;
      throw new PermanentFailure('rejected payload: unknown customer');
    });
    const { id } = await jobs.enqueue({ queue, name: 'push', key: 'order:3', data: { orderId: 3 } });
    const failed = await waitForState(jobs, queue, id, 'failed');
    await sleep(500);

    expect(calls).toBe(1);
    expect(failed).toMatchObject({
      attemptsMade: 1,
      failureKind: 'permanent',
      failedReason: 'rejected payload: unknown customer',
      data: { orderId: 3 },
    });
    expect(typeof failed.finishedAt).toBe('number');
    const listed = await jobs.failed(queue);
    expect(listed.map((job) => [job.id, job.failureKind])).toEqual([[id, 'permanent']]);
    expect((await jobs.counts(queue)).failed).toBe(1);
  });

  it('replays a failed job with a fresh attempt budget', async () => {
    const queue = uniqueName('replay');
    let calls = 0;
    await jobs.process(queue, async () => {
      calls += 1;
      if (calls <= 3) throw new RetryableFailure(`ERP down (${calls})`);
      return 'ok';
    });
    const { id } = await jobs.enqueue({ queue, name: 'push', key: 'order:4', data: {}, attempts: 2 });
    const failed = await waitForState(jobs, queue, id, 'failed');
    expect(calls).toBe(2);
    expect(failed).toMatchObject({ attemptsMade: 2, failureKind: 'retryable', failedReason: 'ERP down (2)' });

    await expect(jobs.replay(queue, 'no-such-job')).rejects.toMatchObject({ code: 404 });
    await jobs.replay(queue, id);
    // Without a reset, the third call would exhaust the two attempts and fail the job again.
    const done = await waitForState(jobs, queue, id, 'completed');
    expect(calls).toBe(4);
    // Counted from the replay: the failed call and the successful one.
    expect(done.attemptsMade).toBe(2);
    await expect(jobs.replay(queue, id)).rejects.toMatchObject({ code: 409 });
    expect(await jobs.failed(queue)).toEqual([]);
  });

  it('refuses to process one queue twice in a port', async () => {
    const queue = uniqueName('twice');
    await jobs.process(queue, async () => {});
    await expect(jobs.process(queue, async () => {})).rejects.toThrow(/already processed/);
  });
});
