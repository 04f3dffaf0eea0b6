import { randomUUID } from 'node:crypto';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_BUYER, DEMO_STAFF } from './demo-data.ts';

/**
 * The mesh-only actions other domains call (approvals, spending): a buyer's org context and the
 * approvers a rule resolves to. Called through the broker, as those domains do; unreachable over
 * HTTP whatever the URL.
 */

let t: TestHub;
let admin: string;
let staff: string;
let adminId: string;
let companyId: string;
let rootId: string;
let otherCompanyId: string;
let otherAdminId: string;

const call = <T>(action: string, params: unknown) => t.hub.broker.call(action, params) as Promise<T>;
const approvers = async (params: Record<string, unknown>) =>
  (await call<{ userIds: string[] }>('accounts.internal.resolveApprovers', params)).userIds;

async function createUnit(parentId: string, name: string, managerUserId?: string): Promise<string> {
  const answer = await http(t.baseUrl, 'POST', '/api/units', {
    token: admin,
    body: { parentId, name, ...(managerUserId ? { managerUserId } : {}) },
  });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

async function setManager(unitId: string, managerUserId: string | null) {
  const answer = await http(t.baseUrl, 'PATCH', `/api/units/${unitId}`, {
    token: admin,
    body: { managerUserId },
  });
  expect(answer.status).toBe(200);
}

async function newUser(unitId: string, roles: string[] = ['purchaser']): Promise<string> {
  const email = `i-${randomUUID().slice(0, 8)}@acme.example`;
  const answer = await http(t.baseUrl, 'POST', '/api/users', {
    token: admin,
    body: { email, displayName: email, password: 'internal-password', roles, unitId },
  });
  expect(answer.status).toBe(201);
  return answer.body.user.id;
}

const sorted = (ids: string[]) => [...ids].sort();

beforeAll(async () => {
  t = await startTestHub();
  admin = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  const me = (await http(t.baseUrl, 'GET', '/api/me', { token: admin })).body;
  adminId = me.id;
  companyId = me.companyId;
  rootId = me.unitId;
  const other = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: {
      name: 'Internal Other Co',
      status: 'active',
      admin: { email: 'admin@internal-other.example', displayName: 'O', password: 'other-password-1' },
    },
  });
  otherCompanyId = other.body.id;
  const otherToken = await logInAs(t.baseUrl, 'admin@internal-other.example', 'other-password-1');
  otherAdminId = (await http(t.baseUrl, 'GET', '/api/me', { token: otherToken })).body.id;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('accounts.internal.companyContext', () => {
  test('answers name, status, tier and tags of any company; null for unknown ids', async () => {
    await t.hub.platform.db.query(
      `UPDATE accounts.companies SET tier = 'gold', tags = '{vip,east}' WHERE id = $1`,
      [otherCompanyId],
    );
    expect(await call('accounts.internal.companyContext', { companyId: otherCompanyId })).toEqual({
      companyId: otherCompanyId,
      name: 'Internal Other Co',
      status: 'active',
      tier: 'gold',
      tags: ['vip', 'east'],
    });
    expect(await call('accounts.internal.companyContext', { companyId: randomUUID() })).toBeNull();
  });
});

describe('accounts.internal.unitContext', () => {
  test('answers the company and the path from the root, of any company; null for unknown units', async () => {
    const a = await createUnit(rootId, 'Unit ctx A');
    const b = await createUnit(a, 'Unit ctx B');
    expect(await call('accounts.internal.unitContext', { unitId: b })).toEqual({
      unitId: b,
      companyId,
      unitPath: [rootId, a, b],
    });
    expect(await call('accounts.internal.unitContext', { unitId: randomUUID() })).toBeNull();
    const otherRoot = (
      await t.hub.platform.db.query('SELECT id FROM accounts.units WHERE company_id = $1', [otherCompanyId])
    ).rows[0]!.id;
    expect(await call('accounts.internal.unitContext', { unitId: otherRoot })).toMatchObject({
      companyId: otherCompanyId,
      unitPath: [otherRoot],
    });
  });
});

describe('accounts.internal.userContext', () => {
  test('answers the company, unit, unit path from the root down, roles and status of a buyer', async () => {
    const a = await createUnit(rootId, 'Ctx A');
    const b = await createUnit(a, 'Ctx B');
    const user = await newUser(b, ['purchaser', 'approver']);
    expect(await call('accounts.internal.userContext', { userId: user })).toEqual({
      userId: user,
      companyId,
      unitId: b,
      unitPath: [rootId, a, b],
      roles: ['purchaser', 'approver'],
      status: 'active',
    });
    // The path follows a move of an ancestor.
    const c = await createUnit(rootId, 'Ctx C');
    await http(t.baseUrl, 'POST', `/api/units/${a}/move`, { token: admin, body: { parentId: c } });
    expect(
      (await call<{ unitPath: string[] }>('accounts.internal.userContext', { userId: user })).unitPath,
    ).toEqual([rootId, c, a, b]);
  });

  test('null for staff and unknown ids; an unplaced buyer has an empty path; params are validated', async () => {
    const staffId = (await http(t.baseUrl, 'GET', '/api/me', { token: staff })).body.id;
    expect(await call('accounts.internal.userContext', { userId: staffId })).toBeNull();
    expect(await call('accounts.internal.userContext', { userId: randomUUID() })).toBeNull();
    const unplaced = await newUser(rootId);
    await t.hub.platform.db.query('UPDATE accounts.users SET unit_id = NULL WHERE id = $1', [unplaced]);
    expect(await call('accounts.internal.userContext', { userId: unplaced })).toMatchObject({
      unitId: null,
      unitPath: [],
    });
    await expect(call('accounts.internal.userContext', { userId: 'nope' })).rejects.toMatchObject({
      code: 400,
    });
    await expect(
      call('accounts.internal.resolveApprovers', { companyId, managerOf: { userId: adminId, levels: 0 } }),
    ).rejects.toMatchObject({ code: 400 });
  });
});

describe('accounts.internal.resolveApprovers', () => {
  // root (m0) → d1 (m1) → d2 (no manager) → d3 (managed by the requester); requester sits in d3.
  let d1: string;
  let d2: string;
  let d3: string;
  let m0: string;
  let m1: string;
  let requester: string;

  beforeAll(async () => {
    d1 = await createUnit(rootId, 'Appr D1');
    d2 = await createUnit(d1, 'Appr D2');
    d3 = await createUnit(d2, 'Appr D3');
    m0 = await newUser(rootId, ['approver']);
    m1 = await newUser(d1, ['approver']);
    requester = await newUser(d3);
    await setManager(rootId, m0);
    await setManager(d1, m1);
    await setManager(d3, requester);
  });

  test('managers up N levels skip the requester’s own management and units without a manager', async () => {
    const up = (levels: number) => approvers({ companyId, managerOf: { userId: requester, levels } });
    expect(await up(1)).toEqual([m1]);
    expect(sorted(await up(2))).toEqual(sorted([m1, m0]));
    expect(sorted(await up(10))).toEqual(sorted([m1, m0]));
    // Someone in d2 (no manager there) gets m1 first too.
    const inD2 = await newUser(d2);
    expect(await approvers({ companyId, managerOf: { userId: inD2, levels: 1 } })).toEqual([m1]);
    // m1's own manager is the next one up: m1 does not approve for themselves.
    expect(await approvers({ companyId, managerOf: { userId: m1, levels: 1 } })).toEqual([m0]);
    // The root's manager has nobody above.
    expect(await approvers({ companyId, managerOf: { userId: m0, levels: 3 } })).toEqual([]);
  });

  test('one person managing two levels counts once', async () => {
    const e1 = await createUnit(rootId, 'Appr E1');
    const e2 = await createUnit(e1, 'Appr E2');
    const boss = await newUser(e1, ['approver']);
    await setManager(e1, boss);
    await setManager(e2, boss);
    const worker = await newUser(e2);
    expect(sorted(await approvers({ companyId, managerOf: { userId: worker, levels: 2 } }))).toEqual(
      sorted([boss, m0]),
    );
  });

  test('a disabled manager is passed over for the next manager up', async () => {
    const f1 = await createUnit(rootId, 'Appr F1');
    const f2 = await createUnit(f1, 'Appr F2');
    const away = await newUser(f1, ['approver']);
    const near = await newUser(f2, ['approver']);
    await setManager(f1, away);
    await setManager(f2, near);
    const worker = await newUser(f2);
    expect(sorted(await approvers({ companyId, managerOf: { userId: worker, levels: 2 } }))).toEqual(
      sorted([near, away]),
    );
    await http(t.baseUrl, 'POST', `/api/users/${near}/disable`, { token: admin });
    expect(await approvers({ companyId, managerOf: { userId: worker, levels: 1 } })).toEqual([away]);
    expect(sorted(await approvers({ companyId, managerOf: { userId: worker, levels: 2 } }))).toEqual(
      sorted([away, m0]),
    );
  });

  test('named users and role holders: active users of this company only, even when named', async () => {
    const active = await newUser(rootId, ['finance']);
    const disabled = await newUser(rootId, ['finance']);
    await http(t.baseUrl, 'POST', `/api/users/${disabled}/disable`, { token: admin });
    const invited = await http(t.baseUrl, 'POST', '/api/users', {
      token: admin,
      body: { email: `inv-${randomUUID().slice(0, 8)}@acme.example`, displayName: 'I', roles: ['finance'] },
    });
    const staffId = (await http(t.baseUrl, 'GET', '/api/me', { token: staff })).body.id;

    const named = await approvers({
      companyId,
      userIds: [active, disabled, invited.body.user.id, otherAdminId, staffId, randomUUID()],
    });
    expect(named).toEqual([active]);

    const financeHolders = await approvers({ companyId, roles: ['finance'] });
    expect(financeHolders).toEqual([active]);
    const adminHolders = await approvers({ companyId, roles: ['buyer-admin'] });
    expect(adminHolders).toEqual([adminId]);
    // The other company's admin holds buyer-admin too, and is never an approver here.
    expect(await approvers({ companyId: otherCompanyId, roles: ['buyer-admin'] })).toEqual([otherAdminId]);

    // A requester of another company has no managers here.
    expect(
      await approvers({ companyId: otherCompanyId, managerOf: { userId: requester, levels: 3 } }),
    ).toEqual([]);

    const union = await approvers({
      companyId,
      userIds: [active, m1],
      roles: ['finance'],
      managerOf: { userId: requester, levels: 1 },
    });
    expect(union).toEqual(sorted([active, m1]));
    expect(await approvers({ companyId })).toEqual([]);
  });
});

describe('not reachable over HTTP', () => {
  test('the actions are mesh-only (visibility public) and no route or OpenAPI operation reaches them', async () => {
    const actions = t.hub.broker.registry.getActionList({ onlyLocal: true, skipInternal: true }) as Array<{
      name: string;
      action: { visibility?: string };
    }>;
    const internal = actions.filter((a) => a.name.startsWith('accounts.internal.'));
    expect(internal.map((a) => a.name).sort()).toEqual([
      'accounts.internal.companyContext',
      'accounts.internal.resolveApprovers',
      'accounts.internal.unitContext',
      'accounts.internal.userContext',
    ]);
    expect(internal.every((a) => a.action.visibility === 'public')).toBe(true);

    const openapi = (await http(t.baseUrl, 'GET', '/api/openapi.json')).body;
    expect(JSON.stringify(openapi)).not.toMatch(/internal|userContext|resolveApprovers/i);
  });

  test('crafted URLs with staff, buyer or no credentials never call them', async () => {
    const paths = [
      '/accounts.internal.userContext',
      '/accounts/internal.userContext',
      '/accounts/internal/userContext',
      '/api/accounts.internal.userContext',
      '/api/accounts/internal/userContext',
      '/api/accounts/internal.userContext',
      '/api/internal/userContext',
      '/api/internal/resolveApprovers',
      '/api/accounts.internal.resolveApprovers',
      '/accounts.internal.resolveApprovers',
      '/~node/actions',
      '/api/~node/actions',
      '/$node.actions',
      '/api/$node/actions',
    ];
    const leaks: string[] = [];
    for (const path of paths) {
      for (const token of [admin, staff, undefined]) {
        for (const method of ['GET', 'POST']) {
          const answer = await http(t.baseUrl, method, `${path}?userId=${adminId}&companyId=${companyId}`, {
            token,
            ...(method === 'POST' ? { body: { userId: adminId, companyId, roles: ['buyer-admin'] } } : {}),
          });
          const text = JSON.stringify(answer.body);
          if (answer.status !== 404 || text.includes(rootId) || text.includes('unitPath')) {
            leaks.push(`${method} ${path} ${token ? 'auth' : 'anon'} → ${answer.status}`);
          }
        }
      }
    }
    expect(leaks).toEqual([]);
  });
});
