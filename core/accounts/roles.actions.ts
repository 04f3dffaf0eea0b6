import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import {
  type AuthContext,
  originOf,
  PERMISSION_SCOPES,
  permissionScope,
  requireBuyerCompany,
  requirePermission,
} from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import type { AccountsArea, AccountsContext } from './accounts-area.ts';
import { createRole, deleteRole, findRole, listRoles, type Role, updateRole } from './custom-roles.ts';
import { BUYER_PERMISSIONS, type Grant, invalidGrants } from './roles.ts';

/**
 * A role may grant only what its author holds, at the same or a narrower scope: otherwise a holder
 * of `roles.manage` could widen a role they hold themselves and get it at their next login.
 * Grants that are invalid anyway are left to the 422 that names them.
 */
function requireGrantsHeld(auth: AuthContext, grants: readonly Grant[]) {
  if (invalidGrants(grants).length) return;
  const beyond = grants.filter((grant) => {
    const held = permissionScope(auth, grant.permission);
    return !held || PERMISSION_SCOPES.indexOf(held) < PERMISSION_SCOPES.indexOf(grant.scope);
  });
  if (beyond.length) {
    throw new Forbidden(
      `A role cannot grant permissions you do not hold: ${[...new Set(beyond.map((g) => `${g.permission}@${g.scope}`))].join(', ')}`,
    );
  }
}

/** Preset and custom buyer roles, and the permission × scope catalogue they draw from. */
export function rolesArea({ platform }: AccountsContext): AccountsArea {
  const { db } = platform;

  async function audit(
    ctx: Context,
    tx: Queryable,
    action: string,
    role: Role,
    details: Record<string, unknown>,
  ) {
    const { auth, companyId } = requireBuyerCompany(ctx);
    await recordAudit(tx, auth, originOf(ctx), { action, entityType: 'role', entityId: role.key, details });
    await writeOutbox(
      tx,
      [{ kind: 'event', name: action, companyId, payload: { key: role.key, ...details } }],
      originOf(ctx),
    );
  }

  return {
    actions: {
      'permissions.list': {
        params: schemaRef('api/common/empty-params'),
        handler(ctx: Context) {
          requireBuyerCompany(ctx);
          return {
            items: Object.entries(BUYER_PERMISSIONS).map(([permission, { description, scopes }]) => ({
              permission,
              description,
              scopes,
            })),
          };
        },
      },
      'roles.list': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          const { companyId } = requireBuyerCompany(ctx);
          requirePermission(ctx, 'company.read');
          return { items: await listRoles(db, companyId) };
        },
      },
      'roles.get': {
        params: schemaRef('api/accounts/role-key-params'),
        async handler(ctx: Context<{ key: string }>) {
          const { companyId } = requireBuyerCompany(ctx);
          requirePermission(ctx, 'company.read');
          const role = await findRole(db, companyId, ctx.params.key);
          if (!role) throw new NotFound('Role');
          return role;
        },
      },
      'roles.create': {
        params: schemaRef('api/accounts/create-role-request'),
        async handler(ctx: Context<{ key: string; name: string; description?: string; grants: Grant[] }>) {
          const { companyId } = requireBuyerCompany(ctx);
          const auth = requirePermission(ctx, 'roles.manage', 'company');
          requireGrantsHeld(auth, ctx.params.grants);
          return db.transaction(async (tx) => {
            const role = await createRole(tx, companyId, ctx.params);
            await audit(ctx, tx, 'role.created', role, { grants: role.grants });
            return role;
          });
        },
      },
      'roles.update': {
        params: schemaRef('api/accounts/update-role-params'),
        async handler(
          ctx: Context<{ key: string; name?: string; description?: string | null; grants?: Grant[] }>,
        ) {
          const { companyId } = requireBuyerCompany(ctx);
          const auth = requirePermission(ctx, 'roles.manage', 'company');
          if (ctx.params.grants) requireGrantsHeld(auth, ctx.params.grants);
          return db.transaction(async (tx) => {
            const { key, ...changes } = ctx.params;
            const { before, after } = await updateRole(tx, companyId, key, changes);
            await audit(ctx, tx, 'role.updated', after, {
              before: { name: before.name, description: before.description, grants: before.grants },
              after: { name: after.name, description: after.description, grants: after.grants },
            });
            return after;
          });
        },
      },
      'roles.delete': {
        params: schemaRef('api/accounts/role-key-params'),
        async handler(ctx: Context<{ key: string }>) {
          const { companyId } = requireBuyerCompany(ctx);
          requirePermission(ctx, 'roles.manage', 'company');
          return db.transaction(async (tx) => {
            const role = await deleteRole(tx, companyId, ctx.params.key);
            await audit(ctx, tx, 'role.deleted', role, { grants: role.grants });
            return { key: role.key, deleted: true };
          });
        },
      },
    },
    routes: [
      {
        method: 'GET',
        path: '/api/permissions',
        action: 'accounts.permissions.list',
        operationId: 'listPermissions',
        tag: 'accounts',
        summary: 'Every buyer permission and the scopes it can be granted at',
        audience: 'buyer',
      },
      {
        method: 'GET',
        path: '/api/roles',
        action: 'accounts.roles.list',
        operationId: 'listRoles',
        tag: 'accounts',
        summary: "Preset roles and the caller's company's custom roles",
        audience: 'buyer',
      },
      {
        method: 'GET',
        path: '/api/roles/:key',
        action: 'accounts.roles.get',
        operationId: 'getRole',
        tag: 'accounts',
        summary: 'One role with its grants',
        audience: 'buyer',
        paramsSchema: 'api/accounts/role-key-params',
        responseSchema: 'entities/role',
      },
      {
        method: 'POST',
        path: '/api/roles',
        action: 'accounts.roles.create',
        operationId: 'createRole',
        tag: 'accounts',
        summary: 'Define a custom role (roles.manage)',
        audience: 'buyer',
        requestSchema: 'api/accounts/create-role-request',
        responseSchema: 'entities/role',
        successStatus: 201,
        location: '/api/roles/{key}',
      },
      {
        method: 'PATCH',
        path: '/api/roles/:key',
        action: 'accounts.roles.update',
        operationId: 'updateRole',
        tag: 'accounts',
        summary: 'Change a custom role; holders get the new grants at their next login',
        audience: 'buyer',
        paramsSchema: 'api/accounts/update-role-params',
        requestSchema: 'api/accounts/update-role-params',
        responseSchema: 'entities/role',
      },
      {
        method: 'DELETE',
        path: '/api/roles/:key',
        action: 'accounts.roles.delete',
        operationId: 'deleteRole',
        tag: 'accounts',
        summary: 'Delete a custom role nobody holds',
        audience: 'buyer',
        paramsSchema: 'api/accounts/role-key-params',
      },
    ],
  };
}
