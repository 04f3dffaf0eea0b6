import { validators } from '../../schemas/generated/validators.js';
import { schemaId } from '../../schemas/index.ts';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_STAFF } from './demo-data.ts';

/** The buyer side of the company: profile, addresses and contacts, by role and by tenant. */

let t: TestHub;
let staff: string;
let a: { companyId: string; admin: string; purchaser: string };
let b: { companyId: string; admin: string };

const VALID_TAX_ID = '91350100M000100Y43';
const OTHER_VALID_TAX_ID = '91110000600037341L';

function expectValid(schema: string, body: unknown) {
  const validate = validators[schemaId(schema)]!;
  const ok = validate(body);
  expect({ schema, errors: ok ? null : validate.errors }).toEqual({ schema, errors: null });
}

async function createCompany(name: string, email: string) {
  const created = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: {
      name,
      status: 'active',
      admin: { email, displayName: `${name} admin`, password: 'admin-password-1' },
    },
  });
  expect(created.status).toBe(201);
  return { companyId: created.body.id as string, admin: await logInAs(t.baseUrl, email, 'admin-password-1') };
}

async function outboxEvents(topic: string, companyId: string) {
  const { rows } = await t.hub.platform.db.query(
    'SELECT payload FROM platform.outbox WHERE topic = $1 AND company_id = $2 ORDER BY id',
    [topic, companyId],
  );
  return rows.map((r) => r.payload);
}

async function auditRows(action: string, companyId: string) {
  const { rows } = await t.hub.platform.db.query(
    `SELECT actor_kind, actor_id, on_behalf_of, company_id, entity_type, entity_id, details
       FROM platform.audit_log WHERE action = $1 AND company_id = $2 ORDER BY id`,
    [action, companyId],
  );
  return rows;
}

beforeAll(async () => {
  t = await startTestHub();
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  const alpha = await createCompany('Alpha Profile Co', 'admin@alpha-profile.example');
  const purchaser = await http(t.baseUrl, 'POST', '/api/users', {
    token: alpha.admin,
    body: {
      email: 'p@alpha-profile.example',
      displayName: 'Purchaser',
      roles: ['purchaser'],
      password: 'purchaser-pass-1',
    },
  });
  expect(purchaser.status).toBe(201);
  a = { ...alpha, purchaser: await logInAs(t.baseUrl, 'p@alpha-profile.example', 'purchaser-pass-1') };
  b = await createCompany('Beta Profile Co', 'admin@beta-profile.example');
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('company profile', () => {
  test('every user of the company reads its own profile; staff use the staff routes', async () => {
    for (const token of [a.admin, a.purchaser]) {
      const own = await http(t.baseUrl, 'GET', '/api/company', { token });
      expect(own.status).toBe(200);
      expectValid('entities/company', own.body);
      expect(own.body).toMatchObject({
        id: a.companyId,
        name: 'Alpha Profile Co',
        status: 'active',
        tags: [],
      });
    }
    expect((await http(t.baseUrl, 'GET', '/api/company', { token: staff })).status).toBe(403);
    expect((await http(t.baseUrl, 'GET', '/api/company')).status).toBe(401);
  });

  test('a buyer admin edits the profile; the change is audited and announced with before and after', async () => {
    const changes = {
      legalName: '阿尔法工业用品有限公司',
      taxId: VALID_TAX_ID,
      invoiceTitle: '阿尔法工业用品有限公司',
      phone: '021-6888 0000',
      website: 'https://alpha.example',
      industry: 'Industrial supplies',
    };
    const patched = await http(t.baseUrl, 'PATCH', '/api/company', { token: a.admin, body: changes });
    expect(patched.status).toBe(200);
    expectValid('entities/company', patched.body);
    expect(patched.body).toMatchObject({ ...changes, status: 'active', tier: null, accountManager: null });

    // The same company through the shared route, for staff and for the company's own buyers.
    for (const token of [staff, a.purchaser]) {
      const seen = await http(t.baseUrl, 'GET', `/api/companies/${a.companyId}`, { token });
      expect(seen.status).toBe(200);
      expect(seen.body).toMatchObject(changes);
    }

    const [audit] = (await auditRows('company.updated', a.companyId)).slice(-1);
    expect(audit).toMatchObject({ actor_kind: 'buyer', entity_type: 'company', entity_id: a.companyId });
    expect(audit!.details.before).toEqual(Object.fromEntries(Object.keys(changes).map((k) => [k, null])));
    expect(audit!.details.after).toEqual(changes);
    const [event] = (await outboxEvents('company.updated', a.companyId)).slice(-1);
    expect(event).toMatchObject({ companyId: a.companyId, after: changes });

    // Only what changed is recorded; null clears a field.
    const cleared = await http(t.baseUrl, 'PATCH', '/api/company', {
      token: a.admin,
      body: { industry: null, taxId: VALID_TAX_ID },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ industry: null, taxId: VALID_TAX_ID, legalName: changes.legalName });
    const [last] = (await auditRows('company.updated', a.companyId)).slice(-1);
    expect(last!.details).toEqual({ before: { industry: 'Industrial supplies' }, after: { industry: null } });
  });

  test('a purchaser cannot edit the profile', async () => {
    const before = await http(t.baseUrl, 'GET', '/api/company', { token: a.admin });
    const answer = await http(t.baseUrl, 'PATCH', '/api/company', {
      token: a.purchaser,
      body: { legalName: 'Taken over' },
    });
    expect(answer.status).toBe(403);
    expect((await http(t.baseUrl, 'GET', '/api/company', { token: a.admin })).body).toEqual(before.body);
  });

  test("status, tier, tags and the account manager are staff's, not the buyer's", async () => {
    for (const body of [
      { status: 'active' },
      { tier: 'A' },
      { tags: ['vip'] },
      { accountManagerId: '00000000-0000-4000-8000-000000000000' },
      { name: 'Renamed' },
    ]) {
      const answer = await http(t.baseUrl, 'PATCH', '/api/company', { token: a.admin, body });
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual([
        { pointer: `/${Object.keys(body)[0]}`, detail: 'is not an allowed property' },
      ]);
    }
    expect((await http(t.baseUrl, 'PATCH', '/api/company', { token: a.admin, body: {} })).status).toBe(400);
  });

  test('a tax id must have the right shape and check character', async () => {
    const typo = `${OTHER_VALID_TAX_ID.slice(0, 17)}X`;
    const wrongCheck = await http(t.baseUrl, 'PATCH', '/api/company', {
      token: a.admin,
      body: { taxId: typo },
    });
    expect(wrongCheck.status).toBe(422);
    expect(wrongCheck.body).toMatchObject({
      type: 'https://hub.local/problems/invalid-tax-id',
      errors: [{ pointer: '/taxId' }],
    });
    const badShape = await http(t.baseUrl, 'PATCH', '/api/company', {
      token: a.admin,
      body: { taxId: '12345' },
    });
    expect(badShape.status).toBe(400);
    expect(badShape.body.errors[0].pointer).toBe('/taxId');
    const ok = await http(t.baseUrl, 'PATCH', '/api/company', {
      token: a.admin,
      body: { taxId: OTHER_VALID_TAX_ID },
    });
    expect(ok.body.taxId).toBe(OTHER_VALID_TAX_ID);
  });
});

describe('addresses', () => {
  const post = (token: string, body: unknown) =>
    http(t.baseUrl, 'POST', '/api/company/addresses', { token, body });
  const defaults = async (token: string) => {
    const list = await http(t.baseUrl, 'GET', '/api/company/addresses', { token });
    expect(list.status).toBe(200);
    expectValid('api/accounts/company-address-list-response', list.body);
    return Object.fromEntries(
      list.body.items.map((x: { id: string; isDefault: boolean }) => [x.id, x.isDefault]),
    );
  };

  test('create, change and delete; one default per kind, switched in one step', async () => {
    const first = await post(a.admin, {
      kind: 'shipping',
      street: '张江路 88 号',
      city: '上海市',
      isDefault: true,
    });
    expect(first.status).toBe(201);
    expectValid('entities/company-address', first.body);
    expect(first.body).toMatchObject({ kind: 'shipping', country: 'CN', isDefault: true, label: null });

    const billing = await post(a.admin, { kind: 'billing', street: '世纪大道 100 号', isDefault: true });
    const second = await post(a.admin, {
      kind: 'shipping',
      street: '科苑路 1 号',
      recipient: 'Zhang Min 张敏',
      phone: '138 0013 8000',
      postalCode: '201203',
      isDefault: true,
    });
    expect(second.status).toBe(201);
    // The new shipping default took over; the billing default of another kind is untouched.
    expect(await defaults(a.admin)).toEqual({
      [first.body.id]: false,
      [second.body.id]: true,
      [billing.body.id]: true,
    });

    const back = await http(t.baseUrl, 'PATCH', `/api/company/addresses/${first.body.id}`, {
      token: a.admin,
      body: { isDefault: true, label: 'Main warehouse' },
    });
    expect(back.status).toBe(200);
    expectValid('entities/company-address', back.body);
    expect(back.body).toMatchObject({ isDefault: true, label: 'Main warehouse', street: '张江路 88 号' });
    expect(await defaults(a.admin)).toMatchObject({ [first.body.id]: true, [second.body.id]: false });

    // A default moving to another kind takes over that kind's default.
    const moved = await http(t.baseUrl, 'PATCH', `/api/company/addresses/${billing.body.id}`, {
      token: a.admin,
      body: { kind: 'shipping' },
    });
    expect(moved.body).toMatchObject({ kind: 'shipping', isDefault: true });
    expect(await defaults(a.admin)).toEqual({
      [first.body.id]: false,
      [second.body.id]: false,
      [billing.body.id]: true,
    });

    const cleared = await http(t.baseUrl, 'PATCH', `/api/company/addresses/${second.body.id}`, {
      token: a.admin,
      body: { recipient: null },
    });
    expect(cleared.body).toMatchObject({ recipient: null, phone: '138 0013 8000' });

    const removed = await http(t.baseUrl, 'DELETE', `/api/company/addresses/${second.body.id}`, {
      token: a.admin,
    });
    expect(removed).toMatchObject({ status: 200, body: { id: second.body.id, deleted: true } });
    expect(Object.keys(await defaults(a.admin))).not.toContain(second.body.id);
    expect(
      (await http(t.baseUrl, 'DELETE', `/api/company/addresses/${second.body.id}`, { token: a.admin }))
        .status,
    ).toBe(404);

    const events = (await outboxEvents('company.address_added', a.companyId)).map((e) => e.address.id);
    expect(events).toEqual([first.body.id, billing.body.id, second.body.id]);
    expect((await auditRows('company.address_removed', a.companyId))[0]).toMatchObject({
      actor_kind: 'buyer',
      entity_type: 'company_address',
      entity_id: second.body.id,
    });
  });

  test('the database keeps at most one default per kind whatever the order of requests', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        post(a.admin, { kind: 'registered', street: `Street ${i}`, isDefault: true }),
      ),
    );
    expect(answers.map((x) => x.status)).toEqual(Array(6).fill(201));
    const { rows } = await t.hub.platform.db.query(
      `SELECT count(*)::int AS n FROM accounts.company_addresses WHERE company_id = $1 AND kind = 'registered' AND is_default`,
      [a.companyId],
    );
    expect(rows[0]!.n).toBe(1);
  });

  test('a purchaser reads the addresses but cannot change them', async () => {
    expect((await http(t.baseUrl, 'GET', '/api/company/addresses', { token: a.purchaser })).status).toBe(200);
    expect((await post(a.purchaser, { kind: 'shipping', street: 'x' })).status).toBe(403);
    const [some] = Object.keys(await defaults(a.admin));
    expect(
      (
        await http(t.baseUrl, 'PATCH', `/api/company/addresses/${some}`, {
          token: a.purchaser,
          body: { label: 'x' },
        })
      ).status,
    ).toBe(403);
    expect(
      (await http(t.baseUrl, 'DELETE', `/api/company/addresses/${some}`, { token: a.purchaser })).status,
    ).toBe(403);
  });

  test('bad input names the field', async () => {
    const badKind = await post(a.admin, { kind: 'home', street: 'x' });
    expect(badKind.status).toBe(400);
    expect(badKind.body.errors[0].pointer).toBe('/kind');
    const noStreet = await post(a.admin, { kind: 'billing' });
    expect(noStreet.body.errors[0]).toEqual({ pointer: '/street', detail: 'is required' });
    const badCountry = await post(a.admin, { kind: 'billing', street: 'x', country: 'china' });
    expect(badCountry.body.errors[0].pointer).toBe('/country');
  });
});

describe('contacts', () => {
  const post = (token: string, body: unknown) =>
    http(t.baseUrl, 'POST', '/api/company/contacts', { token, body });
  const primaries = async (token: string) => {
    const list = await http(t.baseUrl, 'GET', '/api/company/contacts', { token });
    expect(list.status).toBe(200);
    expectValid('api/accounts/company-contact-list-response', list.body);
    return list.body.items
      .filter((c: { isPrimary: boolean }) => c.isPrimary)
      .map((c: { id: string }) => c.id);
  };

  test('create, change and delete; at most one primary contact', async () => {
    const chen = await post(a.admin, {
      name: 'Chen Jing 陈静',
      title: '采购经理',
      email: 'chen@alpha.example',
      isPrimary: true,
    });
    expect(chen.status).toBe(201);
    expectValid('entities/company-contact', chen.body);
    const zhao = await post(a.admin, { name: 'Zhao Lei 赵磊', phone: '+86 21 6888 0001' });
    expect(zhao.body).toMatchObject({ isPrimary: false, email: null, title: null });
    expect(await primaries(a.admin)).toEqual([chen.body.id]);

    const sun = await post(a.admin, { name: 'Sun Li 孙丽', isPrimary: true });
    expect(await primaries(a.admin)).toEqual([sun.body.id]);

    const promoted = await http(t.baseUrl, 'PATCH', `/api/company/contacts/${zhao.body.id}`, {
      token: a.admin,
      body: { isPrimary: true, title: 'CFO' },
    });
    expect(promoted.status).toBe(200);
    expectValid('entities/company-contact', promoted.body);
    expect(promoted.body).toMatchObject({ isPrimary: true, title: 'CFO', name: 'Zhao Lei 赵磊' });
    expect(await primaries(a.admin)).toEqual([zhao.body.id]);

    // The primary contact is listed first.
    const list = await http(t.baseUrl, 'GET', '/api/company/contacts', { token: a.purchaser });
    expect(list.body.items[0].id).toBe(zhao.body.id);

    const removed = await http(t.baseUrl, 'DELETE', `/api/company/contacts/${chen.body.id}`, {
      token: a.admin,
    });
    expect(removed.body).toEqual({ id: chen.body.id, deleted: true });
    expect((await auditRows('company.contact_updated', a.companyId))[0]!.details).toMatchObject({
      before: { isPrimary: false, title: null },
      after: { isPrimary: true, title: 'CFO' },
    });
  });

  test('concurrent primaries still leave exactly one', async () => {
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => post(a.admin, { name: `Racer ${i}`, isPrimary: true })),
    );
    expect(await primaries(a.admin)).toHaveLength(1);
  });

  test('a purchaser cannot change contacts; a bad email is refused', async () => {
    expect((await post(a.purchaser, { name: 'Nope' })).status).toBe(403);
    const badEmail = await post(a.admin, { name: 'X', email: 'not-an-email' });
    expect(badEmail.body.errors[0]).toEqual({ pointer: '/email', detail: 'must be a valid email' });
  });
});

describe('tenant isolation', () => {
  test("another company's admin gets 404 for this company's addresses and contacts and never lists them", async () => {
    const address = await http(t.baseUrl, 'POST', '/api/company/addresses', {
      token: a.admin,
      body: { kind: 'shipping', street: 'Only in A', isDefault: true },
    });
    const contact = await http(t.baseUrl, 'POST', '/api/company/contacts', {
      token: a.admin,
      body: { name: 'Only in A', isPrimary: true },
    });
    const fingerprint = async () => {
      const { rows } = await t.hub.platform.db.query(
        `SELECT (SELECT json_agg(x ORDER BY x.id) FROM accounts.company_addresses x WHERE company_id = $1)::text AS addresses,
                (SELECT json_agg(x ORDER BY x.id) FROM accounts.company_contacts x WHERE company_id = $1)::text AS contacts,
                (SELECT row_to_json(c)::text FROM accounts.companies c WHERE id = $1) AS company`,
        [a.companyId],
      );
      return rows[0];
    };
    const before = await fingerprint();
    const missing = '00000000-0000-4000-8000-000000000000';
    const notFound = [
      ['PATCH', `/api/company/addresses/${address.body.id}`, { label: 'Hijacked', isDefault: true }],
      ['DELETE', `/api/company/addresses/${address.body.id}`, undefined],
      ['PATCH', `/api/company/contacts/${contact.body.id}`, { name: 'Hijacked' }],
      ['DELETE', `/api/company/contacts/${contact.body.id}`, undefined],
      ['GET', `/api/companies/${a.companyId}`, undefined],
    ] as const;
    for (const [method, path, body] of notFound) {
      const foreign = await http(t.baseUrl, method, path, { token: b.admin, body });
      const unknown = await http(t.baseUrl, method, path.replace(/[0-9a-f-]{36}/, missing), {
        token: b.admin,
        body,
      });
      expect([method, path, foreign.status]).toEqual([method, path, 404]);
      expect({ ...foreign.body, instance: undefined, requestId: undefined }).toEqual({
        ...unknown.body,
        instance: undefined,
        requestId: undefined,
      });
    }
    for (const path of ['/api/company', '/api/company/addresses', '/api/company/contacts']) {
      const answer = await http(t.baseUrl, 'GET', path, { token: b.admin });
      expect(answer.status).toBe(200);
      const text = JSON.stringify(answer.body);
      for (const id of [a.companyId, address.body.id, contact.body.id]) expect(text).not.toContain(id);
    }
    // B's own writes land in B and leave A's default and primary alone.
    await http(t.baseUrl, 'POST', '/api/company/addresses', {
      token: b.admin,
      body: { kind: 'shipping', street: 'B street', isDefault: true },
    });
    await http(t.baseUrl, 'POST', '/api/company/contacts', {
      token: b.admin,
      body: { name: 'B', isPrimary: true },
    });
    await http(t.baseUrl, 'PATCH', '/api/company', { token: b.admin, body: { legalName: 'Beta Ltd' } });
    expect(await fingerprint()).toEqual(before);
  });
});
