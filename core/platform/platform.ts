import type { Logger } from 'pino';
import type { HubConfig } from './config/hub-config.ts';
import type { Database } from './database/database.ts';
import type { JobQueue } from './jobs/job-queue.ts';
import type { HubMetrics } from './observability/metrics.ts';
import type { ObjectStore } from './storage/object-store.ts';

/**
 * The platform services a domain module is built with. Created once per process by `core/hub.ts`
 * and handed to every module's service factory; modules never open their own connections.
 */
export interface Platform {
  config: HubConfig;
  db: Database;
  jobs: JobQueue;
  logger: Logger;
  metrics: HubMetrics;
  /** Where files live (uploads, media, documents, reports). */
  storage: ObjectStore;
}
