import moleculer from 'moleculer';
import { testServers, uniqueName } from '../../../core/platform/testing/test-servers.ts';
import { createSchemaValidator } from '../../../core/platform/validation/schema-validator.ts';
import type { Connector } from '../connector.ts';
import {
  ConnectorServiceClient,
  connectorServiceName,
  createConnectorService,
} from '../connector-service.ts';

export interface ConnectorNodes {
  /** A client on the caller's node for one connection. */
  client(connection: {
    config: Record<string, unknown>;
    credentials: Record<string, unknown>;
  }): ConnectorServiceClient;
  caller: moleculer.ServiceBroker;
  stop(): Promise<void>;
}

/**
 * Two Moleculer nodes on the real NATS server, as in a cluster: one runs the connector's
 * service, the other calls it. Params are checked by the platform's schema validator on both,
 * and errors cross the wire serialised, as they do in production.
 */
export async function startConnectorNodes<Config extends object, Credentials extends object>(
  connector: Connector<Config, Credentials>,
): Promise<ConnectorNodes> {
  const namespace = uniqueName('connector');
  const broker = (nodeID: string) =>
    new moleculer.ServiceBroker({
      namespace,
      nodeID: `${namespace}-${nodeID}`,
      transporter: { type: 'NATS', options: { url: testServers.nats } },
      validator: createSchemaValidator(),
      logger: false,
      requestTimeout: 60_000,
    });
  const connectorNode = broker('connector');
  const caller = broker('caller');
  connectorNode.createService(createConnectorService(connector));
  await Promise.all([connectorNode.start(), caller.start()]);
  await caller.waitForServices(connectorServiceName(connector.manifest.id), 30_000);
  return {
    caller,
    client: (connection) => new ConnectorServiceClient(caller, connector.manifest.id, connection),
    async stop() {
      await caller.stop();
      await connectorNode.stop();
    },
  };
}
