import { describe, expect, it } from '@jest/globals';
import { TokenBucket } from './token-bucket.ts';

function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TokenBucket', () => {
  it('allows a burst of its capacity, then refills at max per perSeconds', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ max: 4, perSeconds: 2, now: clock.now });
    expect([1, 2, 3, 4, 5].map(() => bucket.tryTake())).toEqual([true, true, true, true, false]);
    expect(bucket.waitTimeMs()).toBe(500);
    clock.advance(499);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake()).toBe(true);
    clock.advance(10_000);
    expect([1, 2, 3, 4, 5].map(() => bucket.tryTake())).toEqual([true, true, true, true, false]);
  });

  it('makes waiting callers take tokens in arrival order', async () => {
    const bucket = new TokenBucket({ max: 1, perSeconds: 0.01, capacity: 3 });
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((index) => bucket.take().then(() => order.push(index))));
    expect(order).toEqual([1, 2, 3]);
  });

  it('lets an aborted waiter go without blocking the ones behind it', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ max: 1, perSeconds: 3600, now: clock.now });
    expect(bucket.tryTake()).toBe(true);
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    clock.advance(3_600_000);
    await expect(bucket.take()).resolves.toBeUndefined();
  });

  it('refuses a bucket that could never refill', () => {
    expect(() => new TokenBucket({ max: 0, perSeconds: 1 })).toThrow();
  });
});
