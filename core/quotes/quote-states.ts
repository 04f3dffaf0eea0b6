import { HubError } from '../platform/errors/hub-errors.ts';

/**
 * The quote's life as data: every legal move is one row (action, from, to, who). Anything not in
 * this table is refused with 409 `quote-transition-not-allowed`; guards that depend on the quote's
 * content (validity, approval, the version the caller saw) are checked by the caller and answer 422.
 *
 *   requested → in_review → quoted → countered ↔ quoted → accepted / rejected / expired / cancelled
 */
export const QUOTE_STATES = [
  'requested',
  'in_review',
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
  | 'approve'
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

const OPEN: QuoteState[] = ['requested', 'in_review', 'quoted', 'countered'];

export const TRANSITIONS: readonly Transition[] = [
  { action: 'review', from: 'requested', to: 'in_review', who: 'staff' },
  // A staff version within the margin floor shows at once; one below it waits for approval and the
  // approval's decision moves the quote (system).
  { action: 'quote', from: 'in_review', to: 'quoted', who: 'staff' },
  { action: 'quote', from: 'countered', to: 'quoted', who: 'staff' },
  { action: 'approve', from: 'in_review', to: 'quoted', who: 'system' },
  { action: 'approve', from: 'countered', to: 'quoted', who: 'system' },
  { action: 'counter', from: 'quoted', to: 'countered', who: 'buyer' },
  { action: 'accept', from: 'quoted', to: 'accepted', who: 'buyer' },
  { action: 'reject', from: 'quoted', to: 'rejected', who: 'buyer' },
  { action: 'decline', from: 'in_review', to: 'rejected', who: 'staff' },
  { action: 'decline', from: 'countered', to: 'rejected', who: 'staff' },
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
  approve: 'approved',
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
