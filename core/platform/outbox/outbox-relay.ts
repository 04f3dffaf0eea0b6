import pg from 'pg';
import type { Logger } from 'pino';
import type { Database, Queryable } from '../database/database.ts';
import type { JobQueue, JobRequest } from '../jobs/job-queue.ts';

/** What subscribers of an outbox event receive. `id` is the outbox id: dedupe with `consumeOnce`. */
export interface PublishedOutboxEvent {
  id: string;
  name: string;
  /** When the state change committed its outbox row (ISO 8601). */
  occurredAt: string;
  companyId: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
}

/**
 * How a relay keeps other relays off the rows it is publishing.
 *
 * - `transaction` (real PostgreSQL): rows are locked `FOR UPDATE SKIP LOCKED` in a transaction
 *   held open while they are published and marked; a relay that dies releases its locks at once
 *   (its connection drops) and its rows are published again by the next relay.
 * - `lease` (the embedded server): PGlite behind pglite-socket is one session that runs other
 *   connections' statements only between transactions, so holding a transaction while
 *   publishing a job (BullMQ on the same server, another connection) would deadlock. Rows are
 *   instead claimed in a short transaction by pushing `next_attempt_at` past the lease, published
 *   outside any transaction, then marked. A relay stops publishing before its lease can run out,
 *   so relays never publish a row concurrently; the rows of a relay that dies are published again
 *   once its lease has expired.
 */
export type OutboxClaimMode = 'transaction' | 'lease';

export interface OutboxRelayOptions {
  db: Database;
  jobs: JobQueue;
  /** Publishes an event on the bus (the outbox module: `broker.emit(event.name, event)`). */
  publish: (event: PublishedOutboxEvent) => Promise<void>;
  logger: Logger;
  /** Rows per claim (default 100, at most 1000): bounds memory and how long locks are held. */
  batchSize?: number;
  /** Poll interval when idle (default 200 ms); LISTEN/NOTIFY wakes the relay sooner. */
  pollIntervalMs?: number;
  /** Subscribe to the insert notifications (default true; pointless on the embedded server). */
  listen?: boolean;
  claimMode?: OutboxClaimMode;
  /** Lease length in `lease` mode (default 60 s); also how long a dead relay's rows wait. */
  leaseMs?: number;
  /** A publication taking longer counts as failed (default 15 s), so one hang cannot stall the relay. */
  publishTimeoutMs?: number;
  /** First retry delay of a row whose publication failed (default 1 s), doubling up to 5 min. */
  retryBaseDelayMs?: number;
  /** Published rows older than this are deleted (default 7 days; 0 keeps them). */
  retainPublishedMs?: number;
  /**
   * Test seam, awaited after each row was published and before the batch is marked: the crash
   * tests kill the process here to show a publication that is never recorded is done again.
   */
  afterPublish?: (row: { id: bigint; kind: 'event' | 'job' }) => Promise<void> | void;
}

export interface RelayBatchResult {
  claimed: number;
  published: number;
  failed: number;
}

interface OutboxRow {
  id: bigint;
  kind: 'event' | 'job';
  topic: string;
  payload: unknown;
  company_id: string | null;
  request_id: string | null;
  created_at: Date;
  attempts: number;
}

interface RowFailure {
  id: bigint;
  attempts: number;
  error: string;
}

const NOTIFY_CHANNEL = 'hub_outbox';
const MAX_BATCH = 1000;
const MAX_RETRY_DELAY_MS = 5 * 60_000;
const MAX_LOOP_BACKOFF_MS = 10_000;
const PRUNE_INTERVAL_MS = 10 * 60_000;
const PRUNE_BATCH = 1000;
const MAX_ERROR_LENGTH = 2000;
const ROW_COLUMNS = 'id, kind, topic, payload, company_id, request_id, created_at, attempts';
const CLAIMABLE = 'published_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now())';

class PublishTimeout extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeout(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function byId(a: OutboxRow, b: OutboxRow): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Turns committed outbox rows into Moleculer events and BullMQ jobs, in id order, at least once.
 * Re-publication after a crash is harmless by construction: a job is enqueued under its
 * idempotency key (a second enqueue finds the first job), and an event carries its outbox id so
 * subscribers dedupe with `consumeOnce`. Several relays may run against one database; each row is
 * published by one of them at a time.
 *
 * A row whose publication fails is retried with exponential backoff without holding up the rows
 * after it, so event order is only guaranteed between rows that publish on first try.
 */
export class OutboxRelay {
  readonly #db: Database;
  readonly #jobs: JobQueue;
  readonly #publish: (event: PublishedOutboxEvent) => Promise<void>;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #listen: boolean;
  readonly #claimMode: OutboxClaimMode;
  readonly #leaseMs: number;
  readonly #publishTimeoutMs: number;
  readonly #retryBaseDelayMs: number;
  readonly #retainPublishedMs: number;
  readonly #afterPublish: OutboxRelayOptions['afterPublish'];

  #running = false;
  #stopRequested = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #notified = false;
  #listener: pg.Client | undefined;
  #lastPrune = 0;

  constructor(options: OutboxRelayOptions) {
    this.#db = options.db;
    this.#jobs = options.jobs;
    this.#publish = options.publish;
    this.#logger = options.logger;
    this.#batchSize = Math.min(MAX_BATCH, Math.max(1, options.batchSize ?? 100));
    this.#pollIntervalMs = Math.max(10, options.pollIntervalMs ?? 200);
    this.#listen = options.listen ?? true;
    this.#claimMode = options.claimMode ?? 'transaction';
    this.#publishTimeoutMs = Math.max(1, options.publishTimeoutMs ?? 15_000);
    this.#leaseMs = options.leaseMs ?? 60_000;
    if (this.#claimMode === 'lease' && this.#leaseMs <= this.#publishTimeoutMs) {
      throw new RangeError(
        'leaseMs must be longer than publishTimeoutMs: a publication must end before the lease',
      );
    }
    this.#retryBaseDelayMs = Math.max(1, options.retryBaseDelayMs ?? 1_000);
    this.#retainPublishedMs = Math.max(0, options.retainPublishedMs ?? 7 * 24 * 60 * 60_000);
    this.#afterPublish = options.afterPublish;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts relaying in the background until `stop()`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopRequested = false;
    if (this.#listen) void this.#subscribe();
    this.#loop = this.#run();
  }

  /**
   * Stops relaying. Resolves once the batch in flight is recorded: the row being published
   * finishes, the batch's remaining rows are left unpublished for the next relay.
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopRequested = true;
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
    this.#stopRequested = false;
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => {});
  }

  /** Claims, publishes and records one batch. The background loop calls this; so can a drain. */
  async relayBatch(): Promise<RelayBatchResult> {
    return this.#claimMode === 'transaction' ? this.#relayInTransaction() : this.#relayWithLease();
  }

  async #relayInTransaction(): Promise<RelayBatchResult> {
    return this.#db.transaction(async (tx) => {
      const { rows } = await tx.query<OutboxRow>(
        `SELECT ${ROW_COLUMNS} FROM platform.outbox WHERE ${CLAIMABLE}
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.#batchSize],
      );
      if (rows.length === 0) return { claimed: 0, published: 0, failed: 0 };
      const { published, failures } = await this.#publishRows(rows, () => true);
      await this.#record(tx, published, failures);
      return { claimed: rows.length, published: published.length, failed: failures.length };
    });
  }

  async #relayWithLease(): Promise<RelayBatchResult> {
    // Measured before the claim is sent, so the local deadline falls before the database's.
    const publishUntil = Date.now() + this.#leaseMs - this.#publishTimeoutMs;
    const { rows } = await this.#db.query<OutboxRow>(
      `UPDATE platform.outbox SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
        WHERE id IN (SELECT id FROM platform.outbox WHERE ${CLAIMABLE} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING ${ROW_COLUMNS}`,
      [this.#batchSize, this.#leaseMs],
    );
    if (rows.length === 0) return { claimed: 0, published: 0, failed: 0 };
    rows.sort(byId);
    const { published, failures, unattempted } = await this.#publishRows(
      rows,
      () => Date.now() < publishUntil,
    );
    await this.#db.transaction(async (tx) => {
      await this.#record(tx, published, failures);
      if (unattempted.length > 0) {
        // Out of lease time: hand the rest back for the next claim, by any relay.
        await tx.query('UPDATE platform.outbox SET next_attempt_at = NULL WHERE id = ANY($1::bigint[])', [
          unattempted.map(String),
        ]);
      }
    });
    return { claimed: rows.length, published: published.length, failed: failures.length };
  }

  async #publishRows(
    rows: OutboxRow[],
    mayPublish: () => boolean,
  ): Promise<{ published: bigint[]; failures: RowFailure[]; unattempted: bigint[] }> {
    const published: bigint[] = [];
    const failures: RowFailure[] = [];
    const unattempted: bigint[] = [];
    for (const row of rows) {
      // Stopping skips the rest of the batch (left for the next relay) instead of delaying shutdown.
      if (this.#stopRequested || !mayPublish()) {
        unattempted.push(row.id);
        continue;
      }
      try {
        await withTimeout(this.#publishRow(row), this.#publishTimeoutMs, `publishing outbox row ${row.id}`);
        published.push(row.id);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ id: row.id, attempts: row.attempts + 1, error: message.slice(0, MAX_ERROR_LENGTH) });
        const log = {
          outboxId: String(row.id),
          kind: row.kind,
          topic: row.topic,
          attempts: row.attempts + 1,
          err: error,
        };
        if (row.attempts + 1 >= 5) this.#logger.error(log, 'outbox: row keeps failing to publish');
        else this.#logger.warn(log, 'outbox: publishing a row failed; will retry');
        continue;
      }
      await this.#afterPublish?.({ id: row.id, kind: row.kind });
    }
    return { published, failures, unattempted };
  }

  async #publishRow(row: OutboxRow): Promise<void> {
    if (row.kind === 'job') {
      const job = row.payload as JobRequest;
      const { id, created } = await this.#jobs.enqueue({ ...job, queue: row.topic });
      this.#logger.debug(
        { outboxId: String(row.id), queue: row.topic, jobId: id, created },
        'outbox: job enqueued',
      );
      return;
    }
    await this.#publish({
      id: String(row.id),
      name: row.topic,
      occurredAt: row.created_at.toISOString(),
      companyId: row.company_id,
      requestId: row.request_id,
      data: row.payload as Record<string, unknown>,
    });
  }

  async #record(tx: Queryable, published: bigint[], failures: RowFailure[]): Promise<void> {
    if (published.length > 0) {
      await tx.query(
        `UPDATE platform.outbox SET published_at = now(), next_attempt_at = NULL
          WHERE id = ANY($1::bigint[]) AND published_at IS NULL`,
        [published.map(String)],
      );
    }
    if (failures.length > 0) {
      await tx.query(
        `UPDATE platform.outbox AS o
            SET attempts = f.attempts, last_error = f.error,
                next_attempt_at = now() + make_interval(secs => f.delay_ms / 1000)
           FROM unnest($1::bigint[], $2::int[], $3::text[], $4::double precision[]) AS f(id, attempts, error, delay_ms)
          WHERE o.id = f.id`,
        [
          failures.map((f) => String(f.id)),
          failures.map((f) => f.attempts),
          failures.map((f) => f.error),
          failures.map((f) => Math.min(MAX_RETRY_DELAY_MS, this.#retryBaseDelayMs * 2 ** (f.attempts - 1))),
        ],
      );
    }
  }

  async #run(): Promise<void> {
    let consecutiveErrors = 0;
    while (this.#running) {
      let full = false;
      this.#notified = false;
      try {
        const result = await this.relayBatch();
        full = result.claimed === this.#batchSize;
        if (result.claimed > 0) {
          this.#logger.debug({ ...result }, 'outbox: batch relayed');
        }
        consecutiveErrors = 0;
        await this.#pruneIfDue();
      } catch (error) {
        consecutiveErrors += 1;
        this.#logger.error({ err: error, consecutiveErrors }, 'outbox: relaying a batch failed');
      }
      if (!this.#running) break;
      if (full && consecutiveErrors === 0) continue;
      const delay =
        consecutiveErrors > 0
          ? Math.min(MAX_LOOP_BACKOFF_MS, this.#pollIntervalMs * 2 ** consecutiveErrors)
          : this.#pollIntervalMs;
      // A notification that arrived while the batch ran means rows may be waiting already.
      if (this.#notified && consecutiveErrors === 0) continue;
      await this.#sleep(delay);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  async #subscribe(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#db.url, application_name: 'hub-outbox-listener' });
    client.on('notification', () => {
      this.#notified = true;
      this.#wake?.();
    });
    client.on('error', (error) => {
      this.#logger.warn({ err: error }, 'outbox: notification listener lost; polling until it is back');
      if (this.#listener === client) this.#listener = undefined;
      client.end().catch(() => {});
      if (this.#running)
        setTimeout(() => this.#running && !this.#listener && void this.#subscribe(), 5_000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      if (!this.#running) {
        await client.end();
        return;
      }
      this.#listener = client;
    } catch (error) {
      this.#logger.warn({ err: error }, 'outbox: could not listen for notifications; polling only');
      await client.end().catch(() => {});
    }
  }

  async #pruneIfDue(): Promise<void> {
    if (this.#retainPublishedMs === 0 || Date.now() - this.#lastPrune < PRUNE_INTERVAL_MS) return;
    this.#lastPrune = Date.now();
    const { rowCount } = await this.#db.query(
      `DELETE FROM platform.outbox WHERE id IN (
         SELECT id FROM platform.outbox
          WHERE published_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY id LIMIT $2)`,
      [this.#retainPublishedMs, PRUNE_BATCH],
    );
    if (rowCount) this.#logger.info({ deleted: rowCount }, 'outbox: pruned published rows');
  }
}
