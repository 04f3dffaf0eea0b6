import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { type PriceLinesParams, priceForCaller } from './price-lines.ts';
import { type PricingArea, type PricingContext, TAG } from './pricing-area.ts';

/**
 * Pricing itself. `price` is the storefront's batch call (public: a buyer token prices for the
 * buyer's company; without one, guests get what HUB_PRICING_GUEST_PRICES allows). `internal.priceLines`
 * is the same for carts, quotes and orders over the mesh, with the buyer's context in meta
 * (visibility `public`, so the gateway can never expose it).
 */
export function priceArea({ platform, config, caches }: PricingContext): PricingArea {
  const { db } = platform;
  const handler = (ctx: Context<PriceLinesParams>) => priceForCaller(ctx, db, config, caches, ctx.params);
  return {
    actions: {
      price: { params: schemaRef('api/pricing/price-lines-request'), handler },
      'internal.priceLines': {
        visibility: 'public' as const,
        params: schemaRef('api/pricing/price-lines-request'),
        handler,
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/pricing/price',
    action: 'pricing.price',
    operationId: 'priceLines',
    tag: TAG,
    summary:
      'Price up to 500 lines for the caller: unit price, net, VAT and gross per line, line errors, totals; explain=true says why',
    audience: 'public',
    requestSchema: 'api/pricing/price-lines-request',
    responseSchema: 'api/pricing/price-lines-response',
  },
];
