import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from './database.ts';

/** One domain's migrations: numbered `.sql` files (`0001_create_outbox.sql`, ...) in `directory`. */
export interface MigrationSet {
  domain: string;
  directory: string;
}

export interface AppliedMigration {
  domain: string;
  version: number;
  name: string;
}

interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export class MigrationError extends Error {}

function readMigrationFiles(set: MigrationSet): MigrationFile[] {
  const files = readdirSync(set.directory)
    .filter((file) => file.endsWith('.sql'))
    .sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const match = FILE_PATTERN.exec(file);
    if (!match)
      throw new MigrationError(`${set.domain}: migration file ${file} must be named NNNN_snake_case.sql`);
    const version = Number(match[1]);
    if (seen.has(version)) throw new MigrationError(`${set.domain}: two migrations numbered ${match[1]}`);
    seen.add(version);
    const sql = readFileSync(path.join(set.directory, file), 'utf8');
    return { version, name: match[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/**
 * Applies every pending migration of every domain, each file in its own transaction, in version
 * order per domain. Concurrent starters are serialised by an advisory lock, so two processes
 * starting at once apply each migration exactly once. An applied file that was edited afterwards
 * is refused: migrations are append-only.
 */
export async function applyMigrations(db: Database, sets: MigrationSet[]): Promise<AppliedMigration[]> {
  const applied: AppliedMigration[] = [];
  const client = await db.pool.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('hub:migrations'))`);
    await client.query('CREATE SCHEMA IF NOT EXISTS platform');
    await client.query(`CREATE TABLE IF NOT EXISTS platform.schema_migrations (
      domain text NOT NULL,
      version integer NOT NULL,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (domain, version)
    )`);
    for (const set of sets) {
      const { rows } = await client.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM platform.schema_migrations WHERE domain = $1',
        [set.domain],
      );
      const done = new Map(rows.map((row) => [row.version, row.checksum]));
      for (const file of readMigrationFiles(set)) {
        const checksum = done.get(file.version);
        if (checksum !== undefined) {
          if (checksum !== file.checksum) {
            throw new MigrationError(
              `${set.domain} migration ${file.version} (${file.name}) was changed after it was applied; add a new migration instead`,
            );
          }
          continue;
        }
        try {
          await client.query('BEGIN');
          await client.query(file.sql);
          await client.query(
            'INSERT INTO platform.schema_migrations (domain, version, name, checksum) VALUES ($1, $2, $3, $4)',
            [set.domain, file.version, file.name, file.checksum],
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw new MigrationError(
            `${set.domain} migration ${file.version} (${file.name}) failed: ${(error as Error).message}`,
          );
        }
        applied.push({ domain: set.domain, version: file.version, name: file.name });
      }
    }
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext('hub:migrations'))`).catch(() => {});
    client.release();
  }
  return applied;
}
