import path from 'node:path';
import type { MigrationSet } from './database/migrations.ts';

/** Platform tables (outbox, idempotency, audit): applied by every process, before any domain's. */
export const platformMigrations: MigrationSet = {
  domain: 'platform',
  directory: path.join(import.meta.dirname, 'migrations'),
};
