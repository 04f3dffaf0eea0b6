import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../testing/test-servers.ts';
import { applyMigrations, type MigrationSet } from './migrations.ts';

let test_: TestDatabase;
beforeEach(async () => {
  test_ = await createTestDatabase();
});
afterEach(async () => {
  await test_.drop();
});

function migrationDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
  return dir;
}

test('applies pending migrations in version order once, per domain', async () => {
  const sales: MigrationSet = {
    domain: 'sales',
    directory: migrationDir({
      '0002_add_total.sql': 'ALTER TABLE sales.orders ADD COLUMN total bigint NOT NULL DEFAULT 0;',
      '0001_create_orders.sql': 'CREATE SCHEMA sales; CREATE TABLE sales.orders (id int PRIMARY KEY);',
    }),
  };
  const first = await applyMigrations(test_.db, [sales]);
  expect(first.map((m) => `${m.version}_${m.name}`)).toEqual(['1_create_orders', '2_add_total']);
  expect(await applyMigrations(test_.db, [sales])).toEqual([]);
  const { rows } = await test_.db.query(
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'`,
  );
  expect(rows.map((r) => r.column_name).sort()).toEqual(['id', 'total']);
});

test('a failing migration rolls back alone and names itself', async () => {
  const set: MigrationSet = {
    domain: 'broken',
    directory: migrationDir({
      '0001_ok.sql': 'CREATE SCHEMA broken; CREATE TABLE broken.a (id int);',
      '0002_bad.sql': 'CREATE TABLE broken.b (id int); SELECT no_such_function();',
    }),
  };
  await expect(applyMigrations(test_.db, [set])).rejects.toThrow(/broken migration 2 \(bad\) failed/);
  const { rows } = await test_.db.query(`SELECT to_regclass('broken.a') AS a, to_regclass('broken.b') AS b`);
  expect(rows[0]).toEqual({ a: 'broken.a', b: null });
});

test('an applied migration that was edited afterwards is refused', async () => {
  const dir = migrationDir({ '0001_create.sql': 'CREATE SCHEMA edited;' });
  await applyMigrations(test_.db, [{ domain: 'edited', directory: dir }]);
  writeFileSync(path.join(dir, '0001_create.sql'), 'CREATE SCHEMA edited; CREATE TABLE edited.x (id int);');
  await expect(applyMigrations(test_.db, [{ domain: 'edited', directory: dir }])).rejects.toThrow(
    /changed after it was applied/,
  );
});

test('badly named files are refused before anything runs', async () => {
  const dir = migrationDir({ 'create.sql': 'CREATE SCHEMA nope;' });
  await expect(applyMigrations(test_.db, [{ domain: 'nope', directory: dir }])).rejects.toThrow(
    /NNNN_snake_case/,
  );
});

test('two processes migrating at once apply each migration exactly once', async () => {
  const set: MigrationSet = {
    domain: 'race',
    directory: migrationDir({
      '0001_create.sql': 'CREATE SCHEMA race; CREATE TABLE race.t (id int); SELECT pg_sleep(0.2);',
      '0002_insert.sql': 'INSERT INTO race.t VALUES (1);',
    }),
  };
  const [a, b] = await Promise.all([applyMigrations(test_.db, [set]), applyMigrations(test_.db, [set])]);
  expect(a.length + b.length).toBe(2);
  const { rows } = await test_.db.query('SELECT count(*)::int AS n FROM race.t');
  expect(rows[0]!.n).toBe(1);
});
