import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys for systems (ERP, WMS, storefront back ends): `hub_<keyId>_<secret>`. The key id finds
 * the row; only a SHA-256 of the 256-bit random secret is stored (a slow hash adds nothing for a
 * secret with that much entropy, and keys are checked on every request).
 */
const KEY_PATTERN = /^hub_([0-9a-f-]{36})_([A-Za-z0-9_-]{43})$/;

export interface IssuedApiKey {
  key: string;
  secretHash: string;
}

export function issueApiKey(keyId: string): IssuedApiKey {
  const secret = randomBytes(32).toString('base64url');
  return { key: `hub_${keyId}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseApiKey(key: string): { keyId: string; secret: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  return match ? { keyId: match[1]!, secret: match[2]! } : undefined;
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
