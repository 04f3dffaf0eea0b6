import { describe, expect, it } from '@jest/globals';
import { type Actor, nextState, QUOTE_STATES, type QuoteAction, TRANSITIONS } from './quote-states.ts';

const ACTIONS: QuoteAction[] = [
  'review',
  'quote',
  'submit_for_approval',
  'approve',
  'return',
  'counter',
  'accept',
  'reject',
  'decline',
  'expire',
  'cancel',
];
const ACTORS: Actor[] = ['buyer', 'staff', 'system'];

describe('quote state machine', () => {
  it('allows exactly the moves of the issue, by the right party', () => {
    const legal = TRANSITIONS.map((t) => `${t.from} -${t.action}/${t.who}-> ${t.to}`).sort();
    expect(legal).toEqual(
      [
        'requested -review/staff-> in_review',
        'in_review -quote/staff-> quoted',
        'countered -quote/staff-> quoted',
        'in_review -submit_for_approval/staff-> pending_approval',
        'countered -submit_for_approval/staff-> pending_approval',
        'pending_approval -approve/system-> quoted',
        'pending_approval -return/system-> in_review',
        'pending_approval -decline/staff-> rejected',
        'quoted -counter/buyer-> countered',
        'quoted -accept/buyer-> accepted',
        'quoted -reject/buyer-> rejected',
        'in_review -decline/staff-> rejected',
        'countered -decline/staff-> rejected',
        'quoted -expire/system-> expired',
        ...['requested', 'in_review', 'pending_approval', 'quoted', 'countered'].flatMap((from) => [
          `${from} -cancel/buyer-> cancelled`,
          `${from} -cancel/staff-> cancelled`,
        ]),
      ].sort(),
    );
  });

  it('refuses every other combination with 409 quote-transition-not-allowed', () => {
    let refused = 0;
    for (const from of QUOTE_STATES) {
      for (const action of ACTIONS) {
        for (const who of ACTORS) {
          const move = TRANSITIONS.find((t) => t.from === from && t.action === action && t.who === who);
          if (move) {
            expect(nextState(from, action, who)).toBe(move.to);
            continue;
          }
          refused++;
          expect(() => nextState(from, action, who)).toThrow(
            expect.objectContaining({ code: 409, type: 'quote-transition-not-allowed' }),
          );
        }
      }
    }
    expect(refused).toBe(QUOTE_STATES.length * ACTIONS.length * ACTORS.length - TRANSITIONS.length);
  });

  it('final states have no way out', () => {
    for (const final of ['accepted', 'rejected', 'expired', 'cancelled'] as const) {
      expect(TRANSITIONS.filter((t) => t.from === final)).toEqual([]);
    }
  });
});
