import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { type FieldError, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { lookUpSkus } from './catalog-lookup.ts';
import {
  audit,
  cursorOf,
  type PricingArea,
  type PricingContext,
  page,
  requirePricingStaff,
  TAG,
} from './pricing-area.ts';
import { vatRateChanged } from './pricing-events.ts';
import { deleteVatRate, listVatRates, setVatRates, type VatRateInput } from './vat-rates.ts';

/** Staff set VAT rates per product or SKU (products and SKUs without one get the deployment default). */
export function vatRatesArea({ platform }: PricingContext): PricingArea {
  const { db } = platform;
  return {
    actions: {
      'vatRates.list': {
        params: schemaRef('api/pricing/vat-rate-query'),
        async handler(ctx: Context<{ productId?: string; skuId?: string; limit: number; cursor?: string }>) {
          requirePricingStaff(ctx, 'read');
          const { limit, productId, skuId } = ctx.params;
          return page(
            await listVatRates(db, { productId, skuId, limit, after: cursorOf(ctx.params) }),
            limit,
          );
        },
      },

      'vatRates.set': {
        params: schemaRef('api/pricing/set-vat-rates-request'),
        async handler(ctx: Context<{ items: VatRateInput[] }>) {
          const auth = requirePricingStaff(ctx);
          const { items } = ctx.params;
          const problems: FieldError[] = [];
          const seen = new Set<string>();
          items.forEach((item, i) => {
            const key = item.skuId ? `sku:${item.skuId}` : `product:${item.productId}`;
            if (seen.has(key))
              problems.push({ pointer: `/items/${i}`, detail: 'names the same product or SKU twice' });
            seen.add(key);
          });
          const skuIds = items.flatMap((item) => (item.skuId ? [item.skuId] : []));
          const productIds = [...new Set(items.flatMap((item) => (item.productId ? [item.productId] : [])))];
          const { byId } = await lookUpSkus(ctx, { skuIds, codes: [] });
          const products = new Set(
            productIds.length
              ? (
                  (await ctx.call('catalog.internal.visibleProductIds', { productIds })) as {
                    productIds: string[];
                  }
                ).productIds
              : [],
          );
          items.forEach((item, i) => {
            if (item.skuId && !byId.has(item.skuId))
              problems.push({ pointer: `/items/${i}/skuId`, detail: 'no such SKU' });
            if (item.productId && !products.has(item.productId)) {
              problems.push({ pointer: `/items/${i}/productId`, detail: 'no such product' });
            }
          });
          if (problems.length)
            throw new ValidationFailed(problems.slice(0, 20), 'Some VAT rates cannot be set');
          return db.transaction(async (tx) => {
            const rates = await setVatRates(tx, items);
            await vatRateChanged(ctx, tx, rates);
            await audit(ctx, tx, auth, {
              action: 'vat_rate.set',
              entityType: 'vat_rate',
              entityId: rates[0]!.id,
              details: { rates: rates.slice(0, 50), count: rates.length },
            });
            return { items: rates, nextCursor: null };
          });
        },
      },

      'vatRates.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requirePricingStaff(ctx);
          return db.transaction(async (tx) => {
            const rate = await deleteVatRate(tx, ctx.params.id);
            await vatRateChanged(ctx, tx, [rate]);
            await audit(ctx, tx, auth, {
              action: 'vat_rate.deleted',
              entityType: 'vat_rate',
              entityId: rate.id,
              details: { rate },
            });
            return { id: rate.id, deleted: true };
          });
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = '/api/staff/pricing/vat-rates';

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'pricing.vatRates.list',
    operationId: 'listVatRates',
    tag: TAG,
    summary: 'VAT rates of products and SKUs, keyset-paged (staff)',
    audience: 'staff',
    querySchema: 'api/pricing/vat-rate-query',
    responseSchema: 'api/pricing/vat-rate-list-response',
  },
  {
    method: 'PUT',
    path: BASE,
    action: 'pricing.vatRates.set',
    operationId: 'setVatRates',
    tag: TAG,
    summary: 'Set the VAT rate (13, 9, 6, 0 %) of up to 1,000 products or SKUs (staff, pricing.manage)',
    audience: 'staff',
    requestSchema: 'api/pricing/set-vat-rates-request',
    responseSchema: 'api/pricing/vat-rate-list-response',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id`,
    action: 'pricing.vatRates.delete',
    operationId: 'deleteVatRate',
    tag: TAG,
    summary: "Remove a product's or SKU's own VAT rate: the default applies again (staff, pricing.manage)",
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
];
