/**
 * Tenant isolation, route by route: company B's buyers (their real auth contexts, admin with every
 * permission at company scope included) try to read and change company A's rules, requests and
 * delegations. Every attempt answers 404, lists never show A's items, and A's data is unchanged.
 * The internal actions (request, status, cancel) are checked the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { approvalsModule } from './approvals.module.ts';
import {
  type Answer,
  type Company,
  createCompany,
  type Person,
  purchase,
  startApprovalsWorld,
  type World,
} from './testing/approvals-world.ts';

let world: World;
let a: Company;
let b: Company;
let aRule: Answer;
let aRequest: Answer;
let aDelegation: Answer;
const aSubject = { type: 'order', id: 'shared-order-id' };

const call = (action: string, params: unknown, who: Person): Promise<Answer> =>
  world.broker.call(`approvals.${action}`, params, who.as);

beforeAll(async () => {
  world = await startApprovalsWorld();
  const spec = {
    units: {},
    people: {
      buyer: { roles: ['purchaser'], unit: 'root' },
      approver: { roles: ['approver'], unit: 'root' },
      finance: { roles: ['finance'], unit: 'root' },
    },
  };
  a = await createCompany(world, 'Tenant A', spec);
  b = await createCompany(world, 'Tenant B', spec);
  const rule = {
    name: 'Everything',
    condition: { all: [] },
    steps: [{ name: 'Finance', approvers: { roles: ['finance', 'buyer-admin'] }, required: 1 }],
  };
  aRule = await call('rules.create', rule, a.people.admin!);
  await call('rules.create', rule, b.people.admin!);
  aRequest = await call('request', { subject: aSubject, snapshot: purchase(1000) }, a.people.buyer!);
  aDelegation = await call(
    'delegation.set',
    { delegateId: a.people.approver!.id, validUntil: new Date(Date.now() + 86_400_000).toISOString() },
    a.people.finance!,
  );
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

/** B's people who try: the admin holds every approvals permission at company scope. */
const intruders = () => [b.people.admin!, b.people.finance!, b.people.approver!, b.people.buyer!];

async function expectAUnchanged() {
  expect(await call('rules.get', { id: aRule.id }, a.people.admin!)).toEqual(aRule);
  const request = await call('requests.get', { id: aRequest.id }, a.people.buyer!);
  expect(request).toEqual(aRequest);
  expect(await call('delegation.get', {}, a.people.finance!)).toMatchObject({
    delegateId: aDelegation.delegateId,
    validUntil: aDelegation.validUntil,
  });
}

/** One check per route (by operationId); the last test asserts every route has one. */
const checks: Record<string, () => Promise<void>> = {
  async listApprovalRules() {
    const items = (await call('rules.list', { limit: 200 }, b.people.admin!)).items as Answer[];
    expect(items).toHaveLength(1);
    expect(items.map((rule) => rule.id)).not.toContain(aRule.id);
  },
  async createApprovalRule() {
    // The same name as A's rule: names are per company, and the new rule is B's alone.
    const created = await call(
      'rules.create',
      { name: 'Everything else', condition: { all: [] }, steps: aRule.steps, active: false },
      b.people.admin!,
    );
    const aItems = (await call('rules.list', { limit: 200 }, a.people.admin!)).items as Answer[];
    expect(aItems.map((rule) => rule.id)).toEqual([aRule.id]);
    await expect(call('rules.get', { id: created.id }, a.people.admin!)).rejects.toMatchObject({ code: 404 });
  },
  async getApprovalRule() {
    await expect(call('rules.get', { id: aRule.id }, b.people.admin!)).rejects.toMatchObject({ code: 404 });
  },
  async updateApprovalRule() {
    await expect(
      call('rules.update', { id: aRule.id, active: false }, b.people.admin!),
    ).rejects.toMatchObject({
      code: 404,
    });
  },
  async deleteApprovalRule() {
    await expect(call('rules.remove', { id: aRule.id }, b.people.admin!)).rejects.toMatchObject({
      code: 404,
    });
  },
  async listApprovalRequests() {
    for (const who of intruders()) {
      const items = (await call('requests.list', { limit: 200 }, who)).items as Answer[];
      expect(items.map((item) => item.id)).not.toContain(aRequest.id);
    }
  },
  async listPendingApprovals() {
    // B's admin and finance hold the roles A's step names; they are still not A's approvers.
    for (const who of intruders()) {
      const items = (await call('pending', { limit: 200 }, who)).items as Answer[];
      expect(items.map((item) => item.approvalId)).not.toContain(aRequest.id);
    }
    expect((await call('pending', {}, a.people.admin!)).items.map((i: Answer) => i.approvalId)).toContain(
      aRequest.id,
    );
  },
  async getApprovalRequest() {
    for (const who of intruders()) {
      await expect(call('requests.get', { id: aRequest.id }, who)).rejects.toMatchObject({ code: 404 });
    }
  },
  async decideApproval() {
    for (const who of intruders()) {
      await expect(call('decide', { id: aRequest.id, decision: 'approve' }, who)).rejects.toMatchObject({
        code: 404,
      });
      await expect(
        call('decide', { id: aRequest.id, decision: 'reject', comment: 'no' }, who),
      ).rejects.toMatchObject({ code: 404 });
    }
  },
  async getApprovalDelegation() {
    await expect(call('delegation.get', {}, b.people.finance!)).rejects.toMatchObject({ code: 404 });
  },
  async setApprovalDelegation() {
    const validUntil = new Date(Date.now() + 3_600_000).toISOString();
    // Delegating to A's user: that user does not exist for B.
    await expect(
      call('delegation.set', { delegateId: a.people.approver!.id, validUntil }, b.people.finance!),
    ).rejects.toMatchObject({ code: 404 });
    // B's own delegation is B's alone and leaves A's as it was.
    const own = await call(
      'delegation.set',
      { delegateId: b.people.approver!.id, validUntil },
      b.people.finance!,
    );
    expect(own.delegatorId).toBe(b.people.finance!.id);
  },
  async removeApprovalDelegation() {
    await expect(call('delegation.remove', {}, b.people.buyer!)).rejects.toMatchObject({ code: 404 });
  },
  // Staff routes: no buyer, of either company, passes the staff check; A's request stays as it was.
  async listStaffPendingApprovals() {
    for (const who of [...intruders(), a.people.admin!]) {
      await expect(call('staff.pending', { limit: 50 }, who)).rejects.toMatchObject({ code: 403 });
    }
  },
  async getStaffApprovalRequest() {
    for (const who of [...intruders(), a.people.admin!]) {
      await expect(call('staff.get', { id: aRequest.id }, who)).rejects.toMatchObject({ code: 403 });
    }
  },
  async decideStaffApproval() {
    for (const who of [...intruders(), a.people.finance!]) {
      await expect(call('staff.decide', { id: aRequest.id, decision: 'approve' }, who)).rejects.toMatchObject(
        { code: 403 },
      );
    }
  },
};

describe('company B against company A', () => {
  for (const route of approvalsModule.routes ?? []) {
    it(`${route.method} ${route.path} (${route.operationId})`, async () => {
      const check = checks[route.operationId];
      expect(check).toBeDefined();
      await check!();
      await expectAUnchanged();
    });
  }

  it('has a check for every route', () => {
    expect(Object.keys(checks).sort()).toEqual(
      (approvalsModule.routes ?? []).map((r) => r.operationId).sort(),
    );
  });

  it('internal status and cancel see only the caller’s company; request with the same subject id is B’s own', async () => {
    await expect(call('status', { subject: aSubject }, b.people.buyer!)).rejects.toMatchObject({ code: 404 });
    await expect(call('cancel', { subject: aSubject }, b.people.buyer!)).rejects.toMatchObject({ code: 404 });
    const bRequest = await call('request', { subject: aSubject, snapshot: purchase(2000) }, b.people.buyer!);
    expect(bRequest.id).not.toBe(aRequest.id);
    expect(bRequest.status).toBe('pending');
    expect((await call('status', { subject: aSubject }, a.people.buyer!)).id).toBe(aRequest.id);
    expect((await call('status', { subject: aSubject }, b.people.buyer!)).id).toBe(bRequest.id);
    // B's request was resolved in B: its approvers are B's people only.
    const bIds = Object.values(b.people).map((person) => person.id);
    expect(bRequest.chains[0].steps[0].approverIds.every((id: string) => bIds.includes(id))).toBe(true);
    await expectAUnchanged();
  });
});
