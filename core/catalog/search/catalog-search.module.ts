import path from 'node:path';
import type { Context, ServiceBroker, ServiceSchema } from 'moleculer';
import { schemaRef } from '../../../schemas/index.ts';
import { type AuthContext, type HubMeta, originOf } from '../../platform/auth/auth-context.ts';
import { ValidationFailed } from '../../platform/errors/hub-errors.ts';
import type { HubModule } from '../../platform/hub-module.ts';
import type { Platform } from '../../platform/platform.ts';
import { recordSearchQuery } from '../analytics.ts';
import { requireCatalogStaff } from '../catalog-area.ts';
import { viewerOf } from '../viewer.ts';
import { searchRoutes } from './search.routes.ts';
import { type AttributeFilter, type SearchRequest, type SearchSort, searchCatalog } from './search-engine.ts';
import type { StockState } from './search-index.ts';
import type { OfferSource, SkuPrice, SkuStock } from './search-offers.ts';
import {
  markIndexStale,
  productsWithOldOffers,
  refreshOffers,
  refreshOffersOfSkus,
  reindexProducts,
  syncSearchIndex,
} from './search-sync.ts';
import { normalizeText } from './tokenize.ts';

/** The search query string as the `-query` schema let it through (types coerced). */
export interface SearchQueryParams {
  q?: string;
  brand?: string[];
  category?: string;
  priceBand?: string;
  stock?: string;
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
    stock: params.stock ? (params.stock.split(',') as StockState[]) : undefined,
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
  /** Prices and stock looked up longer ago than this are looked up again by the sync (default 6 h). */
  offerMaxAgeMs?: number;
}

/** Pricing and inventory are asked as the system: the default level's prices, every SKU. */
const SYSTEM: { meta: { auth: AuthContext } } = {
  meta: {
    auth: {
      kind: 'system',
      principalId: '00000000-0000-4000-8000-0000000005ea',
      companyId: null,
      permissions: [],
    },
  },
};

/** SKUs per call: what `pricing.internal.priceLines` and `inventory.internal.available` take. */
const OFFER_CHUNK = 500;
/** Products per rolling-refresh batch, and batches per sync round. */
const OFFER_BATCH = 500;
const OFFER_BATCHES_PER_ROUND = 20;

interface PricedLine {
  skuId: string | null;
  unitPrice: { amountMinor: string; currency: string } | null;
}

/**
 * Prices and stock over the mesh: the default list price of one unit of each SKU (as listed), and
 * available units with the low-stock flag. A source that is not running or fails answers
 * `undefined`: the index keeps what it has and the rolling refresh tries again.
 */
function meshOfferSource(broker: ServiceBroker, log: Platform['logger']): OfferSource {
  const inChunks = async (
    skuIds: readonly string[],
    ask: (chunk: string[]) => Promise<void>,
    what: string,
  ) => {
    try {
      for (let i = 0; i < skuIds.length; i += OFFER_CHUNK) await ask(skuIds.slice(i, i + OFFER_CHUNK));
      return true;
    } catch (error) {
      log.debug({ err: error }, `search: ${what} not looked up; the index keeps what it has`);
      return false;
    }
  };
  return {
    async prices(skuIds) {
      const prices = new Map<string, SkuPrice>();
      const ok = await inChunks(
        skuIds,
        async (chunk) => {
          const answer = (await broker.call(
            'pricing.internal.priceLines',
            { lines: chunk.map((skuId) => ({ skuId, quantity: 1 })) },
            SYSTEM,
          )) as { lines: PricedLine[] };
          for (const line of answer.lines) {
            if (line.skuId && line.unitPrice) {
              prices.set(line.skuId, {
                amountMinor: BigInt(line.unitPrice.amountMinor),
                currency: line.unitPrice.currency,
              });
            }
          }
        },
        'prices',
      );
      return ok ? prices : undefined;
    },
    async stock(skuIds) {
      const stock = new Map<string, SkuStock>();
      const ok = await inChunks(
        skuIds,
        async (chunk) => {
          const answer = (await broker.call('inventory.internal.available', { skuIds: chunk }, SYSTEM)) as {
            items: Array<{ skuId: string; available: number; low?: boolean }>;
          };
          for (const item of answer.items)
            stock.set(item.skuId, { available: item.available, low: item.low ?? false });
        },
        'stock',
      );
      return ok ? stock : undefined;
    },
  };
}

interface SkuEvent {
  name: string;
  data: { skuIds?: unknown };
}

function skuIdsOf(event: SkuEvent | undefined): string[] | null {
  const ids = event?.data?.skuIds;
  if (!Array.isArray(ids)) return null;
  return ids.filter((id): id is string => typeof id === 'string' && UUID.test(id));
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
  const offerMaxAgeMs = options.offerMaxAgeMs ?? 6 * 3_600_000;
  let offers: OfferSource | undefined;
  let timer: NodeJS.Timeout | undefined;
  let syncing: Promise<void> = Promise.resolve();
  let stopped = false;

  function sync(): Promise<void> {
    syncing = syncing.then(async () => {
      if (stopped) return;
      try {
        const done = await syncSearchIndex(db, { shouldStop: () => stopped, offers });
        if (done) log.info({ products: done }, 'search index caught up with the catalog');
        // Prices and stock looked up longest ago (or marked for it by a list-wide price change).
        let refreshed = 0;
        for (let round = 0; round < OFFER_BATCHES_PER_ROUND && offers && !stopped; round++) {
          const ids = await productsWithOldOffers(db, OFFER_BATCH, offerMaxAgeMs);
          if (ids.length === 0) break;
          refreshed += await refreshOffers(db, ids, offers);
        }
        if (refreshed) log.info({ products: refreshed }, 'search prices and stock refreshed');
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
      await reindexProducts(db, [productId], offers);
    } catch (error) {
      // The periodic sync re-indexes it later; an event handler has nobody to answer to.
      log.warn({ err: error, productId }, 'product not re-indexed; the next sync will');
    }
  }

  /** Prices or stock of some SKUs changed: those products' offers are looked up again. */
  async function onOfferEvent(ctx: Context<SkuEvent>): Promise<void> {
    if (!offers) return;
    const skuIds = skuIdsOf(ctx.params);
    try {
      if (skuIds) await refreshOffersOfSkus(db, skuIds, offers);
      // A list-wide change (assignments, validity, a deleted list): every product's price is
      // looked up again by the rolling refresh, oldest first.
      else await db.query('UPDATE catalog.search_documents SET offers_at = NULL WHERE offers_at IS NOT NULL');
    } catch (error) {
      log.warn(
        { err: error, event: ctx.params?.name },
        'search prices / stock not refreshed; the rolling refresh will',
      );
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
          await reindexProducts(db, ctx.params.productIds, offers);
          return { indexed: ctx.params.productIds.length };
        },
      },
    },
    events: {
      'product.created': { handler: onProductEvent },
      'product.updated': { handler: onProductEvent },
      'product.lifecycle_changed': { handler: onProductEvent },
      'price_list.changed': { handler: onOfferEvent },
      'stock.availability_changed': { handler: onOfferEvent },
    },
    created() {
      offers = meshOfferSource(this.broker, log);
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
