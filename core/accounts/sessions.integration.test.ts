import { createHash, randomUUID } from 'node:crypto';
import { http, logInAs, startTestHub, type TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_BUYER, DEMO_STAFF } from './demo-data.ts';

/** Logging in, invitations and password resets through HTTP, and what the access token carries. */

let t: TestHub;
let admin: string;
let companyId: string;
let rootId: string;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function inviteUser(unitId = rootId, roles: string[] = ['purchaser']) {
  const email = `s-${randomUUID().slice(0, 8)}@acme.example`;
  const created = await http(t.baseUrl, 'POST', '/api/users', {
    token: admin,
    body: { email, displayName: email, roles, unitId },
  });
  expect(created.status).toBe(201);
  return {
    id: created.body.user.id as string,
    email,
    inviteToken: created.body.inviteToken as string,
    created,
  };
}

const accept = (token: string, password = 'accepted-password-1') =>
  http(t.baseUrl, 'POST', '/api/auth/accept-invite', { body: { token, password } });
const redeemReset = (token: string, password = 'reset-password-123') =>
  http(t.baseUrl, 'POST', '/api/auth/reset-password', { body: { token, password } });
const login = (email: string, password: string) =>
  http(t.baseUrl, 'POST', '/api/auth/login', { body: { email, password } });

async function row(id: string) {
  const { rows } = await t.hub.platform.db.query(
    `SELECT status, password_hash, invite_token_hash, invite_expires_at, reset_token_hash, last_login_at
       FROM accounts.users WHERE id = $1`,
    [id],
  );
  return rows[0]!;
}

function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

/** Every secret handed out or stored during these tests, to look for in the audit log and outbox. */
const secrets = new Set<string>();

beforeAll(async () => {
  t = await startTestHub();
  admin = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  const me = (await http(t.baseUrl, 'GET', '/api/me', { token: admin })).body;
  companyId = me.companyId;
  rootId = me.unitId;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('invitations', () => {
  test('a user created without a password is invited: the token comes once, only its hash is stored, no login', async () => {
    const invited = await inviteUser();
    secrets.add(invited.inviteToken);
    expect(invited.created.body).toEqual({
      user: expect.objectContaining({ id: invited.id, status: 'invited', lastLoginAt: null }),
      inviteToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      inviteExpiresInHours: 72,
    });
    const stored = await row(invited.id);
    expect(stored.password_hash).toBeNull();
    expect(stored.invite_token_hash).toBe(sha256(invited.inviteToken));
    secrets.add(stored.invite_token_hash);
    const hoursLeft = (new Date(stored.invite_expires_at).getTime() - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(71.9);
    expect(hoursLeft).toBeLessThanOrEqual(72);

    // Neither reading the user nor listing users shows the token again.
    const read = await http(t.baseUrl, 'GET', `/api/users/${invited.id}`, { token: admin });
    expect(JSON.stringify(read.body)).not.toContain(invited.inviteToken);
    expect(read.body).not.toHaveProperty('inviteToken');
    const listed = await http(t.baseUrl, 'GET', '/api/users?status=invited&limit=200', { token: admin });
    expect(listed.body.items.map((u: { id: string }) => u.id)).toContain(invited.id);
    expect(JSON.stringify(listed.body)).not.toContain(invited.inviteToken);

    // No password works before the invitation is accepted (including an empty one).
    expect((await login(invited.email, 'accepted-password-1')).status).toBe(401);
    expect((await login(invited.email, '')).status).toBe(400);
  });

  test('accepting activates the user and logs them in; the token works once', async () => {
    const invited = await inviteUser();
    const accepted = await accept(invited.inviteToken);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ tokenType: 'Bearer', expiresIn: expect.any(Number) });
    const me = await http(t.baseUrl, 'GET', '/api/me', { token: accepted.body.accessToken });
    expect(me.body).toMatchObject({ id: invited.id, status: 'active', companyId, unitId: rootId });
    expect(me.body.lastLoginAt).not.toBeNull();
    const stored = await row(invited.id);
    expect(stored).toMatchObject({ status: 'active', invite_token_hash: null, invite_expires_at: null });
    secrets.add(stored.password_hash);

    const again = await accept(invited.inviteToken, 'another-password-1');
    expect(again.status).toBe(401);
    expect((await login(invited.email, 'another-password-1')).status).toBe(401);
    expect((await login(invited.email, 'accepted-password-1')).status).toBe(200);
  });

  test('an expired invitation is refused like an unknown one, and the user stays invited', async () => {
    const invited = await inviteUser();
    await t.hub.platform.db.query(
      `UPDATE accounts.users SET invite_expires_at = now() - interval '1 minute' WHERE id = $1`,
      [invited.id],
    );
    const expired = await accept(invited.inviteToken);
    const unknown = await accept('x'.repeat(43));
    expect(expired.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(expired.body.detail).toBe(unknown.body.detail);
    expect(await row(invited.id)).toMatchObject({ status: 'invited', password_hash: null });
  });

  test('enabling an invited user keeps them invited; a disabled invitee cannot accept until enabled', async () => {
    const invited = await inviteUser();
    const enabled = await http(t.baseUrl, 'POST', `/api/users/${invited.id}/enable`, { token: admin });
    expect(enabled.status).toBe(200);
    expect(enabled.body.status).toBe('invited');

    const disabled = await http(t.baseUrl, 'POST', `/api/users/${invited.id}/disable`, { token: admin });
    expect(disabled.body.status).toBe('disabled');
    expect((await accept(invited.inviteToken)).status).toBe(401);
    expect((await row(invited.id)).password_hash).toBeNull();

    expect(
      (await http(t.baseUrl, 'POST', `/api/users/${invited.id}/enable`, { token: admin })).body.status,
    ).toBe('invited');
    expect((await accept(invited.inviteToken)).status).toBe(200);
  });

  test('a suspended company’s invitee cannot accept, and the invitation survives for later', async () => {
    const invited = await inviteUser();
    await t.hub.platform.db.query(`UPDATE accounts.companies SET status = 'suspended' WHERE id = $1`, [
      companyId,
    ]);
    try {
      expect((await accept(invited.inviteToken)).status).toBe(401);
      expect(await row(invited.id)).toMatchObject({
        status: 'invited',
        password_hash: null,
        invite_token_hash: sha256(invited.inviteToken),
      });
      expect((await login(DEMO_BUYER.email, DEMO_BUYER.password)).status).toBe(401);
    } finally {
      await t.hub.platform.db.query(`UPDATE accounts.companies SET status = 'active' WHERE id = $1`, [
        companyId,
      ]);
    }
    expect((await accept(invited.inviteToken)).status).toBe(200);
  });
});

describe('password resets', () => {
  async function activeUser() {
    const invited = await inviteUser();
    expect((await accept(invited.inviteToken, 'first-password-12')).status).toBe(200);
    return invited;
  }

  const issueReset = async (id: string) => {
    const answer = await http(t.baseUrl, 'POST', `/api/users/${id}/password-reset`, { token: admin });
    expect(answer.status).toBe(200);
    expect(answer.body.expiresInHours).toBe(2);
    secrets.add(answer.body.token);
    secrets.add(sha256(answer.body.token));
    return answer.body.token as string;
  };

  test('a reset token sets a new password once and logs the user in; a newer token replaces an older one', async () => {
    const user = await activeUser();
    const older = await issueReset(user.id);
    const token = await issueReset(user.id);
    expect((await row(user.id)).reset_token_hash).toBe(sha256(token));
    expect((await redeemReset(older)).status).toBe(401);

    const redeemed = await redeemReset(token, 'brand-new-password');
    expect(redeemed.status).toBe(200);
    expect((await http(t.baseUrl, 'GET', '/api/me', { token: redeemed.body.accessToken })).body.id).toBe(
      user.id,
    );
    expect((await login(user.email, 'first-password-12')).status).toBe(401);
    expect((await login(user.email, 'brand-new-password')).status).toBe(200);
    expect((await redeemReset(token, 'third-password-12')).status).toBe(401);
    expect((await row(user.id)).reset_token_hash).toBeNull();
  });

  test('an expired reset token is refused', async () => {
    const user = await activeUser();
    const token = await issueReset(user.id);
    await t.hub.platform.db.query(
      `UPDATE accounts.users SET reset_expires_at = now() - interval '1 second' WHERE id = $1`,
      [user.id],
    );
    expect((await redeemReset(token)).status).toBe(401);
    expect((await login(user.email, 'first-password-12')).status).toBe(200);
  });

  test('a disabled user can neither log in nor redeem a reset, and their password stays as it was', async () => {
    const user = await activeUser();
    const token = await issueReset(user.id);
    await http(t.baseUrl, 'POST', `/api/users/${user.id}/disable`, { token: admin });
    const before = (await row(user.id)).password_hash;
    expect((await login(user.email, 'first-password-12')).status).toBe(401);
    expect((await redeemReset(token)).status).toBe(401);
    expect((await row(user.id)).password_hash).toBe(before);
    // Enabled again, the same token still works (it was not consumed by the refusal).
    await http(t.baseUrl, 'POST', `/api/users/${user.id}/enable`, { token: admin });
    expect((await redeemReset(token)).status).toBe(200);
  });

  test('a wrong-kind token is refused: an invitation token does not reset, a reset token does not accept', async () => {
    const invited = await inviteUser();
    expect((await redeemReset(invited.inviteToken)).status).toBe(401);
    const user = await activeUser();
    const token = await issueReset(user.id);
    expect((await accept(token)).status).toBe(401);
    expect((await redeemReset(token)).status).toBe(200);
  });
});

describe('the access token', () => {
  test('a buyer’s token carries their unit and name@scope grants; a later move reaches the next token', async () => {
    const unit = await http(t.baseUrl, 'POST', '/api/units', {
      token: admin,
      body: { parentId: rootId, name: 'Scoped unit' },
    });
    await http(t.baseUrl, 'POST', '/api/roles', {
      token: admin,
      body: {
        key: 'scoped-role',
        name: 'Scoped role',
        grants: [
          { permission: 'users.read', scope: 'unit' },
          { permission: 'orders.read', scope: 'own' },
          { permission: 'orders.read', scope: 'unit_tree' },
        ],
      },
    });
    const invited = await inviteUser(unit.body.id, ['scoped-role', 'purchaser']);
    const { accessToken } = (await accept(invited.inviteToken)).body;
    const claims = jwtClaims(accessToken);
    expect(claims).toMatchObject({ sub: invited.id, knd: 'buyer', cid: companyId, uid: unit.body.id });
    const me = (await http(t.baseUrl, 'GET', '/api/me', { token: accessToken })).body;
    expect(me).toMatchObject({ kind: 'buyer', companyId, unitId: unit.body.id, onBehalfOf: null });
    expect(me.permissions).toEqual([
      'approvals.delegate@own',
      'approvals.read@own',
      'company.read@company',
      'invoices.read@own',
      'orders.place@own',
      'orders.read@unit_tree',
      'quotes.read@own',
      'quotes.request@own',
      'spending.read@own',
      'users.read@unit',
    ]);
    expect(me.permissions).toEqual(claims.prm);

    // Moved to the root: the token already issued still scopes by the unit it was issued with.
    await http(t.baseUrl, 'PATCH', `/api/users/${invited.id}`, { token: admin, body: { unitId: rootId } });
    expect((await http(t.baseUrl, 'GET', '/api/me', { token: accessToken })).body.unitId).toBe(unit.body.id);
    const fresh = await logInAs(t.baseUrl, invited.email, 'accepted-password-1');
    expect(jwtClaims(fresh).uid).toBe(rootId);
    expect((await http(t.baseUrl, 'GET', '/api/me', { token: fresh })).body.unitId).toBe(rootId);
  });

  test('a staff token carries unscoped staff permissions and no company or unit', async () => {
    const staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
    const claims = jwtClaims(staff);
    expect(claims).toMatchObject({ knd: 'staff', cid: null, prm: ['*'] });
    expect(claims).not.toHaveProperty('uid');
    const me = (await http(t.baseUrl, 'GET', '/api/me', { token: staff })).body;
    expect(me).toMatchObject({ kind: 'staff', companyId: null, unitId: null, permissions: ['*'] });
    expect(me.permissions.every((p: string) => !p.includes('@'))).toBe(true);
    // Buyer-only operations stay closed to staff tokens.
    expect((await http(t.baseUrl, 'GET', '/api/units', { token: staff })).status).toBe(403);
  });

  test('logging in records the time; failures are audited without the password', async () => {
    const invited = await inviteUser();
    await accept(invited.inviteToken);
    const requestId = `fail-${randomUUID()}`;
    await http(t.baseUrl, 'POST', '/api/auth/login', {
      body: { email: invited.email, password: 'wrong-password-secret' },
      headers: { 'x-request-id': requestId },
    });
    const { rows } = await t.hub.platform.db.query(
      'SELECT actor_kind, action, details FROM platform.audit_log WHERE request_id = $1',
      [requestId],
    );
    expect(rows).toEqual([
      { actor_kind: 'anonymous', action: 'auth.login_failed', details: { email: invited.email } },
    ]);
    const before = (await row(invited.id)).last_login_at as Date;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await logInAs(t.baseUrl, invited.email, 'accepted-password-1');
    expect(((await row(invited.id)).last_login_at as Date).getTime()).toBeGreaterThan(before.getTime());
  });
});

describe('secrets stay out of the audit log and the outbox', () => {
  test('no invitation or reset token, no token hash and no password hash appears in either table', async () => {
    expect(secrets.size).toBeGreaterThan(5);
    const { rows } = await t.hub.platform.db.query(
      `SELECT 'audit' AS source, action AS what, details::text AS text FROM platform.audit_log
       UNION ALL SELECT 'outbox', topic, payload::text FROM platform.outbox`,
    );
    const actions = new Set(rows.map((r) => r.what));
    for (const expected of [
      'user.invited',
      'user.invitation_accepted',
      'user.password_reset_requested',
      'user.password_reset',
    ]) {
      expect(actions).toContain(expected);
    }
    for (const { source, what, text } of rows) {
      for (const secret of secrets) {
        if (text.includes(secret)) throw new Error(`${source} ${what} carries a secret`);
      }
      expect(text).not.toMatch(/\$argon2/);
      expect(text).not.toMatch(/password/i);
      expect(text).not.toMatch(/token/i);
    }
  });
});
