import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { originOf, requirePermission } from '../platform/auth/auth-context.ts';
import { Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import type { AccountsArea, AccountsContext } from './accounts-area.ts';
import { authenticateApiKey, createApiKey } from './api-keys.ts';
import { findCompany } from './companies.ts';

/** API keys for systems (ERP, WMS, storefront back ends). */
export function apiKeysArea({ platform }: AccountsContext): AccountsArea {
  const { db } = platform;
  return {
    actions: {
      /** Internal: the gateway resolves `X-Api-Key` through this; never routed. */
      authenticateApiKey: {
        visibility: 'public' as const,
        params: schemaRef('api/accounts/authenticate-api-key-params'),
        async handler(ctx: Context<{ key: string }>) {
          return (await authenticateApiKey(db, ctx.params.key)) ?? null;
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
    routes: [
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
  };
}
