import type moleculer from 'moleculer';
import { pino } from 'pino';
import { hubModules } from './hub-modules.ts';
import { createBroker } from './platform/broker/create-broker.ts';
import type { HubConfig } from './platform/config/hub-config.ts';
import {
  ensureNatsReachable,
  ensurePortFree,
  ensurePostgresReachable,
  ensureRedisReachable,
  StartupError,
} from './platform/connectivity/ensure-reachable.ts';
import { Database } from './platform/database/database.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './platform/database/embedded-postgres.ts';
import { type AppliedMigration, applyMigrations } from './platform/database/migrations.ts';
import type { HubModule } from './platform/hub-module.ts';
import { createBullJobQueue } from './platform/jobs/bullmq-job-queue.ts';
import { platformMigrations } from './platform/migrations.ts';
import { startHealthListener } from './platform/observability/health-listener.ts';
import { HubMetrics } from './platform/observability/metrics.ts';
import type { Platform } from './platform/platform.ts';
import { createObjectStore } from './platform/storage/create-object-store.ts';

export interface RunningHub {
  broker: moleculer.ServiceBroker;
  platform: Platform;
  modules: HubModule[];
  /** The database URL in use (the embedded server's loopback URL on the default). */
  databaseUrl: string;
  startedInMs: number;
  stop(): Promise<void>;
}

/** The modules HUB_SERVICES names (all when unset); an unknown name stops start-up. */
export function selectModules(
  names: string[] | undefined,
  available: readonly HubModule[] = hubModules,
): HubModule[] {
  if (!names) return [...available];
  const unknown = names.filter((name) => !available.some((m) => m.name === name));
  if (unknown.length) {
    throw new StartupError(
      `HUB_SERVICES names unknown service(s) ${unknown.join(', ')}; known: ${available.map((m) => m.name).join(', ')}`,
    );
  }
  return available.filter((m) => names.includes(m.name));
}

/** Opens the stores this configuration points at (starting the embedded one if none). */
async function openDatabase(config: HubConfig): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  if (config.databaseUrl) {
    await ensurePostgresReachable(config.databaseUrl, config.connectTimeoutSeconds);
    return { url: config.databaseUrl };
  }
  const embedded = await startEmbeddedPostgres(config.dataDir);
  return { url: embedded.url, embedded };
}

/** Applies platform migrations and those of the given modules. */
export async function migrate(db: Database, modules: readonly HubModule[]): Promise<AppliedMigration[]> {
  return applyMigrations(db, [
    platformMigrations,
    ...modules.flatMap((m) => (m.migrations ? [m.migrations] : [])),
  ]);
}

/**
 * Starts one hub process: checks the configured servers (one clear line if one is down), opens the
 * database (embedded by default), migrates, and starts the selected services on one broker.
 */
export async function startHub(
  config: HubConfig,
  options: { modules?: readonly HubModule[] } = {},
): Promise<RunningHub> {
  const started = performance.now();
  const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
  const modules = selectModules(config.services, options.modules);

  await Promise.all([
    ensurePortFree(config.httpHost, config.httpPort),
    config.redisUrl ? ensureRedisReachable(config.redisUrl, config.connectTimeoutSeconds) : undefined,
    config.natsUrl ? ensureNatsReachable(config.natsUrl, config.connectTimeoutSeconds) : undefined,
  ]);
  const { url: databaseUrl, embedded } = await openDatabase(config);
  const db = new Database(databaseUrl, { max: embedded ? 8 : 20 });
  // Queues belong to the mesh namespace: hubs sharing a Redis but not a namespace (other
  // deployments, parallel test hubs) never take each other's jobs. The default namespace keeps `hub`.
  const jobs = createBullJobQueue({
    redisUrl: config.redisUrl,
    databaseUrl,
    logger,
    prefix: config.namespace,
  });
  const metrics = new HubMetrics();
  const storage = createObjectStore(config.storageUrl, config.dataDir);
  const stopStores = async () => {
    await storage.close().catch(() => {});
    await jobs.close().catch(() => {});
    await db.close().catch(() => {});
    await embedded?.stop().catch(() => {});
  };

  let broker: moleculer.ServiceBroker;
  try {
    const applied = await migrate(db, modules);
    if (applied.length)
      logger.info(
        { applied: applied.map((m) => `${m.domain}/${m.version}_${m.name}`) },
        'migrations applied',
      );
    const platform: Platform = { config, db, jobs, logger, metrics, storage };
    broker = createBroker(config, [metrics.actionMiddleware()]);
    for (const module of modules) broker.createService(module.service(platform) as moleculer.ServiceSchema);
    await broker.start();
    // A process without the gateway still answers /health/* and /metrics (on PORT).
    const healthListener = modules.some((m) => m.name === 'gateway')
      ? undefined
      : await startHealthListener(platform, broker, { host: config.httpHost, port: config.httpPort });
    const startedInMs = Math.round(performance.now() - started);
    logger.info(
      {
        services: modules.map((m) => m.name),
        embedded: Boolean(embedded),
        nodeId: broker.nodeID,
        startedInMs,
      },
      'hub ready',
    );
    return {
      broker,
      platform,
      modules,
      databaseUrl,
      startedInMs,
      async stop() {
        healthListener?.close();
        await broker.stop();
        await stopStores();
      },
    };
  } catch (error) {
    await stopStores();
    throw error;
  }
}
