import moleculer from 'moleculer';
import {
  type JobFailureKind,
  PermanentFailure,
  RateLimitedFailure,
  RetryableFailure,
} from '../../core/platform/jobs/job-error-taxonomy.ts';

/**
 * The closed error taxonomy of connectors: the platform's job taxonomy (retryable, rate limited,
 * permanent) refined by what a sync engine and an operator need to tell apart. Each class extends
 * one of the job failures, so a connector error thrown inside a job handler is classified by
 * `classifyFailure` without any glue:
 *
 * | category         | job kind     | meaning                                                          |
 * |------------------|--------------|------------------------------------------------------------------|
 * | `retryable`      | retryable    | nothing happened remotely or it is safe to repeat (5xx, refused) |
 * | `maybe-committed`| retryable    | sent, no answer: the remote may have acted; the operation must   |
 * |                  |              | look the effect up before doing it again                         |
 * | `rate-limited`   | rate_limited | slow down; retry no sooner than `retryAfterMs`                   |
 * | `not-connected`  | permanent    | credentials or permissions refused: fix the connection first     |
 * | `mapping`        | permanent    | our payload is wrong (mapping, validation, unknown reference)    |
 * | `permanent`      | permanent    | the remote refused for a business reason; retrying cannot help   |
 *
 * Connectors throw only these; anything else escaping a connector is a bug and is reported as
 * `retryable` by `toConnectorError` (an unexpected bug must not silently drop work).
 */
export type ConnectorErrorCategory =
  | 'retryable'
  | 'maybe-committed'
  | 'rate-limited'
  | 'not-connected'
  | 'mapping'
  | 'permanent';

export const CONNECTOR_ERROR_CATEGORIES: readonly ConnectorErrorCategory[] = [
  'retryable',
  'maybe-committed',
  'rate-limited',
  'not-connected',
  'mapping',
  'permanent',
];

/** What the remote system said, kept for the failed-item view; never credentials. */
export interface RemoteErrorDetail {
  /** The remote's own code (HTTP status, vendor error code, message code). */
  code?: string;
  /** The remote's message(s), shortened. */
  messages?: string[];
}

export interface ConnectorError extends Error {
  readonly category: ConnectorErrorCategory;
  readonly kind: JobFailureKind;
  readonly remote?: RemoteErrorDetail;
}

export class ConnectorRetryableError extends RetryableFailure implements ConnectorError {
  readonly category: ConnectorErrorCategory = 'retryable';
  readonly remote?: RemoteErrorDetail;
  constructor(message: string, remote?: RemoteErrorDetail, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectorRetryableError';
    this.remote = remote;
  }
}

/**
 * The request left this process and no answer came back (timeout, connection reset after send):
 * the remote may have committed. Retrying blindly can duplicate; the operation that gets this
 * must look the effect up (by the business key it sent) before acting again.
 */
export class MaybeCommittedError extends ConnectorRetryableError {
  override readonly category: ConnectorErrorCategory = 'maybe-committed';
  constructor(message: string, remote?: RemoteErrorDetail, options?: ErrorOptions) {
    super(message, remote, options);
    this.name = 'MaybeCommittedError';
  }
}

export class ConnectorRateLimitedError extends RateLimitedFailure implements ConnectorError {
  readonly category: ConnectorErrorCategory = 'rate-limited';
  readonly remote?: RemoteErrorDetail;
  constructor(message: string, retryAfterMs: number, remote?: RemoteErrorDetail) {
    super(message, retryAfterMs);
    this.name = 'ConnectorRateLimitedError';
    this.remote = remote;
  }
}

export class ConnectorPermanentError extends PermanentFailure implements ConnectorError {
  readonly category: ConnectorErrorCategory = 'permanent';
  readonly remote?: RemoteErrorDetail;
  constructor(message: string, remote?: RemoteErrorDetail, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectorPermanentError';
    this.remote = remote;
  }
}

/** Login refused, signature rejected, session cannot be renewed, permission missing. */
export class NotConnectedError extends ConnectorPermanentError {
  override readonly category: ConnectorErrorCategory = 'not-connected';
  constructor(message: string, remote?: RemoteErrorDetail, options?: ErrorOptions) {
    super(message, remote, options);
    this.name = 'NotConnectedError';
  }
}

/** The payload is wrong: the mapping threw, or the remote rejected a field or a reference. */
export class MappingError extends ConnectorPermanentError {
  override readonly category: ConnectorErrorCategory = 'mapping';
  constructor(message: string, remote?: RemoteErrorDetail, options?: ErrorOptions) {
    super(message, remote, options);
    this.name = 'MappingError';
  }
}

export function isConnectorError(error: unknown): error is ConnectorError {
  return (
    error instanceof Error &&
    CONNECTOR_ERROR_CATEGORIES.includes(
      (error as Partial<ConnectorError>).category as ConnectorErrorCategory,
    ) &&
    (error instanceof RetryableFailure ||
      error instanceof RateLimitedFailure ||
      error instanceof PermanentFailure)
  );
}

/** Builds the taxonomy error of one category. */
export function connectorError(
  category: ConnectorErrorCategory,
  message: string,
  details: { remote?: RemoteErrorDetail; retryAfterMs?: number; cause?: unknown } = {},
): ConnectorError {
  const options = details.cause === undefined ? undefined : { cause: details.cause };
  switch (category) {
    case 'retryable':
      return new ConnectorRetryableError(message, details.remote, options);
    case 'maybe-committed':
      return new MaybeCommittedError(message, details.remote, options);
    case 'rate-limited':
      return new ConnectorRateLimitedError(message, details.retryAfterMs ?? 1000, details.remote);
    case 'not-connected':
      return new NotConnectedError(message, details.remote, options);
    case 'mapping':
      return new MappingError(message, details.remote, options);
    case 'permanent':
      return new ConnectorPermanentError(message, details.remote, options);
  }
}

/** Anything thrown by connector code, as a taxonomy error (unknown errors are retryable). */
export function toConnectorError(error: unknown): ConnectorError {
  if (isConnectorError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectorRetryableError(`Unexpected connector failure: ${message}`, undefined, { cause: error });
}

const MOLECULER_TYPE_PREFIX = 'connector-';

/**
 * A connector error as a Moleculer error, so category, retry-after and the remote's detail
 * survive the trip over NATS when the connector runs on another node. `fromMoleculerError`
 * turns it back into the taxonomy class on the caller's side.
 */
export function toMoleculerError(error: ConnectorError): moleculer.Errors.MoleculerError {
  const retryAfterMs = error instanceof ConnectorRateLimitedError ? error.retryAfterMs : undefined;
  return new moleculer.Errors.MoleculerError(
    error.message,
    502,
    `${MOLECULER_TYPE_PREFIX}${error.category}`,
    {
      category: error.category,
      retryAfterMs,
      remote: error.remote,
    },
  );
}

/** The taxonomy error carried by an error a connector service's action threw, or `undefined`. */
export function fromMoleculerError(error: unknown): ConnectorError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { type, data } = error as { type?: unknown; data?: Record<string, unknown> };
  if (typeof type !== 'string' || !type.startsWith(MOLECULER_TYPE_PREFIX) || !data) return undefined;
  const category = data.category as ConnectorErrorCategory;
  if (!CONNECTOR_ERROR_CATEGORIES.includes(category)) return undefined;
  return connectorError(category, error.message, {
    remote: data.remote as RemoteErrorDetail | undefined,
    retryAfterMs: typeof data.retryAfterMs === 'number' ? data.retryAfterMs : undefined,
  });
}
