import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { AccessTokens } from './access-tokens.ts';
import type { AuthContext } from './auth-context.ts';

const secret = randomBytes(32);
const buyer: AuthContext = {
  kind: 'buyer',
  principalId: '7d1c1b9e-0000-4000-8000-000000000001',
  companyId: '7d1c1b9e-0000-4000-8000-0000000000aa',
  permissions: ['company.read@company', 'users.manage@unit_tree'],
  unitId: '7d1c1b9e-0000-4000-8000-0000000000bb',
};

test('a token round-trips the caller, tenant and permissions', async () => {
  const tokens = new AccessTokens(secret, 60);
  const verified = await tokens.verify(await tokens.issue(buyer));
  expect(verified).toEqual({ ...buyer, onBehalfOf: undefined });
});

test('staff acting on behalf of a buyer keeps both identities', async () => {
  const tokens = new AccessTokens(secret, 60);
  const token = await tokens.issue({ ...buyer, onBehalfOf: { staffUserId: 'staff-1' } });
  expect((await tokens.verify(token)).onBehalfOf).toEqual({ staffUserId: 'staff-1' });
});

test('a token signed with another secret is refused', async () => {
  const other = new AccessTokens(randomBytes(32), 60);
  await expect(new AccessTokens(secret, 60).verify(await other.issue(buyer))).rejects.toMatchObject({
    code: 401,
    message: 'Invalid access token',
  });
});

test('a tampered payload is refused', async () => {
  const tokens = new AccessTokens(secret, 60);
  const [header, , signature] = (await tokens.issue(buyer)).split('.');
  const forged = Buffer.from(
    JSON.stringify({ sub: buyer.principalId, knd: 'staff', cid: null, prm: ['*'] }),
  ).toString('base64url');
  await expect(tokens.verify(`${header}.${forged}.${signature}`)).rejects.toMatchObject({ code: 401 });
});

test('an expired token is refused with a message saying so', async () => {
  const expired = await new SignJWT({ knd: 'buyer', cid: null, prm: [] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('u1')
    .setIssuer('hub')
    .setAudience('hub-api')
    .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(secret);
  await expect(new AccessTokens(secret, 60).verify(expired)).rejects.toMatchObject({
    message: 'Access token expired',
  });
});

test('alg=none tokens are refused', async () => {
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({ sub: 'u1', knd: 'staff', cid: null, prm: ['*'], iss: 'hub', aud: 'hub-api', exp: 9e9 }),
  ).toString('base64url');
  await expect(new AccessTokens(secret, 60).verify(`${header}.${payload}.`)).rejects.toMatchObject({
    code: 401,
  });
});

test('a verified token is remembered, and still refused once it expires', async () => {
  const tokens = new AccessTokens(secret, 1);
  const token = await tokens.issue(buyer);
  const first = await tokens.verify(token);
  expect(await tokens.verify(token)).toBe(first);
  await new Promise((resolve) => setTimeout(resolve, 2100));
  await expect(tokens.verify(token)).rejects.toMatchObject({ message: 'Access token expired' });
});

test('remembering a good token does not let a tampered copy through', async () => {
  const tokens = new AccessTokens(secret, 60);
  const token = await tokens.issue(buyer);
  await tokens.verify(token);
  const [header, payload, signature] = token.split('.');
  const flipped = `${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BB' : 'AA'}`;
  await expect(tokens.verify(`${header}.${payload}.${flipped}`)).rejects.toMatchObject({ code: 401 });
});
