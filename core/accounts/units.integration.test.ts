import { randomUUID } from 'node:crypto';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_BUYER, DEMO_STAFF } from './demo-data.ts';

/** The org tree through HTTP: paths, moves, cycles, deletes, codes, managers, concurrency, audit. */

let t: TestHub;
let staff: string;
let admin: string;
let adminId: string;
let companyId: string;
let rootId: string;

interface UnitBody {
  id: string;
  parentId: string | null;
  name: string;
  code: string | null;
  managerUserId: string | null;
  path: string[];
}

async function createUnit(
  token: string,
  parentId: string,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<UnitBody> {
  const answer = await http(t.baseUrl, 'POST', '/api/units', { token, body: { parentId, name, ...extra } });
  if (answer.status !== 201)
    throw new Error(`create unit ${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function units(token: string = admin): Promise<UnitBody[]> {
  const answer = await http(t.baseUrl, 'GET', '/api/units', { token });
  expect(answer.status).toBe(200);
  return answer.body.items;
}

async function newUser(
  token: string,
  body: { unitId?: string; roles?: string[] },
): Promise<{ id: string; email: string; token: string }> {
  const email = `u-${randomUUID().slice(0, 8)}@acme.example`;
  const password = 'user-password-123';
  const created = await http(t.baseUrl, 'POST', '/api/users', {
    token,
    body: {
      email,
      displayName: email,
      password,
      roles: body.roles ?? [],
      ...(body.unitId ? { unitId: body.unitId } : {}),
    },
  });
  if (created.status !== 201)
    throw new Error(`create user: ${created.status} ${JSON.stringify(created.body)}`);
  return { id: created.body.user.id, email, token: await logInAs(t.baseUrl, email, password) };
}

async function defineRole(token: string, key: string, grants: Array<[string, string]>) {
  const answer = await http(t.baseUrl, 'POST', '/api/roles', {
    token,
    body: { key, name: key, grants: grants.map(([permission, scope]) => ({ permission, scope })) },
  });
  if (answer.status !== 201) throw new Error(`role ${key}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** Units whose path is not their parent's path plus their own id (or whose root is not alone). */
async function brokenPaths(company: string): Promise<string[]> {
  const { rows } = await t.hub.platform.db.query(
    `SELECT u.id FROM accounts.units u LEFT JOIN accounts.units p ON p.id = u.parent_id
      WHERE u.company_id = $1
        AND ((u.parent_id IS NULL AND u.path <> ARRAY[u.id])
          OR (u.parent_id IS NOT NULL AND (p.id IS NULL OR u.path <> p.path || u.id OR p.company_id <> u.company_id)))`,
    [company],
  );
  return rows.map((r) => r.id as string);
}

async function auditFor(requestId: string) {
  const { rows } = await t.hub.platform.db.query(
    `SELECT actor_kind, actor_id, company_id, action, entity_type, entity_id, details
       FROM platform.audit_log WHERE request_id = $1 ORDER BY id`,
    [requestId],
  );
  return rows;
}

beforeAll(async () => {
  t = await startTestHub();
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  admin = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  const me = (await http(t.baseUrl, 'GET', '/api/me', { token: admin })).body;
  adminId = me.id;
  companyId = me.companyId;
  rootId = me.unitId;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('the tree', () => {
  test('units several levels deep list parents before children, each path the chain from the root', async () => {
    const a = await createUnit(admin, rootId, 'Tree A');
    const a1 = await createUnit(admin, a.id, 'Tree A1');
    const a1x = await createUnit(admin, a1.id, 'Tree A1x');
    const a1x9 = await createUnit(admin, a1x.id, 'Tree A1x9');
    expect(a1x9.path).toEqual([rootId, a.id, a1.id, a1x.id, a1x9.id]);
    expect(a1x9.parentId).toBe(a1x.id);

    const listed = await units();
    const position = new Map(listed.map((u, index) => [u.id, index]));
    const byId = new Map(listed.map((u) => [u.id, u]));
    expect(listed[0]!.id).toBe(rootId);
    expect(listed[0]).toMatchObject({ parentId: null, path: [rootId] });
    for (const unit of listed) {
      if (!unit.parentId) continue;
      expect(position.get(unit.parentId)!).toBeLessThan(position.get(unit.id)!);
      expect(unit.path).toEqual([...byId.get(unit.parentId)!.path, unit.id]);
    }
    expect(await brokenPaths(companyId)).toEqual([]);
  });

  test('moving a unit rewrites every descendant path, and its users fall into the new ancestor’s unit_tree reach', async () => {
    const a = await createUnit(admin, rootId, 'Move A');
    const a1 = await createUnit(admin, a.id, 'Move A1');
    const a1x = await createUnit(admin, a1.id, 'Move A1x');
    const b = await createUnit(admin, rootId, 'Move B');
    const deep = await newUser(admin, { unitId: a1x.id, roles: ['purchaser'] });
    await defineRole(admin, 'move-b-reader', [
      ['company.read', 'company'],
      ['users.read', 'unit_tree'],
    ]);
    const reader = await newUser(admin, { unitId: b.id, roles: ['move-b-reader'] });
    const visible = async () =>
      (await http(t.baseUrl, 'GET', '/api/users?limit=200', { token: reader.token })).body.items.map(
        (u: { id: string }) => u.id,
      );
    expect(await visible()).not.toContain(deep.id);
    expect((await http(t.baseUrl, 'GET', `/api/users/${deep.id}`, { token: reader.token })).status).toBe(404);

    const requestId = `move-${randomUUID()}`;
    const moved = await http(t.baseUrl, 'POST', `/api/units/${a.id}/move`, {
      token: admin,
      body: { parentId: b.id },
      headers: { 'x-request-id': requestId },
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: a.id, parentId: b.id, path: [rootId, b.id, a.id] });

    const byId = new Map((await units()).map((u) => [u.id, u]));
    expect(byId.get(a1.id)!.path).toEqual([rootId, b.id, a.id, a1.id]);
    expect(byId.get(a1x.id)!.path).toEqual([rootId, b.id, a.id, a1.id, a1x.id]);
    expect(byId.get(a1x.id)!.parentId).toBe(a1.id);
    expect(await brokenPaths(companyId)).toEqual([]);

    expect(await visible()).toEqual(expect.arrayContaining([deep.id, reader.id]));
    expect((await http(t.baseUrl, 'GET', `/api/users/${deep.id}`, { token: reader.token })).status).toBe(200);

    const [audit] = await auditFor(requestId);
    expect(audit).toMatchObject({
      actor_kind: 'buyer',
      actor_id: adminId,
      company_id: companyId,
      action: 'unit.moved',
      entity_type: 'unit',
      entity_id: a.id,
    });
    expect(audit!.details).toMatchObject({ fromParentId: rootId, toParentId: b.id });
  });

  test('a unit cannot move under itself or one of its descendants (422 unit-cycle), and nothing changes', async () => {
    const a = await createUnit(admin, rootId, 'Cycle A');
    const a1 = await createUnit(admin, a.id, 'Cycle A1');
    const a1x = await createUnit(admin, a1.id, 'Cycle A1x');
    for (const target of [a.id, a1.id, a1x.id]) {
      const answer = await http(t.baseUrl, 'POST', `/api/units/${a.id}/move`, {
        token: admin,
        body: { parentId: target },
      });
      expect(answer.status).toBe(422);
      expect(answer.body.type).toBe('https://hub.local/problems/unit-cycle');
      expect(answer.body.errors).toEqual([expect.objectContaining({ pointer: '/parentId' })]);
    }
    const byId = new Map((await units()).map((u) => [u.id, u]));
    expect(byId.get(a1x.id)!.path).toEqual([rootId, a.id, a1.id, a1x.id]);
  });

  test('the root unit can neither move nor be deleted', async () => {
    const a = await createUnit(admin, rootId, 'Root guard A');
    const move = await http(t.baseUrl, 'POST', `/api/units/${rootId}/move`, {
      token: admin,
      body: { parentId: a.id },
    });
    expect(move.status).toBe(422);
    expect(move.body.type).toBe('https://hub.local/problems/root-unit');
    const remove = await http(t.baseUrl, 'DELETE', `/api/units/${rootId}`, { token: admin });
    expect(remove.status).toBe(422);
    expect(remove.body.type).toBe('https://hub.local/problems/root-unit');
    expect((await units())[0]).toMatchObject({ id: rootId, parentId: null });
  });

  test('only an empty unit is deleted: sub-units or members → 409; the delete is audited', async () => {
    const a = await createUnit(admin, rootId, 'Delete A');
    const a1 = await createUnit(admin, a.id, 'Delete A1');
    const withChild = await http(t.baseUrl, 'DELETE', `/api/units/${a.id}`, { token: admin });
    expect(withChild.status).toBe(409);

    const member = await newUser(admin, { unitId: a1.id });
    const withMember = await http(t.baseUrl, 'DELETE', `/api/units/${a1.id}`, { token: admin });
    expect(withMember.status).toBe(409);

    // An invited (never logged in) or disabled member still counts.
    await http(t.baseUrl, 'POST', `/api/users/${member.id}/disable`, { token: admin });
    expect((await http(t.baseUrl, 'DELETE', `/api/units/${a1.id}`, { token: admin })).status).toBe(409);

    const moved = await http(t.baseUrl, 'PATCH', `/api/users/${member.id}`, {
      token: admin,
      body: { unitId: rootId },
    });
    expect(moved.status).toBe(200);
    const requestId = `delete-${randomUUID()}`;
    const deleted = await http(t.baseUrl, 'DELETE', `/api/units/${a1.id}`, {
      token: admin,
      headers: { 'x-request-id': requestId },
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: a1.id, deleted: true });
    expect((await units()).map((u) => u.id)).not.toContain(a1.id);
    expect(await auditFor(requestId)).toEqual([
      expect.objectContaining({ action: 'unit.deleted', entity_id: a1.id, actor_id: adminId }),
    ]);
    expect((await http(t.baseUrl, 'DELETE', `/api/units/${a.id}`, { token: admin })).status).toBe(200);
    expect((await http(t.baseUrl, 'DELETE', `/api/units/${a.id}`, { token: admin })).status).toBe(404);
  });
});

describe('codes and managers', () => {
  let other: string;
  let otherRoot: string;
  let otherCompanyId: string;
  let otherAdminId: string;

  beforeAll(async () => {
    const created = await http(t.baseUrl, 'POST', '/api/staff/companies', {
      token: staff,
      body: {
        name: 'Units Other Co',
        status: 'active',
        admin: { email: 'admin@units-other.example', displayName: 'Other', password: 'other-password-1' },
      },
    });
    expect(created.status).toBe(201);
    otherCompanyId = created.body.id;
    other = await logInAs(t.baseUrl, 'admin@units-other.example', 'other-password-1');
    const me = (await http(t.baseUrl, 'GET', '/api/me', { token: other })).body;
    otherRoot = me.unitId;
    otherAdminId = me.id;
  });

  test('a code is unique within a company (409 on create and on update) but reusable in another company', async () => {
    const first = await createUnit(admin, rootId, 'Code 1', { code: 'FIN' });
    expect(first.code).toBe('FIN');
    const clash = await http(t.baseUrl, 'POST', '/api/units', {
      token: admin,
      body: { parentId: rootId, name: 'Code 2', code: 'FIN' },
    });
    expect(clash.status).toBe(409);
    const second = await createUnit(admin, rootId, 'Code 2', { code: 'OPS' });
    const renamed = await http(t.baseUrl, 'PATCH', `/api/units/${second.id}`, {
      token: admin,
      body: { code: 'FIN' },
    });
    expect(renamed.status).toBe(409);
    expect((await units()).find((u) => u.id === second.id)!.code).toBe('OPS');

    const elsewhere = await createUnit(other, otherRoot, 'Other finance', { code: 'FIN' });
    expect(elsewhere.code).toBe('FIN');

    // Clearing a code frees it.
    expect(
      (await http(t.baseUrl, 'PATCH', `/api/units/${first.id}`, { token: admin, body: { code: null } })).body
        .code,
    ).toBeNull();
    expect(
      (await http(t.baseUrl, 'PATCH', `/api/units/${second.id}`, { token: admin, body: { code: 'FIN' } }))
        .status,
    ).toBe(200);
  });

  test('the manager must be an enabled user of the same company (422); null removes them; the change is audited', async () => {
    const unit = await createUnit(admin, rootId, 'Managed');
    const foreign = await http(t.baseUrl, 'PATCH', `/api/units/${unit.id}`, {
      token: admin,
      body: { managerUserId: otherAdminId },
    });
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors).toEqual([expect.objectContaining({ pointer: '/managerUserId' })]);
    const unknown = await http(t.baseUrl, 'POST', '/api/units', {
      token: admin,
      body: { parentId: rootId, name: 'Managed 2', managerUserId: randomUUID() },
    });
    expect(unknown.status).toBe(422);

    const staffId = (await http(t.baseUrl, 'GET', '/api/me', { token: staff })).body.id;
    expect(
      (
        await http(t.baseUrl, 'PATCH', `/api/units/${unit.id}`, {
          token: admin,
          body: { managerUserId: staffId },
        })
      ).status,
    ).toBe(422);

    const disabled = await newUser(admin, { unitId: unit.id });
    await http(t.baseUrl, 'POST', `/api/users/${disabled.id}/disable`, { token: admin });
    expect(
      (
        await http(t.baseUrl, 'PATCH', `/api/units/${unit.id}`, {
          token: admin,
          body: { managerUserId: disabled.id },
        })
      ).status,
    ).toBe(422);

    const manager = await newUser(admin, { unitId: unit.id });
    const requestId = `manager-${randomUUID()}`;
    const set = await http(t.baseUrl, 'PATCH', `/api/units/${unit.id}`, {
      token: admin,
      body: { managerUserId: manager.id, name: 'Managed (renamed)' },
      headers: { 'x-request-id': requestId },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ managerUserId: manager.id, name: 'Managed (renamed)' });
    const [audit] = await auditFor(requestId);
    expect(audit).toMatchObject({ action: 'unit.updated', actor_id: adminId, entity_id: unit.id });
    expect(audit!.details).toEqual({
      before: { name: 'Managed', code: null, managerUserId: null },
      after: { name: 'Managed (renamed)', code: null, managerUserId: manager.id },
    });
    const cleared = await http(t.baseUrl, 'PATCH', `/api/units/${unit.id}`, {
      token: admin,
      body: { managerUserId: null },
    });
    expect(cleared.body.managerUserId).toBeNull();
    expect(cleared.body.name).toBe('Managed (renamed)');
  });

  test('another company’s units look unknown: 404 to update, move, delete or create under', async () => {
    const mine = await createUnit(admin, rootId, 'Mine');
    for (const [method, path, body] of [
      ['PATCH', `/api/units/${mine.id}`, { name: 'hijacked' }],
      ['POST', `/api/units/${mine.id}/move`, { parentId: otherRoot }],
      ['DELETE', `/api/units/${mine.id}`, undefined],
      ['POST', '/api/units', { parentId: mine.id, name: 'planted' }],
    ] as const) {
      const answer = await http(t.baseUrl, method, path, { token: other, body });
      expect(answer.status).toBe(404);
    }
    const theirs = await createUnit(other, otherRoot, 'Theirs');
    const across = await http(t.baseUrl, 'POST', `/api/units/${mine.id}/move`, {
      token: admin,
      body: { parentId: theirs.id },
    });
    expect(across.status).toBe(404);
    expect((await units()).find((u) => u.id === mine.id)!.name).toBe('Mine');
    expect((await units(other)).every((u) => u.path[0] === otherRoot)).toBe(true);
    expect(await brokenPaths(otherCompanyId)).toEqual([]);
  });
});

describe('units.manage at unit_tree', () => {
  test('a subtree admin changes their subtree only: nothing is created, moved or deleted outside it', async () => {
    const dept = await createUnit(admin, rootId, 'Subtree dept');
    const team = await createUnit(admin, dept.id, 'Subtree team');
    const outside = await createUnit(admin, rootId, 'Subtree outside');
    await defineRole(admin, 'subtree-units', [
      ['company.read', 'company'],
      ['units.manage', 'unit_tree'],
    ]);
    const head = await newUser(admin, { unitId: dept.id, roles: ['subtree-units'] });

    const inside = await http(t.baseUrl, 'POST', '/api/units', {
      token: head.token,
      body: { parentId: team.id, name: 'Subtree squad' },
    });
    expect(inside.status).toBe(201);
    expect(inside.body.path).toEqual([rootId, dept.id, team.id, inside.body.id]);

    expect(
      (
        await http(t.baseUrl, 'POST', '/api/units', {
          token: head.token,
          body: { parentId: outside.id, name: 'x' },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await http(t.baseUrl, 'POST', '/api/units', {
          token: head.token,
          body: { parentId: rootId, name: 'x' },
        })
      ).status,
    ).toBe(404);
    // Moving a unit of the subtree out of it, or a unit from outside into it: both refused.
    expect(
      (
        await http(t.baseUrl, 'POST', `/api/units/${team.id}/move`, {
          token: head.token,
          body: { parentId: outside.id },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await http(t.baseUrl, 'POST', `/api/units/${outside.id}/move`, {
          token: head.token,
          body: { parentId: team.id },
        })
      ).status,
    ).toBe(404);
    expect(
      (await http(t.baseUrl, 'PATCH', `/api/units/${outside.id}`, { token: head.token, body: { name: 'x' } }))
        .status,
    ).toBe(404);
    expect((await http(t.baseUrl, 'DELETE', `/api/units/${outside.id}`, { token: head.token })).status).toBe(
      404,
    );
    expect(
      (await http(t.baseUrl, 'DELETE', `/api/units/${inside.body.id}`, { token: head.token })).status,
    ).toBe(200);
    // A purchaser cannot change the tree at all.
    const purchaser = await newUser(admin, { unitId: dept.id, roles: ['purchaser'] });
    expect(
      (
        await http(t.baseUrl, 'POST', '/api/units', {
          token: purchaser.token,
          body: { parentId: dept.id, name: 'x' },
        })
      ).status,
    ).toBe(403);
  });
});

describe('concurrency', () => {
  test('two opposite moves in parallel (A under B, B under A): exactly one wins, the tree stays a tree', async () => {
    for (let round = 0; round < 8; round++) {
      const a = await createUnit(admin, rootId, `Race A${round}`);
      const b = await createUnit(admin, rootId, `Race B${round}`);
      const answers = await Promise.all([
        http(t.baseUrl, 'POST', `/api/units/${a.id}/move`, { token: admin, body: { parentId: b.id } }),
        http(t.baseUrl, 'POST', `/api/units/${b.id}/move`, { token: admin, body: { parentId: a.id } }),
      ]);
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, 422]);
      expect(answers.find((a) => a.status === 422)!.body.type).toBe('https://hub.local/problems/unit-cycle');
      expect(await brokenPaths(companyId)).toEqual([]);
      const byId = new Map((await units()).map((u) => [u.id, u]));
      // Both still hang under the root, one beneath the other.
      expect(byId.get(a.id)!.path[0]).toBe(rootId);
      expect(byId.get(b.id)!.path[0]).toBe(rootId);
    }
  });

  test('units created under a subtree while it moves get the moved path', async () => {
    for (let round = 0; round < 5; round++) {
      const top = await createUnit(admin, rootId, `Drift top ${round}`);
      const mid = await createUnit(admin, top.id, `Drift mid ${round}`);
      const target = await createUnit(admin, rootId, `Drift target ${round}`);
      const answers = await Promise.all([
        ...Array.from({ length: 6 }, (_, i) =>
          http(t.baseUrl, 'POST', '/api/units', {
            token: admin,
            body: { parentId: mid.id, name: `Drift leaf ${i}` },
          }),
        ),
        http(t.baseUrl, 'POST', `/api/units/${top.id}/move`, { token: admin, body: { parentId: target.id } }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201, 201, 200]);
      expect(await brokenPaths(companyId)).toEqual([]);
    }
  });
});

describe('audit', () => {
  test('creating a unit writes an audit row with the actor and an outbox event, in the same company', async () => {
    const requestId = `create-${randomUUID()}`;
    const created = await http(t.baseUrl, 'POST', '/api/units', {
      token: admin,
      body: { parentId: rootId, name: 'Audited' },
      headers: { 'x-request-id': requestId },
    });
    expect(created.status).toBe(201);
    expect(await auditFor(requestId)).toEqual([
      expect.objectContaining({
        actor_kind: 'buyer',
        actor_id: adminId,
        company_id: companyId,
        action: 'unit.created',
        entity_type: 'unit',
        entity_id: created.body.id,
        details: { name: 'Audited', parentId: rootId },
      }),
    ]);
    const { rows } = await t.hub.platform.db.query(
      'SELECT topic, company_id FROM platform.outbox WHERE request_id = $1',
      [requestId],
    );
    expect(rows).toEqual([{ topic: 'unit.created', company_id: companyId }]);
  });

  test('a refused change leaves no audit row', async () => {
    const requestId = `refused-${randomUUID()}`;
    const answer = await http(t.baseUrl, 'POST', `/api/units/${rootId}/move`, {
      token: admin,
      body: { parentId: rootId },
      headers: { 'x-request-id': requestId },
    });
    expect(answer.status).toBe(422);
    expect(await auditFor(requestId)).toEqual([]);
  });
});
