import { HubError } from '../platform/errors/hub-errors.ts';

/** Every status an order can be in. `placing` and `failed` belong to checkout (the saga at work, or undone). */
export const ORDER_STATUSES = [
  'placing',
  'pending_approval',
  'pending_payment',
  'confirmed',
  'partially_shipped',
  'shipped',
  'completed',
  'cancelled',
  'on_hold',
  'failed',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export type ActorKind = 'buyer' | 'staff' | 'system';

/** What a guard sees of the order. */
export interface GuardView {
  status: OrderStatus;
  heldFrom: OrderStatus | null;
  quantity: number;
  shipped: number;
}

export interface Transition {
  from: OrderStatus;
  to: OrderStatus;
  /** Who may make it: `system` is the checkout saga and event handlers (payments, stock expiry). */
  by: readonly ActorKind[];
  /** Why not, when the transition exists but does not apply to this order; undefined when it does. */
  guard?: (order: GuardView) => string | undefined;
}

const nothingShipped = (order: GuardView) =>
  order.shipped > 0 ? 'part of the order has shipped; cancel is no longer possible' : undefined;
const allShipped = (order: GuardView) =>
  order.shipped < order.quantity ? 'not every unit has shipped' : undefined;
const partlyShipped = (order: GuardView) =>
  order.shipped === 0 || order.shipped >= order.quantity ? 'only part of the units has shipped' : undefined;
const backTo = (status: OrderStatus) => (order: GuardView) =>
  order.heldFrom === status ? undefined : `the order was put on hold from ${order.heldFrom}`;

/**
 * The order state machine as data: the only way a status changes is one of these rows. Anything
 * else is refused with 409 `illegal-transition`; a row whose guard objects with 422
 * `transition-not-allowed`; a caller not in `by` with 403.
 */
export const TRANSITIONS: readonly Transition[] = [
  { from: 'placing', to: 'pending_approval', by: ['system'] },
  { from: 'placing', to: 'pending_payment', by: ['system'] },
  { from: 'placing', to: 'confirmed', by: ['system'] },
  { from: 'placing', to: 'failed', by: ['system'] },
  { from: 'pending_approval', to: 'pending_payment', by: ['system'] },
  { from: 'pending_approval', to: 'confirmed', by: ['system'] },
  { from: 'pending_approval', to: 'cancelled', by: ['system', 'buyer', 'staff'] },
  { from: 'pending_payment', to: 'confirmed', by: ['system', 'staff'] },
  { from: 'pending_payment', to: 'cancelled', by: ['system', 'buyer', 'staff'] },
  { from: 'confirmed', to: 'partially_shipped', by: ['staff'], guard: partlyShipped },
  { from: 'confirmed', to: 'shipped', by: ['staff'], guard: allShipped },
  { from: 'confirmed', to: 'on_hold', by: ['staff'] },
  { from: 'confirmed', to: 'cancelled', by: ['staff'], guard: nothingShipped },
  { from: 'partially_shipped', to: 'partially_shipped', by: ['staff'], guard: partlyShipped },
  { from: 'partially_shipped', to: 'shipped', by: ['staff'], guard: allShipped },
  { from: 'partially_shipped', to: 'on_hold', by: ['staff'] },
  { from: 'on_hold', to: 'confirmed', by: ['staff'], guard: backTo('confirmed') },
  { from: 'on_hold', to: 'partially_shipped', by: ['staff'], guard: backTo('partially_shipped') },
  { from: 'on_hold', to: 'cancelled', by: ['staff'], guard: nothingShipped },
  { from: 'shipped', to: 'completed', by: ['staff', 'buyer'] },
];

/** Statuses from which the checkout saga has nothing more to do. */
export const FINAL_STATUSES: readonly OrderStatus[] = ['completed', 'cancelled', 'failed'];

/** Where an order still holds stock and credit (released on cancellation). */
export const HOLDS_RESOURCES: readonly OrderStatus[] = [
  'placing',
  'pending_approval',
  'pending_payment',
  'confirmed',
  'on_hold',
];

/**
 * The transition from the order's status to `to` by `actor`, or the HubError saying why not:
 * 409 when no such transition exists, 403 when the actor may not make it, 422 when its guard
 * objects.
 */
export function checkTransition(order: GuardView, to: OrderStatus, actor: ActorKind): Transition {
  const rule = TRANSITIONS.find((t) => t.from === order.status && t.to === to);
  if (!rule) {
    const allowed = TRANSITIONS.filter((t) => t.from === order.status && t.by.includes(actor)).map(
      (t) => t.to,
    );
    throw new HubError(409, 'illegal-transition', `An order cannot go from ${order.status} to ${to}`, {
      from: order.status,
      to,
      allowed,
      errors: [
        {
          pointer: '/to',
          detail: `from ${order.status} the order can go to: ${allowed.join(', ') || 'nowhere you may move it'}`,
        },
      ],
    });
  }
  if (!rule.by.includes(actor)) {
    throw new HubError(403, 'forbidden', `A ${actor} may not move an order from ${order.status} to ${to}`);
  }
  const objection = rule.guard?.(order);
  if (objection) {
    throw new HubError(422, 'transition-not-allowed', `From ${order.status} to ${to}: ${objection}`, {
      from: order.status,
      to,
      errors: [{ pointer: '/to', detail: objection }],
    });
  }
  return rule;
}
