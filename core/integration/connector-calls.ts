import type { ServiceBroker } from 'moleculer';
import {
  PermanentFailure,
  RateLimitedFailure,
  RetryableFailure,
} from '../platform/jobs/job-error-taxonomy.ts';
import type { OpenConnection } from './connections.ts';

/**
 * The connector taxonomy as it arrives over the mesh (`connector-<category>` Moleculer errors,
 * see connectors/sdk/connector-errors.ts), restored as the platform's job failures so the queue
 * retries, waits or fails now. The category travels with the error for the failed-item view.
 */
export type SyncErrorCategory =
  | 'retryable'
  | 'maybe-committed'
  | 'rate-limited'
  | 'not-connected'
  | 'mapping'
  | 'permanent';

export class SyncRetryable extends RetryableFailure {
  readonly category: SyncErrorCategory;
  constructor(category: SyncErrorCategory, message: string) {
    super(message);
    this.category = category;
  }
}

export class SyncRateLimited extends RateLimitedFailure {
  readonly category: SyncErrorCategory = 'rate-limited';
}

export class SyncPermanent extends PermanentFailure {
  readonly category: SyncErrorCategory;
  constructor(category: SyncErrorCategory, message: string) {
    super(message);
    this.category = category;
  }
}

export type SyncFailure = SyncRetryable | SyncRateLimited | SyncPermanent;

const CATEGORIES = new Set<string>([
  'retryable',
  'maybe-committed',
  'rate-limited',
  'not-connected',
  'mapping',
  'permanent',
]);

/** Any error of a connector call as a sync failure (unknown errors are retryable: nothing is dropped). */
export function toSyncFailure(error: unknown): SyncFailure {
  if (error instanceof SyncRetryable || error instanceof SyncRateLimited || error instanceof SyncPermanent) {
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  const { type, data } = (error ?? {}) as { type?: unknown; data?: Record<string, unknown> };
  const category =
    typeof type === 'string' && type.startsWith('connector-') && CATEGORIES.has(String(data?.category))
      ? (data?.category as SyncErrorCategory)
      : undefined;
  switch (category) {
    case 'rate-limited':
      return new SyncRateLimited(message, typeof data?.retryAfterMs === 'number' ? data.retryAfterMs : 1000);
    case 'not-connected':
    case 'mapping':
    case 'permanent':
      return new SyncPermanent(category, message);
    case 'retryable':
    case 'maybe-committed':
      return new SyncRetryable(category, message);
    default:
      return new SyncRetryable('retryable', message);
  }
}

const serviceOf = (connectorId: string) => `connectors.${connectorId}`;

/** Calls a connector service's action with the connection's settings; failures as sync failures. */
export async function callConnector<T>(
  broker: ServiceBroker,
  connection: OpenConnection,
  action: 'check' | 'read' | 'write',
  params: Record<string, unknown>,
): Promise<T> {
  try {
    return (await broker.call(`${serviceOf(connection.connectorId)}.${action}`, {
      config: connection.config,
      credentials: connection.credentials,
      ...params,
    })) as T;
  } catch (error) {
    throw toSyncFailure(error);
  }
}
