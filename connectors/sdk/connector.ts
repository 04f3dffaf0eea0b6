import type { ConnectorManifest } from '../../schemas/generated/types.ts';
import type { JsonSchema } from '../../schemas/index.ts';

/**
 * The contract every connector implements. A connector is stateless between calls: the caller
 * (a connector service, the sync engine, a test) hands it the connection's configuration and
 * decrypted credentials on every call, and the connector may keep per-connection caches (a
 * login session, a rate limiter) keyed by them.
 *
 * Every method throws only errors of the SDK taxonomy (`connector-errors.ts`). Connectors never
 * retry on their own beyond the one protocol-level renewal a remote demands (a lost session is
 * renewed once): retry counts, backoff and batching belong to the platform's job queue.
 */
export interface Connector<
  Config extends object = Record<string, unknown>,
  Credentials extends object = Record<string, unknown>,
> {
  readonly manifest: ConnectorManifest;
  /** JSON Schema of config and credentials together; credential fields carry `"x-secret": true`. */
  readonly configSchema: JsonSchema;

  /**
   * Proves the connection works (reachable, credentials accepted, permission to read). Resolves
   * with what the remote said about itself; a refusal throws `NotConnectedError`, an outage
   * `ConnectorRetryableError`.
   */
  check(config: Config, credentials: Credentials): Promise<CheckResult>;

  /**
   * Reads one stream declared in the manifest, from `cursor` (the `nextCursor` of the last page
   * committed in an earlier run, or `null` for the first run), as pages in cursor order. The
   * connector applies the stream's look-back window when it starts from a stored cursor.
   * A page's records may be committed and its `nextCursor` stored before the next page is asked
   * for; the caller stops iterating whenever it likes.
   */
  read(
    connection: ConnectionContext<Config, Credentials>,
    stream: string,
    cursor: string | null,
    options?: ReadOptions,
  ): AsyncIterable<ReadPage>;

  /**
   * Performs one operation declared in the manifest. `input` is the canonical record when the
   * connector was built with a mapping for the operation, else the already-mapped payload.
   * Calling it again with the same idempotency key and input has the effect of calling it once
   * (the manifest's `idempotency` says how), and resolves with the same external id.
   */
  write(
    connection: ConnectionContext<Config, Credentials>,
    operation: string,
    input: unknown,
    options: WriteOptions,
  ): Promise<WriteResult>;

  /**
   * Orders two cursors of an incremental stream (negative, zero, positive like `Array.sort`).
   * The contract suite uses it to prove cursors only move forward.
   */
  compareCursors(stream: string, a: string, b: string): number;

  /** Frees per-connection resources (sessions, sockets). */
  close?(): Promise<void>;
}

export interface ConnectionContext<
  Config extends object = Record<string, unknown>,
  Credentials extends object = Record<string, unknown>,
> {
  config: Config;
  credentials: Credentials;
}

export interface CheckResult {
  /** A human sentence: "Logged in to data centre 6512 as demo". Never a secret. */
  summary: string;
  details?: Record<string, unknown>;
}

export interface ReadOptions {
  /** Records per page; the connector caps it at the stream's `maxPageSize`. */
  pageSize?: number;
  /**
   * Resume a run at a page boundary without re-applying the look-back window: the
   * `continuation` of the previous page. Used when pages are fetched one call at a time (the
   * connector service's `read` action).
   */
  continuation?: string | null;
  signal?: AbortSignal;
}

export interface ReadPage<R = Record<string, unknown>> {
  /** Records in the remote's shape (keys as the remote names them); mapping happens later. */
  records: R[];
  /** Where a later run should start once this page is committed. */
  nextCursor: string | null;
  /** Where this run continues, or `null` when the stream is read to its end. */
  continuation: string | null;
}

export interface WriteOptions {
  /** Stable per logical write (e.g. the outbox event id); the same key means the same write. */
  idempotencyKey: string;
  signal?: AbortSignal;
}

export interface WriteResult {
  /** The remote's id of the record written (bill number, document id). */
  externalId: string;
  /** What happened: created, updated, already done (a repeated write), deleted, ... */
  outcome: 'created' | 'updated' | 'unchanged' | 'deleted' | 'not-found';
  details?: Record<string, unknown>;
}

/**
 * Translates a canonical record into the payload an operation sends (or a remote record into a
 * canonical one). Built by the mapping engine from a mapping file and injected into a connector:
 * the connector never knows the mapping's language. May throw; the connector reports that as a
 * `MappingError`.
 */
export type RecordMapping = (record: unknown) => unknown | Promise<unknown>;
