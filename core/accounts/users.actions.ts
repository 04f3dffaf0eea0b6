import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import {
  type AuthContext,
  originOf,
  PERMISSION_SCOPES,
  type PermissionScope,
  permissionScope,
  requireBuyerCompany,
} from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Forbidden, NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { type AccountsArea, type AccountsContext, page } from './accounts-area.ts';
import { grantsForRoles } from './custom-roles.ts';
import { reaches, reachOf } from './reach.ts';
import { findUnit, rootUnit } from './units.ts';
import {
  checkRoles,
  findCompanyUser,
  INVITE_TTL_HOURS,
  insertUser,
  issuePasswordReset,
  listCompanyUsers,
  prepareUser,
  RESET_TTL_HOURS,
  setUserStatus,
  type User,
  updateUser,
} from './users.ts';

/**
 * A caller may hand out only what they hold themselves: every grant of the roles must be within
 * the caller's own permissions at the same or a wider scope. Stops a unit admin from minting a
 * company-wide admin.
 */
async function requireNoEscalation(db: Queryable, auth: AuthContext, companyId: string, roles: string[]) {
  const beyond = await grantsBeyond(db, auth, companyId, roles);
  if (beyond.length)
    throw new Forbidden(`You cannot grant permissions you do not hold: ${beyond.join(', ')}`);
}

/** The grants of `roles` the caller does not hold at the same or a wider scope, as `name@scope`. */
async function grantsBeyond(
  db: Queryable,
  auth: AuthContext,
  companyId: string,
  roles: readonly string[],
): Promise<string[]> {
  const wanted = await grantsForRoles(db, companyId, roles);
  const beyond = wanted.filter((grant) => {
    const held: PermissionScope | undefined = permissionScope(auth, grant.permission);
    return !held || PERMISSION_SCOPES.indexOf(held) < PERMISSION_SCOPES.indexOf(grant.scope);
  });
  return [...new Set(beyond.map((g) => `${g.permission}@${g.scope}`))];
}

/**
 * A caller may change only users who hold no more than they do: otherwise a subtree user manager
 * could disable, demote or (by issuing a reset token and redeeming it) take over a company admin
 * who sits in their subtree.
 */
async function requireNotMoreThanCaller(db: Queryable, auth: AuthContext, companyId: string, target: User) {
  const beyond = await grantsBeyond(db, auth, companyId, target.roles);
  if (beyond.length) {
    throw new Forbidden(`You cannot manage a user who holds permissions you do not: ${beyond.join(', ')}`);
  }
}

/** Users of the caller's company: buyer admins invite, edit, disable and reset without staff help. */
export function usersArea({ platform }: AccountsContext): AccountsArea {
  const { db } = platform;

  /** The target user if the caller's `permission` reaches their unit; 404 otherwise. */
  async function userInReach(ctx: Context, id: string, permission: string, tx: Queryable = db) {
    const { auth, companyId } = requireBuyerCompany(ctx);
    const reach = await reachOf(tx, auth, permission);
    const user = await findCompanyUser(tx, companyId, id);
    if (!user || !(reaches(reach, user.unitId) || user.id === auth.principalId)) throw new NotFound('User');
    return { auth, companyId, reach, user };
  }

  async function audit(
    ctx: Context,
    tx: Queryable,
    action: string,
    user: User,
    details: Record<string, unknown> = {},
  ) {
    const { auth, companyId } = requireBuyerCompany(ctx);
    await recordAudit(tx, auth, originOf(ctx), { action, entityType: 'user', entityId: user.id, details });
    await writeOutbox(
      tx,
      [
        {
          kind: 'event',
          name: action,
          companyId,
          payload: { userId: user.id, email: user.email, ...details },
        },
      ],
      originOf(ctx),
    );
  }

  /** Disable or enable a user the caller manages (never themselves, never someone above them). */
  function changeStatus(ctx: Context<{ id: string }>, status: 'active' | 'disabled') {
    return db.transaction(async (tx) => {
      const {
        auth,
        companyId,
        reach,
        user: target,
      } = await userInReach(ctx, ctx.params.id, 'users.manage', tx);
      if (!reaches(reach, target.unitId)) throw new NotFound('User');
      if (status === 'disabled' && target.id === auth.principalId)
        throw new Forbidden('You cannot disable yourself');
      await requireNotMoreThanCaller(tx, auth, companyId, target);
      // Enabling an invited user keeps them invited: they still have to accept the invitation.
      const user = await setUserStatus(tx, companyId, target.id, status);
      await audit(ctx, tx, status === 'disabled' ? 'user.disabled' : 'user.enabled', user, {
        before: { status: target.status },
        after: { status: user.status },
      });
      return user;
    });
  }

  return {
    actions: {
      'users.list': {
        params: schemaRef('api/accounts/user-list-query'),
        async handler(ctx: Context<{ limit: number; cursor?: string; unitId?: string; status?: string }>) {
          const { auth, companyId } = requireBuyerCompany(ctx);
          const reach = await reachOf(db, auth, 'users.read');
          let unitIds = reach.all ? undefined : reach.unitIds;
          if (ctx.params.unitId) {
            if (!reaches(reach, ctx.params.unitId)) return page([], ctx.params.limit);
            unitIds = [ctx.params.unitId];
          }
          const items = await listCompanyUsers(db, companyId, {
            limit: ctx.params.limit,
            after: ctx.params.cursor,
            unitIds,
            status: ctx.params.status,
          });
          return page(items, ctx.params.limit);
        },
      },
      'users.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          return (await userInReach(ctx, ctx.params.id, 'users.read')).user;
        },
      },
      'users.create': {
        params: schemaRef('api/accounts/create-user-request'),
        async handler(
          ctx: Context<{
            email: string;
            displayName: string;
            password?: string;
            roles: string[];
            unitId?: string;
          }>,
        ) {
          const { auth, companyId } = requireBuyerCompany(ctx);
          const reach = await reachOf(db, auth, 'users.manage');
          const unitId = ctx.params.unitId ?? (reach.all ? (await rootUnit(db, companyId)).id : auth.unitId);
          // A unit id the company does not have (another tenant's, or none) is "not found", as
          // everywhere; a unit of the company outside the caller's reach is a 422.
          if (ctx.params.unitId && !(await findUnit(db, companyId, ctx.params.unitId)))
            throw new NotFound('Unit');
          if (!unitId || !reaches(reach, unitId)) {
            throw new UnprocessableRequest(
              'unit-out-of-reach',
              'The unit is unknown or outside what you manage',
              {
                errors: [{ pointer: '/unitId', detail: 'unknown or outside what you manage' }],
              },
            );
          }
          await requireNoEscalation(db, auth, companyId, ctx.params.roles);
          const prepared = await prepareUser(db, {
            ...ctx.params,
            kind: 'buyer',
            companyId,
            unitId,
            createdBy: auth.principalId,
          });
          return db.transaction(async (tx) => {
            const { user, inviteToken } = await insertUser(tx, prepared);
            await audit(ctx, tx, inviteToken ? 'user.invited' : 'user.created', user, {
              roles: user.roles,
              unitId,
            });
            return inviteToken ? { user, inviteToken, inviteExpiresInHours: INVITE_TTL_HOURS } : { user };
          });
        },
      },
      'users.update': {
        params: schemaRef('api/accounts/update-user-params'),
        async handler(ctx: Context<{ id: string; displayName?: string; roles?: string[]; unitId?: string }>) {
          return db.transaction(async (tx) => {
            const {
              auth,
              companyId,
              reach,
              user: before,
            } = await userInReach(ctx, ctx.params.id, 'users.manage', tx);
            if (!reaches(reach, before.unitId)) throw new NotFound('User');
            if (before.id !== auth.principalId) await requireNotMoreThanCaller(tx, auth, companyId, before);
            if (ctx.params.unitId && !(await findUnit(tx, companyId, ctx.params.unitId)))
              throw new NotFound('Unit');
            if (ctx.params.unitId && !reaches(reach, ctx.params.unitId)) {
              throw new UnprocessableRequest(
                'unit-out-of-reach',
                'The unit is unknown or outside what you manage',
                {
                  errors: [{ pointer: '/unitId', detail: 'unknown or outside what you manage' }],
                },
              );
            }
            if (ctx.params.roles) {
              if (before.id === auth.principalId) throw new Forbidden('You cannot change your own roles');
              await checkRoles(tx, 'buyer', companyId, ctx.params.roles);
              await requireNoEscalation(tx, auth, companyId, ctx.params.roles);
            }
            const { id, ...changes } = ctx.params;
            const user = await updateUser(tx, companyId, id, changes);
            await audit(ctx, tx, 'user.updated', user, {
              before: { displayName: before.displayName, roles: before.roles, unitId: before.unitId },
              after: { displayName: user.displayName, roles: user.roles, unitId: user.unitId },
            });
            return user;
          });
        },
      },
      'users.disable': {
        params: schemaRef('api/common/id-params'),
        handler: (ctx: Context<{ id: string }>) => changeStatus(ctx, 'disabled'),
      },
      'users.enable': {
        params: schemaRef('api/common/id-params'),
        handler: (ctx: Context<{ id: string }>) => changeStatus(ctx, 'active'),
      },
      'users.resetPassword': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          return db.transaction(async (tx) => {
            const { auth, companyId, reach, user } = await userInReach(
              ctx,
              ctx.params.id,
              'users.manage',
              tx,
            );
            if (!reaches(reach, user.unitId)) throw new NotFound('User');
            // Whoever holds the token becomes the user: never for someone holding more than the caller.
            await requireNotMoreThanCaller(tx, auth, companyId, user);
            const token = await issuePasswordReset(tx, companyId, user.id);
            // The token goes to the caller only (to pass on); events and the audit log never carry it.
            await audit(ctx, tx, 'user.password_reset_requested', user);
            return { token, expiresInHours: RESET_TTL_HOURS };
          });
        },
      },
    },
    routes: [
      {
        method: 'GET',
        path: '/api/users',
        action: 'accounts.users.list',
        operationId: 'listCompanyUsers',
        tag: 'accounts',
        summary: "Users of the caller's company within their users.read scope",
        audience: 'buyer',
        querySchema: 'api/accounts/user-list-query',
        responseSchema: 'api/accounts/user-list-response',
      },
      {
        method: 'GET',
        path: '/api/users/:id',
        action: 'accounts.users.get',
        operationId: 'getCompanyUser',
        tag: 'accounts',
        summary: 'One user of the caller’s company within their users.read scope',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/user',
      },
      {
        method: 'POST',
        path: '/api/users',
        action: 'accounts.users.create',
        operationId: 'createCompanyUser',
        tag: 'accounts',
        summary: 'Invite (no password) or create a user in a unit the caller manages',
        audience: 'buyer',
        requestSchema: 'api/accounts/create-user-request',
        responseSchema: 'api/accounts/user-created-response',
        successStatus: 201,
        location: '/api/users/{user.id}',
      },
      {
        method: 'PATCH',
        path: '/api/users/:id',
        action: 'accounts.users.update',
        operationId: 'updateCompanyUser',
        tag: 'accounts',
        summary: 'Rename, move to another unit, or change roles (never beyond the caller’s own)',
        audience: 'buyer',
        paramsSchema: 'api/accounts/update-user-params',
        requestSchema: 'api/accounts/update-user-params',
        responseSchema: 'entities/user',
      },
      {
        method: 'POST',
        path: '/api/users/:id/disable',
        action: 'accounts.users.disable',
        operationId: 'disableCompanyUser',
        tag: 'accounts',
        summary: 'Disable a user: they can no longer log in',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/user',
      },
      {
        method: 'POST',
        path: '/api/users/:id/enable',
        action: 'accounts.users.enable',
        operationId: 'enableCompanyUser',
        tag: 'accounts',
        summary: 'Enable a disabled user again',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/user',
      },
      {
        method: 'POST',
        path: '/api/users/:id/password-reset',
        action: 'accounts.users.resetPassword',
        operationId: 'requestPasswordReset',
        tag: 'accounts',
        summary: 'Issue a one-time password reset token for a user (shown once)',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'api/accounts/one-time-token-response',
      },
    ],
  };
}
