import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Database } from '../database/database.ts';

/**
 * The real servers the test suite runs against (this machine kind starts them on their standard
 * loopback ports). Override with TEST_DATABASE_URL / TEST_REDIS_URL / TEST_NATS_URL.
 */
export const testServers = {
  postgres: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redis: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  nats: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
};

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  db: Database;
  drop(): Promise<void>;
}

/** A fresh, empty PostgreSQL database per test file, so suites can run in parallel. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName('hub_test');
  const admin = new pg.Client({ connectionString: testServers.postgres });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testServers.postgres);
  url.pathname = `/${name}`;
  const db = new Database(url.toString());
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.close();
      const dropper = new pg.Client({ connectionString: testServers.postgres });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/** Deletes every Redis key under `prefix:` (what a test's BullMQ queues left behind). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(testServers.redis);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
