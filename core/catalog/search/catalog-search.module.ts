import path from 'node:path';
import type { Context, ServiceSchema } from 'moleculer';
import { schemaRef } from '../../../schemas/index.ts';
import { type HubMeta, originOf } from '../../platform/auth/auth-context.ts';
import { ValidationFailed } from '../../platform/errors/hub-errors.ts';
import type { HubModule } from '../../platform/hub-module.ts';
import type { Platform } from '../../platform/platform.ts';
import { recordSearchQuery } from '../analytics.ts';
import { requireCatalogStaff } from '../catalog-area.ts';
import { viewerOf } from '../viewer.ts';
import { searchRoutes } from './search.routes.ts';
import { type AttributeFilter, type SearchRequest, type SearchSort, searchCatalog } from './search-engine.ts';
import { markIndexStale, reindexProducts, syncSearchIndex } from './search-sync.ts';
import { normalizeText } from './tokenize.ts';

/** The search query string as the `-query` schema let it through (types coerced). */
export interface SearchQueryParams {
  q?: string;
  brand?: string[];
  category?: string;
  priceBand?: string;
  inStock?: boolean;
  sort?: SearchSort;
  limit?: number;
  cursor?: string;
  [attribute: `attr.${string}`]: string | number;
}

const ATTRIBUTE_PARAM = /^attr\.([a-z][a-z0-9_]{0,63})(?:\.(min|max))?$/;

/** The search request of a query string: `attr.<key>=a,b` and `attr.<key>.min|max` become attribute filters. */
export function searchRequestOf(params: SearchQueryParams): SearchRequest {
  const attributes = new Map<string, AttributeFilter>();
  for (const [name, value] of Object.entries(params)) {
    const match = ATTRIBUTE_PARAM.exec(name);
    if (!match) continue;
    const key = match[1]!;
    const filter = attributes.get(key) ?? { key };
    if (match[2] === 'min' || match[2] === 'max') {
      filter[match[2]] = Number(value);
    } else {
      filter.values = [
        ...new Set(
          String(value)
            .split(',')
            .map((one) => normalizeText(one, 200).trim())
            .filter(Boolean),
        ),
      ];
      if (filter.values.length === 0) {
        throw new ValidationFailed([{ pointer: `/${name}`, detail: 'names no value' }]);
      }
    }
    if (filter.values && (filter.min !== undefined || filter.max !== undefined)) {
      throw new ValidationFailed([
        { pointer: `/${name}`, detail: 'an attribute takes values or a range, not both' },
      ]);
    }
    attributes.set(key, filter);
  }
  let price: SearchRequest['price'];
  if (params.priceBand) {
    const [min, max] = params.priceBand.split('-');
    price = { min: min ? BigInt(min) : undefined, max: max ? BigInt(max) : undefined };
  }
  return {
    q: params.q,
    brands: (params.brand ?? []).flatMap((list) => list.split(',')).map((id) => id.toLowerCase()),
    category: params.category,
    attributes: [...attributes.values()],
    price,
    inStock: params.inStock,
    sort: params.sort,
    limit: params.limit,
    cursor: params.cursor,
  };
}

interface ProductEvent {
  id: string;
  name: string;
  data: { productId?: unknown };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CatalogSearchOptions {
  /** How often the index is compared with the catalog to catch missed events (default 60 s; 0 = only at start). */
  syncIntervalMs?: number;
}

/**
 * The `catalog-search` service: `GET /api/catalog/search` for guests, buyers and staff, the index
 * kept from the catalog's product events (each re-loads the product: events carry only its id, so
 * redelivery and reordering are harmless), and a sync that catches whatever events were missed.
 */
export function catalogSearchService(platform: Platform, options: CatalogSearchOptions = {}): ServiceSchema {
  const { db, logger } = platform;
  const log = logger.child({ service: 'catalog-search' });
  const intervalMs = options.syncIntervalMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let syncing: Promise<void> = Promise.resolve();
  let stopped = false;

  function sync(): Promise<void> {
    syncing = syncing.then(async () => {
      if (stopped) return;
      try {
        const done = await syncSearchIndex(db, { shouldStop: () => stopped });
        if (done) log.info({ products: done }, 'search index caught up with the catalog');
      } catch (error) {
        log.warn({ err: error }, 'search index sync failed; retried on the next round');
      }
    });
    return syncing;
  }

  async function onProductEvent(ctx: Context<ProductEvent>): Promise<void> {
    const productId = ctx.params?.data?.productId;
    if (typeof productId !== 'string' || !UUID.test(productId)) {
      log.warn({ event: ctx.params?.name }, 'product event without a product id ignored');
      return;
    }
    try {
      await reindexProducts(db, [productId]);
    } catch (error) {
      // The periodic sync re-indexes it later; an event handler has nobody to answer to.
      log.warn({ err: error, productId }, 'product not re-indexed; the next sync will');
    }
  }

  return {
    name: 'catalog-search',
    actions: {
      search: {
        params: schemaRef('api/catalog/search-query'),
        async handler(ctx: Context<SearchQueryParams>) {
          const viewer = await viewerOf(ctx);
          const request = searchRequestOf(ctx.params);
          const result = await searchCatalog(db, viewer, request);
          // Analytics hook: each new query by a guest or buyer, zero-result ones included (paging is not a new query).
          if (result.query && request.cursor === undefined && viewer.kind !== 'staff') {
            const auth = (ctx.meta as HubMeta).auth;
            await recordSearchQuery(db, {
              companyId: auth?.companyId ?? null,
              userId: auth?.kind === 'buyer' ? auth.principalId : null,
              query: result.query,
              resultCount: result.total,
            }).catch((error) =>
              log.warn({ err: error, requestId: originOf(ctx).requestId }, 'search query not recorded'),
            );
          }
          return result;
        },
      },

      reindex: {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          requireCatalogStaff(ctx);
          const products = await markIndexStale(db);
          void sync();
          return { queued: products };
        },
      },

      /** Mesh-only: re-index these products now (tests, imports that bypass events). */
      'internal.reindex': {
        visibility: 'public' as const,
        params: schemaRef('api/catalog/search-reindex-params'),
        async handler(ctx: Context<{ productIds: string[] }>) {
          await reindexProducts(db, ctx.params.productIds);
          return { indexed: ctx.params.productIds.length };
        },
      },
    },
    events: {
      'product.created': { handler: onProductEvent },
      'product.updated': { handler: onProductEvent },
      'product.lifecycle_changed': { handler: onProductEvent },
    },
    async started() {
      stopped = false;
      void sync();
      if (intervalMs > 0) {
        timer = setInterval(() => void sync(), intervalMs);
        timer.unref();
      }
    },
    async stopped() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await syncing;
    },
  };
}

export const catalogSearchModule: HubModule = {
  name: 'catalog-search',
  description:
    'Catalog search: Chinese/English full text, typo-tolerant model numbers, facets with counts; the index kept from product events',
  // The search tables are catalog migrations (0101 and up); naming the set here too lets a process
  // run search without the catalog service. Applying a set twice is a no-op.
  migrations: { domain: 'catalog', directory: path.join(import.meta.dirname, '..', 'migrations') },
  routes: searchRoutes,
  service: (platform: Platform) => catalogSearchService(platform),
};
