import { createHash } from 'node:crypto';
import type {
  CheckResult,
  ConnectionContext,
  Connector,
  ReadOptions,
  ReadPage,
  RecordMapping,
  WriteOptions,
  WriteResult,
} from '../sdk/connector.ts';
import { MappingError, NotConnectedError, toConnectorError } from '../sdk/connector-errors.ts';
import { loadConfigSchema, loadManifest, manifestStream } from '../sdk/connector-manifest.ts';
import { cancelSalesOrder } from './cancel-sales-order.ts';
import { KingdeeClient, type KingdeeConfig, type KingdeeCredentials } from './kingdee-client.ts';
import {
  compareModificationCursors,
  type IncrementalQuery,
  readByModification,
  readByOffset,
} from './kingdee-query-paging.ts';
import { customersQuery } from './pull-customers.ts';
import { materialsQuery } from './pull-materials.ts';
import { outstockBillsQuery } from './pull-outstock-bills.ts';
import { receivablesQuery } from './pull-receivables.ts';
import { stockQuery } from './pull-stock.ts';
import { pushSalesOrder } from './push-sales-order.ts';

const manifest = loadManifest(new URL('./manifest.json', import.meta.url));
const configSchema = loadConfigSchema(new URL('./config.schema.json', import.meta.url));

const INCREMENTAL_STREAMS: Record<string, IncrementalQuery> = {
  materials: materialsQuery,
  customers: customersQuery,
  outstockBills: outstockBillsQuery,
  receivables: receivablesQuery,
};

/** Clients (and their sessions) kept per distinct connection settings. */
const MAX_CACHED_CLIENTS = 200;

export interface KingdeeConnectorOptions {
  /**
   * Mappings from canonical records to operation payloads, by operation name (built by the
   * mapping engine from `mappings/kingdee/*.outbound.yaml`). Without one, `write` takes the
   * payload already mapped.
   */
  mappings?: Partial<Record<'pushSalesOrder' | 'cancelSalesOrder', RecordMapping>>;
  /** Clock for LoginBySign and signed headers (tests). */
  nowSeconds?: () => number;
}

type Connection = ConnectionContext<KingdeeConfig, KingdeeCredentials>;

/** The Kingdee K/3 Cloud connector: see manifest.json for what it reads and writes. */
export function createKingdeeConnector(
  options: KingdeeConnectorOptions = {},
): Connector<KingdeeConfig, KingdeeCredentials> {
  const clients = new Map<string, KingdeeClient>();

  function clientFor(connection: Connection): KingdeeClient {
    const key = createHash('sha256')
      .update(JSON.stringify([connection.config, connection.credentials]))
      .digest('hex');
    let client = clients.get(key);
    if (!client) {
      if (clients.size >= MAX_CACHED_CLIENTS) {
        const oldest = clients.keys().next().value as string;
        clients.get(oldest)?.close();
        clients.delete(oldest);
      }
      client = new KingdeeClient(connection.config, connection.credentials, {
        nowSeconds: options.nowSeconds,
      });
      clients.set(key, client);
    }
    return client;
  }

  async function mapped(operation: 'pushSalesOrder' | 'cancelSalesOrder', input: unknown): Promise<unknown> {
    const mapping = options.mappings?.[operation];
    if (!mapping) return input;
    try {
      return await mapping(input);
    } catch (error) {
      throw new MappingError(
        `The ${operation} mapping failed: ${error instanceof Error ? error.message : String(error)}`,
        undefined,
        {
          cause: error,
        },
      );
    }
  }

  return {
    manifest,
    configSchema,

    async check(config, credentials): Promise<CheckResult> {
      try {
        const client = new KingdeeClient(config, credentials, { nowSeconds: options.nowSeconds });
        const centres = await client.dataCenters();
        if (!centres.some((centre) => String(centre.Id) === config.acctId)) {
          throw new NotConnectedError(`Data centre ${config.acctId} is not on this site`);
        }
        // One cheap query proves the login (or the signature) and the WebAPI permission.
        await client.executeBillQuery({
          FormId: 'BD_MATERIAL',
          FieldKeys: ['FNumber'],
          StartRow: 0,
          Limit: 1,
        });
        return {
          summary: `Connected to data centre ${config.acctId} as ${config.userName} (${client.config.authMode})`,
          details: { dataCentres: centres.length },
        };
      } catch (error) {
        throw toConnectorError(error);
      }
    },

    async *read(connection, stream, cursor, readOptions: ReadOptions = {}): AsyncIterable<ReadPage> {
      const declared = manifestStream(manifest, stream);
      if (!declared) throw new MappingError(`Kingdee has no stream "${stream}"`);
      const client = clientFor(connection);
      const pageSize = Math.min(readOptions.pageSize ?? client.config.pageSize, declared.maxPageSize ?? 2000);
      const paging = { pageSize, continuation: readOptions.continuation, signal: readOptions.signal };
      try {
        if (stream === 'stock') {
          yield* readByOffset(client, stockQuery, paging);
          return;
        }
        const query = INCREMENTAL_STREAMS[stream] as IncrementalQuery;
        const lookbackSeconds = declared.cursor?.lookbackSeconds ?? query.lookbackSeconds;
        yield* readByModification(client, { ...query, lookbackSeconds }, cursor, paging);
      } catch (error) {
        throw toConnectorError(error);
      }
    },

    async write(connection, operation, input, writeOptions: WriteOptions): Promise<WriteResult> {
      try {
        const client = clientFor(connection);
        switch (operation) {
          case 'pushSalesOrder':
            return await pushSalesOrder(client, await mapped(operation, input), {
              workflow: client.config.salesOrderWorkflow,
              signal: writeOptions.signal,
            });
          case 'cancelSalesOrder':
            return await cancelSalesOrder(client, await mapped(operation, input), {
              signal: writeOptions.signal,
            });
          default:
            throw new MappingError(`Kingdee has no operation "${operation}"`);
        }
      } catch (error) {
        throw toConnectorError(error);
      }
    },

    compareCursors(_stream, a, b) {
      return compareModificationCursors(a, b);
    },

    async close() {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}
