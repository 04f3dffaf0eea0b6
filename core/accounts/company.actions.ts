import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { authOf, hasPermission, originOf, requirePermission } from '../platform/auth/auth-context.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { type AccountsArea, type AccountsContext, type ListParams, page } from './accounts-area.ts';
import { type Company, findCompany, insertCompany, listCompanies } from './companies.ts';
import { createRootUnit } from './units.ts';
import { insertUser, prepareUser } from './users.ts';

/** Buyer companies: staff create and administer them; buyers see their own. */
export function companyArea({ platform }: AccountsContext): AccountsArea {
  const { db } = platform;
  return {
    actions: {
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
            ? await prepareUser(db, {
                ...ctx.params.admin,
                kind: 'buyer',
                companyId: null,
                roles: ['buyer-admin'],
              })
            : undefined;
          return db.transaction(async (tx) => {
            const company = await insertCompany(tx, ctx.params);
            const root = await createRootUnit(tx, company.id, company.name);
            if (admin) {
              await insertUser(tx, {
                ...admin,
                companyId: company.id,
                unitId: root.id,
                createdBy: auth.principalId,
              });
            }
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
              details: { name: company.name, withAdmin: Boolean(admin) },
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
    },
    routes: [
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
        summary: 'Create a buyer company with its root unit, optionally with its first admin user (staff)',
        audience: 'staff',
        requestSchema: 'api/accounts/create-company-request',
        responseSchema: 'entities/company',
        successStatus: 201,
        location: '/api/companies/:id',
      },
    ],
  };
}
