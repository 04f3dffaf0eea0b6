import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box.ts';

const box = new SecretBox(randomBytes(32));

test('sealed secrets open with the same key and context, and do not contain the plaintext', () => {
  const sealed = box.seal('kingdee-app-secret-123', 'connection:1');
  expect(sealed.startsWith('v1.')).toBe(true);
  expect(sealed).not.toContain('kingdee-app-secret-123');
  expect(box.open(sealed, 'connection:1')).toBe('kingdee-app-secret-123');
});

test('the same plaintext seals differently each time (random IV)', () => {
  expect(box.seal('x', 'c')).not.toEqual(box.seal('x', 'c'));
});

test('a ciphertext moved to another record, a tampered one, or another key does not open', () => {
  const sealed = box.seal('secret', 'connection:1');
  expect(() => box.open(sealed, 'connection:2')).toThrow();
  const parts = sealed.split('.');
  parts[3] = Buffer.from('tampered').toString('base64url');
  expect(() => box.open(parts.join('.'), 'connection:1')).toThrow();
  expect(() => new SecretBox(randomBytes(32)).open(sealed, 'connection:1')).toThrow();
});
