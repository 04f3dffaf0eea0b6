import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { requireBuyerCompany } from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import { type FieldError, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { lookUpSkus } from './catalog-lookup.ts';
import type { InventoryArea, InventoryContext } from './inventory-area.ts';
import { TAG } from './inventory-area.ts';
import type { BuyerDetail } from './inventory-config.ts';
import { availabilityOf, type SkuAvailability } from './stock-levels.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_SKUS = 100;

/** `?skuIds=a&skuIds=b` or `?skuIds=a,b`: the ids, each checked, at most 100. */
function skuIdsOf(raw: readonly string[]): string[] {
  const ids = raw.flatMap((part) => part.split(',')).map((id) => id.trim());
  const problems: FieldError[] = [];
  ids.forEach((id, i) => {
    if (!UUID.test(id)) problems.push({ pointer: `/skuIds/${i}`, detail: 'is not a SKU id' });
  });
  if (ids.length > MAX_SKUS) problems.push({ pointer: '/skuIds', detail: `at most ${MAX_SKUS} SKUs` });
  if (problems.length) throw new ValidationFailed(problems.slice(0, 1));
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}

async function preferredWarehouse(db: Queryable, companyId: string | undefined): Promise<string | null> {
  if (!companyId) return null;
  const { rows } = await db.query(
    'SELECT warehouse_id FROM inventory.company_preferences WHERE company_id = $1',
    [companyId],
  );
  return rows[0]?.warehouse_id ?? null;
}

/** The SKUs whose overall low-stock threshold (over every active warehouse) is crossed now. */
async function belowOverallThreshold(db: Queryable, skuIds: readonly string[]): Promise<Set<string>> {
  if (!skuIds.length) return new Set();
  const { rows } = await db.query(
    'SELECT DISTINCT sku_id FROM inventory.thresholds WHERE sku_id = ANY($1::uuid[]) AND warehouse_id IS NULL AND below',
    [[...new Set(skuIds.map((id) => id.toLowerCase()))]],
  );
  return new Set(rows.map((row) => row.sku_id as string));
}

function internalView(item: SkuAvailability) {
  return {
    skuId: item.skuId,
    available: item.available,
    warehouses: item.warehouses.map(({ visibleToBuyers: _visible, ...warehouse }) => warehouse),
  };
}

/**
 * What a buyer is shown (HUB_INVENTORY_BUYER_DETAIL): `per_warehouse` — the total and the
 * warehouses marked visible to buyers (the others still count in the total); `total` — one number;
 * `none` — only whether it is in stock.
 */
export function buyerView(items: readonly SkuAvailability[], detail: BuyerDetail) {
  return {
    detail,
    items: items.map((item) => ({
      skuId: item.skuId,
      inStock: item.available > 0,
      ...(detail === 'none' ? {} : { available: item.available }),
      ...(detail === 'per_warehouse'
        ? {
            warehouses: item.warehouses
              .filter((w) => w.visibleToBuyers)
              .map(({ visibleToBuyers: _visible, ...warehouse }) => warehouse),
          }
        : {}),
    })),
  };
}

/**
 * What can be ordered now: buyers see it for the SKUs the catalog lets them see, as detailed as
 * the deployment says (HUB_INVENTORY_BUYER_DETAIL); other domains (carts, orders) ask the mesh-only
 * `inventory.internal.available`, which answers every SKU and warehouse.
 */
export function availabilityArea({ platform, config }: InventoryContext): InventoryArea {
  const { db } = platform;
  return {
    actions: {
      availability: {
        params: schemaRef('api/inventory/availability-query'),
        async handler(ctx: Context<{ skuIds: string[] }>) {
          const { companyId } = requireBuyerCompany(ctx);
          const asked = skuIdsOf(ctx.params.skuIds);
          // The catalog answers only the SKUs this buyer may see; the rest read as nonexistent.
          const visible = (await lookUpSkus(ctx, { skuIds: asked })).byId;
          const items = await availabilityOf(
            db,
            asked.filter((id) => visible.has(id)),
            await preferredWarehouse(db, companyId),
          );
          return buyerView(items, config.buyerDetail);
        },
      },

      'internal.available': {
        visibility: 'public' as const,
        params: schemaRef('api/inventory/available-params'),
        async handler(
          ctx: Context<{ skuIds?: string[]; lines?: Array<{ skuId: string }>; companyId?: string }>,
        ) {
          const ids = [...(ctx.params.skuIds ?? []), ...(ctx.params.lines ?? []).map((l) => l.skuId)];
          const items = await availabilityOf(db, ids, await preferredWarehouse(db, ctx.params.companyId));
          const low = await belowOverallThreshold(db, ids);
          return { items: items.map((item) => ({ ...internalView(item), low: low.has(item.skuId) })) };
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/inventory/availability',
    action: 'inventory.availability',
    operationId: 'getStockAvailability',
    tag: TAG,
    summary: 'Available quantity of up to 100 SKUs the buyer may see, per warehouse as configured (多仓库存)',
    audience: 'buyer',
    querySchema: 'api/inventory/availability-query',
    responseSchema: 'api/inventory/availability-response',
  },
];
