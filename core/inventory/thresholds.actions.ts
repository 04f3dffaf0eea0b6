import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import { NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { lookUpSkus } from './catalog-lookup.ts';
import {
  audit,
  cursorOf,
  type InventoryArea,
  type InventoryContext,
  page,
  requireInventoryStaff,
  STAFF_BASE,
  TAG,
} from './inventory-area.ts';
import { evaluateThresholds } from './low-stock.ts';
import { deleteThreshold, findThreshold, listThresholds, upsertThreshold } from './thresholds.ts';
import { findWarehouse } from './warehouses.ts';

/** Staff set low-stock thresholds per SKU, in one warehouse or overall, and list what is low. */
export function thresholdsArea({ platform }: InventoryContext): InventoryArea {
  const { db } = platform;
  return {
    actions: {
      'thresholds.list': {
        params: schemaRef('api/inventory/threshold-query'),
        async handler(
          ctx: Context<{
            skuId?: string;
            warehouseId?: string;
            below?: boolean;
            limit: number;
            cursor?: string;
          }>,
        ) {
          requireInventoryStaff(ctx, 'read');
          const { cursor: _cursor, ...filter } = ctx.params;
          return page(await listThresholds(db, { ...filter, after: cursorOf(ctx.params) }), filter.limit);
        },
      },

      'thresholds.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireInventoryStaff(ctx, 'read');
          const threshold = await findThreshold(db, ctx.params.id);
          if (!threshold) throw new NotFound('Threshold');
          return threshold;
        },
      },

      'thresholds.set': {
        params: schemaRef('api/inventory/set-threshold-request'),
        async handler(ctx: Context<{ skuId: string; warehouseId: string | null; threshold: number }>) {
          const auth = requireInventoryStaff(ctx);
          const skuId = ctx.params.skuId.toLowerCase();
          const warehouseId = ctx.params.warehouseId?.toLowerCase() ?? null;
          if (!(await lookUpSkus(ctx, { skuIds: [skuId] })).byId.has(skuId)) {
            throw new ValidationFailed([{ pointer: '/skuId', detail: 'no such SKU' }]);
          }
          if (warehouseId && !(await findWarehouse(db, warehouseId))) {
            throw new ValidationFailed([{ pointer: '/warehouseId', detail: 'no such warehouse' }]);
          }
          return db.transaction(async (tx) => {
            const { id, created, before } = await upsertThreshold(tx, {
              skuId,
              warehouseId,
              threshold: ctx.params.threshold,
            });
            // A threshold set above what is available now is a crossing: it alerts at once.
            await evaluateThresholds(tx, [skuId], originOf(ctx), [id]);
            const threshold = (await findThreshold(tx, id))!;
            await audit(ctx, tx, auth, {
              action: created ? 'stock_threshold.created' : 'stock_threshold.updated',
              entityType: 'stock_threshold',
              entityId: id,
              details: { skuId, warehouseId, before, after: threshold.threshold },
            });
            return threshold;
          });
        },
      },

      'thresholds.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const auth = requireInventoryStaff(ctx);
          return db.transaction(async (tx) => {
            const threshold = await deleteThreshold(tx, ctx.params.id);
            await audit(ctx, tx, auth, {
              action: 'stock_threshold.deleted',
              entityType: 'stock_threshold',
              entityId: threshold.id,
              details: { threshold },
            });
            return { id: threshold.id, deleted: true };
          });
        },
      },
    },
    routes: ROUTES,
  };
}

const BASE = `${STAFF_BASE}/thresholds`;

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: BASE,
    action: 'inventory.thresholds.list',
    operationId: 'listStockThresholds',
    tag: TAG,
    summary: 'Low-stock thresholds with available now; below=true lists what is low (staff)',
    audience: 'staff',
    querySchema: 'api/inventory/threshold-query',
    responseSchema: 'api/inventory/threshold-list-response',
  },
  {
    method: 'PUT',
    path: BASE,
    action: 'inventory.thresholds.set',
    operationId: 'setStockThreshold',
    tag: TAG,
    summary: 'Set the low-stock threshold of a SKU in a warehouse or overall (staff, inventory.manage)',
    audience: 'staff',
    requestSchema: 'api/inventory/set-threshold-request',
    responseSchema: 'entities/stock-threshold',
  },
  {
    method: 'GET',
    path: `${BASE}/:id`,
    action: 'inventory.thresholds.get',
    operationId: 'getStockThreshold',
    tag: TAG,
    summary: 'One low-stock threshold (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/stock-threshold',
  },
  {
    method: 'DELETE',
    path: `${BASE}/:id`,
    action: 'inventory.thresholds.delete',
    operationId: 'deleteStockThreshold',
    tag: TAG,
    summary: 'Remove a low-stock threshold (staff, inventory.manage)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
  },
];
