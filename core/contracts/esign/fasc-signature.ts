import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * 法大大 FASC OpenAPI v5.1 request and callback signature: the `X-FASC-*` parameters (without
 * `X-FASC-Sign`) plus `bizContent` when non-empty, empty values dropped, sorted by key (ASCII),
 * joined `k=v&...`; `signText = hex(SHA-256(joined))`; the key is
 * `HMAC-SHA256(appSecret, timestamp)` (raw bytes); `X-FASC-Sign = hex(HMAC-SHA256(key, signText))`.
 */
export function fascSign(params: Record<string, string | undefined>, appSecret: string): string {
  const joined = Object.keys(params)
    .filter((key) => key.toLowerCase() !== 'x-fasc-sign' && params[key] !== undefined && params[key] !== '')
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join('&');
  const signText = createHash('sha256').update(joined, 'utf8').digest('hex');
  const timestamp =
    Object.entries(params).find(([key]) => key.toLowerCase() === 'x-fasc-timestamp')?.[1] ?? '';
  const key = createHmac('sha256', appSecret).update(timestamp, 'utf8').digest();
  return createHmac('sha256', key).update(signText, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex signatures. */
export function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The canonical header names (as FASC spells them), by their lower-case form. */
export const FASC_HEADERS = [
  'X-FASC-App-Id',
  'X-FASC-Sign-Type',
  'X-FASC-Sign',
  'X-FASC-Timestamp',
  'X-FASC-Nonce',
  'X-FASC-Event',
  'X-FASC-Api-SubVersion',
] as const;
