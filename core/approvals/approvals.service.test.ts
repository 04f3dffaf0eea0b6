/**
 * The approvals service in a running hub: its periodic escalation sweep (started with the service,
 * stopped with it) and its events reaching subscribers through the outbox relay.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { sleep, waitFor } from '../platform/testing/wait-for.ts';
import {
  type Answer,
  approvalEvents,
  type Company,
  createCompany,
  lastOutboxId,
  purchase,
  startApprovalsWorld,
  type World,
} from './testing/approvals-world.ts';

let world: World;
let a: Company;
const received: Array<{ name: string; companyId: string | null; payload: Answer }> = [];

beforeAll(async () => {
  world = await startApprovalsWorld({ sweepIntervalMs: 50 });
  a = await createCompany(world, 'Sweeper', {
    units: {},
    people: {
      buyer: { roles: ['purchaser'], unit: 'root' },
      approver: { roles: ['approver'], unit: 'root' },
    },
  });
  world.broker.createService({
    name: 'approval-listener',
    events: {
      'approval.*': {
        // The relay's envelope: event id, name, companyId, requestId, and the payload as `data`.
        handler(ctx: { eventName: string | null; params: Answer }) {
          received.push({
            name: ctx.eventName ?? '',
            companyId: ctx.params.companyId,
            payload: ctx.params.data,
          });
        },
      },
    },
  });
  await world.broker.waitForServices(['approval-listener']);
}, 120_000);

afterAll(async () => {
  world?.setNow(null);
  await world?.stop();
});

const call = (action: string, params: unknown, who = a.people.buyer!): Promise<Answer> =>
  world.broker.call(`approvals.${action}`, params, who.as);

it('publishes the engine’s events to subscribers after commit', async () => {
  await call(
    'rules.create',
    {
      name: 'Everything, escalating after an hour',
      condition: { all: [] },
      steps: [
        {
          name: 'Approver',
          approvers: { roles: ['approver'] },
          required: 1,
          escalateAfterHours: 1,
          escalateTo: { roles: ['buyer-admin'] },
        },
      ],
    },
    a.people.admin!,
  );
  const created = await call('request', { subject: { type: 'quote', id: 'q-1' }, snapshot: purchase(100) });
  await waitFor(
    () =>
      received.some(
        (event) => event.name === 'approval.step_activated' && event.payload.approvalId === created.id,
      ),
    'approval.step_activated to reach the subscriber',
  );
  const activated = received.find((event) => event.name === 'approval.step_activated')!;
  expect(activated.companyId).toBe(a.id);
  expect(activated.payload).toMatchObject({ approverIds: [a.people.approver!.id], stepName: 'Approver' });
  expect(received.map((event) => event.name)).toContain('approval.requested');
});

it('escalates on its own once the deadline passed, and stops sweeping when stopped', async () => {
  const created = await call('request', { subject: { type: 'quote', id: 'q-2' }, snapshot: purchase(200) });
  await sleep(200);
  expect((await approvalEvents(world)).filter((e) => e.topic === 'approval.escalated')).toEqual([]);

  world.setNow(new Date(Date.now() + 2 * 3_600_000));
  await waitFor(
    async () =>
      (await approvalEvents(world)).some(
        (e) => e.topic === 'approval.escalated' && e.payload.approvalId === created.id,
      ),
    'the service sweep to escalate the step',
  );
  const history = await call('requests.get', { id: created.id });
  expect(history.chains[0].steps[0].escalatedApproverIds).toEqual([a.people.admin!.id]);

  // Stopped: a step falling due afterwards stays as it is.
  world.setNow(null);
  const later = await call('request', { subject: { type: 'quote', id: 'q-3' }, snapshot: purchase(300) });
  await world.broker.destroyService('approvals');
  const before = await lastOutboxId(world);
  world.setNow(new Date(Date.now() + 2 * 3_600_000));
  await sleep(300);
  const { rows } = await world.hub.hub.platform.db.query(
    `SELECT escalated_at FROM approvals.steps WHERE request_id = $1`,
    [later.id],
  );
  expect(rows).toEqual([{ escalated_at: null }]);
  expect(await approvalEvents(world, before)).toEqual([]);
});
