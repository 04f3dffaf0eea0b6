import type { ServiceBroker } from 'moleculer';
import type { Logger } from 'pino';
import { AccessTokens } from '../platform/auth/access-tokens.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';

/**
 * Demo orders for `hub seed demo` and `hub start --demo`, made the way real ones are: the buyers
 * log in and check out through the saga (prices, credit, stock, approval rules), finance approves,
 * staff ship, hold and complete, a buyer cancels. So every status of the state machine a demo
 * wants to show exists with its history, its stock reservations, its credit ledger and, for the
 * partly shipped one, its receivable.
 *
 * Each order has a fixed checkout token: running the seed again answers the same orders
 * (`replayed`), and an order found past the state the script takes it to is left alone.
 */

type Call = { meta: { auth: AuthContext } };

export interface DemoOrdersInput {
  broker: ServiceBroker;
  jwtSecret: Uint8Array;
  logger?: Pick<Logger, 'warn'>;
  /** Catalog SKUs the demo may order (codes); the cheapest orderable ones are taken. */
  skuCodes: readonly string[];
  /** Who does what: the buyer who places, the buyer company's admin, its finance approver (emails, passwords). */
  purchaser: { email: string; password: string };
  admin: { email: string; password: string };
  finance: { email: string; password: string };
  /** The staff member who ships, holds and completes (needs orders.manage). */
  staff: { email: string; password: string };
}

interface OrderView {
  id: string;
  number: string;
  status: string;
}

/** The demo's scenarios: the status each order ends in and how it gets there. */
const SCENARIOS = [
  { token: 'demo-order-pending-approval', payment: 'credit', ends: 'pending_approval' },
  { token: 'demo-order-confirmed', payment: 'credit', ends: 'confirmed' },
  { token: 'demo-order-partially-shipped', payment: 'credit', ends: 'partially_shipped' },
  { token: 'demo-order-completed', payment: 'credit', ends: 'completed' },
  { token: 'demo-order-on-hold', payment: 'credit', ends: 'on_hold' },
  { token: 'demo-order-pending-payment', payment: 'bank_transfer', ends: 'pending_payment' },
  { token: 'demo-order-cancelled', payment: 'bank_transfer', ends: 'cancelled' },
] as const;

/** A demo order stays small: below the demo's ¥10,000 manager-approval rule. */
const MAX_LINE_GROSS_MINOR = 200_000n;
const QUANTITY = 10;

async function waitForStatus(
  broker: ServiceBroker,
  orderId: string,
  wanted: readonly string[],
  timeoutMs = 30_000,
): Promise<OrderView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const order = (await broker.call('orders.internal.get', { orderId })) as OrderView;
    if (wanted.includes(order.status) || Date.now() > deadline) return order;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function seedDemoOrders(input: DemoOrdersInput): Promise<{ orders: Record<string, string> }> {
  const { broker } = input;
  const tokens = new AccessTokens(input.jwtSecret, 600);
  const logIn = async (who: { email: string; password: string }): Promise<Call> => {
    const { accessToken } = (await broker.call('accounts.login', who)) as { accessToken: string };
    return { meta: { auth: await tokens.verify(accessToken) } };
  };
  const [purchaser, admin, finance, staff] = await Promise.all([
    logIn(input.purchaser),
    logIn(input.admin),
    logIn(input.finance),
    logIn(input.staff),
  ]);

  // The cheapest SKUs the purchaser can order in tens, with stock for every scenario.
  const priced = (await broker.call(
    'pricing.internal.priceLines',
    { lines: input.skuCodes.slice(0, 60).map((code) => ({ code, quantity: QUANTITY })) },
    purchaser,
  )) as {
    lines: Array<{ skuId?: string; status: string; errors: unknown[]; gross?: { amountMinor: string } }>;
  };
  const candidates = priced.lines.filter(
    (line) =>
      line.status === 'priced' &&
      !line.errors.length &&
      line.skuId &&
      BigInt(line.gross?.amountMinor ?? '0') <= MAX_LINE_GROSS_MINOR,
  );
  const stock = (await broker.call('inventory.internal.available', {
    skuIds: candidates.map((line) => line.skuId!),
  })) as { items: Array<{ skuId: string; available: number }> };
  const inStock = new Set(stock.items.filter((item) => item.available >= 100).map((item) => item.skuId));
  const skuIds = candidates.map((line) => line.skuId!).filter((id) => inStock.has(id));
  if (skuIds.length < 2) {
    input.logger?.warn({ found: skuIds.length }, 'demo orders skipped: too few cheap SKUs in stock');
    return { orders: {} };
  }

  const orders: Record<string, string> = {};
  for (const [index, scenario] of SCENARIOS.entries()) {
    const lines = [skuIds[index % skuIds.length]!, skuIds[(index + 1) % skuIds.length]!].map((skuId) => ({
      skuId,
      quantity: QUANTITY,
    }));
    const placer = scenario.payment === 'credit' ? purchaser : admin;
    try {
      const placed = (await broker.call(
        'workflows.placeOrder',
        {
          lines,
          checkoutToken: scenario.token,
          paymentMethod: scenario.payment,
          poNumber: `PO-DEMO-${index + 1}`,
          note: '演示订单 Demo order',
        },
        placer,
      )) as { order: OrderView; replayed: boolean };
      const order = placed.order;
      orders[scenario.ends] = order.number;
      if (placed.replayed) continue;
      await advance(order, scenario.ends, placer);
    } catch (error) {
      input.logger?.warn({ err: error, scenario: scenario.token }, 'a demo order was not placed');
    }
  }
  return { orders };

  async function approve(orderId: string) {
    const pending = (await broker.call('approvals.pending', { limit: 100 }, finance)) as {
      items: Array<{ approvalId: string; subject: { type: string; id: string } }>;
    };
    const request = pending.items.find(
      (item) => item.subject.type === 'order' && item.subject.id === orderId,
    );
    if (!request) return;
    await broker.call(
      'approvals.decide',
      { id: request.approvalId, decision: 'approve', comment: '演示审批' },
      finance,
    );
  }

  async function move(orderId: string, to: string, reason: string) {
    await broker.call('orders.staff.transition', { id: orderId, to, reason }, staff);
  }

  async function advance(order: OrderView, ends: (typeof SCENARIOS)[number]['ends'], placer: Call) {
    if (ends === 'pending_approval' || ends === 'pending_payment') return;
    if (ends === 'cancelled') {
      await broker.call(
        'orders.cancel',
        { id: order.id, reason: '演示：买家取消 cancelled in the demo' },
        placer,
      );
      return;
    }
    if (order.status === 'pending_approval') await approve(order.id);
    const confirmed = await waitForStatus(broker, order.id, ['confirmed']);
    if (confirmed.status !== 'confirmed') {
      input.logger?.warn({ order: order.number, status: confirmed.status }, 'demo order not confirmed');
      return;
    }
    if (ends === 'on_hold') await move(order.id, 'on_hold', '演示：等待客户确认收货地址 address to confirm');
    if (ends === 'partially_shipped' || ends === 'completed') {
      await broker.call(
        'orders.staff.ship',
        {
          id: order.id,
          carrier: '顺丰速运',
          trackingNo: `SF${order.number.replace(/\D/g, '').slice(-10)}`,
          lines:
            ends === 'completed'
              ? [
                  { lineNo: 1, quantity: QUANTITY },
                  { lineNo: 2, quantity: QUANTITY },
                ]
              : [{ lineNo: 1, quantity: QUANTITY / 2 }],
        },
        staff,
      );
    }
    if (ends === 'completed') await move(order.id, 'completed', '演示：客户已签收 delivered');
  }
}
