import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { type HubMeta, originOf } from '../platform/auth/auth-context.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { recordProductView } from './analytics.ts';
import { type CatalogArea, type CatalogContext, TAG } from './catalog-area.ts';
import { compareProducts, productForViewer, sitemapXml, visibleCategoryTree } from './storefront.ts';
import { viewerOf } from './viewer.ts';

/**
 * What storefronts read, for guests and buyers alike (the route is public; a token narrows or
 * widens what is visible): a product by id or slug, the category tree, compare, and sitemap.xml.
 * Anything the caller may not see is 404, the same as what does not exist.
 */
export function storefrontArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;

  /** Where the storefront lives, for sitemap URLs (HUB_STOREFRONT_URL; the gateway by default). */
  function storefrontUrl(): string {
    return process.env.HUB_STOREFRONT_URL || `http://localhost:${platform.config.httpPort}`;
  }

  return {
    actions: {
      'storefront.product': {
        params: schemaRef('api/catalog/product-ref-params'),
        async handler(ctx: Context<{ idOrSlug: string }>) {
          const viewer = await viewerOf(ctx);
          const product = await productForViewer(db, viewer, ctx.params.idOrSlug);
          if (viewer.kind !== 'staff') {
            const auth = (ctx.meta as HubMeta).auth;
            // An analytics hook: losing one view is better than failing the page.
            await recordProductView(db, {
              productId: product.id,
              companyId: auth?.companyId ?? null,
              userId: auth?.kind === 'buyer' ? auth.principalId : null,
            }).catch((error) =>
              platform.logger.warn(
                { err: error, requestId: originOf(ctx).requestId },
                'product view not recorded',
              ),
            );
          }
          return product;
        },
      },

      'storefront.categories': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          return { items: await visibleCategoryTree(db, await viewerOf(ctx)) };
        },
      },

      'storefront.compare': {
        params: schemaRef('api/catalog/compare-request'),
        async handler(ctx: Context<{ productIds: string[] }>) {
          return compareProducts(db, await viewerOf(ctx), ctx.params.productIds);
        },
      },

      'storefront.sitemap': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          (ctx.meta as Record<string, unknown>).$responseType = 'application/xml; charset=utf-8';
          return sitemapXml(db, storefrontUrl());
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/catalog/products/:idOrSlug',
    action: 'catalog.storefront.product',
    operationId: 'getStorefrontProduct',
    tag: TAG,
    summary:
      'A product by id or slug with SKUs, specs and the relations the caller may see; guests see public products only. Records a view.',
    audience: 'public',
    paramsSchema: 'api/catalog/product-ref-params',
    responseSchema: 'entities/product',
  },
  {
    method: 'GET',
    path: '/api/catalog/categories',
    action: 'catalog.storefront.categories',
    operationId: 'getStorefrontCategories',
    tag: TAG,
    summary: 'The category tree holding products the caller may see, with product counts',
    audience: 'public',
    responseSchema: 'api/catalog/category-tree-response',
  },
  {
    method: 'POST',
    path: '/api/catalog/compare',
    action: 'catalog.storefront.compare',
    operationId: 'compareProducts',
    tag: TAG,
    summary: 'Compare up to 4 products: a spec table aligned by attribute with differences flagged',
    audience: 'public',
    requestSchema: 'api/catalog/compare-request',
    responseSchema: 'entities/product-comparison',
  },
  {
    method: 'GET',
    path: '/sitemap.xml',
    action: 'catalog.storefront.sitemap',
    operationId: 'getSitemap',
    tag: TAG,
    summary: 'sitemap.xml of the categories and products guests may see, with last modification (XML)',
    audience: 'public',
  },
];
