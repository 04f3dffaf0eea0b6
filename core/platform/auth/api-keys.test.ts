import { randomUUID } from 'node:crypto';
import { issueApiKey, parseApiKey, secretMatches } from './api-keys.ts';

test('an issued key parses back to its id and matches its stored hash only', () => {
  const id = randomUUID();
  const { key, secretHash } = issueApiKey(id);
  const parsed = parseApiKey(key);
  expect(parsed?.keyId).toBe(id);
  expect(secretHash).not.toContain(parsed!.secret);
  expect(secretMatches(parsed!.secret, secretHash)).toBe(true);
  expect(secretMatches(`${parsed!.secret.slice(0, -1)}A`, secretHash)).toBe(false);
});

test('malformed keys do not parse', () => {
  expect(parseApiKey('hub_not-a-uuid_abc')).toBeUndefined();
  expect(parseApiKey('')).toBeUndefined();
  expect(parseApiKey(`hub_${randomUUID()}_short`)).toBeUndefined();
});
