import { applyMigrations } from '../database/migrations.ts';
import { platformMigrations } from '../migrations.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-servers.ts';
import { readAudit, recordAudit } from './audit-log.ts';

let t: TestDatabase;
const companyA = '00000000-0000-4000-8000-00000000000a';
const companyB = '00000000-0000-4000-8000-00000000000b';

beforeAll(async () => {
  t = await createTestDatabase();
  await applyMigrations(t.db, [platformMigrations]);
});
afterAll(async () => {
  await t.drop();
});

test('records who did what, when, from where, including staff acting for a buyer', async () => {
  await recordAudit(
    t.db,
    {
      kind: 'buyer',
      principalId: 'buyer-1',
      companyId: companyA,
      permissions: [],
      onBehalfOf: { staffUserId: 'staff-9' },
    },
    { requestId: 'req-1', sourceIp: '10.1.2.3', userAgent: 'jest' },
    { action: 'order.placed', entityType: 'order', entityId: 'o-1', details: { total: '100' } },
  );
  const [entry] = await readAudit(t.db, { companyId: companyA, limit: 10 });
  expect(entry).toMatchObject({
    actorKind: 'buyer',
    actorId: 'buyer-1',
    onBehalfOf: 'staff-9',
    companyId: companyA,
    action: 'order.placed',
    entityId: 'o-1',
    requestId: 'req-1',
    sourceIp: '10.1.2.3',
    details: { total: '100' },
  });
  expect(Date.now() - Date.parse(entry!.occurredAt)).toBeLessThan(60_000);
});

test('reads are scoped to one company when asked', async () => {
  await recordAudit(t.db, undefined, {}, { action: 'x.happened', companyId: companyB });
  const a = await readAudit(t.db, { companyId: companyA, limit: 50 });
  expect(a.every((e) => e.companyId === companyA)).toBe(true);
  expect((await readAudit(t.db, { companyId: companyB, limit: 50 })).map((e) => e.action)).toEqual([
    'x.happened',
  ]);
});

test('the log is append-only: update, delete and truncate are refused', async () => {
  await expect(t.db.query(`UPDATE platform.audit_log SET action = 'forged'`)).rejects.toThrow(/append-only/);
  await expect(t.db.query('DELETE FROM platform.audit_log')).rejects.toThrow(/append-only/);
  await expect(t.db.query('TRUNCATE platform.audit_log')).rejects.toThrow(/append-only/);
  const { rows } = await t.db.query(
    `SELECT count(*)::int AS n FROM platform.audit_log WHERE action = 'forged'`,
  );
  expect(rows[0]!.n).toBe(0);
});

test('an audit record written in a rolled-back transaction disappears with the change', async () => {
  await expect(
    t.db.transaction(async (tx) => {
      await recordAudit(tx, undefined, {}, { action: 'rolled.back', companyId: companyA });
      throw new Error('business rule failed');
    }),
  ).rejects.toThrow('business rule failed');
  expect(
    (await readAudit(t.db, { companyId: companyA, limit: 50 })).some((e) => e.action === 'rolled.back'),
  ).toBe(false);
});
