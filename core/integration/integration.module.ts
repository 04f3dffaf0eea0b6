import path from 'node:path';
import type { Context, ServiceSchema } from 'moleculer';
import type { HubModule } from '../platform/hub-module.ts';
import { PermanentFailure } from '../platform/jobs/job-error-taxonomy.ts';
import type { PublishedOutboxEvent } from '../platform/outbox/outbox-relay.ts';
import type { Platform } from '../platform/platform.ts';
import { SecretBox } from '../platform/secrets/secret-box.ts';
import { ConnectionLimits } from './connection-limits.ts';
import { ConnectorRegistry, type InstalledConnector, type WebhookVerifier } from './connector-registry.ts';
import { InboundSync, type PullJob, type ReplayRecordJob } from './inbound-sync.ts';
import { INTEGRATION_ROUTES, integrationActions } from './integration.actions.ts';
import { MappingFiles } from './mapping-files.ts';
import { type PushJob, queueOf, SyncEngine } from './sync-engine.ts';
import { processWebhook, type WebhookJob, webhookActions, webhookRoutes } from './webhooks.ts';

const MIGRATIONS = { domain: 'integration', directory: path.join(import.meta.dirname, 'migrations') };

export interface IntegrationOptions {
  /** The connectors installed in this deployment (manifest and config schema of each). */
  connectors: readonly InstalledConnector[];
  /** Webhook signature checks, by connector id. */
  webhookVerifiers?: Record<string, WebhookVerifier>;
  /** Where mapping files live (default the repository's `mappings/`). */
  mappingsDirectory?: string;
  /** How often due inbound runs are enqueued (default 5 s; 0 = never, tests run pulls by hand). */
  scheduleEveryMs?: number;
  /** Sync jobs one worker runs at once per connector and direction (default 4). */
  workerConcurrency?: number;
}

/**
 * Integration (core/integration, PostgreSQL schema `integration`): connections, links, the sync
 * engine (outbound pushes on hub events, inbound pulls with cursors, failed items and replay)
 * and webhook intake. Connectors run as their own services (`connectors.<id>`), called over the mesh.
 */
export function createIntegrationModule(options: IntegrationOptions): HubModule {
  const registry = new ConnectorRegistry(options.connectors, options.webhookVerifiers);
  return {
    name: 'integration',
    description:
      'Connections to remote systems (credentials encrypted), links, sync jobs with retries by error class, failed items and replay, webhook intake',
    migrations: MIGRATIONS,
    routes: [...INTEGRATION_ROUTES, ...webhookRoutes(registry)],
    service(platform: Platform): ServiceSchema {
      const box = new SecretBox(platform.config.masterKey);
      let broker: Context['broker'] | undefined;
      const mappings = new MappingFiles(options.mappingsDirectory);
      const limits = new ConnectionLimits();
      const brokerOf = () => {
        if (!broker) throw new Error('the integration service has not started');
        return broker;
      };
      const engine = new SyncEngine({ platform, box, mappings, limits, broker: brokerOf });
      const inbound = new InboundSync({ db: platform.db, box, registry, mappings, limits, broker: brokerOf });
      let scheduler: NodeJS.Timeout | undefined;
      const onEvent = {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          await engine.onEvent(ctx.params);
        },
      };
      return {
        name: 'integration',
        actions: {
          ...integrationActions({ platform, box, registry, engine }),
          ...webhookActions({ platform, box, registry }),
        },
        events: {
          'order.confirmed': onEvent,
          'order.cancelled': onEvent,
        },
        async started() {
          broker = this.broker;
          const concurrency = options.workerConcurrency ?? 4;
          for (const connectorId of registry.ids()) {
            await platform.jobs.process<PushJob>(
              queueOf(connectorId, 'outbound'),
              (job) => engine.push(job),
              { concurrency },
            );
            await platform.jobs.process<WebhookJob | PullJob | ReplayRecordJob>(
              queueOf(connectorId, 'inbound'),
              async (job) => {
                if (job.name === 'pull') {
                  try {
                    return await inbound.pull({ data: job.data as PullJob });
                  } catch (error) {
                    throw await engine.keepFailedPull(error, job.attemptsMade, job.data as PullJob);
                  }
                }
                if (job.name === 'process-webhook') return processWebhook(platform, job.data as WebhookJob);
                if (job.name === 'apply-record')
                  return inbound.applyRecord({ data: job.data as ReplayRecordJob });
                throw new PermanentFailure(`no handler for ${job.name}`);
              },
              { concurrency },
            );
          }
          const everyMs = options.scheduleEveryMs ?? 5_000;
          if (everyMs > 0) {
            scheduler = setInterval(() => {
              engine
                .schedulePulls()
                .catch((error: unknown) => platform.logger.warn({ err: error }, 'sync scheduling failed'));
            }, everyMs);
            scheduler.unref();
          }
        },
        async stopped() {
          if (scheduler) clearInterval(scheduler);
        },
      };
    },
  };
}
