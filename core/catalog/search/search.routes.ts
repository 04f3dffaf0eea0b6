import type { RouteSpec } from '../../platform/http/route-spec.ts';
import { TAG } from '../catalog-area.ts';

/** REST operations of catalog search (service `catalog-search`). */
export const searchRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/catalog/search',
    action: 'catalog-search.search',
    operationId: 'searchCatalog',
    tag: TAG,
    summary:
      'Search products in Chinese and English with facet filters and counts (guests see public products; a buyer token adds its shared catalogs)',
    audience: 'public',
    querySchema: 'api/catalog/search-query',
    responseSchema: 'api/catalog/search-response',
  },
  {
    method: 'POST',
    path: '/api/staff/catalog/search/reindex',
    action: 'catalog-search.reindex',
    operationId: 'reindexCatalogSearch',
    tag: TAG,
    summary: 'Rebuild the search index from the catalog in the background (catalog.manage)',
    audience: 'staff',
    responseSchema: 'api/catalog/search-reindex-response',
    successStatus: 202,
  },
];
