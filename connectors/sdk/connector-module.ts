import type { HubModule } from '../../core/platform/hub-module.ts';
import type { Connector } from './connector.ts';
import { connectorServiceName, createConnectorService } from './connector-service.ts';

/**
 * A connector as a hub module, so a process can run it alone: `HUB_SERVICES=connectors.kingdee`.
 * It owns no tables and no routes; callers reach it through its actions on the mesh.
 */
export function connectorModule<Config extends object, Credentials extends object>(
  connector: Connector<Config, Credentials>,
): HubModule {
  return {
    name: connectorServiceName(connector.manifest.id),
    description: `${connector.manifest.displayName} connector: check, read and write actions`,
    service: () => createConnectorService(connector),
  };
}
