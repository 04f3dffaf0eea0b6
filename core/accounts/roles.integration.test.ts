import { randomUUID } from 'node:crypto';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_BUYER, DEMO_STAFF } from './demo-data.ts';

/** Custom roles through HTTP: define, validate, change, delete, and when a change takes effect. */

let t: TestHub;
let admin: string;
let adminId: string;
let companyId: string;
let rootId: string;

const grants = (...pairs: Array<[string, string]>) =>
  pairs.map(([permission, scope]) => ({ permission, scope }));

async function auditFor(requestId: string) {
  const { rows } = await t.hub.platform.db.query(
    'SELECT actor_kind, actor_id, company_id, action, entity_type, entity_id, details FROM platform.audit_log WHERE request_id = $1 ORDER BY id',
    [requestId],
  );
  return rows;
}

async function newUser(roles: string[], unitId = rootId) {
  const email = `r-${randomUUID().slice(0, 8)}@acme.example`;
  const created = await http(t.baseUrl, 'POST', '/api/users', {
    token: admin,
    body: { email, displayName: email, password: 'role-user-password', roles, unitId },
  });
  if (created.status !== 201) throw new Error(`user: ${created.status} ${JSON.stringify(created.body)}`);
  return { id: created.body.user.id as string, email, password: 'role-user-password' };
}

beforeAll(async () => {
  t = await startTestHub();
  admin = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  const me = (await http(t.baseUrl, 'GET', '/api/me', { token: admin })).body;
  adminId = me.id;
  companyId = me.companyId;
  rootId = me.unitId;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('defining roles', () => {
  test('a custom role is created, listed after the presets, read back and audited', async () => {
    const requestId = `role-${randomUUID()}`;
    const created = await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: {
        key: 'site-buyer',
        name: 'Site buyer 工地采购',
        grants: grants(['orders.place', 'own'], ['orders.read', 'unit']),
      },
      headers: { 'x-request-id': requestId },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      key: 'site-buyer',
      name: 'Site buyer 工地采购',
      description: null,
      preset: false,
      grants: grants(['orders.place', 'own'], ['orders.read', 'unit']),
    });
    const listed = await http(t.baseUrl, 'GET', '/api/roles', { token: admin });
    const keys = listed.body.items.map((r: { key: string }) => r.key);
    expect(keys.slice(0, 4)).toEqual(['buyer-admin', 'purchaser', 'approver', 'finance']);
    expect(keys).toContain('site-buyer');
    expect(listed.body.items.slice(0, 4).every((r: { preset: boolean }) => r.preset)).toBe(true);
    expect((await http(t.baseUrl, 'GET', '/api/roles/site-buyer', { token: admin })).body).toEqual(
      created.body,
    );
    expect(await auditFor(requestId)).toEqual([
      expect.objectContaining({
        actor_kind: 'buyer',
        actor_id: adminId,
        company_id: companyId,
        action: 'role.created',
        entity_type: 'role',
        entity_id: 'site-buyer',
      }),
    ]);
    const duplicate = await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: { key: 'site-buyer', name: 'again', grants: grants(['orders.read', 'own']) },
    });
    expect(duplicate.status).toBe(409);
  });

  test('unknown permissions and scopes a permission cannot have are 422 with a pointer per grant', async () => {
    const answer = await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: {
        key: 'bad-role',
        name: 'Bad',
        grants: grants(
          ['orders.read', 'unit'],
          ['orders.fly', 'own'],
          ['roles.manage', 'unit'],
          ['*', 'company'],
          ['constructor', 'own'],
          ['orders.place', 'company'],
        ),
      },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.type).toBe('https://hub.local/problems/invalid-grants');
    expect(answer.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/grants/1/permission',
      '/grants/2/scope',
      '/grants/3/permission',
      '/grants/4/permission',
      '/grants/5/scope',
    ]);
    const update = await http(t.baseUrl, 'PATCH', '/api/roles/site-buyer', {
      token: admin,
      body: { grants: grants(['users.manage', 'own']) },
    });
    expect(update.status).toBe(422);
    expect(update.body.errors).toEqual([expect.objectContaining({ pointer: '/grants/0/scope' })]);
    expect((await http(t.baseUrl, 'GET', '/api/roles/bad-role', { token: admin })).status).toBe(404);
    // A scope outside the vocabulary fails the schema already.
    const schema = await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: { key: 'bad-role', name: 'Bad', grants: grants(['orders.read', 'galaxy']) },
    });
    expect(schema.status).toBe(400);
    expect(schema.body.errors).toEqual([expect.objectContaining({ pointer: '/grants/0/scope' })]);
  });

  test('preset keys are refused for create, update and delete', async () => {
    for (const key of ['buyer-admin', 'purchaser', 'approver', 'finance']) {
      const create = await http(t.baseUrl, 'POST', '/api/roles', {
        token: admin,
        body: { key, name: 'mine', grants: grants(['orders.read', 'own']) },
      });
      expect(create.status).toBe(409);
      expect(
        (await http(t.baseUrl, 'PATCH', `/api/roles/${key}`, { token: admin, body: { name: 'mine' } }))
          .status,
      ).toBe(409);
      expect((await http(t.baseUrl, 'DELETE', `/api/roles/${key}`, { token: admin })).status).toBe(409);
    }
    const { rows } = await t.hub.platform.db.query(
      `SELECT key FROM accounts.custom_roles WHERE key IN ('buyer-admin', 'purchaser', 'approver', 'finance')`,
    );
    expect(rows).toEqual([]);
  });

  test('role keys that are names of object properties are ordinary keys, never presets', async () => {
    const unknown = await http(t.baseUrl, 'POST', '/api/users', {
      token: admin,
      body: {
        email: `ctor-${randomUUID().slice(0, 8)}@acme.example`,
        displayName: 'C',
        roles: ['constructor'],
      },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.type).toBe('https://hub.local/problems/unknown-role');
    const created = await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: { key: 'constructor', name: 'Site constructor', grants: grants(['orders.read', 'own']) },
    });
    expect(created.status).toBe(201);
    const holder = await newUser(['constructor']);
    const token = await logInAs(t.baseUrl, holder.email, holder.password);
    expect((await http(t.baseUrl, 'GET', '/api/me', { token })).body.permissions).toEqual([
      'orders.read@own',
    ]);
  });

  test('only a holder of roles.manage defines roles (403 otherwise)', async () => {
    const manager = await newUser(['purchaser']);
    const token = await logInAs(t.baseUrl, manager.email, manager.password);
    const answer = await http(t.baseUrl, 'POST', '/api/roles', {
      token,
      body: { key: 'sneaky', name: 'S', grants: grants(['orders.read', 'company']) },
    });
    expect(answer.status).toBe(403);
    expect(
      (await http(t.baseUrl, 'PATCH', '/api/roles/site-buyer', { token, body: { name: 'x' } })).status,
    ).toBe(403);
    expect((await http(t.baseUrl, 'DELETE', '/api/roles/site-buyer', { token })).status).toBe(403);
  });
});

describe('no escalation through role definitions', () => {
  test('a roles.manage holder defines and changes roles only within what they hold, their own role included', async () => {
    await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: {
        key: 'role-editor',
        name: 'Role editor',
        grants: grants(['roles.manage', 'company'], ['company.read', 'company'], ['orders.read', 'unit']),
      },
    });
    const editor = await newUser(['role-editor']);
    const token = await logInAs(t.baseUrl, editor.email, editor.password);

    const within = await http(t.baseUrl, 'POST', '/api/roles', {
      token,
      body: {
        key: 'editor-made',
        name: 'Editor made',
        grants: grants(['orders.read', 'own'], ['company.read', 'company']),
      },
    });
    expect(within.status).toBe(201);

    const wider = await http(t.baseUrl, 'POST', '/api/roles', {
      token,
      body: { key: 'editor-wide', name: 'Wide', grants: grants(['orders.read', 'company']) },
    });
    expect(wider.status).toBe(403);
    const other = await http(t.baseUrl, 'POST', '/api/roles', {
      token,
      body: { key: 'editor-users', name: 'Users', grants: grants(['users.manage', 'company']) },
    });
    expect(other.status).toBe(403);

    // Widening the role they hold themselves would reach them at their next login.
    const selfWiden = await http(t.baseUrl, 'PATCH', '/api/roles/role-editor', {
      token,
      body: {
        grants: grants(['roles.manage', 'company'], ['company.read', 'company'], ['users.manage', 'company']),
      },
    });
    expect(selfWiden.status).toBe(403);
    const widenOther = await http(t.baseUrl, 'PATCH', '/api/roles/editor-made', {
      token,
      body: { grants: grants(['audit.read', 'company']) },
    });
    expect(widenOther.status).toBe(403);
    const after = await logInAs(t.baseUrl, editor.email, editor.password);
    expect((await http(t.baseUrl, 'GET', '/api/me', { token: after })).body.permissions).toEqual([
      'company.read@company',
      'orders.read@unit',
      'roles.manage@company',
    ]);
    // Invalid grants still get the 422 that names them, not a 403.
    const invalid = await http(t.baseUrl, 'POST', '/api/roles', {
      token,
      body: { key: 'editor-bad', name: 'Bad', grants: grants(['orders.fly', 'own']) },
    });
    expect(invalid.status).toBe(422);
  });
});

describe('changing and deleting roles', () => {
  test('an update records before and after; a null description clears it', async () => {
    await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: {
        key: 'auditor',
        name: 'Auditor',
        description: 'reads',
        grants: grants(['audit.read', 'company']),
      },
    });
    const requestId = `role-update-${randomUUID()}`;
    const updated = await http(t.baseUrl, 'PATCH', '/api/roles/auditor', {
      token: admin,
      body: {
        name: 'Auditor 审计',
        description: null,
        grants: grants(['audit.read', 'company'], ['orders.read', 'company']),
      },
      headers: { 'x-request-id': requestId },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Auditor 审计', description: null });
    const [audit] = await auditFor(requestId);
    expect(audit).toMatchObject({ action: 'role.updated', actor_id: adminId, entity_id: 'auditor' });
    expect(audit!.details).toEqual({
      before: { name: 'Auditor', description: 'reads', grants: grants(['audit.read', 'company']) },
      after: {
        name: 'Auditor 审计',
        description: null,
        grants: grants(['audit.read', 'company'], ['orders.read', 'company']),
      },
    });
    const renamedOnly = await http(t.baseUrl, 'PATCH', '/api/roles/auditor', {
      token: admin,
      body: { name: 'A' },
    });
    expect(renamedOnly.body.grants).toHaveLength(2);
    expect(
      (await http(t.baseUrl, 'PATCH', '/api/roles/no-such', { token: admin, body: { name: 'A' } })).status,
    ).toBe(404);
  });

  test('a held role cannot be deleted (409); once nobody holds it, it goes and is audited', async () => {
    await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: { key: 'temp-role', name: 'Temp', grants: grants(['orders.read', 'own']) },
    });
    const holder = await newUser(['temp-role']);
    // A disabled holder still holds it.
    await http(t.baseUrl, 'POST', `/api/users/${holder.id}/disable`, { token: admin });
    const refused = await http(t.baseUrl, 'DELETE', '/api/roles/temp-role', { token: admin });
    expect(refused.status).toBe(409);
    expect((await http(t.baseUrl, 'GET', '/api/roles/temp-role', { token: admin })).status).toBe(200);
    await http(t.baseUrl, 'PATCH', `/api/users/${holder.id}`, { token: admin, body: { roles: [] } });
    const requestId = `role-delete-${randomUUID()}`;
    const deleted = await http(t.baseUrl, 'DELETE', '/api/roles/temp-role', {
      token: admin,
      headers: { 'x-request-id': requestId },
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ key: 'temp-role', deleted: true });
    expect((await http(t.baseUrl, 'GET', '/api/roles/temp-role', { token: admin })).status).toBe(404);
    expect(await auditFor(requestId)).toEqual([
      expect.objectContaining({ action: 'role.deleted', entity_id: 'temp-role', actor_id: adminId }),
    ]);
    expect((await http(t.baseUrl, 'DELETE', '/api/roles/temp-role', { token: admin })).status).toBe(404);
  });

  test('a role change applies at the holder’s next login, not to a token already issued', async () => {
    await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: { key: 'watcher', name: 'Watcher', grants: grants(['users.read', 'unit']) },
    });
    const unit = await http(t.baseUrl, 'POST', '/api/units', {
      token: admin,
      body: { parentId: rootId, name: 'Watch unit' },
    });
    const holder = await newUser(['watcher'], unit.body.id);
    const before = await logInAs(t.baseUrl, holder.email, holder.password);
    expect((await http(t.baseUrl, 'GET', '/api/me', { token: before })).body.permissions).toEqual([
      'users.read@unit',
    ]);
    expect((await http(t.baseUrl, 'GET', `/api/users/${adminId}`, { token: before })).status).toBe(404);

    const widened = await http(t.baseUrl, 'PATCH', '/api/roles/watcher', {
      token: admin,
      body: { grants: grants(['users.read', 'company']) },
    });
    expect(widened.status).toBe(200);

    // The token already issued keeps what it was issued with.
    expect((await http(t.baseUrl, 'GET', '/api/me', { token: before })).body.permissions).toEqual([
      'users.read@unit',
    ]);
    expect((await http(t.baseUrl, 'GET', `/api/users/${adminId}`, { token: before })).status).toBe(404);

    const after = await logInAs(t.baseUrl, holder.email, holder.password);
    expect((await http(t.baseUrl, 'GET', '/api/me', { token: after })).body.permissions).toEqual([
      'users.read@company',
    ]);
    expect((await http(t.baseUrl, 'GET', `/api/users/${adminId}`, { token: after })).status).toBe(200);
  });
});

describe('tenancy', () => {
  test('another company neither sees nor changes this company’s roles, and may reuse the key', async () => {
    const staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
    const created = await http(t.baseUrl, 'POST', '/api/staff/companies', {
      token: staff,
      body: {
        name: 'Roles Other Co',
        status: 'active',
        admin: { email: 'admin@roles-other.example', displayName: 'O', password: 'other-password-1' },
      },
    });
    expect(created.status).toBe(201);
    const other = await logInAs(t.baseUrl, 'admin@roles-other.example', 'other-password-1');
    expect((await http(t.baseUrl, 'GET', '/api/roles/site-buyer', { token: other })).status).toBe(404);
    expect(
      (await http(t.baseUrl, 'PATCH', '/api/roles/site-buyer', { token: other, body: { name: 'x' } })).status,
    ).toBe(404);
    expect((await http(t.baseUrl, 'DELETE', '/api/roles/site-buyer', { token: other })).status).toBe(404);
    const listed = await http(t.baseUrl, 'GET', '/api/roles', { token: other });
    expect(listed.body.items.map((r: { key: string }) => r.key)).not.toContain('site-buyer');
    // Assigning this company's custom role in the other company: unknown there.
    const assign = await http(t.baseUrl, 'POST', '/api/users', {
      token: other,
      body: { email: `x-${randomUUID().slice(0, 8)}@other.example`, displayName: 'X', roles: ['site-buyer'] },
    });
    expect(assign.status).toBe(422);
    const same = await http(t.baseUrl, 'POST', '/api/roles', {
      token: other,
      body: { key: 'site-buyer', name: 'Theirs', grants: grants(['orders.read', 'company']) },
    });
    expect(same.status).toBe(201);
    expect((await http(t.baseUrl, 'GET', '/api/roles/site-buyer', { token: admin })).body.name).toBe(
      'Site buyer 工地采购',
    );
  });

  test('the permission catalogue lists every permission with the scopes it can be granted at', async () => {
    const answer = await http(t.baseUrl, 'GET', '/api/permissions', { token: admin });
    expect(answer.status).toBe(200);
    const byName = new Map(
      answer.body.items.map((p: { permission: string; scopes: string[] }) => [p.permission, p.scopes]),
    );
    expect(byName.get('users.read')).toEqual(['unit', 'unit_tree', 'company']);
    expect(byName.get('roles.manage')).toEqual(['company']);
    const staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
    expect((await http(t.baseUrl, 'GET', '/api/roles', { token: staff })).status).toBe(403);
  });
});
