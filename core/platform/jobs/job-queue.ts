import type { JobFailureKind } from './job-error-taxonomy.ts';

/** What to enqueue. `key` makes the job id deterministic: the same key never creates a second job. */
export interface JobRequest<D = unknown> {
  queue: string;
  /** Job name inside the queue, e.g. `push-sales-order`. */
  name: string;
  /** Idempotency key, e.g. `order:42:push`; becomes the BullMQ job id. */
  key: string;
  data: D;
  /** Attempts before the job is failed for good (default 8). */
  attempts?: number;
  /** Delay before the first attempt, in ms. */
  delayMs?: number;
}

export interface JobSummary {
  queue: string;
  id: string;
  name: string;
  state: string;
  attemptsMade: number;
  failedReason?: string;
  failureKind?: JobFailureKind;
  data: unknown;
  createdAt: number;
  finishedAt?: number;
}

export type JobHandler<D = unknown> = (job: {
  id: string;
  name: string;
  data: D;
  attemptsMade: number;
}) => Promise<unknown>;

/**
 * The job-queue port every domain and connector uses; BullMQ behind it, on Redis or on the
 * PostgreSQL backend. Handlers throw errors from the closed taxonomy (job-error-taxonomy.ts) and
 * the port turns them into backoff, rate-limit waits or an immediate permanent failure.
 * Failed jobs are kept (never auto-removed) so an admin can inspect and replay them.
 */
export interface JobQueue {
  readonly backend: 'redis' | 'postgres';
  enqueue<D>(request: JobRequest<D>): Promise<{ id: string; created: boolean }>;
  /** Starts processing `queue` in this process. */
  process<D>(queue: string, handler: JobHandler<D>, options?: { concurrency?: number }): Promise<void>;
  counts(queue: string): Promise<Record<string, number>>;
  failed(queue: string, options?: { start?: number; end?: number }): Promise<JobSummary[]>;
  get(queue: string, id: string): Promise<JobSummary | undefined>;
  /** Moves a failed job back to waiting with a fresh attempt budget. */
  replay(queue: string, id: string): Promise<void>;
  /** Queues this port has opened (for bull-board and metrics). */
  knownQueues(): string[];
  /** The underlying BullMQ queue objects, for bull-board. */
  bullQueues(): unknown[];
  /**
   * BullMQ queue objects for every queue present in the store, including queues opened only by
   * other processes of the mesh (bull-board lists them all).
   */
  discoverQueues(): Promise<unknown[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
