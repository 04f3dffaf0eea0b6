import type { Context, ServiceBroker, ServiceSchema } from 'moleculer';
import type {
  ConnectorCheckParams,
  ConnectorReadParams,
  ConnectorWriteParams,
} from '../../schemas/generated/types.ts';
import { schemaRef } from '../../schemas/index.ts';
import type { CheckResult, Connector, ReadPage, WriteResult } from './connector.ts';
import { compileConfigSchema } from './connector-config.ts';
import { fromMoleculerError, toConnectorError, toMoleculerError } from './connector-errors.ts';

type Settings = Record<string, unknown>;
type WithSettings<P> = Omit<P, 'config' | 'credentials'> & { config: Settings; credentials: Settings };

/** The Moleculer service name of a connector: `connectors.<manifest id>`. */
export function connectorServiceName(connectorId: string): string {
  return `connectors.${connectorId}`;
}

/**
 * A connector as a Moleculer service with three actions, so it can run on a node of its own
 * (`HUB_SERVICES`) and be called from anywhere on the mesh:
 *
 * - `check` {config, credentials} → CheckResult
 * - `read` {config, credentials, stream, cursor?, continuation?, pageSize?} → one ReadPage
 * - `write` {config, credentials, operation, input, idempotencyKey} → WriteResult
 *
 * Settings are checked against the connector's config schema before the connector sees them.
 * Failures leave as Moleculer errors of type `connector-<category>` whose data carries the
 * category and retry-after (`fromMoleculerError` restores the taxonomy class on the caller's
 * side). Credentials are never part of an error or a log line written here.
 */
export function createConnectorService<Config extends object, Credentials extends object>(
  connector: Connector<Config, Credentials>,
  options: { name?: string } = {},
): ServiceSchema {
  const settings = compileConfigSchema(connector.configSchema);
  async function guarded<T>(
    config: Record<string, unknown>,
    credentials: Record<string, unknown>,
    run: () => Promise<T>,
  ) {
    try {
      settings.assertValid(config, credentials);
      return await run();
    } catch (error) {
      throw toMoleculerError(toConnectorError(error));
    }
  }
  return {
    name: options.name ?? connectorServiceName(connector.manifest.id),
    actions: {
      check: {
        params: schemaRef('api/connectors/connector-check-params'),
        handler(ctx: Context<WithSettings<ConnectorCheckParams>>): Promise<CheckResult> {
          const { config, credentials } = ctx.params;
          return guarded(config, credentials, () =>
            connector.check(config as Config, credentials as Credentials),
          );
        },
      },
      read: {
        params: schemaRef('api/connectors/connector-read-params'),
        handler(ctx: Context<WithSettings<ConnectorReadParams>>): Promise<ReadPage> {
          const { config, credentials, stream, cursor, continuation, pageSize } = ctx.params;
          return guarded(config, credentials, async () => {
            const connection = { config: config as Config, credentials: credentials as Credentials };
            const pages = connector.read(connection, stream, cursor ?? null, {
              continuation,
              pageSize,
            });
            for await (const page of pages) return page; // one page per call; `return` closes the reader
            return { records: [], nextCursor: cursor ?? null, continuation: null };
          });
        },
      },
      write: {
        params: schemaRef('api/connectors/connector-write-params'),
        handler(ctx: Context<WithSettings<ConnectorWriteParams>>): Promise<WriteResult> {
          const { config, credentials, operation, input, idempotencyKey } = ctx.params;
          return guarded(config, credentials, () =>
            connector.write(
              { config: config as Config, credentials: credentials as Credentials },
              operation,
              input,
              {
                idempotencyKey,
              },
            ),
          );
        },
      },
    },
    async stopped() {
      await connector.close?.();
    },
  };
}

/**
 * The caller's side of a connector service: the same verbs, taxonomy errors restored, and `read`
 * as an async iterable of pages fetched one action call at a time.
 */
export class ConnectorServiceClient {
  private readonly broker: ServiceBroker;
  private readonly service: string;
  private readonly config: Record<string, unknown>;
  private readonly credentials: Record<string, unknown>;

  constructor(
    broker: ServiceBroker,
    connectorId: string,
    connection: { config: Record<string, unknown>; credentials: Record<string, unknown> },
  ) {
    this.broker = broker;
    this.service = connectorServiceName(connectorId);
    this.config = connection.config;
    this.credentials = connection.credentials;
  }

  check(): Promise<CheckResult> {
    return this.call('check', {});
  }

  async *read(
    stream: string,
    cursor: string | null,
    options: { pageSize?: number } = {},
  ): AsyncIterable<ReadPage> {
    let continuation: string | null = null;
    do {
      const page: ReadPage = await this.call('read', { stream, cursor, continuation, ...options });
      yield page;
      continuation = page.continuation;
    } while (continuation !== null);
  }

  write(operation: string, input: Record<string, unknown>, idempotencyKey: string): Promise<WriteResult> {
    return this.call('write', { operation, input, idempotencyKey });
  }

  private async call<T>(action: string, params: Record<string, unknown>): Promise<T> {
    try {
      return (await this.broker.call(`${this.service}.${action}`, {
        config: this.config,
        credentials: this.credentials,
        ...params,
      })) as T;
    } catch (error) {
      throw fromMoleculerError(error) ?? error;
    }
  }
}
