import type { ServiceSchema } from 'moleculer';
import type { MigrationSet } from './database/migrations.ts';
import type { RouteSpec } from './http/route-spec.ts';
import type { Platform } from './platform.ts';

/**
 * One deployable service of the hub (a domain, the gateway, a platform worker). `name` is what
 * HUB_SERVICES lists; a process runs the modules named there and finds the rest over the mesh.
 * Migrations belong to the module that owns the tables and are applied by every process that
 * starts it (the advisory lock makes that safe).
 */
export interface HubModule {
  name: string;
  description: string;
  migrations?: MigrationSet;
  /** REST operations this module serves through the gateway (and documents in OpenAPI). */
  routes?: RouteSpec[];
  service(platform: Platform): ServiceSchema;
}
