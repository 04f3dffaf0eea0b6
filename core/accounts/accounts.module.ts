import path from 'node:path';
import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { AccessTokens } from '../platform/auth/access-tokens.ts';
import {
  authOf,
  hasPermission,
  originOf,
  requireBuyerCompany,
  requirePermission,
} from '../platform/auth/auth-context.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import type { HubModule } from '../platform/hub-module.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import type { Platform } from '../platform/platform.ts';
import { authenticateApiKey, createApiKey } from './api-keys.ts';
import { type Company, findCompany, insertCompany, listCompanies } from './companies.ts';
import { logIn } from './log-in.ts';
import { findUser, insertUser, listCompanyUsers, prepareUser } from './users.ts';

interface ListParams {
  limit: number;
  cursor?: string;
}

/** Keyset page: the next cursor is the last id when the page came back full. */
function page<T extends { id: string }>(items: T[], limit: number) {
  return { items, nextCursor: items.length === limit ? items[items.length - 1]!.id : null };
}

function accountsService(platform: Platform) {
  const { db } = platform;
  const tokens = new AccessTokens(platform.config.jwtSecret, platform.config.accessTokenTtlSeconds);

  return {
    name: 'accounts',
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
          return { ...user, permissions: auth.permissions };
        },
      },

      /** Internal: the gateway resolves `X-Api-Key` through this; never routed. */
      authenticateApiKey: {
        visibility: 'public' as const,
        params: schemaRef('api/accounts/authenticate-api-key-params'),
        async handler(ctx: Context<{ key: string }>) {
          return (await authenticateApiKey(db, ctx.params.key)) ?? null;
        },
      },

      'companies.create': {
        params: schemaRef('api/accounts/create-company-request'),
        async handler(
          ctx: Context<{
            name: string;
            status?: Company['status'];
            admin?: { email: string; displayName: string; password: string };
          }>,
        ) {
          const auth = requirePermission(ctx, 'companies.manage');
          const origin = originOf(ctx);
          const admin = ctx.params.admin
            ? await prepareUser({
                ...ctx.params.admin,
                kind: 'buyer',
                companyId: null,
                roles: ['buyer-admin'],
              })
            : undefined;
          return db.transaction(async (tx) => {
            const company = await insertCompany(tx, ctx.params);
            if (admin) await insertUser(tx, { ...admin, companyId: company.id });
            await writeOutbox(
              tx,
              [
                {
                  kind: 'event',
                  name: 'company.created',
                  companyId: company.id,
                  payload: { companyId: company.id, name: company.name },
                },
              ],
              origin,
            );
            await recordAudit(tx, auth, origin, {
              action: 'company.created',
              entityType: 'company',
              entityId: company.id,
              companyId: company.id,
              details: { name: company.name, withAdmin: Boolean(ctx.params.admin) },
            });
            return company;
          });
        },
      },

      'companies.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = authOf(ctx);
          // Buyers see only their own company; anything else is "not found", never "forbidden".
          const allowed =
            (auth.kind === 'staff' && hasPermission(auth, 'companies.read')) ||
            (auth.companyId === ctx.params.id && hasPermission(auth, 'company.read'));
          const company = allowed ? await findCompany(db, ctx.params.id) : undefined;
          if (!company) throw new NotFound('Company');
          return company;
        },
      },

      'companies.list': {
        params: schemaRef('api/common/list-query'),
        async handler(ctx: Context<ListParams>) {
          requirePermission(ctx, 'companies.read');
          if (authOf(ctx).kind !== 'staff') throw new Forbidden();
          const items = await listCompanies(db, { limit: ctx.params.limit, after: ctx.params.cursor });
          return page(items, ctx.params.limit);
        },
      },

      'users.create': {
        params: schemaRef('api/accounts/create-user-request'),
        async handler(
          ctx: Context<{ email: string; displayName: string; password: string; roles: string[] }>,
        ) {
          requirePermission(ctx, 'users.manage');
          const { auth, companyId } = requireBuyerCompany(ctx);
          const origin = originOf(ctx);
          const prepared = await prepareUser({ ...ctx.params, kind: 'buyer', companyId });
          return db.transaction(async (tx) => {
            const user = await insertUser(tx, prepared);
            await recordAudit(tx, auth, origin, {
              action: 'user.created',
              entityType: 'user',
              entityId: user.id,
              details: { email: user.email, roles: user.roles },
            });
            return user;
          });
        },
      },

      'users.list': {
        params: schemaRef('api/common/list-query'),
        async handler(ctx: Context<ListParams>) {
          requirePermission(ctx, 'users.read');
          const { companyId } = requireBuyerCompany(ctx);
          const items = await listCompanyUsers(db, companyId, {
            limit: ctx.params.limit,
            after: ctx.params.cursor,
          });
          return page(items, ctx.params.limit);
        },
      },

      'apiKeys.create': {
        params: schemaRef('api/accounts/create-api-key-request'),
        async handler(ctx: Context<{ name: string; permissions: string[]; companyId?: string }>) {
          const auth = requirePermission(ctx, 'api-keys.manage');
          if (auth.kind !== 'staff') throw new Forbidden('API keys are issued by staff');
          const origin = originOf(ctx);
          return db.transaction(async (tx) => {
            if (ctx.params.companyId && !(await findCompany(tx, ctx.params.companyId)))
              throw new NotFound('Company');
            const created = await createApiKey(tx, {
              name: ctx.params.name,
              permissions: ctx.params.permissions,
              companyId: ctx.params.companyId ?? null,
              createdBy: auth.principalId,
            });
            // The key itself is shown once, in the response; the audit log gets only its id.
            await recordAudit(tx, auth, origin, {
              action: 'api_key.created',
              entityType: 'api_key',
              entityId: created.id,
              companyId: created.companyId,
              details: { name: created.name, permissions: created.permissions },
            });
            return created;
          });
        },
      },
    },
  };
}

export const accountsModule: HubModule = {
  name: 'accounts',
  description: 'Companies, buyer and staff users, logins and API keys',
  migrations: { domain: 'accounts', directory: path.join(import.meta.dirname, 'migrations') },
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
      method: 'GET',
      path: '/api/me',
      action: 'accounts.me',
      operationId: 'getCurrentPrincipal',
      tag: 'accounts',
      summary: 'The authenticated caller: user profile, tenant and permissions',
      audience: 'authenticated',
    },
    {
      method: 'GET',
      path: '/api/companies/:id',
      action: 'accounts.companies.get',
      operationId: 'getCompany',
      tag: 'accounts',
      summary: 'A company: staff see any, buyers only their own',
      audience: 'authenticated',
      paramsSchema: 'api/common/id-params',
      responseSchema: 'entities/company',
    },
    {
      method: 'GET',
      path: '/api/users',
      action: 'accounts.users.list',
      operationId: 'listCompanyUsers',
      tag: 'accounts',
      summary: "Users of the caller's company",
      audience: 'buyer',
      querySchema: 'api/common/list-query',
      responseSchema: 'api/accounts/user-list-response',
    },
    {
      method: 'POST',
      path: '/api/users',
      action: 'accounts.users.create',
      operationId: 'createCompanyUser',
      tag: 'accounts',
      summary: "Add a user to the caller's company (buyer admin)",
      audience: 'buyer',
      requestSchema: 'api/accounts/create-user-request',
      responseSchema: 'entities/user',
      successStatus: 201,
    },
    {
      method: 'GET',
      path: '/api/staff/companies',
      action: 'accounts.companies.list',
      operationId: 'listCompanies',
      tag: 'accounts',
      summary: 'All buyer companies (staff)',
      audience: 'staff',
      querySchema: 'api/common/list-query',
      responseSchema: 'api/accounts/company-list-response',
    },
    {
      method: 'POST',
      path: '/api/staff/companies',
      action: 'accounts.companies.create',
      operationId: 'createCompany',
      tag: 'accounts',
      summary: 'Create a buyer company, optionally with its first admin user (staff)',
      audience: 'staff',
      requestSchema: 'api/accounts/create-company-request',
      responseSchema: 'entities/company',
      successStatus: 201,
      location: '/api/companies/:id',
    },
    {
      method: 'POST',
      path: '/api/staff/api-keys',
      action: 'accounts.apiKeys.create',
      operationId: 'createApiKey',
      tag: 'accounts',
      summary: 'Issue an API key for a system (ERP, WMS, storefront); the key is shown once',
      audience: 'staff',
      requestSchema: 'api/accounts/create-api-key-request',
      responseSchema: 'api/accounts/api-key-created-response',
      successStatus: 201,
    },
  ],
  service: accountsService,
};
