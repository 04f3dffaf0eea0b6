import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { authOf, originOf } from '../platform/auth/auth-context.ts';
import { hashPassword } from '../platform/auth/password-hashing.ts';
import { NotFound, Unauthorized } from '../platform/errors/hub-errors.ts';
import type { AccountsArea, AccountsContext } from './accounts-area.ts';
import { authContextFor, companyAdmits, logIn } from './log-in.ts';
import { findUser, recordLogin, redeemOneTimeToken } from './users.ts';

/** Logging in, the current caller, and the two one-time-token flows (invitation, reset). */
export function sessionArea({ platform, tokens }: AccountsContext): AccountsArea {
  const { db } = platform;

  /**
   * Invitation and reset share one shape: token + new password → logged in. The token is consumed
   * only when the user may log in: a suspended company's user keeps their token for later.
   */
  async function redeem(ctx: Context<{ token: string; password: string }>, kind: 'invite' | 'reset') {
    const passwordHash = await hashPassword(ctx.params.password);
    const user = await db.transaction(async (tx) => {
      const redeemed = await redeemOneTimeToken(tx, kind, ctx.params.token, passwordHash);
      // Unknown, used and expired tokens look the same; throwing rolls the redemption back.
      if (!redeemed || !(await companyAdmits(tx, redeemed)))
        throw new Unauthorized('Invalid or expired token');
      await recordLogin(tx, redeemed.id);
      await recordAudit(
        tx,
        {
          kind: redeemed.kind,
          principalId: redeemed.id,
          companyId: redeemed.companyId,
          permissions: [],
        },
        originOf(ctx),
        {
          action: kind === 'invite' ? 'user.invitation_accepted' : 'user.password_reset',
          entityType: 'user',
          entityId: redeemed.id,
        },
      );
      return redeemed;
    });
    const auth = await authContextFor(db, user);
    return { accessToken: await tokens.issue(auth), tokenType: 'Bearer', expiresIn: tokens.ttlSeconds };
  }

  return {
    actions: {
      login: {
        params: schemaRef('api/accounts/login-request'),
        async handler(ctx: Context<{ email: string; password: string }>) {
          try {
            const result = await logIn(db, tokens, ctx.params.email, ctx.params.password);
            await recordAudit(db, result.auth, originOf(ctx), { action: 'auth.logged_in' });
            return { accessToken: result.accessToken, tokenType: 'Bearer', expiresIn: result.expiresIn };
          } catch (error) {
            await recordAudit(db, undefined, originOf(ctx), {
              action: 'auth.login_failed',
              details: { email: ctx.params.email.slice(0, 254) },
            });
            throw error;
          }
        },
      },
      acceptInvite: {
        params: schemaRef('api/accounts/set-password-request'),
        handler: (ctx: Context<{ token: string; password: string }>) => redeem(ctx, 'invite'),
      },
      resetPassword: {
        params: schemaRef('api/accounts/set-password-request'),
        handler: (ctx: Context<{ token: string; password: string }>) => redeem(ctx, 'reset'),
      },
      me: {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const auth = authOf(ctx);
          if (auth.kind === 'system') {
            return {
              kind: 'system',
              id: auth.principalId,
              companyId: auth.companyId,
              permissions: auth.permissions,
            };
          }
          const user = await findUser(db, auth.principalId);
          if (!user) throw new NotFound('User');
          // The profile is read now; unit and permissions are the token's, the ones every
          // operation scopes this caller by (a move or role change reaches the next token).
          return {
            ...user,
            unitId: auth.kind === 'buyer' ? (auth.unitId ?? null) : user.unitId,
            permissions: auth.permissions,
            onBehalfOf: auth.onBehalfOf ?? null,
          };
        },
      },
    },
    routes: [
      {
        method: 'POST',
        path: '/api/auth/login',
        action: 'accounts.login',
        operationId: 'logIn',
        tag: 'accounts',
        summary: 'Exchange email and password for a short-lived access token',
        audience: 'public',
        requestSchema: 'api/accounts/login-request',
        responseSchema: 'api/accounts/token-response',
      },
      {
        method: 'POST',
        path: '/api/auth/accept-invite',
        action: 'accounts.acceptInvite',
        operationId: 'acceptInvitation',
        tag: 'accounts',
        summary: 'Set a password with an invitation token; answers an access token',
        audience: 'public',
        requestSchema: 'api/accounts/set-password-request',
        responseSchema: 'api/accounts/token-response',
      },
      {
        method: 'POST',
        path: '/api/auth/reset-password',
        action: 'accounts.resetPassword',
        operationId: 'resetPassword',
        tag: 'accounts',
        summary: 'Set a new password with a reset token; answers an access token',
        audience: 'public',
        requestSchema: 'api/accounts/set-password-request',
        responseSchema: 'api/accounts/token-response',
      },
      {
        method: 'GET',
        path: '/api/me',
        action: 'accounts.me',
        operationId: 'getCurrentPrincipal',
        tag: 'accounts',
        summary: 'The authenticated caller: user profile, tenant, unit and permissions',
        audience: 'authenticated',
      },
    ],
  };
}
