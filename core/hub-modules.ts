import { accountsModule } from './accounts/accounts.module.ts';
import { gatewayModule } from './gateway/gateway.module.ts';
import type { HubModule } from './platform/hub-module.ts';
import { jobsModule } from './platform/jobs/jobs.module.ts';
import { outboxModule } from './platform/outbox/outbox.module.ts';

/**
 * Every service the hub can run, by the name HUB_SERVICES uses. Adding a domain = adding its
 * module here. Order matters only for migrations (applied in this order, platform's first).
 */
export const hubModules: readonly HubModule[] = [accountsModule, jobsModule, outboxModule, gatewayModule];
