import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { AccountsArea, AccountsContext } from './accounts-area.ts';
import { companyContext, resolveApprovers, unitContext, userContext } from './approvers.ts';

/**
 * Mesh-only actions other domains call with ids they already hold (from the auth context or their
 * own rows): visibility `public`, so the gateway can never expose them.
 */
export function internalArea({ platform }: AccountsContext): AccountsArea {
  const { db } = platform;
  return {
    actions: {
      'internal.userContext': {
        visibility: 'public' as const,
        params: schemaRef('api/accounts/user-context-params'),
        handler: (ctx: Context<{ userId: string }>) => userContext(db, ctx.params.userId),
      },
      'internal.companyContext': {
        visibility: 'public' as const,
        params: schemaRef('api/accounts/company-context-params'),
        handler: (ctx: Context<{ companyId: string }>) => companyContext(db, ctx.params.companyId),
      },
      'internal.unitContext': {
        visibility: 'public' as const,
        params: schemaRef('api/accounts/unit-context-params'),
        handler: (ctx: Context<{ unitId: string }>) => unitContext(db, ctx.params.unitId),
      },
      'internal.resolveApprovers': {
        visibility: 'public' as const,
        params: schemaRef('api/accounts/resolve-approvers-params'),
        async handler(
          ctx: Context<{
            companyId: string;
            userIds?: string[];
            roles?: string[];
            managerOf?: { userId: string; levels: number };
          }>,
        ) {
          return { userIds: await resolveApprovers(db, ctx.params) };
        },
      },
    },
    routes: [],
  };
}
