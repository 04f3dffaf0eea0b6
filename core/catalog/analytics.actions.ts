import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { listSearchQueries } from './analytics.ts';
import { type CatalogArea, type CatalogContext, requireCatalogStaff, TAG } from './catalog-area.ts';

/** Staff read the analytics hooks: recorded search queries, zero-result ones in particular. */
export function analyticsArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;
  return {
    actions: {
      'analytics.searchQueries': {
        params: schemaRef('api/catalog/analytics-queries-query'),
        async handler(
          ctx: Context<{ limit: number; cursor?: string; zeroResults?: boolean; since?: string }>,
        ) {
          requireCatalogStaff(ctx, 'read');
          const { limit, cursor, zeroResults, since } = ctx.params;
          if (cursor !== undefined && !/^[1-9][0-9]{0,18}$/.test(cursor)) {
            throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
          }
          const items = await listSearchQueries(db, {
            limit,
            ...(cursor ? { beforeId: cursor } : {}),
            ...(zeroResults !== undefined ? { zeroResults } : {}),
            ...(since ? { since } : {}),
          });
          return { items, nextCursor: items.length === limit ? items[items.length - 1]!.id : null };
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/staff/catalog/analytics/search-queries',
    action: 'catalog.analytics.searchQueries',
    operationId: 'listCatalogSearchQueries',
    tag: TAG,
    summary: 'Recorded search queries, newest first; zeroResults=true for those that found nothing (staff)',
    audience: 'staff',
    querySchema: 'api/catalog/analytics-queries-query',
    responseSchema: 'api/catalog/analytics-queries-response',
  },
];
