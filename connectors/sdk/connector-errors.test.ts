import { describe, expect, it } from '@jest/globals';
import { classifyFailure } from '../../core/platform/jobs/job-error-taxonomy.ts';
import {
  CONNECTOR_ERROR_CATEGORIES,
  ConnectorRateLimitedError,
  connectorError,
  fromMoleculerError,
  isConnectorError,
  MappingError,
  MaybeCommittedError,
  NotConnectedError,
  toConnectorError,
  toMoleculerError,
} from './connector-errors.ts';

describe('the connector error taxonomy', () => {
  it('maps every category onto the job queue kind that decides the retry', () => {
    const kinds = Object.fromEntries(
      CONNECTOR_ERROR_CATEGORIES.map((category) => [
        category,
        classifyFailure(connectorError(category, 'x', { retryAfterMs: 5000 })),
      ]),
    );
    expect(kinds).toEqual({
      retryable: { kind: 'retryable' },
      'maybe-committed': { kind: 'retryable' },
      'rate-limited': { kind: 'rate_limited', retryAfterMs: 5000 },
      'not-connected': { kind: 'permanent' },
      mapping: { kind: 'permanent' },
      permanent: { kind: 'permanent' },
    });
  });

  it('wraps anything else as retryable, keeping the cause', () => {
    const bug = new TypeError('undefined is not a function');
    const wrapped = toConnectorError(bug);
    expect(wrapped.category).toBe('retryable');
    expect((wrapped as Error).cause).toBe(bug);
    expect(isConnectorError(bug)).toBe(false);
    const known = new MappingError('bad unit');
    expect(toConnectorError(known)).toBe(known);
  });

  it('survives the Moleculer error round trip with category, retry-after and remote detail', () => {
    const samples = [
      new ConnectorRateLimitedError('slow down', 7000, { code: '429' }),
      new MaybeCommittedError('no answer'),
      new NotConnectedError('refused', { code: 'LoginResultType 0', messages: ['签名验证失败'] }),
    ];
    for (const original of samples) {
      // What the transporter carries: a plain object with name, message, type and data.
      const wire = JSON.parse(JSON.stringify({ ...toMoleculerError(original), message: original.message }));
      const restored = fromMoleculerError(Object.assign(new Error(wire.message), wire));
      expect(restored?.constructor).toBe(original.constructor);
      expect(restored?.remote).toEqual(original.remote);
    }
    const restored = fromMoleculerError(
      Object.assign(
        new Error('slow'),
        JSON.parse(JSON.stringify(toMoleculerError(samples[0] as ConnectorRateLimitedError))),
      ),
    );
    expect((restored as ConnectorRateLimitedError).retryAfterMs).toBe(7000);
    expect(fromMoleculerError(new Error('plain'))).toBeUndefined();
  });
});
