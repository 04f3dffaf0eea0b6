import { createKingdeeConnector } from '../connectors/kingdee/kingdee-connector.ts';
import { connectorModule } from '../connectors/sdk/connector-module.ts';
import { accountsModule } from './accounts/accounts.module.ts';
import { approvalsModule } from './approvals/approvals.module.ts';
import { cartsModule } from './carts/carts.module.ts';
import { catalogModule } from './catalog/catalog.module.ts';
import { catalogSearchModule } from './catalog/search/catalog-search.module.ts';
import { contractsModule } from './contracts/contracts.module.ts';
import { creditModule, paymentsModule, receivablesModule } from './credit/credit.module.ts';
import { flowsModule } from './flows/flows.module.ts';
import { createGatewayModule } from './gateway/gateway.module.ts';
import { createIntegrationModule } from './integration/integration.module.ts';
import { inventoryModule } from './inventory/inventory.module.ts';
import { ordersModule } from './orders/orders.module.ts';
import type { HubModule } from './platform/hub-module.ts';
import { jobsModule } from './platform/jobs/jobs.module.ts';
import { outboxModule } from './platform/outbox/outbox.module.ts';
import { pricingModule } from './pricing/pricing.module.ts';
import { quotesModule } from './quotes/quotes.module.ts';
import { spendingModule } from './spending/spending.module.ts';
import { workflowsModule } from './workflows/workflows.module.ts';

const kingdee = createKingdeeConnector();

/** Domain and platform services, by the names HUB_SERVICES uses. Adding a domain = adding it here. */
const serviceModules: readonly HubModule[] = [
  accountsModule,
  approvalsModule,
  spendingModule,
  catalogModule,
  catalogSearchModule,
  pricingModule,
  cartsModule,
  quotesModule,
  creditModule,
  receivablesModule,
  paymentsModule,
  inventoryModule,
  ordersModule,
  contractsModule,
  workflowsModule,
  flowsModule,
  jobsModule,
  outboxModule,
  connectorModule(kingdee),
  createIntegrationModule({ connectors: [kingdee] }),
];

/**
 * Everything a hub process can run. The gateway is built from the full list: it serves every
 * module's routes, calling across the mesh when the module runs elsewhere. Migrations are applied
 * in this order, after the platform's own.
 */
export const hubModules: readonly HubModule[] = [...serviceModules, createGatewayModule(serviceModules)];
