import { describe, expect, it } from '@jest/globals';
import moleculer from 'moleculer';
import { classifyFailure } from '../platform/jobs/job-error-taxonomy.ts';
import { toSyncFailure } from './connector-calls.ts';

/** A connector service's failure as it arrives over the mesh (see connectors/sdk/connector-errors.ts). */
function meshError(category: string, extra: Record<string, unknown> = {}) {
  return new moleculer.Errors.MoleculerError(`remote said no (${category})`, 502, `connector-${category}`, {
    category,
    ...extra,
  });
}

describe('toSyncFailure', () => {
  it.each([
    ['retryable', 'retryable'],
    ['maybe-committed', 'retryable'],
    ['not-connected', 'permanent'],
    ['mapping', 'permanent'],
    ['permanent', 'permanent'],
  ])('turns a %s connector error into a %s job failure that keeps its category', (category, kind) => {
    const failure = toSyncFailure(meshError(category));
    expect(classifyFailure(failure).kind).toBe(kind);
    expect(failure.category).toBe(category);
    expect(failure.message).toContain('remote said no');
  });

  it('keeps the remote retry-after of a rate-limited error', () => {
    const failure = toSyncFailure(meshError('rate-limited', { retryAfterMs: 7_000 }));
    expect(classifyFailure(failure)).toEqual({ kind: 'rate_limited', retryAfterMs: 7_000 });
  });

  it('treats anything else (a timeout of the mesh, an unknown type) as retryable, so no work is dropped', () => {
    expect(
      classifyFailure(
        toSyncFailure(new moleculer.Errors.RequestTimeoutError({ action: 'x', nodeID: 'node-1' })),
      ).kind,
    ).toBe('retryable');
    expect(classifyFailure(toSyncFailure(meshError('made-up'))).kind).toBe('retryable');
    expect(classifyFailure(toSyncFailure('a string')).kind).toBe('retryable');
  });
});
