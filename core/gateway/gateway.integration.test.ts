import { DEMO_BUYER, DEMO_STAFF } from '../accounts/demo-data.ts';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';

let t: TestHub;
let staff: string;
let buyer: string;

beforeAll(async () => {
  t = await startTestHub();
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  buyer = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('authentication', () => {
  test('a wrong password and an unknown email get the same 401 problem', async () => {
    const wrong = await http(t.baseUrl, 'POST', '/api/auth/login', {
      body: { email: DEMO_BUYER.email, password: 'nope' },
    });
    const unknown = await http(t.baseUrl, 'POST', '/api/auth/login', {
      body: { email: 'ghost@x.example', password: 'nope' },
    });
    for (const answer of [wrong, unknown]) {
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 401, detail: 'Invalid email or password' });
    }
  });

  test('/api/me answers the caller from the token, and 401 without one', async () => {
    const me = await http(t.baseUrl, 'GET', '/api/me', { token: buyer });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: DEMO_BUYER.email, kind: 'buyer', roles: ['buyer-admin'] });
    expect(me.body.companyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(me.body).not.toHaveProperty('passwordHash');
    const anonymous = await http(t.baseUrl, 'GET', '/api/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
  });

  test('a forged token is refused, not treated as anonymous', async () => {
    const answer = await http(t.baseUrl, 'GET', '/health/live', { token: `${buyer.slice(0, -4)}AAAA` });
    expect(answer.status).toBe(401);
  });
});

describe('problem+json errors', () => {
  test('validation errors name each failing field by JSON pointer', async () => {
    const answer = await http(t.baseUrl, 'POST', '/api/auth/login', {
      body: { email: 'not-an-email', extra: 1 },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('https://hub.local/problems/validation-failed');
    const pointers = answer.body.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(expect.arrayContaining(['/email', '/password']));
  });

  test('malformed JSON is a 400 with its own type, and the request id comes back', async () => {
    const answer = await http(t.baseUrl, 'POST', '/api/auth/login', {
      rawBody: '{"email":',
      headers: { 'x-request-id': 'req-malformed-1' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      type: 'https://hub.local/problems/malformed-json',
      requestId: 'req-malformed-1',
    });
  });

  test('an oversized body is refused with 413', async () => {
    const answer = await http(t.baseUrl, 'POST', '/api/auth/login', {
      rawBody: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(2_000_000) }),
    });
    expect(answer.status).toBe(413);
  });

  test('deeply nested JSON is refused before it reaches a service', async () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const answer = await http(t.baseUrl, 'POST', '/api/staff/companies', { token: staff, rawBody: deep });
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('https://hub.local/problems/json-too-deep');
    expect((await http(t.baseUrl, 'GET', '/health/live')).status).toBe(200);
  });

  test('unknown routes are 404 problems', async () => {
    const answer = await http(t.baseUrl, 'GET', '/api/nothing-here', { token: staff });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('tenancy', () => {
  let otherCompanyId: string;
  let ownCompanyId: string;

  beforeAll(async () => {
    const created = await http(t.baseUrl, 'POST', '/api/staff/companies', {
      token: staff,
      body: {
        name: 'Other Co 其他公司',
        status: 'active',
        admin: { email: 'boss@other.example', displayName: 'Boss', password: 'other-password-1' },
      },
    });
    expect(created.status).toBe(201);
    otherCompanyId = created.body.id;
    ownCompanyId = (await http(t.baseUrl, 'GET', '/api/me', { token: buyer })).body.companyId;
  });

  test("a buyer reads their own company and gets 404 for another's", async () => {
    expect((await http(t.baseUrl, 'GET', `/api/companies/${ownCompanyId}`, { token: buyer })).status).toBe(
      200,
    );
    const foreign = await http(t.baseUrl, 'GET', `/api/companies/${otherCompanyId}`, { token: buyer });
    expect(foreign.status).toBe(404);
    const missing = await http(t.baseUrl, 'GET', '/api/companies/00000000-0000-4000-8000-000000000000', {
      token: buyer,
    });
    expect(foreign.body.detail).toBe(missing.body.detail);
  });

  test('buyers list and create users only in their own company, whatever the body says', async () => {
    const created = await http(t.baseUrl, 'POST', '/api/users', {
      token: buyer,
      body: {
        email: 'purchaser@acme.example',
        displayName: 'P',
        password: 'purchaser-pass-1',
        roles: ['purchaser'],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.user.companyId).toBe(ownCompanyId);
    expect(created.headers.get('location')).toBe(`/api/users/${created.body.user.id}`);
    expect(
      (await http(t.baseUrl, 'GET', created.headers.get('location')!, { token: buyer })).body.email,
    ).toBe('purchaser@acme.example');
    const smuggled = await http(t.baseUrl, 'POST', '/api/users', {
      token: buyer,
      body: {
        email: 'x@acme.example',
        displayName: 'X',
        password: 'x-password-123',
        roles: [],
        companyId: otherCompanyId,
      },
    });
    expect(smuggled.status).toBe(400);
    const listed = await http(t.baseUrl, 'GET', '/api/users?limit=50', { token: buyer });
    expect(listed.status).toBe(200);
    expect(listed.body.items.length).toBeGreaterThanOrEqual(2);
    expect(listed.body.items.every((u: { companyId: string }) => u.companyId === ownCompanyId)).toBe(true);
  });

  test('buyers cannot reach staff routes; staff cannot reach buyer-only routes', async () => {
    expect((await http(t.baseUrl, 'GET', '/api/staff/companies', { token: buyer })).status).toBe(403);
    expect((await http(t.baseUrl, 'GET', '/api/users', { token: staff })).status).toBe(403);
  });
});

describe('Idempotency-Key', () => {
  test('the same key and body replay the first answer without a second company', async () => {
    const body = { name: 'Idempotent Ltd' };
    const headers = { 'idempotency-key': 'create-idempotent-ltd' };
    const first = await http(t.baseUrl, 'POST', '/api/staff/companies', { token: staff, body, headers });
    const second = await http(t.baseUrl, 'POST', '/api/staff/companies', { token: staff, body, headers });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe(`/api/companies/${first.body.id}`);
    expect(second.status).toBe(201);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const { rows } = await t.hub.platform.db.query(
      `SELECT count(*)::int AS n FROM accounts.companies WHERE name = $1`,
      [body.name],
    );
    expect(rows[0]!.n).toBe(1);
  });

  test('the same key with another body is a 422', async () => {
    const headers = { 'idempotency-key': 'reused-key' };
    await http(t.baseUrl, 'POST', '/api/staff/companies', { token: staff, body: { name: 'First' }, headers });
    const reused = await http(t.baseUrl, 'POST', '/api/staff/companies', {
      token: staff,
      body: { name: 'Second' },
      headers,
    });
    expect(reused.status).toBe(422);
    expect(reused.body.type).toBe('https://hub.local/problems/idempotency-key-reused');
  });

  test('twenty concurrent retries with one key create one company', async () => {
    const headers = { 'idempotency-key': 'burst-key' };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        http(t.baseUrl, 'POST', '/api/staff/companies', {
          token: staff,
          body: { name: 'Burst Co' },
          headers,
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 201).length).toBeGreaterThanOrEqual(1);
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true);
    const { rows } = await t.hub.platform.db.query(
      `SELECT count(*)::int AS n FROM accounts.companies WHERE name = 'Burst Co'`,
    );
    expect(rows[0]!.n).toBe(1);
  });
});

describe('API keys', () => {
  test('a system key authenticates, is shown once, and never lands in the audit log', async () => {
    const created = await http(t.baseUrl, 'POST', '/api/staff/api-keys', {
      token: staff,
      body: { name: 'Kingdee ERP', permissions: ['companies.read'] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBeNull();
    expect(created.body.key).toMatch(/^hub_/);
    const me = await http(t.baseUrl, 'GET', '/api/me', { headers: { 'x-api-key': created.body.key } });
    expect(me.body).toMatchObject({ kind: 'system', id: created.body.id, permissions: ['companies.read'] });
    const wrong = await http(t.baseUrl, 'GET', '/api/me', {
      headers: { 'x-api-key': `${created.body.key.slice(0, -2)}xx` },
    });
    expect(wrong.status).toBe(401);
    const { rows } = await t.hub.platform.db.query(`SELECT details::text AS d FROM platform.audit_log`);
    expect(rows.some((r) => r.d.includes(created.body.key.split('_')[2]))).toBe(false);
  });
});

describe('audit', () => {
  test('creating a company is audited with actor and request id', async () => {
    const created = await http(t.baseUrl, 'POST', '/api/staff/companies', {
      token: staff,
      body: { name: 'Audited Co' },
      headers: { 'x-request-id': 'req-audit-1' },
    });
    const { rows } = await t.hub.platform.db.query(
      `SELECT actor_kind, action, request_id FROM platform.audit_log WHERE entity_id = $1`,
      [created.body.id],
    );
    expect(rows).toEqual([{ actor_kind: 'staff', action: 'company.created', request_id: 'req-audit-1' }]);
  });
});

describe('operations', () => {
  test('OpenAPI 3.1 lists every route with an operationId and a domain tag', async () => {
    const { status, body } = await http(t.baseUrl, 'GET', '/api/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const operations = Object.values(
      body.paths as Record<string, Record<string, { operationId: string; tags: string[] }>>,
    ).flatMap((item) => Object.values(item));
    expect(operations.length).toBeGreaterThanOrEqual(10);
    for (const op of operations) {
      expect(op.operationId).toMatch(/^[a-zA-Z]+$/);
      expect(op.tags).toHaveLength(1);
    }
    expect(body.paths['/api/companies/{id}'].get.operationId).toBe('getCompany');
  });

  test('health: live, and ready with each dependency checked', async () => {
    expect((await http(t.baseUrl, 'GET', '/health/live')).body).toEqual({ status: 'ok' });
    const ready = await http(t.baseUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      checks: {
        database: { ok: true },
        queue: { ok: true, backend: 'postgres' },
        transporter: { ok: true, kind: 'none' },
      },
    });
  });

  test('metrics expose request, action, queue and database figures', async () => {
    await http(t.baseUrl, 'GET', '/api/me', { token: buyer });
    const { status, body } = await http(t.baseUrl, 'GET', '/metrics');
    expect(status).toBe(200);
    expect(body).toMatch(/hub_http_requests_total\{method="GET",route="\/api\/me",status="200"\} \d+/);
    expect(body).toMatch(/hub_action_calls_total\{action="accounts\.me",outcome="ok"\} \d+/);
    expect(body).toMatch(/hub_db_pool_connections\{state="total"\} \d+/);
    expect(body).toContain('hub_queue_jobs');
  });

  test('the staff mesh view lists this node and its services', async () => {
    const { body } = await http(t.baseUrl, 'GET', '/api/staff/system/nodes', { token: staff });
    expect(body).toHaveLength(1);
    expect(body[0].services).toEqual(expect.arrayContaining(['accounts', 'gateway', 'jobs', 'outbox']));
  });
});

describe('bull-board at /admin/queues', () => {
  test('asks for a login, refuses buyers, and serves staff with jobs.admin', async () => {
    const anonymous = await fetch(`${t.baseUrl}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
    expect(
      (await fetch(`${t.baseUrl}/admin/queues`, { headers: { authorization: `Bearer ${buyer}` } })).status,
    ).toBe(403);
    const basic = Buffer.from(`${DEMO_STAFF.email}:${DEMO_STAFF.password}`).toString('base64');
    const page = await fetch(`${t.baseUrl}/admin/queues`, { headers: { authorization: `Basic ${basic}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Hub jobs</title>');
    const wrongPassword = Buffer.from(`${DEMO_STAFF.email}:nope`).toString('base64');
    expect(
      (await fetch(`${t.baseUrl}/admin/queues`, { headers: { authorization: `Basic ${wrongPassword}` } }))
        .status,
    ).toBe(401);
  });
});
