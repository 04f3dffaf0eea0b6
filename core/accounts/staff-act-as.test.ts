import { validators } from '../../schemas/generated/validators.js';
import { schemaId } from '../../schemas/index.ts';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_STAFF } from './demo-data.ts';

/** 销售远程协助客户下单: a staff member acts on behalf of a buyer, and both people are on record. */

let t: TestHub;
let admin: string;
let sales: { id: string; token: string };
let warehouse: { id: string; token: string };
let alpha: { companyId: string; adminToken: string; buyerId: string; purchaserId: string };
let beta: { companyId: string; buyerId: string };
let sequence = 0;

const REASON = 'Customer called: place the monthly order for them (ticket 4711)';

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

async function createStaff(roles: string[]) {
  const email = `staff-${++sequence}@act-as.hub.local`;
  const created = await http(t.baseUrl, 'POST', '/api/staff/staff-users', {
    token: admin,
    body: { email, displayName: `Staff ${roles.join('+')}`, roles, password: 'staff-password-1' },
  });
  expect(created.status).toBe(201);
  return { id: created.body.user.id as string, token: await logInAs(t.baseUrl, email, 'staff-password-1') };
}

async function createCompany(name: string, domain: string) {
  const company = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: admin,
    body: {
      name,
      status: 'active',
      admin: { email: `admin@${domain}`, displayName: 'Admin', password: 'admin-password-1' },
    },
  });
  expect(company.status).toBe(201);
  const adminToken = await logInAs(t.baseUrl, `admin@${domain}`, 'admin-password-1');
  const buyerId = (await http(t.baseUrl, 'GET', '/api/me', { token: adminToken })).body.id as string;
  return { companyId: company.body.id as string, adminToken, buyerId };
}

const actAs = (companyId: string, userId: string, token = sales.token, reason = REASON) =>
  http(t.baseUrl, 'POST', `/api/staff/companies/${companyId}/act-as`, { token, body: { userId, reason } });

beforeAll(async () => {
  // A configured TTL longer than 15 minutes: the act-as token must still live at most 15 minutes.
  t = await startTestHub({ env: { HUB_ACCESS_TOKEN_TTL: '3600' } });
  admin = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  sales = await createStaff(['sales']);
  warehouse = await createStaff(['warehouse', 'finance']);
  const a = await createCompany('Alpha Act-as Co', 'alpha-act.example');
  const purchaser = await http(t.baseUrl, 'POST', '/api/users', {
    token: a.adminToken,
    body: {
      email: 'p@alpha-act.example',
      displayName: 'Purchaser',
      roles: ['purchaser'],
      password: 'purchaser-pass-1',
    },
  });
  expect(purchaser.status).toBe(201);
  alpha = { ...a, purchaserId: purchaser.body.user.id };
  const b = await createCompany('Beta Act-as Co', 'beta-act.example');
  beta = { companyId: b.companyId, buyerId: b.buyerId };
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

test('a sales rep gets a short-lived token that is the buyer, naming the rep', async () => {
  const answer = await actAs(alpha.companyId, alpha.purchaserId);
  expect(answer.status).toBe(200);
  expect(validators[schemaId('api/accounts/act-as-response')]!(answer.body)).toBe(true);
  expect(answer.body).toMatchObject({
    tokenType: 'Bearer',
    expiresIn: 900,
    companyId: alpha.companyId,
    userId: alpha.purchaserId,
    onBehalfOf: { staffUserId: sales.id },
  });
  const claims = claimsOf(answer.body.accessToken);
  expect((claims.exp as number) - (claims.iat as number)).toBe(900);

  // The same tenant, unit and permissions as the buyer's own login would give them.
  const own = await logInAs(t.baseUrl, 'p@alpha-act.example', 'purchaser-pass-1');
  expect((claimsOf(own).exp as number) - (claimsOf(own).iat as number)).toBe(3600);
  const asBuyer = await http(t.baseUrl, 'GET', '/api/me', { token: own });
  const acting = await http(t.baseUrl, 'GET', '/api/me', { token: answer.body.accessToken });
  expect(acting.status).toBe(200);
  expect(acting.body).toEqual({ ...asBuyer.body, onBehalfOf: { staffUserId: sales.id } });
  expect(asBuyer.body.onBehalfOf).toBeNull();

  // The token is a buyer's: staff routes refuse it, and it reaches only the buyer's company.
  expect(
    (await http(t.baseUrl, 'GET', '/api/staff/companies', { token: answer.body.accessToken })).status,
  ).toBe(403);
  const other = await http(t.baseUrl, 'GET', `/api/companies/${beta.companyId}`, {
    token: answer.body.accessToken,
  });
  expect(other.status).toBe(404);
  // A purchaser's permissions, not the rep's: no company edits.
  const edit = await http(t.baseUrl, 'PATCH', '/api/company', {
    token: answer.body.accessToken,
    body: { legalName: 'x' },
  });
  expect(edit.status).toBe(403);
});

test('acting is audited with the reason, with the rep as actor, in the buyer company’s trail', async () => {
  await actAs(alpha.companyId, alpha.buyerId, sales.token, 'Audit me');
  const { rows } = await t.hub.platform.db.query(
    `SELECT actor_kind, actor_id, on_behalf_of, company_id, entity_type, entity_id, details
       FROM platform.audit_log WHERE action = 'staff.acted_on_behalf' AND details->>'reason' = 'Audit me'`,
  );
  expect(rows).toEqual([
    {
      actor_kind: 'staff',
      actor_id: sales.id,
      on_behalf_of: null,
      company_id: alpha.companyId,
      entity_type: 'user',
      entity_id: alpha.buyerId,
      details: expect.objectContaining({
        reason: 'Audit me',
        userId: alpha.buyerId,
        companyId: alpha.companyId,
      }),
    },
  ]);
  const { rows: events } = await t.hub.platform.db.query(
    `SELECT company_id, payload FROM platform.outbox WHERE topic = 'staff.acted_on_behalf' AND payload->>'reason' = 'Audit me'`,
  );
  expect(events).toEqual([
    {
      company_id: alpha.companyId,
      payload: expect.objectContaining({ staffUserId: sales.id, userId: alpha.buyerId }),
    },
  ]);
  expect(JSON.stringify(events)).not.toContain('eyJ'); // never the token itself
});

test('what the rep does with the token is audited as the buyer, on behalf of the rep', async () => {
  const token = (await actAs(alpha.companyId, alpha.buyerId)).body.accessToken;
  const created = await http(t.baseUrl, 'POST', '/api/users', {
    token,
    body: { email: 'new.hire@alpha-act.example', displayName: 'New hire', roles: ['purchaser'] },
  });
  expect(created.status).toBe(201);
  const { rows } = await t.hub.platform.db.query(
    `SELECT actor_kind, actor_id, on_behalf_of, company_id FROM platform.audit_log
      WHERE entity_type = 'user' AND entity_id = $1 AND action IN ('user.invited', 'user.created')`,
    [created.body.user.id],
  );
  expect(rows).toEqual([
    { actor_kind: 'buyer', actor_id: alpha.buyerId, on_behalf_of: sales.id, company_id: alpha.companyId },
  ]);
});

test('acting on behalf takes buyers.act_on_behalf, and staff only', async () => {
  expect((await actAs(alpha.companyId, alpha.buyerId, warehouse.token)).status).toBe(403);
  expect((await actAs(alpha.companyId, alpha.buyerId, alpha.adminToken)).status).toBe(403);
  expect((await actAs(alpha.companyId, alpha.buyerId, admin)).status).toBe(200);
  const support = await createStaff(['customer-service']);
  expect((await actAs(alpha.companyId, alpha.buyerId, support.token)).status).toBe(200);
  const missingReason = await http(t.baseUrl, 'POST', `/api/staff/companies/${alpha.companyId}/act-as`, {
    token: sales.token,
    body: { userId: alpha.buyerId },
  });
  expect(missingReason.status).toBe(400);
  expect(missingReason.body.errors).toEqual([{ pointer: '/reason', detail: 'is required' }]);
});

test('the buyer must be an active buyer of that very company, else 404', async () => {
  // A buyer of another company, aimed through this company's id.
  expect((await actAs(alpha.companyId, beta.buyerId)).status).toBe(404);
  // A staff user, an unknown user, an unknown company.
  expect((await actAs(alpha.companyId, sales.id)).status).toBe(404);
  expect((await actAs(alpha.companyId, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
  expect((await actAs('00000000-0000-4000-8000-000000000000', alpha.buyerId)).status).toBe(404);
  // A disabled buyer; an invited one who never set a password.
  const leaver = await http(t.baseUrl, 'POST', '/api/users', {
    token: alpha.adminToken,
    body: {
      email: 'leaver@alpha-act.example',
      displayName: 'Leaver',
      roles: ['purchaser'],
      password: 'leaver-pass-1',
    },
  });
  await http(t.baseUrl, 'POST', `/api/users/${leaver.body.user.id}/disable`, { token: alpha.adminToken });
  expect((await actAs(alpha.companyId, leaver.body.user.id)).status).toBe(404);
  const invited = await http(t.baseUrl, 'POST', '/api/users', {
    token: alpha.adminToken,
    body: { email: 'invitee@alpha-act.example', displayName: 'Invitee', roles: ['purchaser'] },
  });
  expect(invited.body.user.status).toBe('invited');
  expect((await actAs(alpha.companyId, invited.body.user.id)).status).toBe(404);
  // None of these refusals left an audit row.
  const { rows } = await t.hub.platform.db.query(
    `SELECT count(*)::int AS n FROM platform.audit_log
      WHERE action = 'staff.acted_on_behalf' AND entity_id = ANY($1::text[])`,
    [[beta.buyerId, sales.id, leaver.body.user.id, invited.body.user.id]],
  );
  expect(rows[0]!.n).toBe(0);
});

test('the company must be active', async () => {
  const gamma = await createCompany('Gamma Act-as Co', 'gamma-act.example');
  const suspend = await http(t.baseUrl, 'PATCH', `/api/staff/companies/${gamma.companyId}`, {
    token: admin,
    body: { status: 'suspended', reason: 'Overdue' },
  });
  expect(suspend.status).toBe(200);
  const refused = await actAs(gamma.companyId, gamma.buyerId);
  expect(refused.status).toBe(409);
  expect(refused.body.type).toBe('https://hub.local/problems/company-not-active');
  await http(t.baseUrl, 'PATCH', `/api/staff/companies/${gamma.companyId}`, {
    token: admin,
    body: { status: 'active' },
  });
  expect((await actAs(gamma.companyId, gamma.buyerId)).status).toBe(200);
});
