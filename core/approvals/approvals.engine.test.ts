/**
 * The approval engine end to end through the broker: the real accounts service resolves users,
 * roles and managers; events are read back from the outbox and checked against their schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sweepEscalations } from './escalation.ts';
import {
  type Answer,
  approvalEvents,
  type Company,
  createCompany,
  expectSchema,
  lastOutboxId,
  type Person,
  purchase,
  startApprovalsWorld,
  type World,
} from './testing/approvals-world.ts';

let world: World;
let a: Company;
let b: Company;
const HOUR = 3_600_000;

beforeAll(async () => {
  world = await startApprovalsWorld();
  a = await createCompany(world, 'Alpha', {
    units: { Purchasing: 'root', Team: 'Purchasing', Sales: 'root' },
    people: {
      requester: { roles: ['purchaser'], unit: 'Team' },
      mgr2: { roles: ['approver'], unit: 'Team', manages: ['Team'] },
      mgr1: { roles: ['approver'], unit: 'Purchasing', manages: ['Purchasing'] },
      fin1: { roles: ['finance'], unit: 'root' },
      fin2: { roles: ['finance'], unit: 'root' },
      fin3: { roles: ['finance'], unit: 'root' },
      seller: { roles: ['purchaser'], unit: 'Sales' },
      // Reads only their own requests: what they see of others' comes from standing in for someone.
      helper: { roles: ['purchaser'], unit: 'root' },
    },
  });
  b = await createCompany(world, 'Beta', {
    units: {},
    people: { buyer: { roles: ['purchaser'], unit: 'root' } },
  });
}, 120_000);

afterAll(async () => {
  world?.setNow(null);
  await world?.stop();
});

const cny = (amountMinor: number) => ({ amountMinor: String(amountMinor), currency: 'CNY' });
const p = (key: string): Person => a.people[key]!;
const ids = (...keys: string[]) => keys.map((key) => p(key).id).sort();

async function call(action: string, params: unknown, who: Person): Promise<Answer> {
  return world.broker.call(`approvals.${action}`, params, who.as);
}

/** A rule that applies only to purchases with this cost centre, so tests do not see each other's rules. */
async function rule(
  costCentre: string,
  steps: unknown[],
  extra: Record<string, unknown> = {},
): Promise<Answer> {
  return call(
    'rules.create',
    {
      name: `${costCentre} ${Math.random()}`,
      condition: { field: 'costCentre', op: 'eq', value: costCentre },
      steps,
      ...extra,
    },
    p('admin'),
  );
}

let subjects = 0;
function subject() {
  subjects++;
  return { type: 'order', id: `order-${subjects}` };
}

async function request(who: Person, subj: { type: string; id: string }, snapshot: unknown): Promise<Answer> {
  const answer = await call('request', { subject: subj, snapshot }, who);
  expectSchema('entities/approval-request', answer);
  return answer;
}

const decide = (who: Person, id: string, body: Record<string, unknown>) =>
  call('decide', { id, ...body }, who);
const pendingOf = async (who: Person) => ((await call('pending', {}, who)) as Answer).items as Answer[];

/** Every approval event since `after`, each checked against its canonical schema. */
async function eventsSince(after: bigint) {
  const events = await approvalEvents(world, after);
  for (const event of events) {
    expectSchema(`events/${event.topic.replace('.', '-').replaceAll('_', '-')}`, event.payload);
  }
  return events;
}

describe('a two-step chain: the requester’s manager, then 2 of 3 in finance', () => {
  it('runs step after step, counts N of M, and approves', async () => {
    await rule('CC-MULTI', [
      { name: 'Manager', approvers: { managerLevels: 1 }, required: 1 },
      { name: 'Finance', approvers: { roles: ['finance'] }, required: 2 },
    ]);
    const before = await lastOutboxId(world);
    const subj = subject();
    const snapshot = purchase(500_000, { costCentre: 'CC-MULTI' });
    const created = await request(p('requester'), subj, snapshot);
    expect(created).toMatchObject({ status: 'pending', requesterId: p('requester').id, completedAt: null });
    const [chain] = created.chains;
    expect(created.chains).toHaveLength(1);
    expect(chain.steps.map((s: Answer) => [s.name, s.status, s.approverIds])).toEqual([
      ['Manager', 'active', ids('mgr2')],
      ['Finance', 'waiting', []],
    ]);

    expect((await pendingOf(p('mgr2'))).map((item) => item.approvalId)).toContain(created.id);
    expect((await pendingOf(p('fin1'))).map((item) => item.approvalId)).not.toContain(created.id);
    // Finance may see the request (approvals.read at company scope) but cannot decide the manager's step.
    await expect(decide(p('fin1'), created.id, { decision: 'approve' })).rejects.toMatchObject({ code: 403 });

    const afterManager = await decide(p('mgr2'), created.id, { decision: 'approve', comment: 'ok' });
    expect(afterManager.chains[0].steps.map((s: Answer) => [s.status, s.required, s.approverIds])).toEqual([
      ['approved', 1, ids('mgr2')],
      ['active', 2, ids('fin1', 'fin2', 'fin3')],
    ]);
    expect((await pendingOf(p('mgr2'))).map((item) => item.approvalId)).not.toContain(created.id);
    const finPending = (await pendingOf(p('fin1'))).find((item) => item.approvalId === created.id);
    expect(finPending).toMatchObject({
      stepName: 'Finance',
      required: 2,
      approvals: 0,
      actingFor: [p('fin1').id],
    });
    expectSchema('api/approvals/pending-approval-list-response', await call('pending', {}, p('fin1')));

    const one = await decide(p('fin1'), created.id, { decision: 'approve' });
    expect(one.status).toBe('pending');
    expect(one.chains[0].steps[1]).toMatchObject({ status: 'active', approvals: 1 });
    await expect(decide(p('fin1'), created.id, { decision: 'approve' })).rejects.toMatchObject({ code: 409 });

    const done = await decide(p('fin3'), created.id, { decision: 'approve' });
    expect(done.status).toBe('approved');
    expect(done.completedAt).not.toBeNull();
    expect(done.chains[0].status).toBe('approved');
    expect(
      done.chains[0].steps[1].decisions.map((d: Answer) => [d.decidedBy, d.onBehalfOf, d.decision]),
    ).toEqual([
      [p('fin1').id, null, 'approve'],
      [p('fin3').id, null, 'approve'],
    ]);
    // fin2 never had to decide: the step is done and no longer pending for them.
    expect((await pendingOf(p('fin2'))).map((item) => item.approvalId)).not.toContain(created.id);
    await expect(decide(p('fin2'), created.id, { decision: 'approve' })).rejects.toMatchObject({ code: 409 });

    const status = await call('status', { subject: subj }, p('requester'));
    expect(status).toMatchObject({ id: created.id, status: 'approved', snapshotHash: created.snapshotHash });

    const events = await eventsSince(before);
    expect(events.map((e) => e.topic)).toEqual([
      'approval.requested',
      'approval.step_activated',
      'approval.decided',
      'approval.step_activated',
      'approval.decided',
      'approval.decided',
      'approval.approved',
    ]);
    expect(events.every((e) => e.companyId === a.id)).toBe(true);
    expect(events[1]!.payload).toMatchObject({ stepName: 'Manager', approverIds: ids('mgr2') });
    expect(events[3]!.payload).toMatchObject({
      stepName: 'Finance',
      approverIds: ids('fin1', 'fin2', 'fin3'),
    });
    expect(events[5]!.payload).toMatchObject({ decidedBy: p('fin3').id, stepCompleted: true });

    // The history is readable by the requester and matches what the decisions returned.
    const history = await call('requests.get', { id: created.id }, p('requester'));
    expect(history).toEqual(done);
  });

  it('resolves managers up the tree, skipping a requester who manages their own unit; "all" of them', async () => {
    await rule('CC-MANAGERS', [{ name: 'Managers', approvers: { managerLevels: 2 }, required: 'all' }]);
    const byPurchaser = await request(
      p('requester'),
      subject(),
      purchase(1000, { costCentre: 'CC-MANAGERS' }),
    );
    expect(byPurchaser.chains[0].steps[0]).toMatchObject({ required: 2, approverIds: ids('mgr1', 'mgr2') });
    // mgr2 manages Team: their first manager is Purchasing's, and nobody manages the root.
    const byManager = await request(p('mgr2'), subject(), purchase(1000, { costCentre: 'CC-MANAGERS' }));
    expect(byManager.chains[0].steps[0]).toMatchObject({ required: 1, approverIds: ids('mgr1') });
  });
});

describe('matching', () => {
  it('records not_required when no rule matches, with its event', async () => {
    const before = await lastOutboxId(world);
    const answer = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-NOBODY' }));
    expect(answer).toMatchObject({ status: 'not_required', chains: [] });
    expect(answer.completedAt).not.toBeNull();
    const events = await eventsSince(before);
    expect(events.map((e) => [e.topic, e.payload.status])).toEqual([['approval.requested', 'not_required']]);
  });

  it('never applies a CNY rule to a USD purchase', async () => {
    await call(
      'rules.create',
      {
        name: 'CNY threshold',
        condition: {
          all: [
            { field: 'costCentre', op: 'eq', value: 'CC-FX' },
            { not: { field: 'orderTotal', op: 'lt', value: cny(100) } },
          ],
        },
        steps: [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }],
      },
      p('admin'),
    );
    const inCny = await request(p('requester'), subject(), purchase(5000, { costCentre: 'CC-FX' }));
    expect(inCny.status).toBe('pending');
    const inUsd = await request(
      p('requester'),
      subject(),
      purchase(5000, { costCentre: 'CC-FX', currency: 'USD' }),
    );
    expect(inUsd.status).toBe('not_required');
  });

  it('ignores inactive rules and uses a rule again once reactivated', async () => {
    const created = await rule(
      'CC-TOGGLE',
      [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }],
      {
        active: false,
      },
    );
    expect((await request(p('requester'), subject(), purchase(1, { costCentre: 'CC-TOGGLE' }))).status).toBe(
      'not_required',
    );
    await call('rules.update', { id: created.id, active: true }, p('admin'));
    expect((await request(p('requester'), subject(), purchase(1, { costCentre: 'CC-TOGGLE' }))).status).toBe(
      'pending',
    );
  });
});

describe('parallel chains', () => {
  it('runs one chain per matching rule at once; all must approve', async () => {
    await rule('CC-PARALLEL', [{ name: 'Manager', approvers: { managerLevels: 1 }, required: 1 }], {
      priority: 5,
    });
    await rule('CC-PARALLEL', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }], {
      priority: 1,
    });
    const created = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-PARALLEL' }));
    expect(created.chains.map((c: Answer) => [c.steps[0].name, c.steps[0].status])).toEqual([
      ['Manager', 'active'],
      ['Finance', 'active'],
    ]);
    const half = await decide(p('fin2'), created.id, { decision: 'approve' });
    expect(half.status).toBe('pending');
    expect(half.chains.map((c: Answer) => c.status)).toEqual(['pending', 'approved']);
    const done = await decide(p('mgr2'), created.id, { decision: 'approve' });
    expect(done.status).toBe('approved');
  });

  it('a rejection ends the whole request: every open chain and step is cancelled', async () => {
    await rule('CC-REJECT', [
      { name: 'Manager', approvers: { managerLevels: 1 }, required: 1 },
      { name: 'Finance', approvers: { roles: ['finance'] }, required: 1 },
    ]);
    await rule('CC-REJECT', [{ name: 'Finance only', approvers: { roles: ['finance'] }, required: 1 }], {
      priority: -1,
    });
    const created = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-REJECT' }));
    const before = await lastOutboxId(world);
    await expect(decide(p('fin1'), created.id, { decision: 'reject' })).rejects.toMatchObject({
      code: 400,
      data: { errors: [{ pointer: '/comment', detail: 'is required' }] },
    });
    const rejected = await decide(p('fin1'), created.id, {
      decision: 'reject',
      comment: 'Over budget',
      stepId: created.chains[1].steps[0].id,
    });
    expect(rejected.status).toBe('rejected');
    expect(rejected.chains.map((c: Answer) => [c.status, c.steps.map((s: Answer) => s.status)])).toEqual([
      ['cancelled', ['cancelled', 'cancelled']],
      ['rejected', ['rejected']],
    ]);
    expect(rejected.chains[1].steps[0].decisions[0]).toMatchObject({
      decision: 'reject',
      comment: 'Over budget',
    });
    await expect(decide(p('mgr2'), created.id, { decision: 'approve' })).rejects.toMatchObject({ code: 409 });
    const events = await eventsSince(before);
    expect(events.map((e) => e.topic)).toEqual(['approval.decided', 'approval.rejected']);
    expect(events[1]!.payload).toMatchObject({ rejectedBy: p('fin1').id, comment: 'Over budget' });
  });
});

/** The same value with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, item]) => [key, reverseKeys(item)]),
  );
}

describe('the same purchase, a changed purchase', () => {
  it('returns the current request for the same snapshot, whatever its key order', async () => {
    await rule('CC-IDEM', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }]);
    const subj = subject();
    const snapshot = purchase(1000, { costCentre: 'CC-IDEM' });
    const first = await request(p('requester'), subj, snapshot);
    const before = await lastOutboxId(world);
    const again = await request(p('requester'), subj, reverseKeys(snapshot));
    expect(again.id).toBe(first.id);
    expect(again.snapshotHash).toBe(first.snapshotHash);
    expect(await eventsSince(before)).toEqual([]);
    const { rows } = await world.hub.hub.platform.db.query(
      `SELECT count(*)::int AS n FROM approvals.requests WHERE subject_id = $1`,
      [subj.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('concurrent identical requests create one request', async () => {
    await rule('CC-IDEM-RACE', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }]);
    const subj = subject();
    const snapshot = purchase(1000, { costCentre: 'CC-IDEM-RACE' });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => call('request', { subject: subj, snapshot }, p('requester'))),
    );
    expect(new Set(answers.map((answer: Answer) => answer.id)).size).toBe(1);
  });

  it('a changed purchase after approval supersedes it and needs approval again', async () => {
    await rule('CC-CHANGE', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }]);
    const subj = subject();
    const first = await request(p('requester'), subj, purchase(1000, { costCentre: 'CC-CHANGE' }));
    await decide(p('fin1'), first.id, { decision: 'approve' });
    const before = await lastOutboxId(world);
    const changed = await request(p('requester'), subj, purchase(1200, { costCentre: 'CC-CHANGE' }));
    expect(changed.id).not.toBe(first.id);
    expect(changed.status).toBe('pending');
    expect(changed.snapshotHash).not.toBe(first.snapshotHash);
    const old = await call('requests.get', { id: first.id }, p('requester'));
    expect(old).toMatchObject({ status: 'superseded', supersededBy: changed.id });
    // Orders check the status and the hash of what they are about to place.
    expect(await call('status', { subject: subj }, p('requester'))).toMatchObject({
      id: changed.id,
      status: 'pending',
      snapshotHash: changed.snapshotHash,
    });
    const events = await eventsSince(before);
    expect(events.map((e) => e.topic)).toEqual([
      'approval.superseded',
      'approval.requested',
      'approval.step_activated',
    ]);
    expect(events[0]!.payload).toMatchObject({
      approvalId: first.id,
      previousStatus: 'approved',
      supersededBy: changed.id,
    });
  });

  it('a changed purchase while pending cancels the open steps of the old request', async () => {
    await rule('CC-CHANGE-PENDING', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }]);
    const subj = subject();
    const first = await request(p('requester'), subj, purchase(1000, { costCentre: 'CC-CHANGE-PENDING' }));
    await request(p('requester'), subj, purchase(999, { costCentre: 'CC-CHANGE-PENDING' }));
    const old = await call('requests.get', { id: first.id }, p('requester'));
    expect(old.chains[0].steps[0].status).toBe('cancelled');
    expect((await pendingOf(p('fin1'))).map((item) => item.approvalId)).not.toContain(first.id);
    await expect(decide(p('fin1'), first.id, { decision: 'approve' })).rejects.toMatchObject({ code: 409 });
  });
});

describe('cancel', () => {
  it('withdraws the current request; a later request starts afresh', async () => {
    await rule('CC-CANCEL', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }]);
    const subj = subject();
    const snapshot = purchase(1000, { costCentre: 'CC-CANCEL' });
    const created = await request(p('requester'), subj, snapshot);
    const before = await lastOutboxId(world);
    const cancelled = await call('cancel', { subject: subj, reason: 'Order cancelled' }, p('requester'));
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      cancelledBy: p('requester').id,
      cancelReason: 'Order cancelled',
    });
    expect(cancelled.chains[0].steps[0].status).toBe('cancelled');
    await expect(decide(p('fin1'), created.id, { decision: 'approve' })).rejects.toMatchObject({ code: 409 });
    expect((await call('status', { subject: subj }, p('requester'))).status).toBe('cancelled');
    await expect(call('cancel', { subject: subj }, p('requester'))).rejects.toMatchObject({ code: 404 });
    expect((await eventsSince(before)).map((e) => e.topic)).toEqual(['approval.cancelled']);
    const again = await request(p('requester'), subj, snapshot);
    expect(again.id).not.toBe(created.id);
    expect(again.status).toBe('pending');
  });
});

describe('who may decide', () => {
  it('never the requester, even when their role is among the approvers or they stand in for one', async () => {
    await rule('CC-SELF', [{ name: 'Purchasers', approvers: { roles: ['purchaser'] }, required: 1 }]);
    const created = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-SELF' }));
    const approvers = created.chains[0].steps[0].approverIds;
    expect(approvers).toContain(p('seller').id);
    expect(approvers).not.toContain(p('requester').id);
    await expect(decide(p('requester'), created.id, { decision: 'approve' })).rejects.toMatchObject({
      code: 403,
    });

    await call('delegation.set', { delegateId: p('requester').id, validUntil: future(24) }, p('seller'));
    try {
      expect((await pendingOf(p('requester'))).map((item) => item.approvalId)).not.toContain(created.id);
      await expect(decide(p('requester'), created.id, { decision: 'approve' })).rejects.toMatchObject({
        code: 403,
      });
    } finally {
      await call('delegation.remove', {}, p('seller'));
    }
  });

  it('refuses someone who is no approver of an active step', async () => {
    await rule('CC-OUTSIDER', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }]);
    const created = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-OUTSIDER' }));
    // mgr1 sees it (approvals.read over their subtree) but is not an approver.
    expect((await call('requests.get', { id: created.id }, p('mgr1'))).id).toBe(created.id);
    await expect(decide(p('mgr1'), created.id, { decision: 'approve' })).rejects.toMatchObject({ code: 403 });
    // The seller sees only their own requests: this one is "not found".
    await expect(decide(p('seller'), created.id, { decision: 'approve' })).rejects.toMatchObject({
      code: 404,
    });
  });
});

function future(hours: number, from = Date.now()): string {
  return new Date(from + hours * HOUR).toISOString();
}

describe('delegation', () => {
  it('lets the delegate decide in the approver’s place, recorded as such, once per approver', async () => {
    await rule('CC-DELEGATE', [{ name: 'Manager', approvers: { managerLevels: 1 }, required: 1 }]);
    const created = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-DELEGATE' }));
    expect((await pendingOf(p('helper'))).map((item) => item.approvalId)).not.toContain(created.id);
    await expect(call('requests.get', { id: created.id }, p('helper'))).rejects.toMatchObject({ code: 404 });

    const set = await call(
      'delegation.set',
      { delegateId: p('helper').id, validUntil: future(48) },
      p('mgr2'),
    );
    expectSchema('entities/approval-delegation', set);
    expect(set).toMatchObject({ delegatorId: p('mgr2').id, delegateId: p('helper').id, active: true });
    expect(await call('delegation.get', {}, p('mgr2'))).toEqual(set);

    const pending = (await pendingOf(p('helper'))).find((item) => item.approvalId === created.id);
    expect(pending?.actingFor).toEqual([p('mgr2').id]);
    // The delegator still sees it too: their own place is free.
    expect((await pendingOf(p('mgr2'))).map((item) => item.approvalId)).toContain(created.id);

    const done = await decide(p('helper'), created.id, { decision: 'approve', comment: 'for mgr2' });
    expect(done.status).toBe('approved');
    expect(done.chains[0].steps[0].decisions).toEqual([
      expect.objectContaining({ decidedBy: p('helper').id, onBehalfOf: p('mgr2').id, comment: 'for mgr2' }),
    ]);
    await call('delegation.remove', {}, p('mgr2'));
    await expect(call('delegation.get', {}, p('mgr2'))).rejects.toMatchObject({ code: 404 });
    await expect(call('delegation.remove', {}, p('mgr2'))).rejects.toMatchObject({ code: 404 });

    const { rows } = await world.hub.hub.platform.db.query(
      `SELECT action, actor_id, details FROM platform.audit_log
        WHERE entity_type = 'approval_delegation' AND entity_id = $1 ORDER BY id`,
      [p('mgr2').id],
    );
    expect(rows.map((row) => [row.action, row.actor_id, row.details.delegateId])).toEqual([
      ['approval_delegation.set', p('mgr2').id, p('helper').id],
      ['approval_delegation.removed', p('mgr2').id, p('helper').id],
    ]);
  });

  it('a delegator whose place the delegate took cannot decide again', async () => {
    await rule('CC-DELEGATE-2', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 2 }]);
    const created = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-DELEGATE-2' }));
    await call('delegation.set', { delegateId: p('helper').id, validUntil: future(1) }, p('fin1'));
    try {
      const after = await decide(p('helper'), created.id, { decision: 'approve' });
      expect(after.chains[0].steps[0]).toMatchObject({ approvals: 1, status: 'active' });
      await expect(decide(p('fin1'), created.id, { decision: 'approve' })).rejects.toMatchObject({
        code: 409,
      });
      await expect(decide(p('helper'), created.id, { decision: 'approve' })).rejects.toMatchObject({
        code: 409,
      });
      expect((await pendingOf(p('fin1'))).map((item) => item.approvalId)).not.toContain(created.id);
    } finally {
      await call('delegation.remove', {}, p('fin1'));
    }
  });

  it('is not active outside its window', async () => {
    await rule('CC-DELEGATE-LATER', [{ name: 'Manager', approvers: { managerLevels: 1 }, required: 1 }]);
    const created = await request(
      p('requester'),
      subject(),
      purchase(1000, { costCentre: 'CC-DELEGATE-LATER' }),
    );
    const later = await call(
      'delegation.set',
      { delegateId: p('helper').id, validFrom: future(24), validUntil: future(48) },
      p('mgr2'),
    );
    expect(later.active).toBe(false);
    try {
      await expect(decide(p('helper'), created.id, { decision: 'approve' })).rejects.toMatchObject({
        code: 404,
      });
      world.setNow(new Date(Date.now() + 30 * HOUR));
      expect((await pendingOf(p('helper'))).map((item) => item.approvalId)).toContain(created.id);
      world.setNow(new Date(Date.now() + 50 * HOUR));
      expect((await pendingOf(p('helper'))).map((item) => item.approvalId)).not.toContain(created.id);
    } finally {
      world.setNow(null);
      await call('delegation.remove', {}, p('mgr2'));
    }
  });

  it('refuses a delegate outside the company (as unknown), oneself, and a window in the past', async () => {
    await expect(
      call('delegation.set', { delegateId: b.people.buyer!.id, validUntil: future(1) }, p('mgr2')),
    ).rejects.toMatchObject({ code: 404 });
    await expect(
      call('delegation.set', { delegateId: p('mgr2').id, validUntil: future(1) }, p('mgr2')),
    ).rejects.toMatchObject({ code: 422 });
    await expect(
      call('delegation.set', { delegateId: p('helper').id, validUntil: future(-1) }, p('mgr2')),
    ).rejects.toMatchObject({ code: 422 });
    await expect(
      call('delegation.set', { delegateId: p('helper').id, validUntil: future(24 * 400) }, p('mgr2')),
    ).rejects.toMatchObject({ code: 422 });
  });
});

describe('escalation', () => {
  it('adds the escalation approvers once the deadline passed, once even with parallel sweeps', async () => {
    await rule('CC-ESCALATE', [
      {
        name: 'Manager',
        approvers: { managerLevels: 1 },
        required: 1,
        escalateAfterHours: 48,
        escalateTo: { roles: ['buyer-admin'] },
      },
    ]);
    const created = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-ESCALATE' }));
    const step = created.chains[0].steps[0];
    const activatedAt = Date.parse(step.activatedAt);
    expect(Date.parse(step.escalateAt) - activatedAt).toBe(48 * HOUR);
    const { db } = world.hub.hub.platform;

    const early = await sweepEscalations(db, world.broker, new Date(activatedAt + 47 * HOUR));
    expect(early.escalated).toBe(0);
    expect((await pendingOf(p('admin'))).map((item) => item.approvalId)).not.toContain(created.id);

    const before = await lastOutboxId(world);
    const late = new Date(activatedAt + 49 * HOUR);
    const sweeps = await Promise.all([
      sweepEscalations(db, world.broker, late),
      sweepEscalations(db, world.broker, late),
      sweepEscalations(db, world.broker, late),
    ]);
    expect(sweeps.reduce((sum, s) => sum + s.escalated, 0)).toBeGreaterThanOrEqual(1);
    const events = (await eventsSince(before)).filter((e) => e.payload.approvalId === created.id);
    expect(events.map((e) => e.topic)).toEqual(['approval.escalated']);
    expect(events[0]!.payload).toMatchObject({
      stepId: step.id,
      addedApproverIds: ids('admin'),
      approverIds: [...ids('mgr2'), p('admin').id],
    });
    expect((await sweepEscalations(db, world.broker, new Date(activatedAt + 100 * HOUR))).escalated).toBe(0);

    const history = await call('requests.get', { id: created.id }, p('requester'));
    expect(history.chains[0].steps[0]).toMatchObject({
      escalatedAt: late.toISOString(),
      escalatedApproverIds: ids('admin'),
    });
    expect((await pendingOf(p('admin'))).map((item) => item.approvalId)).toContain(created.id);
    expect((await decide(p('admin'), created.id, { decision: 'approve' })).status).toBe('approved');
  });

  it('leaves steps that completed before their deadline alone', async () => {
    await rule('CC-ESCALATE-DONE', [
      {
        name: 'Manager',
        approvers: { managerLevels: 1 },
        required: 1,
        escalateAfterHours: 1,
        escalateTo: { roles: ['buyer-admin'] },
      },
    ]);
    const created = await request(
      p('requester'),
      subject(),
      purchase(1000, { costCentre: 'CC-ESCALATE-DONE' }),
    );
    await decide(p('mgr2'), created.id, { decision: 'approve' });
    const before = await lastOutboxId(world);
    await sweepEscalations(world.hub.hub.platform.db, world.broker, new Date(Date.now() + 5 * HOUR));
    expect((await eventsSince(before)).filter((e) => e.payload.approvalId === created.id)).toEqual([]);
  });
});

describe('concurrent decisions', () => {
  it('a 1-of-3 step decided by three approvers at once advances once', async () => {
    await rule('CC-RACE-1', [
      { name: 'Finance', approvers: { roles: ['finance'] }, required: 1 },
      { name: 'Manager', approvers: { managerLevels: 1 }, required: 1 },
    ]);
    const created = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-RACE-1' }));
    const before = await lastOutboxId(world);
    const results = await Promise.allSettled(
      ['fin1', 'fin2', 'fin3'].map((key) => decide(p(key), created.id, { decision: 'approve' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code),
    ).toEqual([409, 409]);
    const history = await call('requests.get', { id: created.id }, p('requester'));
    expect(history.chains[0].steps.map((s: Answer) => [s.status, s.approvals, s.decisions.length])).toEqual([
      ['approved', 1, 1],
      ['active', 0, 0],
    ]);
    const events = (await eventsSince(before)).map((e) => e.topic);
    expect(events.filter((topic) => topic === 'approval.step_activated')).toHaveLength(1);
    expect(events.filter((topic) => topic === 'approval.decided')).toHaveLength(1);
  });

  it('a 2-of-3 step decided by three at once takes two decisions and completes once', async () => {
    await rule('CC-RACE-2', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 2 }]);
    const created = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-RACE-2' }));
    const before = await lastOutboxId(world);
    const results = await Promise.allSettled(
      ['fin1', 'fin2', 'fin3'].map((key) => decide(p(key), created.id, { decision: 'approve' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const history = await call('requests.get', { id: created.id }, p('requester'));
    expect(history.status).toBe('approved');
    expect(history.chains[0].steps[0]).toMatchObject({ status: 'approved', approvals: 2 });
    expect(history.chains[0].steps[0].decisions).toHaveLength(2);
    const events = (await eventsSince(before)).map((e) => e.topic);
    expect(events.filter((topic) => topic === 'approval.approved')).toHaveLength(1);
  });
});

describe('lists', () => {
  it('show a viewer their own, what they approve, and what their approvals.read scope reaches', async () => {
    await rule('CC-LIST', [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }]);
    const mine = await request(p('requester'), subject(), purchase(1000, { costCentre: 'CC-LIST' }));
    const sellers = await request(p('seller'), subject(), purchase(1000, { costCentre: 'CC-LIST' }));
    const listed = async (who: Person) => {
      const answer = await call('requests.list', { limit: 200 }, who);
      expectSchema('api/approvals/approval-list-response', answer);
      return (answer.items as Answer[]).map((item) => item.id);
    };
    expect(await listed(p('requester'))).toEqual(expect.arrayContaining([mine.id]));
    expect(await listed(p('requester'))).not.toContain(sellers.id);
    expect(await listed(p('seller'))).toContain(sellers.id);
    expect(await listed(p('seller'))).not.toContain(mine.id);
    // mgr1: approvals.read over Purchasing and below (Team), not Sales.
    expect(await listed(p('mgr1'))).toContain(mine.id);
    expect(await listed(p('mgr1'))).not.toContain(sellers.id);
    // Finance reads company-wide.
    expect(await listed(p('fin2'))).toEqual(expect.arrayContaining([mine.id, sellers.id]));

    const pendingOnly = await call('requests.list', { status: 'pending', limit: 200 }, p('fin2'));
    expect(pendingOnly.items.every((item: Answer) => item.status === 'pending')).toBe(true);
    const page1 = await call('requests.list', { limit: 2 }, p('fin2'));
    expect(page1.items).toHaveLength(2);
    const page2 = await call('requests.list', { limit: 2, cursor: page1.nextCursor }, p('fin2'));
    expect(page2.items[0].id > page1.items[1].id).toBe(true);
  });
});
