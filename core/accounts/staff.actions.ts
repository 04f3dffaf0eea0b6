import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { AccessTokens } from '../platform/auth/access-tokens.ts';
import { type AuthContext, originOf, requirePermission } from '../platform/auth/auth-context.ts';
import type { Transaction } from '../platform/database/database.ts';
import { Forbidden, HubError, NotFound } from '../platform/errors/hub-errors.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { type AccountsArea, type AccountsContext, page } from './accounts-area.ts';
import { actAsTtlSeconds, issueActAsToken, onBehalfOf } from './act-on-behalf.ts';
import { findCompany } from './companies.ts';
import { authContextFor } from './log-in.ts';
import { findStaffUser, listStaffUsers, setStaffUserStatus, updateStaffUser } from './staff-users.ts';
import {
  checkRoles,
  findCompanyUser,
  INVITE_TTL_HOURS,
  insertUser,
  prepareUser,
  type User,
} from './users.ts';

/** The caller, a staff member holding `permission` (API keys and buyers are refused). */
function requireStaff(ctx: Context, permission: string): AuthContext {
  const auth = requirePermission(ctx, permission);
  if (auth.kind !== 'staff') throw new Forbidden('This operation is for staff');
  return auth;
}

/**
 * The staff side: administering staff users (`staff.manage`, which only the admin role holds,
 * through `*`) and acting on behalf of a buyer (`buyers.act_on_behalf`, 销售远程协助客户下单).
 */
export function staffArea({ platform }: AccountsContext): AccountsArea {
  const { db, config } = platform;
  // Routes are built once from a throwaway context without a config: build tokens lazily.
  let actAsTokens: AccessTokens | undefined;
  const tokensForActingAs = () => {
    actAsTokens ??= new AccessTokens(config.jwtSecret, actAsTtlSeconds(config.accessTokenTtlSeconds));
    return actAsTokens;
  };

  async function record(
    ctx: Context,
    tx: Transaction,
    auth: AuthContext,
    action: string,
    user: User,
    details: Record<string, unknown> = {},
  ) {
    await recordAudit(tx, auth, originOf(ctx), {
      action,
      entityType: 'user',
      entityId: user.id,
      companyId: null,
      details,
    });
    await writeOutbox(
      tx,
      [{ kind: 'event', name: action, payload: { userId: user.id, email: user.email, ...details } }],
      originOf(ctx),
    );
  }

  /** A staff user other than the caller (403 for oneself: no self-demotion or self-lockout). */
  async function otherStaffUser(tx: Transaction, auth: AuthContext, id: string, what: string): Promise<User> {
    const user = await findStaffUser(tx, id);
    if (!user) throw new NotFound('Staff user');
    if (user.id === auth.principalId) throw new Forbidden(`You cannot ${what} yourself`);
    return user;
  }

  return {
    actions: {
      'staffUsers.list': {
        params: schemaRef('api/accounts/staff-user-list-query'),
        async handler(ctx: Context<{ limit: number; cursor?: string; status?: string; role?: string }>) {
          requireStaff(ctx, 'staff.manage');
          const { cursor, ...filter } = ctx.params;
          return page(await listStaffUsers(db, { ...filter, after: cursor }), ctx.params.limit);
        },
      },
      'staffUsers.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireStaff(ctx, 'staff.manage');
          const user = await findStaffUser(db, ctx.params.id);
          if (!user) throw new NotFound('Staff user');
          return user;
        },
      },
      'staffUsers.create': {
        params: schemaRef('api/accounts/staff-user-create-request'),
        async handler(
          ctx: Context<{ email: string; displayName: string; password?: string; roles: string[] }>,
        ) {
          const auth = requireStaff(ctx, 'staff.manage');
          const prepared = await prepareUser(db, {
            ...ctx.params,
            kind: 'staff',
            companyId: null,
            unitId: null,
            createdBy: auth.principalId,
          });
          return db.transaction(async (tx) => {
            const { user, inviteToken } = await insertUser(tx, prepared);
            await record(ctx, tx, auth, inviteToken ? 'staff_user.invited' : 'staff_user.created', user, {
              roles: user.roles,
            });
            return inviteToken ? { user, inviteToken, inviteExpiresInHours: INVITE_TTL_HOURS } : { user };
          });
        },
      },
      'staffUsers.update': {
        params: schemaRef('api/accounts/staff-user-update-params'),
        async handler(ctx: Context<{ id: string; displayName?: string; roles?: string[] }>) {
          const auth = requireStaff(ctx, 'staff.manage');
          return db.transaction(async (tx) => {
            const before = await findStaffUser(tx, ctx.params.id);
            if (!before) throw new NotFound('Staff user');
            if (ctx.params.roles) {
              if (before.id === auth.principalId) throw new Forbidden('You cannot change your own roles');
              await checkRoles(tx, 'staff', null, ctx.params.roles);
            }
            const user = await updateStaffUser(tx, before.id, ctx.params);
            await record(ctx, tx, auth, 'staff_user.updated', user, {
              before: { displayName: before.displayName, roles: before.roles },
              after: { displayName: user.displayName, roles: user.roles },
            });
            return user;
          });
        },
      },
      'staffUsers.disable': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireStaff(ctx, 'staff.manage');
          return db.transaction(async (tx) => {
            const target = await otherStaffUser(tx, auth, ctx.params.id, 'disable');
            const user = await setStaffUserStatus(tx, target.id, 'disabled');
            await record(ctx, tx, auth, 'staff_user.disabled', user);
            return user;
          });
        },
      },
      'staffUsers.enable': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireStaff(ctx, 'staff.manage');
          return db.transaction(async (tx) => {
            const target = await findStaffUser(tx, ctx.params.id);
            if (!target) throw new NotFound('Staff user');
            const user = await setStaffUserStatus(tx, target.id, 'active');
            await record(ctx, tx, auth, 'staff_user.enabled', user);
            return user;
          });
        },
      },

      'companies.actAs': {
        params: schemaRef('api/accounts/act-as-params'),
        async handler(ctx: Context<{ id: string; userId: string; reason: string }>) {
          const staff = requireStaff(ctx, 'buyers.act_on_behalf');
          const company = await findCompany(db, ctx.params.id);
          if (!company) throw new NotFound('Company');
          if (company.status !== 'active') {
            throw new HubError(409, 'company-not-active', `The company is ${company.status}`, {
              status: company.status,
            });
          }
          const buyer = await findCompanyUser(db, company.id, ctx.params.userId);
          if (buyer?.kind !== 'buyer' || buyer.status !== 'active') throw new NotFound('User');
          const auth = onBehalfOf(await authContextFor(db, buyer), staff.principalId);
          const tokens = tokensForActingAs();
          await db.transaction(async (tx) => {
            const details = {
              staffUserId: staff.principalId,
              userId: buyer.id,
              companyId: company.id,
              reason: ctx.params.reason,
              expiresIn: tokens.ttlSeconds,
            };
            // The staff member is the actor; the row belongs to the buyer company's audit trail.
            await recordAudit(tx, staff, originOf(ctx), {
              action: 'staff.acted_on_behalf',
              entityType: 'user',
              entityId: buyer.id,
              companyId: company.id,
              details,
            });
            await writeOutbox(
              tx,
              [{ kind: 'event', name: 'staff.acted_on_behalf', companyId: company.id, payload: details }],
              originOf(ctx),
            );
          });
          const { accessToken, expiresIn } = await issueActAsToken(tokens, auth);
          return {
            accessToken,
            tokenType: 'Bearer',
            expiresIn,
            companyId: company.id,
            userId: buyer.id,
            onBehalfOf: { staffUserId: staff.principalId },
          };
        },
      },
    },
    routes: [
      {
        method: 'GET',
        path: '/api/staff/staff-users',
        action: 'accounts.staffUsers.list',
        operationId: 'listStaffUsers',
        tag: 'accounts',
        summary: 'Staff users, by status or role (staff.manage)',
        audience: 'staff',
        querySchema: 'api/accounts/staff-user-list-query',
        responseSchema: 'api/accounts/user-list-response',
      },
      {
        method: 'GET',
        path: '/api/staff/staff-users/:id',
        action: 'accounts.staffUsers.get',
        operationId: 'getStaffUser',
        tag: 'accounts',
        summary: 'One staff user (staff.manage)',
        audience: 'staff',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/user',
      },
      {
        method: 'POST',
        path: '/api/staff/staff-users',
        action: 'accounts.staffUsers.create',
        operationId: 'createStaffUser',
        tag: 'accounts',
        summary: 'Invite (no password) or create a staff user with staff roles (staff.manage)',
        audience: 'staff',
        requestSchema: 'api/accounts/staff-user-create-request',
        responseSchema: 'api/accounts/user-created-response',
        successStatus: 201,
        location: '/api/staff/staff-users/{user.id}',
      },
      {
        method: 'PATCH',
        path: '/api/staff/staff-users/:id',
        action: 'accounts.staffUsers.update',
        operationId: 'updateStaffUser',
        tag: 'accounts',
        summary: 'Rename a staff user or change their roles, never one’s own (staff.manage)',
        audience: 'staff',
        paramsSchema: 'api/accounts/staff-user-update-params',
        requestSchema: 'api/accounts/staff-user-update-params',
        responseSchema: 'entities/user',
      },
      {
        method: 'POST',
        path: '/api/staff/staff-users/:id/disable',
        action: 'accounts.staffUsers.disable',
        operationId: 'disableStaffUser',
        tag: 'accounts',
        summary: 'Disable a staff user: they can no longer log in (staff.manage)',
        audience: 'staff',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/user',
      },
      {
        method: 'POST',
        path: '/api/staff/staff-users/:id/enable',
        action: 'accounts.staffUsers.enable',
        operationId: 'enableStaffUser',
        tag: 'accounts',
        summary: 'Enable a disabled staff user again (staff.manage)',
        audience: 'staff',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/user',
      },
      {
        method: 'POST',
        path: '/api/staff/companies/:id/act-as',
        action: 'accounts.companies.actAs',
        operationId: 'actAsBuyer',
        tag: 'accounts',
        summary:
          'Get a short-lived token to act on behalf of an active buyer of an active company (buyers.act_on_behalf); audited with both people',
        audience: 'staff',
        paramsSchema: 'api/accounts/act-as-params',
        requestSchema: 'api/accounts/act-as-params',
        responseSchema: 'api/accounts/act-as-response',
      },
    ],
  };
}
