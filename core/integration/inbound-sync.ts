import type { ServiceBroker } from 'moleculer';
import type { Database } from '../platform/database/database.ts';
import type { CompiledMapping } from '../platform/mapping/mapping-engine.ts';
import type { SecretBox } from '../platform/secrets/secret-box.ts';
import type { ConnectionLimits } from './connection-limits.ts';
import { type OpenConnection, openConnection } from './connections.ts';
import { callConnector, SyncPermanent } from './connector-calls.ts';
import type { ConnectorRegistry } from './connector-registry.ts';
import { recordFailure, resolveFailure } from './failed-items.ts';
import { link } from './links.ts';
import type { MappingFiles } from './mapping-files.ts';
import { SYSTEM, SyncEngine } from './sync-engine.ts';

/** Data of a pull job: which stream of which connection (its rule is read when the job runs). */
export interface PullJob {
  connectionId: string;
  stream: string;
}

/** Data of a replay of one failed inbound record (the failed item's payload). */
export interface ReplayRecordJob {
  connectionId: string;
  itemKey: string;
  stream: string;
  mapping: string;
  record: Record<string, unknown>;
}

/** What mapped inbound records become, by the `target` of a connection's inbound rule. */
interface InboundTarget {
  /** The hub id a record is linked to (`undefined`: the external id itself). */
  canonicalId(record: Record<string, unknown>): string | undefined;
  /** Applies mapped records idempotently; answers the external ids it refused, with why. */
  apply(
    broker: ServiceBroker,
    source: string,
    records: Array<{ externalId: string; value: Record<string, unknown> }>,
  ): Promise<Array<{ externalId: string; message: string }>>;
}

const stockKey = (r: Record<string, unknown>) => `${r.skuCode}@${r.warehouseCode}`;

const TARGETS: Record<string, InboundTarget> = {
  'stock-levels': {
    // The hub has no id for a counted stock line: the link keeps the remote key on both sides.
    canonicalId: () => undefined,
    async apply(broker, source, records) {
      if (records.length === 0) return [];
      const answer = (await broker.call(
        'inventory.internal.applyStockLevels',
        { source, levels: records.map((r) => r.value) },
        SYSTEM,
      )) as { rejected: Array<{ skuCode: string; warehouseCode: string; reason: string }> };
      const refused = new Map(answer.rejected.map((r) => [`${r.skuCode}@${r.warehouseCode}`, r.reason]));
      return records.flatMap((r) => {
        const reason = refused.get(stockKey(r.value));
        return reason ? [{ externalId: r.externalId, message: `inventory refused it: ${reason}` }] : [];
      });
    },
  },
};

/**
 * How long one run holds its stream, renewed with every committed page; a crashed run's lease
 * runs out and the next run resumes at its last committed page.
 */
const LEASE = '5 minutes';

export interface InboundSyncOptions {
  db: Database;
  box: SecretBox;
  registry: ConnectorRegistry;
  mappings: MappingFiles;
  limits: ConnectionLimits;
  broker: () => ServiceBroker;
}

/**
 * One run of an inbound stream: pages read from the stored position, each record mapped (the
 * current mapping file) and deduped by external id and fingerprint, applied through the owning
 * domain's action, then — in one transaction — its links, its failed items and the stream's
 * position (cursor for the next run, continuation for this one). A run that dies resumes at the
 * last committed page; a page applied but not committed is read again and re-applied, which the
 * targets' idempotent actions make harmless.
 */
export class InboundSync {
  readonly #options: InboundSyncOptions;

  constructor(options: InboundSyncOptions) {
    this.#options = options;
  }

  async pull(job: {
    data: PullJob;
  }): Promise<{ pages: number; applied: number; deduped: number; failed: number } | { skipped: string }> {
    const { db } = this.#options;
    const { connectionId, stream } = job.data;
    const connection = await openConnection(db, this.#options.box, connectionId);
    const rule = connection.sync.inbound?.find((r) => r.stream === stream);
    if (!connection.enabled || !rule) return { skipped: 'the connection does not pull this stream' };
    const target = TARGETS[(rule as { target?: string }).target ?? ''];
    if (!target) throw new SyncPermanent('permanent', `no inbound target for ${stream}`);
    const declared = this.#options.registry
      .get(connection.connectorId)
      ?.manifest.capabilities.streams?.find((s) => s.name === stream);
    if (!declared) throw new SyncPermanent('permanent', `${connection.connectorId} has no stream ${stream}`);
    const { rows } = await db.query(
      `INSERT INTO integration.stream_cursors (connection_id, stream, lease_until)
       VALUES ($1, $2, now() + $3::interval)
       ON CONFLICT (connection_id, stream) DO UPDATE SET lease_until = EXCLUDED.lease_until
         WHERE stream_cursors.lease_until IS NULL OR stream_cursors.lease_until < now()
       RETURNING cursor, continuation`,
      [connectionId, stream, LEASE],
    );
    if (!rows[0]) return { skipped: 'another run holds the stream' };
    let { cursor, continuation } = rows[0] as { cursor: string | null; continuation: string | null };
    const totals = { pages: 0, applied: 0, deduped: 0, failed: 0 };
    try {
      do {
        const { mapping, version } = this.#options.mappings.current(
          connection.connectorId,
          rule.mapping,
          'inbound',
        );
        const page = await this.#options.limits.run(connection.id, connection.sync, () =>
          callConnector<{
            records: Record<string, unknown>[];
            nextCursor: string | null;
            continuation: string | null;
          }>(this.#options.broker(), connection, 'read', {
            stream,
            cursor,
            continuation,
            pageSize: rule.pageSize ?? 500,
          }),
        );
        const outcome = await this.#applyPage(
          connection,
          rule.mapping,
          declared.primaryKey ?? [],
          mapping,
          version,
          target,
          page.records,
        );
        await db.transaction(async (tx) => {
          for (const item of outcome.applied) {
            await link(tx, {
              connectionId,
              entity: rule.mapping,
              externalId: item.externalId,
              canonicalId: item.canonicalId,
              fingerprint: item.fingerprint,
            });
          }
          for (const failure of outcome.failed) {
            await recordFailure(tx, {
              connectionId,
              direction: 'inbound',
              entity: rule.mapping,
              itemKey: `${stream}:${failure.externalId}`,
              payload: { stream, mapping: rule.mapping, record: failure.record },
              errorCategory: failure.category,
              errorMessage: failure.message,
              attempts: 1,
              mappingVersion: version,
            });
          }
          await tx.query(
            `UPDATE integration.stream_cursors
                SET cursor = $3, continuation = $4, records_total = records_total + $5,
                    lease_until = now() + $6::interval
              WHERE connection_id = $1 AND stream = $2`,
            [connectionId, stream, page.nextCursor, page.continuation, page.records.length, LEASE],
          );
        });
        cursor = page.nextCursor;
        continuation = page.continuation;
        totals.pages += 1;
        totals.applied += outcome.applied.length;
        totals.deduped += outcome.deduped;
        totals.failed += outcome.failed.length;
      } while (continuation !== null);
      await resolveFailure(db, { connectionId, direction: 'inbound', itemKey: `pull:${stream}` });
      return totals;
    } finally {
      await db.query(
        `UPDATE integration.stream_cursors SET lease_until = NULL, last_run_at = now()
          WHERE connection_id = $1 AND stream = $2`,
        [connectionId, stream],
      );
    }
  }

  /**
   * Replays one failed inbound record: mapped again with the mapping file as it is now and applied;
   * a record that fails again is kept again (with the new error and mapping version).
   */
  async applyRecord(job: { data: ReplayRecordJob }): Promise<{ applied: boolean }> {
    const { db } = this.#options;
    const { connectionId, stream, mapping: name, record } = job.data;
    const connection = await openConnection(db, this.#options.box, connectionId);
    const rule = connection.sync.inbound?.find((r) => r.stream === stream && r.mapping === name);
    const target = rule && TARGETS[rule.target];
    const declared = this.#options.registry
      .get(connection.connectorId)
      ?.manifest.capabilities.streams?.find((s) => s.name === stream);
    if (!rule || !target || !declared) {
      throw new SyncPermanent('permanent', `the connection no longer pulls ${stream} with ${name}`);
    }
    const { mapping, version } = this.#options.mappings.current(connection.connectorId, name, 'inbound');
    const outcome = await this.#applyPage(
      connection,
      name,
      declared.primaryKey ?? [],
      mapping,
      version,
      target,
      [record],
    );
    await db.transaction(async (tx) => {
      for (const item of outcome.applied) {
        await link(tx, { connectionId, entity: name, ...item });
        await resolveFailure(tx, { connectionId, direction: 'inbound', itemKey: job.data.itemKey });
      }
      for (const failure of outcome.failed) {
        await recordFailure(tx, {
          connectionId,
          direction: 'inbound',
          entity: name,
          itemKey: job.data.itemKey,
          payload: { stream, mapping: name, record: failure.record },
          errorCategory: failure.category,
          errorMessage: failure.message,
          attempts: 1,
          mappingVersion: version,
        });
      }
    });
    if (outcome.deduped > 0) {
      await resolveFailure(db, { connectionId, direction: 'inbound', itemKey: job.data.itemKey });
    }
    return { applied: outcome.applied.length === 1 };
  }

  async #applyPage(
    connection: OpenConnection,
    entity: string,
    primaryKey: readonly string[],
    mapping: CompiledMapping,
    _version: string,
    target: InboundTarget,
    records: Record<string, unknown>[],
  ) {
    const { db } = this.#options;
    const applied: Array<{ externalId: string; canonicalId: string; fingerprint: string }> = [];
    const failed: Array<{ externalId: string; record: unknown; category: string; message: string }> = [];
    const ready: Array<{ externalId: string; fingerprint: string; value: Record<string, unknown> }> = [];
    let deduped = 0;
    for (const record of records) {
      const externalId = primaryKey.map((key) => String(record[key] ?? '')).join('|');
      const fingerprint = SyncEngine.fingerprint(record);
      const { rows } = await db.query(
        `SELECT fingerprint FROM integration.links WHERE connection_id = $1 AND entity = $2 AND external_id = $3`,
        [connection.id, entity, externalId],
      );
      if (rows[0]?.fingerprint === fingerprint) {
        deduped += 1;
        continue;
      }
      // Mappings of query rows name their columns; connectors hand records keyed by those names.
      const input = mapping.columns ? mapping.columns.map((column) => record[column] ?? null) : record;
      const result = await mapping.tryMap(input);
      if (!result.ok) {
        const message = result.errors.map((e) => `${e.path || '/'} ${e.code}: ${e.message}`).join('; ');
        failed.push({ externalId, record, category: 'mapping', message });
        continue;
      }
      ready.push({ externalId, fingerprint, value: result.value as Record<string, unknown> });
    }
    const refused = await target.apply(this.#options.broker(), `integration:${connection.id}`, ready);
    const refusedIds = new Map(refused.map((r) => [r.externalId, r.message]));
    for (const item of ready) {
      const message = refusedIds.get(item.externalId);
      if (message) {
        failed.push({
          externalId: item.externalId,
          record: records.find(
            (r) => primaryKey.map((k) => String(r[k] ?? '')).join('|') === item.externalId,
          ),
          category: 'permanent',
          message,
        });
      } else {
        applied.push({
          externalId: item.externalId,
          canonicalId: target.canonicalId(item.value) ?? item.externalId,
          fingerprint: item.fingerprint,
        });
      }
    }
    return { applied, failed, deduped };
  }
}
