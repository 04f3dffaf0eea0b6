import { HubError } from '../platform/errors/hub-errors.ts';

/**
 * The quote's life as data: every legal move is one row (action, from, to, who). Anything not in
 * this table is refused with 409 `quote-transition-not-allowed`; guards that depend on the quote's
 * content (validity, approval, the version the caller saw) are checked by the caller and answer 422.
 *
 *   requested → in_review → quoted → countered ↔ quoted → accepted / rejected / expired / cancelled
 *
 * A staff version below the margin floor takes the quote to `pending_approval` instead of
 * `quoted`; the approvals engine's decision (system) releases it to `quoted` or returns it to
 * `in_review` with the approver's reason.
 */
export const QUOTE_STATES = [
  'requested',
  'in_review',
  'pending_approval',
  'quoted',
  'countered',
  'accepted',
  'rejected',
  'expired',
  'cancelled',
] as const;
export type QuoteState = (typeof QUOTE_STATES)[number];

export type QuoteAction =
  | 'review'
  | 'quote'
  | 'submit_for_approval'
  | 'approve'
  | 'return'
  | 'counter'
  | 'accept'
  | 'reject'
  | 'decline'
  | 'expire'
  | 'cancel';

export type Actor = 'buyer' | 'staff' | 'system';

export interface Transition {
  action: QuoteAction;
  from: QuoteState;
  to: QuoteState;
  who: Actor;
}

const OPEN: QuoteState[] = ['requested', 'in_review', 'pending_approval', 'quoted', 'countered'];

export const TRANSITIONS: readonly Transition[] = [
  { action: 'review', from: 'requested', to: 'in_review', who: 'staff' },
  // A staff version within the margin floor shows at once; one below it waits for the approvals
  // engine, whose decision moves the quote (system).
  { action: 'quote', from: 'in_review', to: 'quoted', who: 'staff' },
  { action: 'quote', from: 'countered', to: 'quoted', who: 'staff' },
  { action: 'submit_for_approval', from: 'in_review', to: 'pending_approval', who: 'staff' },
  { action: 'submit_for_approval', from: 'countered', to: 'pending_approval', who: 'staff' },
  { action: 'approve', from: 'pending_approval', to: 'quoted', who: 'system' },
  { action: 'return', from: 'pending_approval', to: 'in_review', who: 'system' },
  { action: 'counter', from: 'quoted', to: 'countered', who: 'buyer' },
  { action: 'accept', from: 'quoted', to: 'accepted', who: 'buyer' },
  { action: 'reject', from: 'quoted', to: 'rejected', who: 'buyer' },
  { action: 'decline', from: 'in_review', to: 'rejected', who: 'staff' },
  { action: 'decline', from: 'countered', to: 'rejected', who: 'staff' },
  { action: 'decline', from: 'pending_approval', to: 'rejected', who: 'staff' },
  { action: 'expire', from: 'quoted', to: 'expired', who: 'system' },
  ...OPEN.map((from): Transition => ({ action: 'cancel', from, to: 'cancelled', who: 'buyer' })),
  ...OPEN.map((from): Transition => ({ action: 'cancel', from, to: 'cancelled', who: 'staff' })),
];

/** Where `action` by `who` takes a quote in `from`; 409 when the table has no such move. */
export function nextState(from: QuoteState, action: QuoteAction, who: Actor): QuoteState {
  const move = TRANSITIONS.find((t) => t.from === from && t.action === action && t.who === who);
  if (!move) {
    throw new HubError(
      409,
      'quote-transition-not-allowed',
      `A ${from.replace('_', ' ')} quote cannot be ${PAST[action]} by ${who}`,
      { state: from, action },
    );
  }
  return move.to;
}

const PAST: Record<QuoteAction, string> = {
  review: 'taken into review',
  quote: 'quoted',
  submit_for_approval: 'submitted for approval',
  approve: 'approved',
  return: 'returned to review',
  counter: 'countered',
  accept: 'accepted',
  reject: 'rejected',
  decline: 'declined',
  expire: 'expired',
  cancel: 'cancelled',
};

/** The event each arrival state announces (`quote.<state>`). */
export function eventOf(to: QuoteState): string {
  return `quote.${to}`;
}
