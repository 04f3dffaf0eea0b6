/**
 * The hub nodes in a Node-RED test runtime (node-red-node-test-helper) against a real hub: the
 * accounts and approvals services on a fresh PostgreSQL database, the outbox relay, and the flows
 * service keeping approval waits. Nothing is faked.
 */

import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import moleculer from 'moleculer';
import {
  type Answer,
  type Company,
  createCompany,
  type Person,
  purchase,
  startApprovalsWorld,
  type World,
} from '../../../core/approvals/testing/approvals-world.ts';
import { flowsModule } from '../../../core/flows/flows.module.ts';
import { applyMigrations } from '../../../core/platform/database/migrations.ts';
import { testServers, uniqueName } from '../../../core/platform/testing/test-servers.ts';
import { waitFor } from '../../../core/platform/testing/wait-for.ts';

const require = createRequire(import.meta.url);
const helper = require('node-red-node-test-helper');
const hubConfigNode = require('../hub-config.js');
const hubCallNode = require('../hub-call.js');
const hubEventNode = require('../hub-event.js');
const hubApprovalNode = require('../hub-approval.js');
// Node-RED's own Catch node, as the node-red package resolves it.
const catchNode = createRequire(require.resolve('node-red'))('@node-red/nodes/core/common/25-catch.js');
const NODES = [hubConfigNode, hubCallNode, hubEventNode, hubApprovalNode, catchNode];

/** The identity the flows act with: a system principal holding no permission of its own. */
const FLOWS_CALLER = '00000000-0000-4000-8000-00000000f105';
const HUB = {
  id: 'hub',
  type: 'hub-config',
  mode: 'in-process',
  callerKind: 'system',
  callerId: FLOWS_CALLER,
  callerPermissions: '',
  timeoutSeconds: 20,
};

interface TestNode {
  on(event: 'input', listener: (msg: Answer) => void): void;
  receive(msg: unknown): void;
}

const node = (id: string) => helper.getNode(id) as TestNode;

/** The next message a helper node receives. */
function nextMessage(id: string, timeoutMs = 20_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message at ${id}`)), timeoutMs);
    node(id).on('input', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

function loadFlow(flow: unknown[], credentials: Record<string, unknown> = {}): Promise<void> {
  return helper.load(NODES, flow, credentials);
}

describe('hub nodes in Node-RED against a running hub', () => {
  let world: World;
  let company: Company;
  const p = (key: string): Person => company.people[key]!;
  const buyerOf = (person: Person) => ({ userId: person.id, companyId: company.id });
  const costCentre = uniqueName('CC-FLOW');

  beforeAll(async () => {
    world = await startApprovalsWorld();
    const { platform } = world.hub.hub;
    await applyMigrations(platform.db, [flowsModule.migrations!]);
    world.broker.createService(flowsModule.service(platform));
    await world.broker.waitForServices(['flows']);
    company = await createCompany(world, 'Flow Buyer', {
      units: {},
      people: {
        requester: { roles: ['purchaser'], unit: 'root' },
        fin1: { roles: ['finance'], unit: 'root' },
      },
    });
    await world.broker.call(
      'approvals.rules.create',
      {
        name: 'Large orders need finance',
        condition: {
          all: [
            { field: 'costCentre', op: 'eq', value: costCentre },
            { field: 'orderTotal', op: 'gt', value: { amountMinor: '1000000', currency: 'CNY' } },
          ],
        },
        steps: [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }],
      },
      p('admin').as,
    );
    helper.init(require.resolve('node-red'), { hub: { broker: world.broker } });
    await new Promise<void>((resolve, reject) =>
      helper.startServer((error?: Error) => (error ? reject(error) : resolve())),
    );
  }, 180_000);

  afterEach(async () => {
    await helper.unload();
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await world?.stop();
  }, 60_000);

  describe('hub-call', () => {
    it('calls the action with params from a JSONata template, acting for the buyer the message names', async () => {
      const subject = { type: 'flow-call', id: randomUUID() };
      const created = (await world.broker.call(
        'approvals.request',
        { subject, snapshot: purchase(2_000_000, { costCentre }) },
        p('requester').as,
      )) as Answer;
      await loadFlow([
        { id: 'tab', type: 'tab' },
        HUB,
        {
          id: 'call',
          type: 'hub-call',
          z: 'tab',
          hub: 'hub',
          action: 'approvals.status',
          paramsType: 'jsonata',
          params: '{ "subject": { "type": "flow-call", "id": payload.orderId } }',
          buyerProperty: 'hubBuyer',
          wires: [['out']],
        },
        { id: 'out', type: 'helper', z: 'tab' },
      ]);
      const answer = nextMessage('out');
      node('call').receive({ hubBuyer: buyerOf(p('requester')), payload: { orderId: subject.id } });
      const msg = await answer;
      expect(msg.payload).toMatchObject({ id: created.id, status: 'pending', subject });
    });

    it('ends in the node error a Catch node sees when the hub refuses the call', async () => {
      await loadFlow([
        { id: 'tab', type: 'tab' },
        HUB,
        {
          id: 'call',
          type: 'hub-call',
          z: 'tab',
          hub: 'hub',
          action: 'accounts.units.list',
          paramsType: 'payload',
          wires: [[]],
        },
        { id: 'catcher', type: 'catch', z: 'tab', scope: ['call'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ]);
      const caught = nextMessage('caught');
      // The connection's own identity is a system principal without a company: units are per company.
      node('call').receive({ payload: {} });
      const msg = await caught;
      expect(msg.error.source.id).toBe('call');
      expect(msg.error.message).toMatch(/buyer|company|forbidden|permission/i);
      expect(msg.payload).toEqual({});
    });

    it('lists the running hub’s actions for the editor through the admin endpoint', async () => {
      await loadFlow([HUB]);
      const response = await helper.request().get('/hub-nodes/actions').query({ config: 'hub' }).expect(200);
      expect(response.body.actions).toEqual(
        expect.arrayContaining(['approvals.request', 'accounts.units.list']),
      );
      expect(response.body.actions.some((name: string) => name.startsWith('$node.'))).toBe(false);
    });
  });

  describe('hub-event', () => {
    it('starts the flow with the event data and its envelope when the hub publishes it', async () => {
      await loadFlow([
        HUB,
        { id: 'event', type: 'hub-event', hub: 'hub', event: 'approval.requested', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ]);
      await world.broker.waitForServices(['flows-node-event']);
      const subject = { type: 'flow', id: randomUUID() };
      const received = new Promise<Answer>((resolve) => {
        node('out').on('input', (msg) => {
          if (msg.payload.subject?.id === subject.id) resolve(msg);
        });
      });
      await world.broker.call(
        'approvals.request',
        { subject, snapshot: purchase(2_000_000, { costCentre }) },
        p('requester').as,
      );
      const msg = await received;
      expect(msg.topic).toBe('approval.requested');
      expect(msg.event).toMatchObject({ name: 'approval.requested', companyId: company.id });
      expect(msg.payload.companyId).toBe(company.id);
    }, 40_000);
  });

  describe('hub-approval', () => {
    const approvalFlow = () => [
      HUB,
      {
        id: 'approval',
        type: 'hub-approval',
        hub: 'hub',
        subjectType: 'flow-test',
        subjectIdProperty: 'payload.orderId',
        snapshotProperty: 'snapshot',
        requesterProperty: 'hubBuyer',
        pollSeconds: 1,
        wires: [['approved'], ['rejected']],
      },
      { id: 'approved', type: 'helper' },
      { id: 'rejected', type: 'helper' },
    ];
    const input = (orderId: string, totalMinor: number) => ({
      payload: { orderId, note: 'kept while waiting' },
      hubBuyer: buyerOf(p('requester')),
      snapshot: purchase(totalMinor, { costCentre }),
    });
    const waitRow = async (orderId: string) => {
      const { rows } = await world.hub.hub.platform.db.query(
        `SELECT approval_id, state FROM flows.approval_waits WHERE subject->>'id' = $1`,
        [orderId],
      );
      return rows[0] as { approval_id: string; state: string } | undefined;
    };
    const decide = (approvalId: string, decision: 'approve' | 'reject', comment?: string) =>
      world.broker.call(
        'approvals.decide',
        { id: approvalId, decision, ...(comment ? { comment } : {}) },
        p('fin1').as,
      );

    it('refuses a message that names no requester, so no flow acts for a company it did not name', async () => {
      await loadFlow([
        { id: 'tab', type: 'tab' },
        HUB,
        { ...approvalFlow()[1], z: 'tab', wires: [[], []] },
        { id: 'catcher', type: 'catch', z: 'tab', scope: ['approval'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ]);
      const caught = nextMessage('caught');
      const orderId = randomUUID();
      node('approval').receive({ payload: { orderId }, snapshot: purchase(2_000_000, { costCentre }) });
      const msg = await caught;
      expect(msg.error.message).toMatch(/does not name the buyer/);
      const { rows } = await world.hub.hub.platform.db.query(
        `SELECT count(*)::int AS n FROM flows.approval_waits WHERE subject->>'id' = $1`,
        [orderId],
      );
      expect(rows[0]!.n).toBe(0);
    });

    it('continues at once on the approved output when no rule asks for an approval', async () => {
      await loadFlow(approvalFlow());
      const approved = nextMessage('approved');
      node('approval').receive(input(randomUUID(), 500));
      const msg = await approved;
      expect(msg.approval.state).toBe('approved');
      expect(msg.payload.note).toBe('kept while waiting');
    });

    it('waits in the hub and continues on approved when finance approves', async () => {
      await loadFlow(approvalFlow());
      const orderId = randomUUID();
      node('approval').receive(input(orderId, 2_000_000));
      await waitFor(async () => (await waitRow(orderId)) !== undefined, 'the wait kept in the hub', 20_000);
      const approved = nextMessage('approved');
      await decide((await waitRow(orderId))!.approval_id, 'approve');
      const msg = await approved;
      expect(msg.payload).toEqual({ orderId, note: 'kept while waiting' });
      expect(msg.approval).toMatchObject({ state: 'approved', subject: { type: 'flow-test', id: orderId } });
      await waitFor(async () => (await waitRow(orderId)) === undefined, 'the wait settled');
    }, 60_000);

    it('continues on rejected with the reason', async () => {
      await loadFlow(approvalFlow());
      const orderId = randomUUID();
      node('approval').receive(input(orderId, 3_000_000));
      await waitFor(async () => (await waitRow(orderId)) !== undefined, 'the wait kept in the hub', 20_000);
      const rejected = nextMessage('rejected');
      await decide((await waitRow(orderId))!.approval_id, 'reject', 'over the quarterly budget');
      const msg = await rejected;
      expect(msg.approval).toMatchObject({
        state: 'rejected',
        comment: 'over the quarterly budget',
        decidedBy: p('fin1').id,
      });
      expect(msg.payload.orderId).toBe(orderId);
    }, 60_000);

    it('survives a restart of the flow: a decision made meanwhile, even one whose event was missed, resumes it', async () => {
      await loadFlow(approvalFlow());
      const orderId = randomUUID();
      node('approval').receive(input(orderId, 4_000_000));
      await waitFor(async () => (await waitRow(orderId)) !== undefined, 'the wait kept in the hub', 20_000);
      const { approval_id: approvalId } = (await waitRow(orderId))!;
      await helper.unload();

      await decide(approvalId, 'approve');
      await waitFor(
        async () => (await waitRow(orderId))?.state === 'approved',
        'the decision recorded',
        20_000,
      );
      // As if the hub had been down when the decision event went out: only the engine knows.
      await world.hub.hub.platform.db.query(
        `UPDATE flows.approval_waits SET state = 'waiting', decided_at = NULL WHERE approval_id = $1`,
        [approvalId],
      );

      await loadFlow(approvalFlow());
      const msg = await nextMessage('approved');
      expect(msg.approval).toMatchObject({ id: approvalId, state: 'approved' });
      expect(msg.payload.orderId).toBe(orderId);
    }, 60_000);
  });

  describe('hub-config over NATS', () => {
    it('reaches a remote mesh with the NATS credentials from the credentials store', async () => {
      const namespace = uniqueName('flows-remote');
      const remote = new moleculer.ServiceBroker({
        namespace,
        nodeID: uniqueName('remote'),
        transporter: { type: 'NATS', options: { url: testServers.nats } },
        logger: false,
      });
      remote.createService({
        name: 'echo',
        actions: {
          whoami(ctx) {
            return { auth: (ctx.meta as { auth?: unknown }).auth, params: ctx.params };
          },
        },
      });
      await remote.start();
      try {
        await loadFlow(
          [
            { ...HUB, id: 'remote-hub', mode: 'nats', natsUrl: testServers.nats, namespace },
            {
              id: 'call',
              type: 'hub-call',
              hub: 'remote-hub',
              action: 'echo.whoami',
              paramsType: 'payload',
              wires: [['out']],
            },
            { id: 'out', type: 'helper' },
          ],
          { 'remote-hub': { natsUser: '', natsPassword: '' } },
        );
        const answer = nextMessage('out', 30_000);
        node('call').receive({ payload: { ping: 1 } });
        const msg = await answer;
        expect(msg.payload).toEqual({
          params: { ping: 1 },
          auth: { kind: 'system', principalId: FLOWS_CALLER, companyId: null, permissions: [] },
        });
      } finally {
        await helper.unload();
        await remote.stop();
      }
    }, 60_000);
  });
});
