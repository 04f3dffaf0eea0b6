import { validators } from '../../schemas/generated/validators.js';
import { schemaId } from '../../schemas/index.ts';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_BUYER, DEMO_STAFF } from './demo-data.ts';

/** Staff administration of staff users: only `staff.manage` (held through the admin role's `*`). */

let t: TestHub;
let admin: string;
let adminId: string;
let sequence = 0;
const email = () => `staff-${Date.now().toString(36)}-${++sequence}@hub.local`;

function expectValid(schema: string, body: unknown) {
  const validate = validators[schemaId(schema)]!;
  const ok = validate(body);
  expect({ schema, errors: ok ? null : validate.errors }).toEqual({ schema, errors: null });
}

const create = (body: Record<string, unknown>, token = admin) =>
  http(t.baseUrl, 'POST', '/api/staff/staff-users', { token, body });
const login = (address: string, password: string) =>
  http(t.baseUrl, 'POST', '/api/auth/login', { body: { email: address, password } });

beforeAll(async () => {
  t = await startTestHub();
  admin = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  adminId = (await http(t.baseUrl, 'GET', '/api/me', { token: admin })).body.id;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

test('an admin creates a staff user with a password: staff kind, no company, the roles’ permissions', async () => {
  const address = email();
  const created = await create({
    email: address,
    displayName: 'Wang Fang 王芳',
    roles: ['sales'],
    password: 'sales-password-1',
  });
  expect(created.status).toBe(201);
  expectValid('api/accounts/user-created-response', created.body);
  expect(created.body).toEqual({
    user: expect.objectContaining({
      kind: 'staff',
      companyId: null,
      unitId: null,
      roles: ['sales'],
      status: 'active',
    }),
  });
  const token = await logInAs(t.baseUrl, address, 'sales-password-1');
  const me = await http(t.baseUrl, 'GET', '/api/me', { token });
  expect(me.body).toMatchObject({ kind: 'staff', companyId: null, onBehalfOf: null });
  expect(me.body.permissions).toEqual([
    'audit.read',
    'buyers.act_on_behalf',
    'catalog.read',
    'companies.manage',
    'companies.read',
    'inventory.read',
    'orders.manage',
    'orders.read',
    'pricing.read',
    'quotes.manage',
    'quotes.read',
  ]);
  const { rows } = await t.hub.platform.db.query(
    `SELECT actor_id, company_id, entity_id, details FROM platform.audit_log WHERE action = 'staff_user.created'`,
  );
  expect(rows).toEqual([
    { actor_id: adminId, company_id: null, entity_id: created.body.user.id, details: { roles: ['sales'] } },
  ]);
});

test('without a password the staff user is invited and sets one with the token', async () => {
  const address = email();
  const invited = await create({ email: address, displayName: 'Invited', roles: ['customer-service'] });
  expect(invited.status).toBe(201);
  expect(invited.body).toMatchObject({ user: { status: 'invited' }, inviteExpiresInHours: 72 });
  expect(typeof invited.body.inviteToken).toBe('string');
  expect((await login(address, 'anything-at-all')).status).toBe(401);
  const accepted = await http(t.baseUrl, 'POST', '/api/auth/accept-invite', {
    body: { token: invited.body.inviteToken, password: 'chosen-password-1' },
  });
  expect(accepted.status).toBe(200);
  expect((await login(address, 'chosen-password-1')).status).toBe(200);
});

test('roles must be staff roles; a company cannot be given; emails are unique', async () => {
  const buyerRole = await create({
    email: email(),
    displayName: 'X',
    roles: ['purchaser'],
    password: 'password-123',
  });
  expect(buyerRole.status).toBe(422);
  expect(buyerRole.body.errors).toEqual([{ pointer: '/roles', detail: 'unknown role(s) purchaser' }]);
  const unknown = await create({
    email: email(),
    displayName: 'X',
    roles: ['sales', 'wizard'],
    password: 'password-123',
  });
  expect(unknown.status).toBe(422);
  const noRole = await create({ email: email(), displayName: 'X', roles: [], password: 'password-123' });
  expect(noRole.status).toBe(400);
  const { rows } = await t.hub.platform.db.query('SELECT id FROM accounts.companies LIMIT 1');
  const withCompany = await create({
    email: email(),
    displayName: 'X',
    roles: ['sales'],
    companyId: rows[0]!.id,
  });
  expect(withCompany.status).toBe(400);
  expect(withCompany.body.errors).toEqual([{ pointer: '/companyId', detail: 'is not an allowed property' }]);
  const taken = await create({
    email: DEMO_BUYER.email,
    displayName: 'X',
    roles: ['sales'],
    password: 'password-123',
  });
  expect(taken.status).toBe(409);
  const { rows: strays } = await t.hub.platform.db.query(
    `SELECT count(*)::int AS n FROM accounts.users WHERE kind = 'staff' AND company_id IS NOT NULL`,
  );
  expect(strays[0]!.n).toBe(0);
});

test('only staff.manage reaches staff administration: not sales, not buyers', async () => {
  const address = email();
  await create({
    email: address,
    displayName: 'Sales',
    roles: ['sales', 'customer-service'],
    password: 'sales-password-1',
  });
  const salesToken = await logInAs(t.baseUrl, address, 'sales-password-1');
  const buyer = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  for (const token of [salesToken, buyer]) {
    expect((await http(t.baseUrl, 'GET', '/api/staff/staff-users', { token })).status).toBe(403);
    expect(
      (await create({ email: email(), displayName: 'X', roles: ['admin'], password: 'password-123' }, token))
        .status,
    ).toBe(403);
    expect(
      (
        await http(t.baseUrl, 'PATCH', `/api/staff/staff-users/${adminId}`, {
          token,
          body: { roles: ['sales'] },
        })
      ).status,
    ).toBe(403);
    expect(
      (await http(t.baseUrl, 'POST', `/api/staff/staff-users/${adminId}/disable`, { token })).status,
    ).toBe(403);
  }
});

test('the list shows staff only, filters by role and status, and pages by id', async () => {
  const warehouse = await create({
    email: email(),
    displayName: 'WH',
    roles: ['warehouse'],
    password: 'password-123',
  });
  const all = await http(t.baseUrl, 'GET', '/api/staff/staff-users?limit=200', { token: admin });
  expect(all.status).toBe(200);
  expectValid('api/accounts/user-list-response', all.body);
  const emails = all.body.items.map((u: { email: string }) => u.email);
  expect(emails).toContain(DEMO_STAFF.email);
  expect(emails).not.toContain(DEMO_BUYER.email);
  expect(
    all.body.items.every(
      (u: { kind: string; companyId: null }) => u.kind === 'staff' && u.companyId === null,
    ),
  ).toBe(true);

  const byRole = await http(t.baseUrl, 'GET', '/api/staff/staff-users?role=warehouse', { token: admin });
  expect(byRole.body.items.map((u: { id: string }) => u.id)).toEqual([warehouse.body.user.id]);
  const invited = await http(t.baseUrl, 'GET', '/api/staff/staff-users?status=invited', { token: admin });
  expect(invited.body.items.every((u: { status: string }) => u.status === 'invited')).toBe(true);

  const walked: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await http(
      t.baseUrl,
      'GET',
      `/api/staff/staff-users?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      { token: admin },
    );
    walked.push(...page.body.items.map((u) => u.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(walked).toEqual(all.body.items.map((u: { id: string }) => u.id));
});

test('an admin changes roles and name, audited before and after; never their own roles', async () => {
  const created = await create({
    email: email(),
    displayName: 'Finance',
    roles: ['finance'],
    password: 'password-123',
  });
  const id = created.body.user.id;
  const changed = await http(t.baseUrl, 'PATCH', `/api/staff/staff-users/${id}`, {
    token: admin,
    body: { roles: ['finance', 'sales'], displayName: 'Finance and sales' },
  });
  expect(changed.status).toBe(200);
  expectValid('entities/user', changed.body);
  expect(changed.body).toMatchObject({
    roles: ['finance', 'sales'],
    displayName: 'Finance and sales',
    companyId: null,
  });
  const { rows } = await t.hub.platform.db.query(
    `SELECT details FROM platform.audit_log WHERE action = 'staff_user.updated' AND entity_id = $1`,
    [id],
  );
  expect(rows[0]!.details).toMatchObject({
    before: { roles: ['finance'], displayName: 'Finance' },
    after: { roles: ['finance', 'sales'], displayName: 'Finance and sales' },
  });
  const badRole = await http(t.baseUrl, 'PATCH', `/api/staff/staff-users/${id}`, {
    token: admin,
    body: { roles: ['buyer-admin'] },
  });
  expect(badRole.status).toBe(422);
  const self = await http(t.baseUrl, 'PATCH', `/api/staff/staff-users/${adminId}`, {
    token: admin,
    body: { roles: ['sales'] },
  });
  expect(self.status).toBe(403);
  const selfName = await http(t.baseUrl, 'PATCH', `/api/staff/staff-users/${adminId}`, {
    token: admin,
    body: { displayName: 'Demo Admin (renamed)' },
  });
  expect(selfName.body).toMatchObject({ displayName: 'Demo Admin (renamed)', roles: ['admin'] });
});

test('disable stops logins, enable restores them; no self-disable; buyers are not staff users', async () => {
  const address = email();
  const created = await create({
    email: address,
    displayName: 'Leaver',
    roles: ['sales'],
    password: 'password-123',
  });
  const id = created.body.user.id;
  const disabled = await http(t.baseUrl, 'POST', `/api/staff/staff-users/${id}/disable`, { token: admin });
  expect(disabled.body.status).toBe('disabled');
  expect((await login(address, 'password-123')).status).toBe(401);
  const enabled = await http(t.baseUrl, 'POST', `/api/staff/staff-users/${id}/enable`, { token: admin });
  expect(enabled.body.status).toBe('active');
  expect((await login(address, 'password-123')).status).toBe(200);
  expect(
    (await http(t.baseUrl, 'POST', `/api/staff/staff-users/${adminId}/disable`, { token: admin })).status,
  ).toBe(403);

  const buyer = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  const buyerId = (await http(t.baseUrl, 'GET', '/api/me', { token: buyer })).body.id;
  for (const [method, path, body] of [
    ['GET', `/api/staff/staff-users/${buyerId}`, undefined],
    ['PATCH', `/api/staff/staff-users/${buyerId}`, { displayName: 'Hijacked' }],
    ['POST', `/api/staff/staff-users/${buyerId}/disable`, undefined],
    ['POST', `/api/staff/staff-users/${buyerId}/enable`, undefined],
  ] as const) {
    expect([path, (await http(t.baseUrl, method, path, { token: admin, body })).status]).toEqual([path, 404]);
  }
  expect((await login(DEMO_BUYER.email, DEMO_BUYER.password)).status).toBe(200);
  const { rows } = await t.hub.platform.db.query(
    `SELECT action FROM platform.audit_log WHERE entity_id = $1 AND action LIKE 'staff_user.%' ORDER BY id`,
    [id],
  );
  expect(rows.map((r) => r.action)).toEqual([
    'staff_user.created',
    'staff_user.disabled',
    'staff_user.enabled',
  ]);
});
