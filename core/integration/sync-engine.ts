import { createHash } from 'node:crypto';
import type { ServiceBroker } from 'moleculer';
import type { Logger } from 'pino';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import { jobIdForKey } from '../platform/jobs/bullmq-job-queue.ts';
import { PermanentFailure } from '../platform/jobs/job-error-taxonomy.ts';
import type { JobQueue } from '../platform/jobs/job-queue.ts';
import { MappingError, MappingFileError } from '../platform/mapping/mapping-error.ts';
import type { PublishedOutboxEvent } from '../platform/outbox/outbox-relay.ts';
import type { Platform } from '../platform/platform.ts';
import type { SecretBox } from '../platform/secrets/secret-box.ts';
import { ConnectionLimits } from './connection-limits.ts';
import {
  type ConnectionView,
  enabledConnections,
  type OpenConnection,
  openConnection,
} from './connections.ts';
import {
  callConnector,
  type SyncFailure,
  SyncPermanent,
  SyncRetryable,
  toSyncFailure,
} from './connector-calls.ts';
import { type FailedItem, recordFailure, resolveFailure } from './failed-items.ts';
import { link, linkResolver, resolveLink } from './links.ts';
import type { MappingFiles } from './mapping-files.ts';

/** Attempts of every sync job before its item is kept as failed. */
export const SYNC_ATTEMPTS = 8;

/** Jobs act as the system; the fixed uuid is what domains record as the actor. */
export const SYSTEM: { meta: { auth: AuthContext } } = {
  meta: {
    auth: {
      kind: 'system',
      principalId: '00000000-0000-4000-8000-0000000017e9',
      companyId: null,
      permissions: [],
    },
  },
};

/** One queue per connector and direction (bull-board lists them by these names). */
export const queueOf = (connectorId: string, direction: 'inbound' | 'outbound') =>
  `sync.${connectorId}.${direction}`;

/** Data of an outbound job: ids only (the record is read when the job runs; no credential ever). */
export interface PushJob {
  connectionId: string;
  event: string;
  orderId: string;
  operation: string;
  mapping: string;
}

/** Canonical entity a hub event is about, for link rows and job ids. */
const EVENT_ENTITY: Record<string, string> = { 'order.confirmed': 'order', 'order.cancelled': 'order' };

/** A sync failure's category (taxonomy of connectors, plus `mapping` for our own mapping errors). */
export function categoryOf(error: unknown): string {
  return (error as Partial<SyncFailure>).category ?? 'retryable';
}

export interface SyncEngineOptions {
  platform: Platform;
  box: SecretBox;
  mappings: MappingFiles;
  broker: () => ServiceBroker;
  limits?: ConnectionLimits;
}

/**
 * Drives connectors: outbound pushes from outbox events, inbound pulls of streams with cursors,
 * failed items kept for replay. Every unit of work is a BullMQ job with a deterministic id;
 * handlers throw the platform's job failures, so the queue decides between backoff, waiting for
 * the remote's retry-after and failing now.
 */
export class SyncEngine {
  readonly #platform: Platform;
  readonly #box: SecretBox;
  readonly #mappings: MappingFiles;
  readonly #broker: () => ServiceBroker;
  readonly #limits: ConnectionLimits;

  constructor(options: SyncEngineOptions) {
    this.#platform = options.platform;
    this.#box = options.box;
    this.#mappings = options.mappings;
    this.#broker = options.broker;
    this.#limits = options.limits ?? new ConnectionLimits();
  }

  get #jobs(): JobQueue {
    return this.#platform.jobs;
  }

  get #logger(): Logger {
    return this.#platform.logger;
  }

  /** A hub event: one push job per enabled connection that pushes on it. */
  async onEvent(event: PublishedOutboxEvent): Promise<number> {
    const orderId = String(event.data.orderId ?? '');
    const entity = EVENT_ENTITY[event.name];
    if (!orderId || !entity) return 0;
    let enqueued = 0;
    for (const connection of await enabledConnections(this.#platform.db)) {
      for (const rule of connection.sync.outbound ?? []) {
        if (rule.event !== event.name) continue;
        await this.enqueuePush(connection, {
          connectionId: connection.id,
          event: event.name,
          orderId,
          operation: rule.operation,
          mapping: rule.mapping,
        });
        enqueued += 1;
      }
    }
    return enqueued;
  }

  /** Job id `connection:entity:canonicalId:event`: a redelivered event never pushes twice. */
  pushKey(job: PushJob): string {
    return `${job.connectionId}:${job.mapping}:${job.orderId}:${job.event}`;
  }

  async enqueuePush(connection: ConnectionView, job: PushJob): Promise<{ id: string; created: boolean }> {
    return this.#jobs.enqueue({
      queue: queueOf(connection.connectorId, 'outbound'),
      name: `push-${job.mapping}`,
      key: this.pushKey(job),
      data: job,
      attempts: SYNC_ATTEMPTS,
    });
  }

  /** Enqueues a run of an inbound stream; `slot` makes scheduled runs of one period a single job. */
  async enqueuePull(
    connection: ConnectionView,
    stream: string,
    slot: string,
  ): Promise<{ id: string; created: boolean }> {
    return this.#jobs.enqueue({
      queue: queueOf(connection.connectorId, 'inbound'),
      name: 'pull',
      key: `${connection.id}:${stream}:${slot}`,
      data: { connectionId: connection.id, stream },
      attempts: SYNC_ATTEMPTS,
    });
  }

  /** Enqueues the runs due now: one per enabled connection and inbound rule and period. */
  async schedulePulls(now: number = Date.now()): Promise<number> {
    let enqueued = 0;
    for (const connection of await enabledConnections(this.#platform.db)) {
      for (const rule of connection.sync.inbound ?? []) {
        const periodMs = (rule.everySeconds ?? 600) * 1000;
        const { created } = await this.enqueuePull(
          connection,
          rule.stream,
          `every-${periodMs}-${Math.floor(now / periodMs)}`,
        );
        if (created) enqueued += 1;
      }
    }
    return enqueued;
  }

  /** Runs one push: read the record, map it with the current mapping file, write it, link it. */
  async push(job: { id: string; data: PushJob; attemptsMade: number }): Promise<unknown> {
    const { data } = job;
    let connection: OpenConnection;
    try {
      connection = await openConnection(this.#platform.db, this.#box, data.connectionId);
    } catch (error) {
      throw new SyncPermanent('permanent', `connection ${data.connectionId}: ${(error as Error).message}`);
    }
    let mappingVersion: string | null = null;
    try {
      if (!connection.enabled) throw new SyncPermanent('not-connected', 'the connection is disabled');
      const { mapping, version } = this.#currentMapping(connection.connectorId, data.mapping, 'outbound');
      mappingVersion = version;
      if (data.event === 'order.cancelled') await this.#awaitOrderPush(connection, data);
      const order = await this.#broker().call('orders.internal.get', { orderId: data.orderId }, SYSTEM);
      let input: unknown;
      try {
        input = await mapping.map(order, { links: linkResolver(this.#platform.db, connection.id) });
      } catch (error) {
        if (error instanceof MappingError) throw new SyncPermanent('mapping', error.message);
        throw error;
      }
      const result = await this.#limits.run(connection.id, connection.sync, () =>
        callConnector<{ externalId: string; outcome: string }>(this.#broker(), connection, 'write', {
          operation: data.operation,
          input,
          idempotencyKey: job.id,
        }),
      );
      const entity = EVENT_ENTITY[data.event] ?? 'order';
      if (data.event !== 'order.cancelled') {
        await link(this.#platform.db, {
          connectionId: connection.id,
          entity,
          externalId: result.externalId,
          canonicalId: data.orderId,
        });
      }
      await resolveFailure(this.#platform.db, {
        connectionId: connection.id,
        direction: 'outbound',
        itemKey: job.id,
      });
      return { externalId: result.externalId, outcome: result.outcome, mappingVersion };
    } catch (error) {
      const failure = toSyncFailure(error);
      await this.#keepIfFinal(failure, job.attemptsMade, {
        connectionId: connection.id,
        direction: 'outbound',
        entity: data.mapping,
        itemKey: job.id,
        payload: { ...data },
        mappingVersion,
      });
      throw failure;
    }
  }

  /**
   * A cancellation waits for the order's own push when that is still queued or running: a cancel
   * that overtook it would find no bill, and the push would then create one.
   */
  async #awaitOrderPush(connection: OpenConnection, data: PushJob): Promise<void> {
    const linked = await resolveLink(this.#platform.db, {
      connectionId: connection.id,
      entity: 'order',
      canonicalId: data.orderId,
    });
    if (linked) return;
    for (const rule of connection.sync.outbound ?? []) {
      if (rule.event !== 'order.confirmed') continue;
      const key = this.pushKey({
        ...data,
        event: rule.event,
        operation: rule.operation,
        mapping: rule.mapping,
      });
      const pushing = await this.#jobs.get(queueOf(connection.connectorId, 'outbound'), jobIdForKey(key));
      if (pushing && pushing.state !== 'completed' && pushing.state !== 'failed') {
        throw new SyncRetryable(
          'retryable',
          'the order is still being pushed; the cancellation waits for it',
        );
      }
    }
  }

  #currentMapping(connectorId: string, name: string, direction: 'inbound' | 'outbound') {
    try {
      return this.#mappings.current(connectorId, name, direction);
    } catch (error) {
      if (error instanceof MappingFileError) throw new SyncPermanent('mapping', error.message);
      throw error;
    }
  }

  /** A pull run that failed: kept as a failed item when the failure ends the job (replay runs it again). */
  async keepFailedPull(error: unknown, attemptsMade: number, job: { connectionId: string; stream: string }) {
    const failure = toSyncFailure(error);
    await this.#keepIfFinal(failure, attemptsMade, {
      connectionId: job.connectionId,
      direction: 'inbound',
      entity: job.stream,
      itemKey: `pull:${job.stream}`,
      payload: { pull: true, stream: job.stream },
      mappingVersion: null,
    });
    return failure;
  }

  /** Keeps the item when this failure ends it: permanent now, or the last attempt of a retryable one. */
  async #keepIfFinal(
    failure: SyncFailure,
    attemptsMade: number,
    item: Omit<
      FailedItem,
      'id' | 'status' | 'failedAt' | 'replayedAt' | 'errorCategory' | 'errorMessage' | 'attempts'
    >,
  ): Promise<void> {
    const final = failure instanceof PermanentFailure || attemptsMade + 1 >= SYNC_ATTEMPTS;
    if (!final) return;
    try {
      await recordFailure(this.#platform.db, {
        ...item,
        errorCategory: categoryOf(failure),
        errorMessage: failure.message,
        attempts: attemptsMade + 1,
      });
    } catch (error) {
      this.#logger.error({ err: error, itemKey: item.itemKey }, 'could not keep a failed sync item');
    }
  }

  /** Replays failed items: outbound ones by moving their failed job back to waiting. */
  async replay(items: readonly FailedItem[]): Promise<{ replayed: number }> {
    let replayed = 0;
    for (const item of items) {
      const connection = await openConnection(this.#platform.db, this.#box, item.connectionId);
      const queue = queueOf(connection.connectorId, item.direction);
      if (item.direction === 'outbound') {
        const existing = await this.#jobs.get(queue, item.itemKey);
        if (existing?.state === 'failed') await this.#jobs.replay(queue, item.itemKey);
        else if (!existing) await this.enqueuePush(connection, item.payload as unknown as PushJob);
      } else if (item.payload.pull === true) {
        await this.enqueuePull(connection, String(item.payload.stream), `replay-${item.id}-${Date.now()}`);
      } else {
        await this.#jobs.enqueue({
          queue,
          name: 'apply-record',
          key: `replay:${item.id}:${Date.now()}`,
          data: { ...item.payload, connectionId: item.connectionId, itemKey: item.itemKey },
          attempts: SYNC_ATTEMPTS,
        });
      }
      replayed += 1;
    }
    return { replayed };
  }

  /** Whether a remote record with this fingerprint was applied already (dedupe on re-read). */
  async alreadyApplied(connectionId: string, entity: string, externalId: string, fingerprint: string) {
    const existing = await resolveLink(this.#platform.db, { connectionId, entity, externalId });
    return existing?.fingerprint === fingerprint;
  }

  static fingerprint(record: unknown): string {
    return createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 32);
  }
}
