/** Approval rules through the broker: CRUD, permissions, validation beyond the schema, audit, routes. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { approvalsModule } from './approvals.module.ts';
import { seedDemoApprovalRules } from './demo-data.ts';
import { MAX_RULES_PER_COMPANY } from './rules.ts';
import {
  type Answer,
  type Company,
  createCompany,
  expectSchema,
  type Person,
  purchase,
  startApprovalsWorld,
  type World,
} from './testing/approvals-world.ts';

let world: World;
let a: Company;

beforeAll(async () => {
  world = await startApprovalsWorld();
  a = await createCompany(world, 'Rules', {
    units: {},
    people: {
      purchaser: { roles: ['purchaser'], unit: 'root' },
      approver: { roles: ['approver'], unit: 'root' },
      finance: { roles: ['finance'], unit: 'root' },
    },
  });
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

const p = (key: string): Person => a.people[key]!;
const call = (action: string, params: unknown, who: Person = p('admin')): Promise<Answer> =>
  world.broker.call(`approvals.${action}`, params, who.as);

const cny = (amountMinor: string) => ({ amountMinor, currency: 'CNY' });
const FINANCE_STEP = { name: 'Finance', approvers: { roles: ['finance'] }, required: 1 };
const bigOrders = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  condition: { field: 'orderTotal', op: 'gte', value: cny('5000000') },
  steps: [FINANCE_STEP],
  ...extra,
});

async function audit(entityId: string) {
  const { rows } = await world.hub.hub.platform.db.query(
    `SELECT action, actor_id, company_id, details FROM platform.audit_log
      WHERE entity_type = 'approval_rule' AND entity_id = $1 ORDER BY id`,
    [entityId],
  );
  return rows;
}

describe('create, read, update, delete', () => {
  it('creates a rule with defaults, audited', async () => {
    const rule = await call('rules.create', bigOrders('Big orders'));
    expectSchema('entities/approval-rule', rule);
    expect(rule).toMatchObject({
      name: 'Big orders',
      priority: 0,
      active: true,
      version: 1,
      steps: [FINANCE_STEP],
    });
    expect(await call('rules.get', { id: rule.id })).toEqual(rule);
    const rows = await audit(rule.id);
    expect(rows.map((row) => [row.action, row.actor_id, row.company_id])).toEqual([
      ['approval_rule.created', p('admin').id, a.id],
    ]);
    expect(rows[0]!.details.rule).toMatchObject({ name: 'Big orders', condition: rule.condition });
  });

  it('refuses a second rule of the same name, whatever its case', async () => {
    await call('rules.create', bigOrders('Unique name'));
    await expect(call('rules.create', bigOrders('UNIQUE NAME'))).rejects.toMatchObject({ code: 409 });
  });

  it('updates only the fields sent, bumps the version, audits before and after', async () => {
    const rule = await call('rules.create', bigOrders('To change', { priority: 3 }));
    const updated = await call('rules.update', { id: rule.id, active: false, priority: 7 });
    expectSchema('entities/approval-rule', updated);
    expect(updated).toMatchObject({ name: 'To change', active: false, priority: 7, version: 2 });
    expect(updated.condition).toEqual(rule.condition);
    const rows = await audit(rule.id);
    expect(rows.at(-1)).toMatchObject({
      action: 'approval_rule.updated',
      details: {
        version: 2,
        previous: { active: true, priority: 3 },
        changes: { active: false, priority: 7 },
      },
    });
    await expect(call('rules.update', { id: rule.id })).rejects.toMatchObject({ code: 400 });
  });

  it('deletes, audited; then the rule is gone', async () => {
    const rule = await call('rules.create', bigOrders('To delete'));
    expect(await call('rules.remove', { id: rule.id })).toBeNull();
    await expect(call('rules.get', { id: rule.id })).rejects.toMatchObject({ code: 404 });
    await expect(call('rules.remove', { id: rule.id })).rejects.toMatchObject({ code: 404 });
    await expect(call('rules.update', { id: rule.id, active: true })).rejects.toMatchObject({ code: 404 });
    expect((await audit(rule.id)).map((row) => row.action)).toEqual([
      'approval_rule.created',
      'approval_rule.deleted',
    ]);
  });

  it('lists highest priority first, in keyset pages', async () => {
    for (const priority of [100, 300, 200])
      await call('rules.create', bigOrders(`Ordered ${priority}`, { priority }));
    const all: Answer[] = [];
    let cursor: string | undefined;
    do {
      const page = await call('rules.list', cursor ? { limit: 2, cursor } : { limit: 2 });
      expectSchema('api/approvals/approval-rule-list-response', page);
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(all.slice(0, 3).map((rule) => rule.priority)).toEqual([300, 200, 100]);
    const priorities = all.map((rule) => rule.priority);
    expect(priorities).toEqual([...priorities].sort((x, y) => y - x));
    expect(new Set(all.map((rule) => rule.id)).size).toBe(all.length);
    await expect(call('rules.list', { limit: 2, cursor: 'nonsense' })).rejects.toMatchObject({ code: 400 });
  });

  it('keeps requests already made on the steps they were made with', async () => {
    const rule = await call(
      'rules.create',
      bigOrders('Versioned', { condition: { field: 'costCentre', op: 'eq', value: 'CC-VERSIONED' } }),
    );
    const snapshot = purchase(1000, { costCentre: 'CC-VERSIONED' });
    const before = await call('request', { subject: { type: 'order', id: 'v-1' }, snapshot }, p('purchaser'));
    await call('rules.update', {
      id: rule.id,
      steps: [{ name: 'Approvers', approvers: { roles: ['approver'] }, required: 1 }],
    });
    const after = await call('request', { subject: { type: 'order', id: 'v-2' }, snapshot }, p('purchaser'));
    const again = await call('requests.get', { id: before.id }, p('purchaser'));
    expect(again.chains[0]).toMatchObject({ ruleVersion: 1, steps: [{ name: 'Finance' }] });
    expect(again.chains[0].steps[0].approverIds).toEqual([p('finance').id]);
    expect(after.chains[0]).toMatchObject({ ruleVersion: 2, steps: [{ name: 'Approvers' }] });
    expect(after.chains[0].steps[0].approverIds).toEqual([p('approver').id]);
    // Deleting the rule leaves the request's chain as it was.
    await call('rules.remove', { id: rule.id });
    expect((await call('requests.get', { id: after.id }, p('purchaser'))).chains[0].ruleName).toBe(
      'Versioned',
    );
  });
});

describe('who may manage rules', () => {
  it('needs approvals.rules.manage at company scope', async () => {
    for (const who of ['purchaser', 'approver', 'finance']) {
      await expect(call('rules.list', {}, p(who))).rejects.toMatchObject({ code: 403 });
      await expect(call('rules.create', bigOrders(`by ${who}`), p(who))).rejects.toMatchObject({ code: 403 });
    }
    await expect(call('rules.list', {}, world.staff)).rejects.toMatchObject({ code: 403 });
    await expect(world.broker.call('approvals.rules.list', {})).rejects.toMatchObject({ code: 401 });
  });
});

describe('validation', () => {
  const deep = (levels: number): unknown => {
    let node: unknown = { field: 'lineCount', op: 'gte', value: 1 };
    for (let level = 1; level < levels; level++) node = { not: node };
    return node;
  };
  const leaf = { field: 'lineCount', op: 'gte', value: 1 };

  it('refuses conditions deeper than 8 levels (schema) and larger than 100 nodes (code)', async () => {
    await expect(call('rules.create', bigOrders('deep ok', { condition: deep(8) }))).resolves.toMatchObject({
      version: 1,
    });
    await expect(call('rules.create', bigOrders('too deep', { condition: deep(9) }))).rejects.toMatchObject({
      code: 400,
    });
    const groups = Array.from({ length: 6 }, () => ({ all: Array.from({ length: 16 }, () => leaf) }));
    // 1 + 6 × 17 = 103 nodes, each group within the schema's 20 members.
    await expect(
      call('rules.create', bigOrders('too big', { condition: { all: groups } })),
    ).rejects.toMatchObject({
      code: 400,
      data: {
        errors: [
          {
            pointer: expect.stringMatching(/^\/condition\/all\/5\/all\//),
            detail: expect.stringMatching(/100 nodes/),
          },
        ],
      },
    });
    await expect(
      call(
        'rules.create',
        bigOrders('bad op', { condition: { field: 'categories', op: 'gt', value: ['x'] } }),
      ),
    ).rejects.toMatchObject({ code: 400 });
  });

  it('refuses steps that could never complete or escalate nowhere', async () => {
    const users = [p('approver').id, p('finance').id];
    await expect(
      call(
        'rules.create',
        bigOrders('3 of 2', { steps: [{ name: 'Two', approvers: { users }, required: 3 }] }),
      ),
    ).rejects.toMatchObject({ code: 400, data: { errors: [{ pointer: '/steps/0/required' }] } });
    await expect(
      call(
        'rules.create',
        bigOrders('2 of 2', { steps: [{ name: 'Two', approvers: { users }, required: 2 }] }),
      ),
    ).resolves.toMatchObject({ version: 1 });
    await expect(
      call(
        'rules.create',
        bigOrders('escalates nowhere', { steps: [{ ...FINANCE_STEP, escalateAfterHours: 24 }] }),
      ),
    ).rejects.toMatchObject({ code: 400, data: { errors: [{ pointer: '/steps/0/escalateTo' }] } });
    await expect(
      call(
        'rules.create',
        bigOrders('no approvers', { steps: [{ name: 'Nobody', approvers: {}, required: 1 }] }),
      ),
    ).rejects.toMatchObject({ code: 400 });
  });

  it(`keeps at most ${MAX_RULES_PER_COMPANY} rules per company`, async () => {
    const { rows } = await world.hub.hub.platform.db.query(
      `SELECT count(*)::int AS n FROM approvals.rules WHERE company_id = $1`,
      [a.id],
    );
    for (let i = rows[0]!.n; i < MAX_RULES_PER_COMPANY; i++)
      await call('rules.create', bigOrders(`filler ${i}`));
    await expect(call('rules.create', bigOrders('one too many'))).rejects.toMatchObject({ code: 409 });
  });
});

describe('demo rules', () => {
  it('seeds valid rules into a company without rules, once', async () => {
    const demo = await createCompany(world, 'Demo', { units: {}, people: {} });
    const seeded = await seedDemoApprovalRules(world.hub.hub.platform.db, demo.id);
    expect(seeded.length).toBeGreaterThan(0);
    for (const rule of seeded) expectSchema('entities/approval-rule', rule);
    expect(await seedDemoApprovalRules(world.hub.hub.platform.db, demo.id)).toEqual([]);
    const listed = await call('rules.list', { limit: 200 }, demo.people.admin!);
    expect(listed.items.map((rule: Answer) => rule.id).sort()).toEqual(seeded.map((rule) => rule.id).sort());
  });
});

describe('routes', () => {
  it('are buyer routes (and staff routes under /api/staff) of the approvals tag served by the module’s own actions; internal actions are not routed', () => {
    const service = approvalsModule.service(world.hub.hub.platform);
    const actions = service.actions as Record<string, { visibility?: string }>;
    const routes = approvalsModule.routes ?? [];
    expect(routes.map((route) => [route.method, route.path, route.operationId])).toEqual([
      ['GET', '/api/approval-rules', 'listApprovalRules'],
      ['POST', '/api/approval-rules', 'createApprovalRule'],
      ['GET', '/api/approval-rules/:id', 'getApprovalRule'],
      ['PATCH', '/api/approval-rules/:id', 'updateApprovalRule'],
      ['DELETE', '/api/approval-rules/:id', 'deleteApprovalRule'],
      ['GET', '/api/approvals', 'listApprovalRequests'],
      ['GET', '/api/approvals/pending', 'listPendingApprovals'],
      ['GET', '/api/approvals/delegation', 'getApprovalDelegation'],
      ['PUT', '/api/approvals/delegation', 'setApprovalDelegation'],
      ['DELETE', '/api/approvals/delegation', 'removeApprovalDelegation'],
      ['GET', '/api/approvals/:id', 'getApprovalRequest'],
      ['POST', '/api/approvals/:id/decisions', 'decideApproval'],
      ['GET', '/api/staff/approvals/pending', 'listStaffPendingApprovals'],
      ['GET', '/api/staff/approvals/:id', 'getStaffApprovalRequest'],
      ['POST', '/api/staff/approvals/:id/decisions', 'decideStaffApproval'],
    ]);
    // Where a created rule lives, filled by the gateway from the answer's id.
    expect(routes.find((route) => route.successStatus === 201)?.location).toBe('/api/approval-rules/{id}');
    for (const route of routes) {
      const staff = route.path.startsWith('/api/staff/');
      expect(route).toMatchObject({ tag: 'approvals', audience: staff ? 'staff' : 'buyer' });
      expect(Object.keys(actions).map((name) => `approvals.${name}`)).toContain(route.action);
    }
    const routed = new Set(routes.map((route) => route.action));
    for (const internal of ['request', 'status', 'cancel', 'staff.request', 'staff.cancel']) {
      expect(actions[internal]?.visibility).toBe('public');
      expect(routed.has(`approvals.${internal}`)).toBe(false);
    }
  });
});
