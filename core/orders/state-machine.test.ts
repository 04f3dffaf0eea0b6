import { describe, expect, it } from '@jest/globals';
import { checkTransition, type ORDER_STATUSES, TRANSITIONS } from './state-machine.ts';

const view = (status: (typeof ORDER_STATUSES)[number], shipped = 0, heldFrom: string | null = null) => ({
  status,
  heldFrom: heldFrom as never,
  quantity: 10,
  shipped,
});

describe('the order state machine', () => {
  it('has no way out of completed, cancelled or failed', () => {
    for (const final of ['completed', 'cancelled', 'failed'] as const) {
      expect(TRANSITIONS.filter((t) => t.from === final)).toEqual([]);
    }
  });

  it('refuses a move it does not have with 409, naming where the actor could go', () => {
    expect(() => checkTransition(view('confirmed'), 'completed', 'staff')).toThrow(
      expect.objectContaining({ code: 409, type: 'illegal-transition' }),
    );
  });

  it('refuses a move the actor may not make with 403', () => {
    expect(() => checkTransition(view('confirmed'), 'on_hold', 'buyer')).toThrow(
      expect.objectContaining({ code: 403 }),
    );
    expect(() => checkTransition(view('placing'), 'confirmed', 'staff')).toThrow(
      expect.objectContaining({ code: 403 }),
    );
  });

  it('guards: shipped needs every unit, partially shipped some, cancel none, release goes back', () => {
    expect(() => checkTransition(view('confirmed', 4), 'shipped', 'staff')).toThrow(
      expect.objectContaining({ code: 422 }),
    );
    expect(checkTransition(view('confirmed', 10), 'shipped', 'staff').to).toBe('shipped');
    expect(checkTransition(view('confirmed', 4), 'partially_shipped', 'staff').to).toBe('partially_shipped');
    expect(() => checkTransition(view('on_hold', 4, 'partially_shipped'), 'cancelled', 'staff')).toThrow(
      expect.objectContaining({ code: 422 }),
    );
    expect(() => checkTransition(view('on_hold', 0, 'confirmed'), 'partially_shipped', 'staff')).toThrow(
      expect.objectContaining({ code: 422 }),
    );
    expect(checkTransition(view('on_hold', 0, 'confirmed'), 'confirmed', 'staff').to).toBe('confirmed');
  });

  it('lets the buyer cancel only while the order waits for approval or payment', () => {
    const cancellable = TRANSITIONS.filter((t) => t.to === 'cancelled' && t.by.includes('buyer')).map(
      (t) => t.from,
    );
    expect(cancellable.sort()).toEqual(['pending_approval', 'pending_payment']);
  });
});
