import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { canonicalJson, snapshotHash } from './snapshot-hash.ts';

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('leaves out undefined members as JSON does', () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });
});

describe('snapshotHash', () => {
  const snapshot = {
    total: { amountMinor: '1000', currency: 'CNY' },
    lines: [
      { sku: 'A', categoryIds: ['x'], quantity: 1, lineTotal: { amountMinor: '1000', currency: 'CNY' } },
    ],
  };

  it('is the SHA-256 of the sorted-key JSON', () => {
    expect(snapshotHash(snapshot)).toBe(createHash('sha256').update(canonicalJson(snapshot)).digest('hex'));
    expect(snapshotHash(snapshot)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order but on every value', () => {
    const reordered = {
      lines: [
        { lineTotal: { currency: 'CNY', amountMinor: '1000' }, quantity: 1, categoryIds: ['x'], sku: 'A' },
      ],
      total: { currency: 'CNY', amountMinor: '1000' },
    };
    expect(snapshotHash(reordered)).toBe(snapshotHash(snapshot));
    expect(snapshotHash({ ...snapshot, total: { amountMinor: '1001', currency: 'CNY' } })).not.toBe(
      snapshotHash(snapshot),
    );
  });
});
