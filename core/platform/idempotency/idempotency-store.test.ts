import { applyMigrations } from '../database/migrations.ts';
import { platformMigrations } from '../migrations.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-servers.ts';
import { IdempotencyStore, requestFingerprint } from './idempotency-store.ts';

let t: TestDatabase;
let store: IdempotencyStore;

beforeAll(async () => {
  t = await createTestDatabase();
  await applyMigrations(t.db, [platformMigrations]);
  store = new IdempotencyStore(t.db);
});
afterAll(async () => {
  await t.drop();
});

test('fingerprints ignore key order but not values, method or path', () => {
  const base = requestFingerprint('POST', '/api/x', { a: 1, b: { c: [1, 2] } });
  expect(requestFingerprint('POST', '/api/x', { b: { c: [1, 2] }, a: 1 })).toBe(base);
  expect(requestFingerprint('POST', '/api/x', { a: 1, b: { c: [2, 1] } })).not.toBe(base);
  expect(requestFingerprint('POST', '/api/y', { a: 1, b: { c: [1, 2] } })).not.toBe(base);
});

test('first claim proceeds, a concurrent repeat is in progress, a completed one replays', async () => {
  const fp = requestFingerprint('POST', '/api/x', { n: 1 });
  expect(await store.claim('buyer:u1', 'k1', 'POST', '/api/x', fp)).toEqual({ outcome: 'proceed' });
  expect(await store.claim('buyer:u1', 'k1', 'POST', '/api/x', fp)).toEqual({ outcome: 'in_progress' });
  await store.complete('buyer:u1', 'k1', {
    statusCode: 201,
    headers: { 'content-type': 'application/json' },
    body: { id: 7 },
  });
  expect(await store.claim('buyer:u1', 'k1', 'POST', '/api/x', fp)).toEqual({
    outcome: 'replay',
    response: { statusCode: 201, headers: { 'content-type': 'application/json' }, body: { id: 7 } },
  });
});

test('the same key with another body is a mismatch; another caller may reuse the key', async () => {
  const fp = requestFingerprint('POST', '/api/x', { n: 1 });
  await store.claim('buyer:u2', 'k2', 'POST', '/api/x', fp);
  expect(
    await store.claim('buyer:u2', 'k2', 'POST', '/api/x', requestFingerprint('POST', '/api/x', { n: 2 })),
  ).toEqual({
    outcome: 'mismatch',
  });
  expect(await store.claim('buyer:u3', 'k2', 'POST', '/api/x', fp)).toEqual({ outcome: 'proceed' });
});

test('a released key (server error) can be claimed again', async () => {
  const fp = requestFingerprint('POST', '/api/x', {});
  await store.claim('staff:s1', 'k3', 'POST', '/api/x', fp);
  await store.release('staff:s1', 'k3');
  expect(await store.claim('staff:s1', 'k3', 'POST', '/api/x', fp)).toEqual({ outcome: 'proceed' });
});

test('twenty simultaneous first claims let exactly one proceed', async () => {
  const fp = requestFingerprint('POST', '/api/x', { race: true });
  const outcomes = await Promise.all(
    Array.from({ length: 20 }, () => store.claim('buyer:racer', 'k4', 'POST', '/api/x', fp)),
  );
  expect(outcomes.filter((o) => o.outcome === 'proceed')).toHaveLength(1);
  expect(outcomes.filter((o) => o.outcome === 'in_progress')).toHaveLength(19);
});
