import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import {
  type Answer,
  approvalEvents,
  type Company,
  createCompany,
  expectSchema,
  lastOutboxId,
  purchase,
  startApprovalsWorld,
  type World,
} from './testing/approvals-world.ts';

/**
 * Staff-side requests on the real engine (PostgreSQL, the accounts service, the outbox): a hub
 * domain asks for a decision about a company's subject that staff holding a permission take,
 * step by step with N of them; the company's own users and rules never see or decide it.
 */
let world: World;
let acme: Company;

beforeAll(async () => {
  world = await startApprovalsWorld();
  acme = await createCompany(world, 'Staff Side Co', {
    units: {},
    people: { lead: { roles: ['approver'], unit: 'root' }, reader: { roles: ['buyer-admin'], unit: 'root' } },
  });
  // A company rule that matches everything: it must not take part in staff-side requests.
  await world.broker.call(
    'approvals.rules.create',
    {
      name: 'Everything',
      condition: { field: 'orderTotal', op: 'gte', value: { amountMinor: '0', currency: 'CNY' } },
      steps: [{ name: 'Lead', approvers: { roles: ['approver'] }, required: 1 }],
    },
    acme.people.admin!.as,
  );
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

function staffMember(permissions: string[]): { meta: { auth: AuthContext; origin: { requestId: string } } } {
  return {
    meta: {
      auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions },
      origin: { requestId: randomUUID() },
    },
  };
}

const call = (action: string, params: unknown, as: unknown): Promise<Answer> =>
  world.broker.call(`approvals.${action}`, params, as as never);

const POLICY = {
  name: 'Deep discount',
  steps: [
    { name: 'Sales managers', permission: 'quotes.approve', required: 2 },
    { name: 'Finance', permission: 'finance.approve', required: 1 },
  ],
};

describe('staff-side approval requests', () => {
  it('runs the policy step by step: N distinct permission holders, never the requester; events for each', async () => {
    const requester = staffMember(['quotes.manage', 'quotes.approve']);
    const subject = { type: 'quote-margin', id: randomUUID() };
    const before = await lastOutboxId(world);
    const request = await call(
      'staff.request',
      { companyId: acme.id, subject, snapshot: purchase(500_000), policy: POLICY },
      requester,
    );
    expectSchema('entities/approval-request', request);
    expect(request).toMatchObject({
      status: 'pending',
      requesterId: requester.meta.auth.principalId,
      chains: [
        {
          ruleName: 'Deep discount',
          ruleVersion: 1,
          steps: [
            { name: 'Sales managers', status: 'active', required: 2, approverIds: [] },
            { name: 'Finance', status: 'waiting' },
          ],
        },
      ],
    });
    // The company's matching rule played no part; the same snapshot again is the same request.
    expect(request.chains).toHaveLength(1);
    const again = await call(
      'staff.request',
      { companyId: acme.id, subject, snapshot: purchase(500_000), policy: POLICY },
      requester,
    );
    expect(again.id).toBe(request.id);

    // The requester holds the permission but cannot decide; finance cannot decide the first step.
    await expect(
      call('staff.decide', { id: request.id, decision: 'approve' }, requester),
    ).rejects.toMatchObject({
      code: 403,
    });
    const finance = staffMember(['finance.approve']);
    await expect(
      call('staff.decide', { id: request.id, decision: 'approve' }, finance),
    ).rejects.toMatchObject({
      code: 403,
    });
    const first = staffMember(['quotes.approve']);
    // The step waits in the inbox of permission holders, not the requester's or finance's.
    const inbox = async (who: ReturnType<typeof staffMember>) =>
      ((await call('staff.pending', { limit: 200 }, who)).items as Answer[]).filter(
        (item) => item.approvalId === request.id,
      );
    expect(await inbox(first)).toMatchObject([
      {
        stepName: 'Sales managers',
        required: 2,
        approvals: 0,
        subject,
        actingFor: [first.meta.auth.principalId],
      },
    ]);
    expectSchema(
      'api/approvals/pending-approval-list-response',
      await call('staff.pending', { limit: 200 }, first),
    );
    expect(await inbox(requester)).toEqual([]);
    expect(await inbox(finance)).toEqual([]);
    const afterFirst = await call('staff.decide', { id: request.id, decision: 'approve' }, first);
    expect(afterFirst.chains[0].steps[0]).toMatchObject({ status: 'active', approvals: 1 });
    // Once per person per step.
    await expect(call('staff.decide', { id: request.id, decision: 'approve' }, first)).rejects.toMatchObject({
      code: 409,
    });
    // Decided: gone from that approver's inbox, still in another holder's.
    expect(await inbox(first)).toEqual([]);
    const second = staffMember(['*']);
    expect(await inbox(second)).toHaveLength(1);
    const afterSecond = await call('staff.decide', { id: request.id, decision: 'approve' }, second);
    expect(afterSecond.chains[0].steps.map((step: Answer) => step.status)).toEqual(['approved', 'active']);
    expect(await inbox(finance)).toMatchObject([{ stepName: 'Finance', required: 1 }]);
    const done = await call('staff.decide', { id: request.id, decision: 'approve', comment: 'ok' }, finance);
    expect(await inbox(finance)).toEqual([]);
    expect(done.status).toBe('approved');
    expect(done.chains[0].steps[1].decisions).toMatchObject([
      { decidedBy: finance.meta.auth.principalId, decision: 'approve', comment: 'ok', onBehalfOf: null },
    ]);

    const events = await approvalEvents(world, before);
    expect(events.map((e) => e.topic)).toEqual([
      'approval.requested',
      'approval.step_activated',
      'approval.decided',
      'approval.decided',
      'approval.step_activated',
      'approval.decided',
      'approval.approved',
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ companyId: acme.id, payload: { audience: 'staff', subject } });
    }
    expect(events[4]!.payload).toMatchObject({ stepName: 'Finance', approverPermission: 'finance.approve' });
  }, 60_000);

  it("stays out of the company's own views and decisions, whatever their grants", async () => {
    const subject = { type: 'quote-margin', id: randomUUID() };
    const request = await call(
      'staff.request',
      { companyId: acme.id, subject, snapshot: purchase(9_000), policy: POLICY },
      staffMember(['quotes.manage']),
    );
    for (const person of [acme.people.admin!, acme.people.lead!, acme.people.reader!]) {
      const listed = await call('requests.list', { limit: 200 }, person.as);
      expect(listed.items.map((item: Answer) => item.id)).not.toContain(request.id);
      await expect(call('requests.get', { id: request.id }, person.as)).rejects.toMatchObject({ code: 404 });
      await expect(call('decide', { id: request.id, decision: 'approve' }, person.as)).rejects.toMatchObject({
        code: 404,
      });
      const pending = await call('pending', { limit: 200 }, person.as);
      expect(pending.items.map((item: Answer) => item.approvalId)).not.toContain(request.id);
      // Nor can a buyer reach the staff actions, nor raise a staff-side request for their company.
      await expect(call('staff.get', { id: request.id }, person.as)).rejects.toMatchObject({ code: 403 });
      await expect(
        call(
          'staff.request',
          {
            companyId: acme.id,
            subject: { type: 'quote-margin', id: randomUUID() },
            snapshot: purchase(1),
            policy: POLICY,
          },
          person.as,
        ),
      ).rejects.toMatchObject({ code: 403 });
    }
    await expect(call('status', { subject }, acme.people.admin!.as)).rejects.toMatchObject({ code: 404 });
    // And the other way round: staff actions do not reach the company's own requests.
    const buyerSide = await call(
      'request',
      { subject: { type: 'order', id: randomUUID() }, snapshot: purchase(9_000) },
      acme.people.reader!.as,
    );
    expect(buyerSide.status).toBe('pending');
    const superuser = staffMember(['*']);
    await expect(call('staff.get', { id: buyerSide.id }, superuser)).rejects.toMatchObject({ code: 404 });
    await expect(
      call('staff.decide', { id: buyerSide.id, decision: 'approve' }, superuser),
    ).rejects.toMatchObject({ code: 404 });
  }, 60_000);

  it('a rejection ends the request; a new snapshot supersedes; a cancel withdraws a pending one', async () => {
    const subject = { type: 'quote-margin', id: randomUUID() };
    const requester = staffMember(['quotes.manage']);
    const first = await call(
      'staff.request',
      { companyId: acme.id, subject, snapshot: purchase(1_000), policy: POLICY },
      requester,
    );
    const approver = staffMember(['quotes.approve']);
    await expect(call('staff.decide', { id: first.id, decision: 'reject' }, approver)).rejects.toMatchObject({
      code: 400,
    });
    const rejected = await call(
      'staff.decide',
      { id: first.id, decision: 'reject', comment: 'no' },
      approver,
    );
    expect(rejected).toMatchObject({ status: 'rejected', chains: [{ status: 'rejected' }] });
    expect(rejected.chains[0].steps.map((step: Answer) => step.status)).toEqual(['rejected', 'cancelled']);

    const second = await call(
      'staff.request',
      { companyId: acme.id, subject, snapshot: purchase(2_000), policy: POLICY },
      requester,
    );
    expect(second.id).not.toBe(first.id);
    const old = await call('staff.get', { id: first.id }, approver);
    expect(old).toMatchObject({ status: 'superseded', supersededBy: second.id });

    const cancelled = await call(
      'staff.cancel',
      { companyId: acme.id, subject, reason: 'quote cancelled' },
      staffMember([]),
    );
    expect(cancelled).toMatchObject({ id: second.id, status: 'cancelled', cancelReason: 'quote cancelled' });
    await expect(
      call('staff.decide', { id: second.id, decision: 'approve' }, approver),
    ).rejects.toMatchObject({
      code: 409,
    });
    // Cancelling again finds no current request: null, nothing changes.
    expect(await call('staff.cancel', { companyId: acme.id, subject }, staffMember([]))).toBeNull();
    expect(await call('staff.get', { id: second.id }, approver)).toMatchObject({ status: 'cancelled' });
  }, 60_000);
});
