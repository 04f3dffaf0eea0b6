import { describe, expect, it } from '@jest/globals';
import { ConnectionLimits } from './connection-limits.ts';

describe('ConnectionLimits', () => {
  it('never runs more calls of one connection at once than allowed, and runs them all', async () => {
    const limits = new ConnectionLimits();
    let running = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const calls = Array.from({ length: 7 }, (_, index) =>
      limits.run('connection-a', { maxConcurrent: 2, requestsPerSecond: 1000 }, async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return index;
      }),
    );
    // Release whoever is running until every call has finished.
    const all = Promise.all(calls);
    let done = false;
    all.then(() => {
      done = true;
    });
    while (!done) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await all).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(2);
  });

  it('keeps connections apart: one connection at its limit does not hold another back', async () => {
    const limits = new ConnectionLimits();
    let release: () => void = () => {};
    const blocked = limits.run(
      'busy',
      { maxConcurrent: 1, requestsPerSecond: 1000 },
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    await expect(
      limits.run('other', { maxConcurrent: 1, requestsPerSecond: 1000 }, async () => 'ran'),
    ).resolves.toBe('ran');
    release();
    await blocked;
  });
});
