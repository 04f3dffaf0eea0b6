import { randomUUID } from 'node:crypto';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_BUYER, DEMO_STAFF } from './demo-data.ts';

/**
 * Scoped user management through HTTP: callers built from custom roles, invited and logged in as
 * themselves, reading and managing users only as far as their scope reaches, never escalating.
 */

let t: TestHub;
let admin: string;
let adminId: string;
let companyId: string;
let rootId: string;
let sales: string;
let salesEast: string;
let ops: string;

/** Purchaser's grants plus user management of the holder's subtree. */
const TREE_MANAGER: Array<[string, string]> = [
  ['company.read', 'company'],
  ['orders.place', 'own'],
  ['orders.read', 'own'],
  ['quotes.request', 'own'],
  ['quotes.read', 'own'],
  ['approvals.read', 'own'],
  ['approvals.delegate', 'own'],
  ['spending.read', 'own'],
  ['invoices.read', 'own'],
  ['users.read', 'unit_tree'],
  ['users.manage', 'unit_tree'],
];

async function createUnit(parentId: string, name: string): Promise<string> {
  const answer = await http(t.baseUrl, 'POST', '/api/units', { token: admin, body: { parentId, name } });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

async function defineRole(key: string, grants: Array<[string, string]>) {
  const answer = await http(t.baseUrl, 'POST', '/api/roles', {
    token: admin,
    body: { key, name: key, grants: grants.map(([permission, scope]) => ({ permission, scope })) },
  });
  expect(answer.status).toBe(201);
}

/** Invites a user (no password), accepts the invitation as them, and answers their id and token. */
async function invite(
  by: string,
  unitId: string,
  roles: string[],
): Promise<{ id: string; email: string; token: string }> {
  const email = `inv-${randomUUID().slice(0, 8)}@acme.example`;
  const created = await http(t.baseUrl, 'POST', '/api/users', {
    token: by,
    body: { email, displayName: email, roles, unitId },
  });
  if (created.status !== 201) throw new Error(`invite: ${created.status} ${JSON.stringify(created.body)}`);
  const accepted = await http(t.baseUrl, 'POST', '/api/auth/accept-invite', {
    body: { token: created.body.inviteToken, password: 'accepted-password-1' },
  });
  expect(accepted.status).toBe(200);
  return { id: created.body.user.id, email, token: accepted.body.accessToken };
}

async function visibleIds(token: string, query = ''): Promise<string[]> {
  const answer = await http(t.baseUrl, 'GET', `/api/users?limit=200${query}`, { token });
  expect(answer.status).toBe(200);
  return answer.body.items.map((u: { id: string }) => u.id);
}

let inSales: { id: string; token: string };
let inSalesEast: { id: string; token: string };
let inOps: { id: string; token: string };

beforeAll(async () => {
  t = await startTestHub();
  admin = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  const me = (await http(t.baseUrl, 'GET', '/api/me', { token: admin })).body;
  adminId = me.id;
  companyId = me.companyId;
  rootId = me.unitId;
  sales = await createUnit(rootId, 'Sales');
  salesEast = await createUnit(sales, 'Sales East');
  ops = await createUnit(rootId, 'Ops');
  await defineRole('tree-reader', [
    ['company.read', 'company'],
    ['users.read', 'unit_tree'],
  ]);
  await defineRole('unit-reader', [['users.read', 'unit']]);
  await defineRole('tree-manager', TREE_MANAGER);
  inSales = await invite(admin, sales, ['purchaser']);
  inSalesEast = await invite(admin, salesEast, ['purchaser']);
  inOps = await invite(admin, ops, ['purchaser']);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('users.read scopes', () => {
  test('@unit_tree sees the users of their unit and its descendants only', async () => {
    const reader = await invite(admin, sales, ['tree-reader']);
    const seen = await visibleIds(reader.token);
    expect(seen).toEqual(expect.arrayContaining([reader.id, inSales.id, inSalesEast.id]));
    expect(seen).not.toContain(inOps.id);
    expect(seen).not.toContain(adminId);
    expect(
      (await http(t.baseUrl, 'GET', `/api/users/${inSalesEast.id}`, { token: reader.token })).status,
    ).toBe(200);
    expect((await http(t.baseUrl, 'GET', `/api/users/${inOps.id}`, { token: reader.token })).status).toBe(
      404,
    );
    expect((await http(t.baseUrl, 'GET', `/api/users/${adminId}`, { token: reader.token })).status).toBe(404);
    // Filtering by a unit outside the reach answers nothing rather than that unit's users.
    expect(await visibleIds(reader.token, `&unitId=${ops}`)).toEqual([]);
    expect(await visibleIds(reader.token, `&unitId=${salesEast}`)).toEqual([inSalesEast.id]);
  });

  test('@unit sees their own unit only, not its sub-units', async () => {
    const reader = await invite(admin, sales, ['unit-reader']);
    const seen = await visibleIds(reader.token);
    expect(seen).toEqual(expect.arrayContaining([reader.id, inSales.id]));
    expect(seen).not.toContain(inSalesEast.id);
    expect(seen).not.toContain(inOps.id);
    expect(
      (await http(t.baseUrl, 'GET', `/api/users/${inSalesEast.id}`, { token: reader.token })).status,
    ).toBe(404);
  });

  test('without users.read a buyer lists nobody (403); the admin sees the whole company, paged by cursor', async () => {
    expect((await http(t.baseUrl, 'GET', '/api/users', { token: inOps.token })).status).toBe(403);
    const all = await visibleIds(admin);
    expect(all).toEqual(expect.arrayContaining([adminId, inSales.id, inSalesEast.id, inOps.id]));
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const answer = await http(t.baseUrl, 'GET', `/api/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        token: admin,
      });
      expect(answer.status).toBe(200);
      expect(answer.body.items.length).toBeLessThanOrEqual(2);
      paged.push(...answer.body.items.map((u: { id: string }) => u.id));
      cursor = answer.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual([...all].sort());
  });
});

describe('users.manage at unit_tree', () => {
  let manager: { id: string; token: string };

  beforeAll(async () => {
    manager = await invite(admin, sales, ['tree-manager']);
  });

  test('invites into their subtree (default: their own unit) but not outside it (422 unit-out-of-reach; 404 for a unit the company lacks)', async () => {
    const intoEast = await http(t.baseUrl, 'POST', '/api/users', {
      token: manager.token,
      body: {
        email: `east-${randomUUID().slice(0, 8)}@acme.example`,
        displayName: 'E',
        roles: ['purchaser'],
        unitId: salesEast,
      },
    });
    expect(intoEast.status).toBe(201);
    expect(intoEast.body.user).toMatchObject({ unitId: salesEast, status: 'invited', companyId });
    expect(typeof intoEast.body.inviteToken).toBe('string');

    const byDefault = await http(t.baseUrl, 'POST', '/api/users', {
      token: manager.token,
      body: { email: `dflt-${randomUUID().slice(0, 8)}@acme.example`, displayName: 'D' },
    });
    expect(byDefault.status).toBe(201);
    expect(byDefault.body.user.unitId).toBe(sales);

    for (const unitId of [ops, rootId]) {
      const outside = await http(t.baseUrl, 'POST', '/api/users', {
        token: manager.token,
        body: { email: `out-${randomUUID().slice(0, 8)}@acme.example`, displayName: 'O', unitId },
      });
      expect(outside.status).toBe(422);
      expect(outside.body.type).toBe('https://hub.local/problems/unit-out-of-reach');
      expect(outside.body.errors).toEqual([expect.objectContaining({ pointer: '/unitId' })]);
    }
    // A unit the company does not have is not found, like any unknown id.
    const unknown = await http(t.baseUrl, 'POST', '/api/users', {
      token: manager.token,
      body: { email: `out-${randomUUID().slice(0, 8)}@acme.example`, displayName: 'O', unitId: randomUUID() },
    });
    expect(unknown.status).toBe(404);
  });

  test('users outside their subtree look unknown (404) to every change', async () => {
    for (const [method, path, body] of [
      ['PATCH', `/api/users/${inOps.id}`, { displayName: 'renamed' }],
      ['POST', `/api/users/${inOps.id}/disable`, undefined],
      ['POST', `/api/users/${inOps.id}/enable`, undefined],
      ['POST', `/api/users/${inOps.id}/password-reset`, undefined],
      ['PATCH', `/api/users/${adminId}`, { displayName: 'renamed' }],
    ] as const) {
      expect((await http(t.baseUrl, method, path, { token: manager.token, body })).status).toBe(404);
    }
    const { rows } = await t.hub.platform.db.query(
      'SELECT display_name, status, reset_token_hash FROM accounts.users WHERE id = $1',
      [inOps.id],
    );
    expect(rows[0]).toMatchObject({ status: 'active', reset_token_hash: null });
    expect(rows[0]!.display_name).not.toBe('renamed');
  });

  test('cannot move a user of their subtree out of it', async () => {
    const answer = await http(t.baseUrl, 'PATCH', `/api/users/${inSalesEast.id}`, {
      token: manager.token,
      body: { unitId: ops },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.type).toBe('https://hub.local/problems/unit-out-of-reach');
    const moved = await http(t.baseUrl, 'PATCH', `/api/users/${inSalesEast.id}`, {
      token: manager.token,
      body: { unitId: sales },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.unitId).toBe(sales);
    await http(t.baseUrl, 'PATCH', `/api/users/${inSalesEast.id}`, {
      token: admin,
      body: { unitId: salesEast },
    });
  });

  test('grants only what they hold: purchaser yes; buyer-admin, approver or a wider custom role → 403', async () => {
    const fine = await http(t.baseUrl, 'PATCH', `/api/users/${inSalesEast.id}`, {
      token: manager.token,
      body: { roles: ['purchaser'] },
    });
    expect(fine.status).toBe(200);
    await defineRole('wide-orders', [['orders.read', 'company']]);
    for (const roles of [
      ['buyer-admin'],
      ['approver'],
      ['purchaser', 'wide-orders'],
      ['tree-reader', 'finance'],
    ]) {
      const update = await http(t.baseUrl, 'PATCH', `/api/users/${inSalesEast.id}`, {
        token: manager.token,
        body: { roles },
      });
      expect(update.status).toBe(403);
      const create = await http(t.baseUrl, 'POST', '/api/users', {
        token: manager.token,
        body: { email: `esc-${randomUUID().slice(0, 8)}@acme.example`, displayName: 'X', roles },
      });
      expect(create.status).toBe(403);
    }
    const { rows } = await t.hub.platform.db.query('SELECT roles FROM accounts.users WHERE id = $1', [
      inSalesEast.id,
    ]);
    expect(rows[0]!.roles).toEqual(['purchaser']);
    // A custom role entirely within their own grants is fine.
    const same = await http(t.baseUrl, 'PATCH', `/api/users/${inSalesEast.id}`, {
      token: manager.token,
      body: { roles: ['tree-reader'] },
    });
    expect(same.status).toBe(200);
    await http(t.baseUrl, 'PATCH', `/api/users/${inSalesEast.id}`, {
      token: admin,
      body: { roles: ['purchaser'] },
    });
  });

  test('an unknown role is 422 whoever asks', async () => {
    const answer = await http(t.baseUrl, 'PATCH', `/api/users/${inSalesEast.id}`, {
      token: admin,
      body: { roles: ['no-such-role'] },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.type).toBe('https://hub.local/problems/unknown-role');
  });

  test('cannot change their own roles nor disable themselves', async () => {
    const roles = await http(t.baseUrl, 'PATCH', `/api/users/${manager.id}`, {
      token: manager.token,
      body: { roles: ['purchaser'] },
    });
    expect(roles.status).toBe(403);
    const disable = await http(t.baseUrl, 'POST', `/api/users/${manager.id}/disable`, {
      token: manager.token,
    });
    expect(disable.status).toBe(403);
    const adminSelf = await http(t.baseUrl, 'POST', `/api/users/${adminId}/disable`, { token: admin });
    expect(adminSelf.status).toBe(403);
    const { rows } = await t.hub.platform.db.query(
      'SELECT roles, status FROM accounts.users WHERE id = ANY($1)',
      [[manager.id, adminId]],
    );
    expect(rows.every((r) => r.status === 'active')).toBe(true);
  });

  test('cannot disable, reset, re-role or rename a user holding more than they do (no takeover of an admin)', async () => {
    // A company administrator who happens to sit in the manager's subtree.
    const boss = await invite(admin, salesEast, ['buyer-admin']);
    for (const [method, path, body] of [
      ['POST', `/api/users/${boss.id}/password-reset`, undefined],
      ['POST', `/api/users/${boss.id}/disable`, undefined],
      ['PATCH', `/api/users/${boss.id}`, { roles: ['purchaser'] }],
      ['PATCH', `/api/users/${boss.id}`, { roles: [] }],
      ['PATCH', `/api/users/${boss.id}`, { displayName: 'Demoted' }],
      ['PATCH', `/api/users/${boss.id}`, { unitId: sales }],
    ] as const) {
      const answer = await http(t.baseUrl, method, path, { token: manager.token, body });
      expect({ path, body, status: answer.status }).toEqual({ path, body, status: 403 });
    }
    const { rows } = await t.hub.platform.db.query(
      'SELECT roles, status, reset_token_hash FROM accounts.users WHERE id = $1',
      [boss.id],
    );
    expect(rows[0]).toEqual({ roles: ['buyer-admin'], status: 'active', reset_token_hash: null });
    // The manager may still see them: reading is not managing.
    expect((await http(t.baseUrl, 'GET', `/api/users/${boss.id}`, { token: manager.token })).status).toBe(
      200,
    );
  });

  test('disables, enables and resets users of their subtree; each change is audited with the actor', async () => {
    const target = await invite(manager.token, salesEast, ['purchaser']);
    const requestId = `disable-${randomUUID()}`;
    const disabled = await http(t.baseUrl, 'POST', `/api/users/${target.id}/disable`, {
      token: manager.token,
      headers: { 'x-request-id': requestId },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    const { rows: audit } = await t.hub.platform.db.query(
      'SELECT actor_id, action, entity_id, company_id, details FROM platform.audit_log WHERE request_id = $1',
      [requestId],
    );
    expect(audit).toEqual([
      expect.objectContaining({
        actor_id: manager.id,
        action: 'user.disabled',
        entity_id: target.id,
        company_id: companyId,
        details: { before: { status: 'active' }, after: { status: 'disabled' } },
      }),
    ]);
    const enabled = await http(t.baseUrl, 'POST', `/api/users/${target.id}/enable`, { token: manager.token });
    expect(enabled.body.status).toBe('active');
    const reset = await http(t.baseUrl, 'POST', `/api/users/${target.id}/password-reset`, {
      token: manager.token,
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ token: expect.any(String), expiresInHours: 2 });

    const { rows: trail } = await t.hub.platform.db.query(
      `SELECT actor_kind, actor_id, action, details FROM platform.audit_log
        WHERE entity_type = 'user' AND entity_id = $1 ORDER BY id`,
      [target.id],
    );
    expect(trail.map((r) => [r.actor_id, r.action])).toEqual([
      [manager.id, 'user.invited'],
      [target.id, 'user.invitation_accepted'],
      [manager.id, 'user.disabled'],
      [manager.id, 'user.enabled'],
      [manager.id, 'user.password_reset_requested'],
    ]);
    expect(trail[0]!.details).toEqual({ roles: ['purchaser'], unitId: salesEast });
    expect(trail[3]!.details).toEqual({ before: { status: 'disabled' }, after: { status: 'active' } });

    const renameId = `rename-${randomUUID()}`;
    await http(t.baseUrl, 'PATCH', `/api/users/${target.id}`, {
      token: manager.token,
      body: { displayName: 'Renamed 改名' },
      headers: { 'x-request-id': renameId },
    });
    const { rows: renamed } = await t.hub.platform.db.query(
      'SELECT actor_id, action, details FROM platform.audit_log WHERE request_id = $1',
      [renameId],
    );
    expect(renamed).toEqual([
      {
        actor_id: manager.id,
        action: 'user.updated',
        details: {
          before: expect.objectContaining({ roles: ['purchaser'], unitId: salesEast }),
          after: expect.objectContaining({
            displayName: 'Renamed 改名',
            roles: ['purchaser'],
            unitId: salesEast,
          }),
        },
      },
    ]);
  });
});

describe('tenancy', () => {
  test('another company’s admin gets 404 for every user of this company', async () => {
    const staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
    const created = await http(t.baseUrl, 'POST', '/api/staff/companies', {
      token: staff,
      body: {
        name: 'Users Other Co',
        status: 'active',
        admin: { email: 'admin@users-other.example', displayName: 'O', password: 'other-password-1' },
      },
    });
    expect(created.status).toBe(201);
    const other = await logInAs(t.baseUrl, 'admin@users-other.example', 'other-password-1');
    for (const [method, path, body] of [
      ['GET', `/api/users/${inSales.id}`, undefined],
      ['PATCH', `/api/users/${inSales.id}`, { displayName: 'x' }],
      ['POST', `/api/users/${inSales.id}/disable`, undefined],
      ['POST', `/api/users/${inSales.id}/enable`, undefined],
      ['POST', `/api/users/${inSales.id}/password-reset`, undefined],
    ] as const) {
      expect((await http(t.baseUrl, method, path, { token: other, body })).status).toBe(404);
    }
    expect(await visibleIds(other)).not.toContain(inSales.id);
    const planted = await http(t.baseUrl, 'POST', '/api/users', {
      token: other,
      body: { email: `plant-${randomUUID().slice(0, 8)}@x.example`, displayName: 'P', unitId: sales },
    });
    expect(planted.status).toBe(404);
  });
});
