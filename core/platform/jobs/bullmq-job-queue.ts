import { createHash, randomUUID } from 'node:crypto';
import {
  type BackoffStrategy,
  createPostgresBackend,
  type Job,
  type JobsOptions,
  type KeepJobs,
  Queue,
  runMigrations,
  UnrecoverableError,
  Worker,
  withBackend,
} from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import { Conflict, NotFound } from '../errors/hub-errors.ts';
import { classifyFailure, type JobFailureKind } from './job-error-taxonomy.ts';
import type { JobHandler, JobQueue, JobRequest, JobSummary } from './job-queue.ts';

export interface BullJobQueueOptions {
  /** BullMQ on Redis when set; otherwise BullMQ's PostgreSQL backend on `databaseUrl`. */
  redisUrl?: string | undefined;
  databaseUrl: string;
  logger?: Logger | undefined;
  /** Redis key prefix (default `hub`). The PostgreSQL backend namespaces by schema (`bullmq`) instead. */
  prefix?: string | undefined;
  /** Retry delays for `retryable` failures: base * 2^(attempt-1), minus up to `jitter` of it, capped. */
  backoff?: { baseDelayMs?: number; maxDelayMs?: number; jitter?: number } | undefined;
  /**
   * How long completed jobs are kept. This is also the de-duplication window of `enqueue`: once a
   * completed job is trimmed, its key can create a new job. Failed jobs are never trimmed.
   */
  completedRetention?: { ageSeconds?: number; count?: number } | undefined;
  /** Connections of the shared PostgreSQL pool used by producers and admin reads (default 5). */
  poolSize?: number | undefined;
}

const DEFAULT_ATTEMPTS = 8;
const DEFAULT_BASE_DELAY_MS = 1_000;
const DEFAULT_MAX_DELAY_MS = 5 * 60_000;
const DEFAULT_JITTER = 0.2;
/** A remote asking us to wait longer than this is treated as asking for this. */
const MAX_RATE_LIMIT_WAIT_MS = 24 * 60 * 60_000;
const BACKOFF_TYPE = 'hub-taxonomy';
const MAX_PAGE = 500;
const MAX_DISCOVERED_QUEUES = 1000;
const POSTGRES_SCHEMA = 'bullmq';
/** Job ids longer than this are shortened with a hash: ids are primary keys and index entries. */
const MAX_JOB_ID_LENGTH = 256;
/** The canonical queue name (schemas/entities/queue-name): BullMQ itself only refuses `:`. */
const QUEUE_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const FAILURE_PREFIX = /^\[(retryable|rate_limited|permanent)\] /;

/** Kept as is: printable ASCII but `%`, `:` and `~`. Everything else is escaped (UTF-8 for non-ASCII). */
const ESCAPED_IN_JOB_IDS = /[^\x21-\x24\x26-\x39\x3b-\x7d]/gu;

function percentEscape(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

/**
 * The BullMQ job id for an idempotency key. BullMQ refuses ids containing `:` (its key separator),
 * ids that look like integers (its own counter ids) and `0`; the canonical job id (schema
 * api/jobs/job-params) is printable ASCII, at most 256 characters. So `%`, `:`, `~`, spaces,
 * control and non-ASCII characters are percent-escaped (UTF-8), and an integer-looking key gets
 * its first character escaped. The mapping is injective, hence two keys never share a job, and
 * reversible (`keyForJobId`) except for keys long enough to be shortened with a hash (marked by
 * the otherwise escaped `~`).
 */
export function jobIdForKey(key: string): string {
  if (key.length === 0) throw new TypeError('A job key must not be empty');
  let id = key.replace(ESCAPED_IN_JOB_IDS, (char) =>
    char.charCodeAt(0) < 0x80 ? percentEscape(char) : encodeURIComponent(char),
  );
  if (`${Number.parseInt(id, 10)}` === id) id = `${percentEscape(id[0]!)}${id.slice(1)}`;
  if (id.length <= MAX_JOB_ID_LENGTH) return id;
  const digest = createHash('sha256').update(key).digest('base64url');
  return `${id.slice(0, MAX_JOB_ID_LENGTH - digest.length - 1)}~${digest}`;
}

/** The key a job id was made from, or undefined for a hashed (very long) key. */
export function keyForJobId(id: string): string | undefined {
  if (id.includes('~')) return undefined;
  return decodeURIComponent(id);
}

function assertQueueName(queue: string): void {
  if (!QUEUE_NAME.test(queue)) {
    throw new TypeError(
      `Queue name ${JSON.stringify(queue)} must match ${QUEUE_NAME} (no ':', at most 100 chars)`,
    );
  }
}

/**
 * What a handler's failure becomes on its way into BullMQ: the taxonomy kind travels on the error
 * (for the backoff strategy) and in the message (so it survives in the stored `failedReason`).
 */
class ClassifiedJobError extends Error {
  readonly kind: JobFailureKind;
  readonly retryAfterMs: number | undefined;
  constructor(kind: JobFailureKind, message: string, retryAfterMs?: number) {
    super(`[${kind}] ${message}`);
    this.name = 'ClassifiedJobError';
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
}

function toBullError(error: unknown): Error {
  const { kind, retryAfterMs } = classifyFailure(error);
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  // UnrecoverableError makes BullMQ fail the job now, whatever attempts are left.
  const wrapped =
    kind === 'permanent'
      ? new UnrecoverableError(`[permanent] ${message}`)
      : new ClassifiedJobError(kind, message, retryAfterMs);
  if (stack) wrapped.stack = stack;
  return wrapped;
}

function parseFailedReason(reason: string | undefined): {
  failedReason?: string;
  failureKind?: JobFailureKind;
} {
  if (!reason) return {};
  const match = FAILURE_PREFIX.exec(reason);
  // Failures BullMQ raises itself (a stalled job, a lost lock) carry no kind; the taxonomy treats
  // the unclassified as retryable.
  if (!match) return { failedReason: reason, failureKind: 'retryable' };
  return { failedReason: reason.slice(match[0].length), failureKind: match[1] as JobFailureKind };
}

/** Delay before the next attempt, decided by the failure's kind (permanent never gets here). */
export function retryDelayMs(
  attemptsMade: number,
  error: { kind?: JobFailureKind; retryAfterMs?: number | undefined } | undefined,
  settings: { baseDelayMs: number; maxDelayMs: number; jitter: number },
  random: () => number = Math.random,
): number {
  if (error?.kind === 'rate_limited' && error.retryAfterMs !== undefined) {
    const wait = Math.min(Math.max(0, error.retryAfterMs), MAX_RATE_LIMIT_WAIT_MS);
    // Never sooner than asked; a little later, so workers told the same thing do not stampede.
    return Math.ceil(wait + wait * 0.1 * random());
  }
  const exponential = Math.min(
    settings.maxDelayMs,
    settings.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1),
  );
  // Jitter only shortens, by at most `jitter` (< 0.5), so consecutive delays still grow until the cap.
  return Math.round(exponential * (1 - settings.jitter * random()));
}

/** The subset of BullMQ's Queue this port uses, identical for both backends. */
interface BullQueue {
  readonly name: string;
  add(name: string, data: unknown, opts?: JobsOptions): Promise<Job>;
  getJob(id: string): Promise<Job | undefined>;
  getJobState(id: string): Promise<string>;
  getFailed(start?: number, end?: number): Promise<Job[]>;
  getJobCounts(): Promise<Record<string, number>>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(): Promise<void>;
}

interface BullWorker {
  on(event: string, listener: (...args: never[]) => void): unknown;
  close(): Promise<void>;
}

async function summarise(queue: string, job: Job, knownState?: string): Promise<JobSummary> {
  const state = knownState ?? (await job.getState());
  return {
    queue,
    id: job.id!,
    name: job.name,
    state,
    attemptsMade: job.attemptsMade,
    ...(state === 'failed' || job.failedReason ? parseFailedReason(job.failedReason) : {}),
    data: job.data,
    createdAt: job.timestamp,
    ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
  };
}

/**
 * The job-queue port on BullMQ 6: Redis when `redisUrl` is set, else BullMQ's PostgreSQL backend
 * on the hub database (the embedded PGlite default included).
 *
 * Connections are bounded and shared: all producer queues of this port share one connection
 * (Redis) or one small pool (PostgreSQL); each worker gets its own, because a worker blocks on its
 * connection waiting for jobs.
 */
export function createBullJobQueue(options: BullJobQueueOptions): JobQueue {
  const logger = options.logger;
  const backend: 'redis' | 'postgres' = options.redisUrl ? 'redis' : 'postgres';
  const prefix = options.prefix ?? 'hub';
  const backoffSettings = {
    baseDelayMs: options.backoff?.baseDelayMs ?? DEFAULT_BASE_DELAY_MS,
    maxDelayMs: options.backoff?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
    jitter: Math.min(0.45, Math.max(0, options.backoff?.jitter ?? DEFAULT_JITTER)),
  };
  const removeOnComplete: KeepJobs = {
    age: options.completedRetention?.ageSeconds ?? 24 * 60 * 60,
    count: options.completedRetention?.count ?? 1000,
  };
  const queues = new Map<string, BullQueue>();
  const workers = new Map<string, BullWorker>();
  const workerConnections: Array<{ close(): Promise<unknown> }> = [];
  let closing: Promise<void> | undefined;

  // Producers: one connection (Redis) or one pool (PostgreSQL) for every queue of this port.
  const redis = options.redisUrl
    ? new Redis(options.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false, connectionName: 'hub-jobs' })
    : undefined;
  redis?.on('error', (error) => logger?.warn({ err: error }, 'jobs: redis connection error'));
  const pool = options.redisUrl
    ? undefined
    : new pg.Pool({
        connectionString: options.databaseUrl,
        max: options.poolSize ?? 5,
        application_name: 'hub-jobs',
        // Pins BullMQ's unqualified names to its schema on real PostgreSQL. The embedded server
        // ignores startup options; its single session already has this search_path.
        options: `-c search_path=${POSTGRES_SCHEMA}`,
        idleTimeoutMillis: 30_000,
      });
  pool?.on('error', (error) => logger?.warn({ err: error }, 'jobs: postgres pool error'));
  const Postgres = withBackend(createPostgresBackend);

  let migrated: Promise<void> | undefined;
  function ready(): Promise<void> {
    if (closing) return Promise.reject(new Error('The job queue is closed'));
    if (!pool) return Promise.resolve();
    migrated ??= (async () => {
      const client = await pool.connect();
      try {
        // BullMQ serialises concurrent migrators with its own advisory lock.
        await runMigrations(client, POSTGRES_SCHEMA);
      } finally {
        client.release();
      }
    })().catch((error: unknown) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  }

  async function queueFor(name: string): Promise<BullQueue> {
    assertQueueName(name);
    await ready();
    let queue = queues.get(name);
    if (!queue) {
      const bullOptions = { defaultJobOptions: { removeOnComplete, removeOnFail: false } };
      queue = redis
        ? (new Queue(name, { ...bullOptions, connection: redis, prefix }) as unknown as BullQueue)
        : (new Postgres.Queue(name, { ...bullOptions, connection: pool! }) as unknown as BullQueue);
      queue.on('error', (error) => logger?.warn({ err: error, queue: name }, 'jobs: queue error'));
      queues.set(name, queue);
    }
    return queue;
  }

  /** Queues the store holds jobs or metadata for, whoever opened them (bounded). */
  async function storedQueueNames(): Promise<string[]> {
    if (redis) {
      const names = new Set<string>();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*:meta`, 'COUNT', 500);
        cursor = next;
        for (const key of keys) names.add(key.slice(prefix.length + 1, -':meta'.length));
      } while (cursor !== '0' && names.size < MAX_DISCOVERED_QUEUES);
      return [...names].filter((name) => QUEUE_NAME.test(name)).slice(0, MAX_DISCOVERED_QUEUES);
    }
    await ready();
    const { rows } = await pool!.query<{ queue: string }>(
      `SELECT DISTINCT queue FROM ${POSTGRES_SCHEMA}.meta ORDER BY queue LIMIT ${MAX_DISCOVERED_QUEUES}`,
    );
    return rows.map((row) => row.queue).filter((name) => QUEUE_NAME.test(name));
  }

  const backoffStrategy: BackoffStrategy = (attemptsMade, _type, error) =>
    retryDelayMs(attemptsMade, error as ClassifiedJobError | undefined, backoffSettings);

  return {
    backend,

    async enqueue<D>(request: JobRequest<D>): Promise<{ id: string; created: boolean }> {
      if (!request.name) throw new TypeError('A job needs a name');
      const id = jobIdForKey(request.key);
      const queue = await queueFor(request.queue);
      // BullMQ answers a duplicate id with the existing job and no error; a nonce in the options
      // tells whether the stored job is the one this call created.
      const enqueueId = randomUUID();
      const jobOptions: JobsOptions & { hubEnqueueId: string } = {
        jobId: id,
        attempts: request.attempts ?? DEFAULT_ATTEMPTS,
        backoff: { type: BACKOFF_TYPE },
        removeOnComplete,
        removeOnFail: false,
        hubEnqueueId: enqueueId,
        ...(request.delayMs ? { delay: request.delayMs } : {}),
      };
      await queue.add(request.name, request.data, jobOptions);
      const stored = await queue.getJob(id);
      // A job trimmed between the two calls was at least processed; count it as this call's.
      const created = !stored || (stored.opts as { hubEnqueueId?: string }).hubEnqueueId === enqueueId;
      if (!created) logger?.debug({ queue: request.queue, id }, 'jobs: key already enqueued');
      return { id, created };
    },

    async process<D>(
      queueName: string,
      handler: JobHandler<D>,
      processOptions: { concurrency?: number } = {},
    ) {
      assertQueueName(queueName);
      if (workers.has(queueName)) throw new Error(`Queue ${queueName} is already processed by this port`);
      await ready();
      // Producers use the queue too (counts, replay); open it so it shows in knownQueues/bull-board.
      await queueFor(queueName);
      const concurrency = Math.max(1, processOptions.concurrency ?? 1);
      const processor = async (job: Job<D>) => {
        try {
          return await handler({
            id: job.id!,
            name: job.name,
            data: job.data,
            attemptsMade: job.attemptsMade,
          });
        } catch (error) {
          throw toBullError(error);
        }
      };
      const workerOptions = { concurrency, settings: { backoffStrategy } };
      let worker: BullWorker;
      if (redis) {
        // Workers block on their connection; BullMQ requires unlimited retries there.
        const connection = new Redis(options.redisUrl!, {
          maxRetriesPerRequest: null,
          connectionName: 'hub-worker',
        });
        connection.on('error', (error) =>
          logger?.warn({ err: error, queue: queueName }, 'jobs: worker redis error'),
        );
        workerConnections.push({ close: async () => connection.disconnect() });
        worker = new Worker<D>(queueName, processor, {
          ...workerOptions,
          connection,
          prefix,
        }) as unknown as BullWorker;
      } else {
        worker = new Postgres.Worker<D>(queueName, processor, {
          ...workerOptions,
          connection: {
            connectionString: options.databaseUrl,
            max: concurrency + 1,
            application_name: `hub-worker-${queueName}`.slice(0, 63),
          },
        }) as unknown as BullWorker;
      }
      worker.on('error', (error: Error) =>
        logger?.error({ err: error, queue: queueName }, 'jobs: worker error'),
      );
      worker.on('failed', (job: Job | undefined, error: Error) => {
        const { failureKind } = parseFailedReason(error.message);
        const final = job ? job.finishedOn !== undefined && job.finishedOn !== null : false;
        logger?.warn(
          {
            queue: queueName,
            id: job?.id,
            attemptsMade: job?.attemptsMade,
            failureKind,
            final,
            reason: error.message,
          },
          final ? 'jobs: job failed for good' : 'jobs: job attempt failed, will retry',
        );
      });
      workers.set(queueName, worker);
    },

    async counts(queueName: string): Promise<Record<string, number>> {
      const queue = await queueFor(queueName);
      return queue.getJobCounts();
    },

    async failed(queueName: string, page: { start?: number; end?: number } = {}): Promise<JobSummary[]> {
      const queue = await queueFor(queueName);
      const start = Math.max(0, Math.floor(page.start ?? 0));
      const end = Math.min(start + MAX_PAGE - 1, Math.max(start, Math.floor(page.end ?? start + 49)));
      const jobs = await queue.getFailed(start, end);
      return Promise.all(jobs.map((job) => summarise(queueName, job, 'failed')));
    },

    async get(queueName: string, id: string): Promise<JobSummary | undefined> {
      const queue = await queueFor(queueName);
      // State and fields are separate reads; a job that moved in between is read again, so the
      // summary never shows e.g. `failed` without its failure reason.
      for (let attempt = 0; ; attempt++) {
        const before = await queue.getJobState(id);
        const job = await queue.getJob(id);
        if (!job) return undefined;
        const after = await job.getState();
        if (before === after || attempt === 2) return summarise(queueName, job, after);
      }
    },

    async replay(queueName: string, id: string): Promise<void> {
      const queue = await queueFor(queueName);
      const job = await queue.getJob(id);
      if (!job) throw new NotFound(`Job ${id} in queue ${queueName}`);
      const state = await job.getState();
      if (state !== 'failed')
        throw new Conflict(`Job ${id} is ${state}; only failed jobs can be replayed`, { state });
      // A fresh budget: the job gets its full attempts (and backoff) again, as if newly enqueued.
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      logger?.info({ queue: queueName, id }, 'jobs: failed job replayed');
    },

    knownQueues(): string[] {
      return [...queues.keys()].sort();
    },

    bullQueues(): unknown[] {
      return [...queues.values()];
    },

    async discoverQueues(): Promise<unknown[]> {
      const names = new Set([...(await storedQueueNames()), ...queues.keys()]);
      return Promise.all([...names].sort().map(queueFor));
    },

    async ping(): Promise<void> {
      if (redis) {
        await redis.ping();
        return;
      }
      await pool!.query('SELECT 1');
    },

    close(): Promise<void> {
      closing ??= (async () => {
        // Workers first: each finishes its active jobs before its queue's connections go away.
        const results: PromiseSettledResult<unknown>[] = await Promise.allSettled(
          [...workers.values()].map((worker) => worker.close()),
        );
        results.push(...(await Promise.allSettled([...queues.values()].map((queue) => queue.close()))));
        results.push(
          ...(await Promise.allSettled(workerConnections.map((connection) => connection.close()))),
        );
        if (redis) redis.disconnect();
        if (pool) results.push(...(await Promise.allSettled([pool.end()])));
        for (const result of results) {
          if (result.status === 'rejected') logger?.warn({ err: result.reason }, 'jobs: error while closing');
        }
      })();
      return closing;
    },
  };
}
