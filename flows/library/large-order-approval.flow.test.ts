/**
 * Library flow 2 in a Node-RED test runtime, with the hub faked at the action boundary: an
 * in-process broker whose orders, approvals and flows services only record what the flow asks
 * and answer as the real ones do. The flow file is loaded exactly as committed.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import moleculer from 'moleculer';
import { waitFor } from '../../core/platform/testing/wait-for.ts';

const require = createRequire(import.meta.url);
const helper = require('node-red-node-test-helper');
const fromNodeRed = createRequire(require.resolve('node-red'));
const NODES = [
  require('../nodes/hub-config.js'),
  require('../nodes/hub-call.js'),
  require('../nodes/hub-event.js'),
  require('../nodes/hub-approval.js'),
  fromNodeRed('@node-red/nodes/core/function/10-switch.js'),
  fromNodeRed('@node-red/nodes/core/function/15-change.js'),
  fromNodeRed('@node-red/nodes/core/common/25-catch.js'),
  fromNodeRed('@node-red/nodes/core/common/21-debug.js'),
];
const FLOW = JSON.parse(
  readFileSync(path.join(import.meta.dirname, 'large-order-approval.flow.json'), 'utf8'),
);

interface Call {
  action: string;
  params: Record<string, unknown>;
  auth: { kind: string; principalId: string; companyId: string | null; permissions: string[] };
}

describe('library flow: large-order approval', () => {
  let broker: moleculer.ServiceBroker;
  let calls: Call[];
  /** Approval waits the fake flows service holds, by approval id. */
  let waits: Map<string, Record<string, unknown>>;

  const record = (action: string) => (ctx: moleculer.Context<Record<string, unknown>>) => {
    calls.push({ action, params: ctx.params, auth: (ctx.meta as { auth: Call['auth'] }).auth });
  };
  const callsTo = (action: string) => calls.filter((call) => call.action === action);

  beforeAll(async () => {
    broker = new moleculer.ServiceBroker({ logger: false, nodeID: `fake-hub-${randomUUID()}` });
    broker.createService({
      name: 'orders',
      actions: {
        'staff.transition'(ctx: moleculer.Context<{ id: string; to: string }>) {
          record('orders.staff.transition')(ctx);
          return {
            id: ctx.params.id,
            status: ctx.params.to,
            paymentMethod: 'credit',
            totals: { gross: { amountMinor: '6000000', currency: 'CNY' } },
            lines: [{ skuCode: 'PUMP-1', quantity: 3, gross: { amountMinor: '6000000', currency: 'CNY' } }],
          };
        },
      },
    });
    broker.createService({
      name: 'approvals',
      actions: {
        request(ctx: moleculer.Context<Record<string, unknown>>) {
          record('approvals.request')(ctx);
          return { id: randomUUID(), status: 'pending' };
        },
      },
    });
    broker.createService({
      name: 'flows',
      actions: {
        'approvalWaits.put'(ctx: moleculer.Context<Record<string, unknown>>) {
          record('flows.approvalWaits.put')(ctx);
          waits.set(String(ctx.params.approvalId), { ...ctx.params, state: 'waiting' });
          return { approvalId: ctx.params.approvalId };
        },
        'approvalWaits.decided'(ctx: moleculer.Context<{ nodeId: string }>) {
          const items = [...waits.values()]
            .filter((wait) => wait.nodeId === ctx.params.nodeId && wait.state !== 'waiting')
            .map((wait) => ({
              approvalId: wait.approvalId,
              companyId: wait.companyId,
              subject: wait.subject,
              state: wait.state,
              comment: wait.comment ?? null,
              decidedBy: null,
              message: wait.message,
            }));
          return { items };
        },
        'approvalWaits.settle'(ctx: moleculer.Context<{ approvalId: string }>) {
          return { settled: waits.delete(ctx.params.approvalId) };
        },
      },
    });
    await broker.start();
    helper.init(require.resolve('node-red'), { hub: { broker } });
    await new Promise<void>((resolve, reject) =>
      helper.startServer((error?: Error) => (error ? reject(error) : resolve())),
    );
  }, 60_000);

  beforeEach(async () => {
    calls = [];
    waits = new Map();
    await helper.load(NODES, FLOW);
    await broker.waitForServices(['flows-node-loa-placed']);
  });

  afterEach(async () => {
    await helper.unload();
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await broker?.stop();
  });

  const companyId = randomUUID();
  const placedBy = randomUUID();
  function placeOrder(amountMinor: string, status = 'confirmed', currency = 'CNY') {
    const orderId = randomUUID();
    broker.emit('order.placed', {
      id: String(Date.now()),
      name: 'order.placed',
      occurredAt: new Date().toISOString(),
      companyId,
      requestId: null,
      data: {
        orderId,
        number: 'SO-1',
        companyId,
        placedBy,
        status,
        paymentMethod: 'credit',
        poNumber: null,
        total: { amountMinor, currency },
        lines: [{ skuId: randomUUID(), skuCode: 'PUMP-1', quantity: 3 }],
      },
    });
    return orderId;
  }
  const decide = (orderId: string, state: 'approved' | 'rejected' | 'withdrawn', comment?: string) => {
    const wait = [...waits.values()].find((w) => (w.subject as { id: string }).id === orderId)!;
    Object.assign(wait, { state, comment });
  };

  it('holds a large order and asks for finance approval as the buyer who placed it', async () => {
    const orderId = placeOrder('6000000');
    await waitFor(() => waits.size === 1, 'the approval wait', 20_000);
    expect(callsTo('orders.staff.transition')).toEqual([
      {
        action: 'orders.staff.transition',
        params: { id: orderId, to: 'on_hold', reason: 'Large order: waiting for finance approval' },
        auth: {
          kind: 'staff',
          principalId: '00000000-0000-4000-8000-00000000f105',
          companyId: null,
          permissions: ['orders.manage'],
        },
      },
    ]);
    const [request] = callsTo('approvals.request');
    expect(request!.params).toEqual({
      subject: { type: 'large-order', id: orderId },
      snapshot: {
        total: { amountMinor: '6000000', currency: 'CNY' },
        paymentMethod: 'credit',
        lines: [
          {
            sku: 'PUMP-1',
            categoryIds: [],
            quantity: 3,
            lineTotal: { amountMinor: '6000000', currency: 'CNY' },
          },
        ],
      },
    });
    expect(request!.auth).toEqual({ kind: 'buyer', principalId: placedBy, companyId, permissions: [] });
  });

  it('continues the order when finance approves', async () => {
    const orderId = placeOrder('5000000');
    await waitFor(() => waits.size === 1, 'the approval wait', 20_000);
    decide(orderId, 'approved');
    await waitFor(() => callsTo('orders.staff.transition').length === 2, 'the release', 20_000);
    expect(callsTo('orders.staff.transition')[1]!.params).toEqual({
      id: orderId,
      to: 'confirmed',
      reason: 'Large order approved by finance',
    });
  });

  it('cancels the order with the approver’s reason when finance rejects', async () => {
    const orderId = placeOrder('9000000');
    await waitFor(() => waits.size === 1, 'the approval wait', 20_000);
    decide(orderId, 'rejected', 'over the quarterly budget');
    await waitFor(() => callsTo('orders.staff.transition').length === 2, 'the cancellation', 20_000);
    expect(callsTo('orders.staff.transition')[1]!.params).toEqual({
      id: orderId,
      to: 'cancelled',
      reason: 'Rejected by finance: over the quarterly budget',
    });
  });

  it('cancels the order when the approval was withdrawn (superseded or cancelled)', async () => {
    const orderId = placeOrder('8000000');
    await waitFor(() => waits.size === 1, 'the approval wait', 20_000);
    decide(orderId, 'withdrawn');
    await waitFor(() => callsTo('orders.staff.transition').length === 2, 'the cancellation', 20_000);
    expect(callsTo('orders.staff.transition')[1]!.params).toEqual({
      id: orderId,
      to: 'cancelled',
      reason: 'Finance approval withdrawn',
    });
  });

  it('leaves small orders, orders in another currency and orders checkout still holds alone', async () => {
    placeOrder('4999999');
    placeOrder('9000000', 'confirmed', 'USD');
    placeOrder('9000000', 'pending_approval');
    const marker = placeOrder('7000000');
    await waitFor(() => callsTo('approvals.request').length === 1, 'the one large order', 20_000);
    expect(callsTo('orders.staff.transition').map((call) => call.params.id)).toEqual([marker]);
  });
});
