import type { Database } from '../platform/database/database.ts';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { sleep, waitFor } from '../platform/testing/wait-for.ts';
import { DEMO_BUYER } from './demo-data.ts';
import { createUnit, deleteUnit, isWithin, moveUnit, rootUnit } from './units.ts';

/**
 * Tree changes racing each other on the real PostgreSQL, interleaved deterministically: one
 * transaction is held open at the interesting moment while the other runs.
 */

let t: TestHub;
let db: Database;
let companyId: string;
let rootId: string;

/** A transaction that does `work`, then stays open until released; `rollback` undoes it. */
function heldTransaction(work: (tx: Database) => Promise<unknown>, outcome: 'commit' | 'rollback') {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let ready!: () => void;
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const done = db
    .transaction(async (tx) => {
      await work(tx as Database);
      ready();
      await gate;
      if (outcome === 'rollback') throw new Error('rolled back on purpose');
    })
    .catch((error: Error) => {
      if (error.message !== 'rolled back on purpose') throw error;
    });
  return { started, release, done };
}

/** Some statement of this database is waiting for a lock. */
async function someoneWaitsForALock(): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]!.n > 0;
}

async function brokenPaths(): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT u.id FROM accounts.units u LEFT JOIN accounts.units p ON p.id = u.parent_id
      WHERE u.company_id = $1
        AND ((u.parent_id IS NULL AND u.path <> ARRAY[u.id]) OR (u.parent_id IS NOT NULL AND u.path <> p.path || u.id))`,
    [companyId],
  );
  return rows.map((r) => r.id as string);
}

beforeAll(async () => {
  t = await startTestHub();
  db = t.hub.platform.db;
  const token = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  companyId = (await http(t.baseUrl, 'GET', '/api/me', { token })).body.companyId;
  rootId = (await rootUnit(db, companyId)).id;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

test('isWithin: a unit is within itself and its ancestors, not its descendants or siblings', () => {
  const unit = { path: ['r', 'a', 'b'] };
  expect(isWithin(unit, 'r')).toBe(true);
  expect(isWithin(unit, 'b')).toBe(true);
  expect(isWithin(unit, 'c')).toBe(false);
  expect(isWithin({ path: ['r', 'a'] }, 'b')).toBe(false);
});

test('a unit created under a subtree while the subtree moves ends up with the moved path', async () => {
  const top = await db.transaction((tx) => createUnit(tx, companyId, { parentId: rootId, name: 'Race top' }));
  const mid = await db.transaction((tx) => createUnit(tx, companyId, { parentId: top.id, name: 'Race mid' }));
  const target = await db.transaction((tx) =>
    createUnit(tx, companyId, { parentId: rootId, name: 'Race target' }),
  );

  // A lock on the company row makes the create below stop between reading its parent's path and
  // inserting (its foreign-key check on the company waits): the window in which a move can change
  // that path.
  const blocker = heldTransaction(
    (tx) => tx.query('SELECT 1 FROM accounts.companies WHERE id = $1 FOR UPDATE', [companyId]),
    'commit',
  );
  await blocker.started;
  const creating = db.transaction((tx) => createUnit(tx, companyId, { parentId: mid.id, name: 'Race leaf' }));
  await waitFor(someoneWaitsForALock, 'the create to wait on the blocker');
  const moving = db.transaction((tx) => moveUnit(tx, companyId, top.id, target.id));
  // Give the move every chance to slip through before the create finishes.
  await Promise.race([moving, sleep(300)]);
  blocker.release();
  await blocker.done;
  const [leaf, moved] = await Promise.all([creating, moving]);
  expect(moved.path).toEqual([rootId, target.id, top.id]);
  const { rows } = await db.query('SELECT path FROM accounts.units WHERE id = $1', [leaf.id]);
  expect(rows[0]!.path).toEqual([rootId, target.id, top.id, mid.id, leaf.id]);
  expect(await brokenPaths()).toEqual([]);
});

test('a unit deleted while a child is being created under it: one of them is refused, cleanly', async () => {
  const doomed = await db.transaction((tx) =>
    createUnit(tx, companyId, { parentId: rootId, name: 'Doomed' }),
  );
  const deleting = heldTransaction((tx) => deleteUnit(tx, companyId, doomed.id), 'commit');
  await deleting.started;
  const creating = db
    .transaction((tx) => createUnit(tx, companyId, { parentId: doomed.id, name: 'Orphan' }))
    .then(
      () => 'created',
      (error: { code?: unknown }) => error.code,
    );
  await Promise.race([creating, sleep(300)]);
  deleting.release();
  await deleting.done;
  // The create waited for the delete and then found no parent: 404, not a foreign-key 500.
  expect(await creating).toBe(404);
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM accounts.units WHERE name = 'Orphan'`);
  expect(rows[0]!.n).toBe(0);
});

test.each(['create', 'move'])(
  'a user placed (%s) in a unit while it is deleted gets 422 unit-out-of-reach, not a 500',
  async (how) => {
    const token = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
    const existing = await http(t.baseUrl, 'POST', '/api/users', {
      token,
      body: { email: `mover-${how}@acme.example`, displayName: 'Mover', password: 'mover-password-1' },
    });
    expect(existing.status).toBe(201);
    const doomed = await db.transaction((tx) =>
      createUnit(tx, companyId, { parentId: rootId, name: `Doomed ${how}` }),
    );
    const deleting = heldTransaction((tx) => deleteUnit(tx, companyId, doomed.id), 'commit');
    await deleting.started;
    const placing =
      how === 'create'
        ? http(t.baseUrl, 'POST', '/api/users', {
            token,
            body: {
              email: 'late@acme.example',
              displayName: 'Late',
              password: 'late-password-1',
              unitId: doomed.id,
            },
          })
        : http(t.baseUrl, 'PATCH', `/api/users/${existing.body.user.id}`, {
            token,
            body: { unitId: doomed.id },
          });
    await waitFor(someoneWaitsForALock, 'the user write to wait on the delete');
    deleting.release();
    await deleting.done;
    const answer = await placing;
    expect(answer.status).toBe(422);
    expect(answer.body.type).toBe('https://hub.local/problems/unit-out-of-reach');
    const { rows } = await db.query('SELECT unit_id FROM accounts.users WHERE id = $1', [
      existing.body.user.id,
    ]);
    expect(rows[0]!.unit_id).toBe(rootId);
  },
);
