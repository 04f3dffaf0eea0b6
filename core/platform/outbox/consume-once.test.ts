import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { applyMigrations } from '../database/migrations.ts';
import { platformMigrations } from '../migrations.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-servers.ts';
import { consumeOnce } from './consume-once.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await applyMigrations(database.db, [platformMigrations]);
});

afterAll(async () => {
  await database.drop();
});

it('is true the first time a consumer sees an event id and false afterwards, per consumer', async () => {
  const { db } = database;
  expect(await db.transaction((tx) => consumeOnce(tx, 'invoices.on-order-shipped', 41n))).toBe(true);
  expect(await db.transaction((tx) => consumeOnce(tx, 'invoices.on-order-shipped', '41'))).toBe(false);
  expect(await db.transaction((tx) => consumeOnce(tx, 'analytics.on-order-shipped', '41'))).toBe(true);
  expect(await db.transaction((tx) => consumeOnce(tx, 'invoices.on-order-shipped', 42n))).toBe(true);
});

it('forgets the mark when the effect rolls back, so the redelivery does the work', async () => {
  const { db } = database;
  await expect(
    db.transaction(async (tx) => {
      expect(await consumeOnce(tx, 'erp.on-order-placed', 7n)).toBe(true);
      throw new Error('effect failed');
    }),
  ).rejects.toThrow('effect failed');
  expect(await db.transaction((tx) => consumeOnce(tx, 'erp.on-order-placed', 7n))).toBe(true);
});

it('lets exactly one of two concurrent deliveries act', async () => {
  const { db } = database;
  const results = await Promise.all(
    Array.from({ length: 4 }, () =>
      db.transaction(async (tx) => {
        const first = await consumeOnce(tx, 'race', 99n);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return first;
      }),
    ),
  );
  expect(results.filter(Boolean)).toHaveLength(1);
});

it('refuses a consumer name that could not be told apart in logs', async () => {
  await expect(database.db.transaction((tx) => consumeOnce(tx, '', 1n))).rejects.toThrow(/Consumer name/);
});
