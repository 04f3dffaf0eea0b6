import { hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from './password-hashing.ts';

test('hashes are argon2id with a per-hash salt and verify only the right password', async () => {
  const first = await hashPassword('correct horse battery staple');
  const second = await hashPassword('correct horse battery staple');
  expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  expect(first).not.toEqual(second);
  expect(await verifyPassword(first, 'correct horse battery staple')).toBe(true);
  expect(await verifyPassword(first, 'correct horse battery stapl')).toBe(false);
});

test('an unknown user never verifies, even with the decoy password', async () => {
  expect(await verifyPassword(undefined, 'pw')).toBe(false);
});

test('overlong passwords are refused without hashing', async () => {
  const long = 'x'.repeat(MAX_PASSWORD_LENGTH + 1);
  expect(() => hashPassword(long)).toThrow(RangeError);
  expect(await verifyPassword(await hashPassword('x'), long)).toBe(false);
});

test('a corrupt stored hash is a failed login, not a crash', async () => {
  expect(await verifyPassword('$argon2id$garbage', 'pw')).toBe(false);
});
