import { randomUUID } from 'node:crypto';
import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import { type FieldError, UnprocessableRequest, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { mergeLines } from './allocation.ts';
import { lookUpSkus } from './catalog-lookup.ts';
import {
  actorOf,
  audit,
  type InventoryArea,
  type InventoryContext,
  requireInventoryStaff,
  STAFF_BASE,
  TAG,
} from './inventory-area.ts';
import { listMovements, movementCursor } from './movements.ts';
import {
  applyMovements,
  isStockCheckViolation,
  levelKey,
  lockLevels,
  type MovementKind,
  movement,
  type StockLevelRow,
} from './stock-ledger.ts';
import { levelCursor, listStockLevels } from './stock-levels.ts';
import { findWarehouse, type Warehouse } from './warehouses.ts';

interface ReceiveParams {
  warehouseId: string;
  lines: Array<{ skuId?: string; skuCode?: string; quantity: number }>;
  reference?: string;
  reason?: string;
}

interface AdjustParams {
  skuId: string;
  warehouseId: string;
  delta?: number;
  onHand?: number;
  reason: string;
}

interface TransferParams {
  fromWarehouseId: string;
  toWarehouseId: string;
  lines: Array<{ skuId: string; quantity: number }>;
  reference?: string;
  reason?: string;
}

/** How many lines an audit record of a receipt or transfer names (the count is always there). */
const AUDITED_LINES = 50;

/** Levels as the staff API shows them: with the warehouse code. */
function withCodes(levels: readonly StockLevelRow[], warehouses: readonly Warehouse[]) {
  const codes = new Map(warehouses.map((w) => [w.id, w.code]));
  return levels.map((level) => ({
    skuId: level.skuId,
    warehouseId: level.warehouseId,
    warehouseCode: codes.get(level.warehouseId)!,
    onHand: level.onHand,
    reserved: level.reserved,
    available: level.available,
    updatedAt: level.updatedAt,
  }));
}

/**
 * Staff move stock: receipts (入库), adjustments (盘点), transfers (调拨); and read stock levels and
 * the movement ledger. SKUs are checked with the catalog (any SKU the catalog has, drafts too, since
 * goods may arrive before a product is published).
 */
export function stockArea({ platform }: InventoryContext): InventoryArea {
  const { db } = platform;
  const warehouse = async (pointer: string, id: string): Promise<Warehouse> => {
    const found = await findWarehouse(db, id);
    if (!found) throw new ValidationFailed([{ pointer, detail: 'no such warehouse' }]);
    return found;
  };
  /** A change refused by the database's CHECK constraints after all (a race the locks should prevent). */
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (isStockCheckViolation(error)) {
        throw new UnprocessableRequest('insufficient-stock', 'Stock would go below what is reserved');
      }
      throw error;
    }
  };
  return {
    actions: {
      'stock.receive': {
        params: schemaRef('api/inventory/receive-stock-request'),
        async handler(ctx: Context<ReceiveParams>) {
          const auth = requireInventoryStaff(ctx);
          const { lines, reference, reason } = ctx.params;
          const target = await warehouse('/warehouseId', ctx.params.warehouseId);
          const skus = await lookUpSkus(ctx, {
            skuIds: lines.flatMap((l) => (l.skuId ? [l.skuId] : [])),
            codes: lines.flatMap((l) => (l.skuCode ? [l.skuCode] : [])),
          });
          const problems: FieldError[] = [];
          const resolved = lines.map((line, i) => {
            const sku = line.skuId ? skus.byId.get(line.skuId.toLowerCase()) : skus.byCode.get(line.skuCode!);
            if (!sku) {
              problems.push({
                pointer: `/lines/${i}/${line.skuId ? 'skuId' : 'skuCode'}`,
                detail: 'no such SKU',
              });
            }
            return { skuId: sku?.skuId ?? '', quantity: line.quantity };
          });
          if (problems.length) throw new ValidationFailed(problems);
          return guarded(() =>
            db.transaction(async (tx) => {
              const levels = await applyMovements(
                tx,
                resolved.map((l) =>
                  movement('in', l.skuId, target.id, l.quantity, {
                    reference: reference ?? null,
                    reason: reason ?? null,
                  }),
                ),
                actorOf(ctx),
                originOf(ctx),
              );
              await audit(ctx, tx, auth, {
                action: 'stock.received',
                entityType: 'warehouse',
                entityId: target.id,
                details: {
                  reference: reference ?? null,
                  lineCount: resolved.length,
                  lines: resolved.slice(0, AUDITED_LINES),
                },
              });
              return { items: withCodes(levels, [target]) };
            }),
          );
        },
      },

      'stock.adjust': {
        params: schemaRef('api/inventory/adjust-stock-request'),
        async handler(ctx: Context<AdjustParams>) {
          const auth = requireInventoryStaff(ctx);
          const { reason } = ctx.params;
          const target = await warehouse('/warehouseId', ctx.params.warehouseId);
          const skuId = ctx.params.skuId.toLowerCase();
          if (!(await lookUpSkus(ctx, { skuIds: [skuId] })).byId.has(skuId)) {
            throw new ValidationFailed([{ pointer: '/skuId', detail: 'no such SKU' }]);
          }
          return guarded(() =>
            db.transaction(async (tx) => {
              const current = (await lockLevels(tx, [skuId], [target.id])).get(levelKey(skuId, target.id));
              const onHand = current?.onHand ?? 0;
              const reserved = current?.reserved ?? 0;
              const delta = ctx.params.delta ?? ctx.params.onHand! - onHand;
              if (onHand + delta < reserved) {
                throw new UnprocessableRequest(
                  'below-reserved',
                  `On hand may not go below the ${reserved} units reserved`,
                  { onHand, reserved, requested: onHand + delta },
                );
              }
              const levels =
                delta === 0
                  ? current
                    ? [current]
                    : []
                  : await applyMovements(
                      tx,
                      [movement('adjust', skuId, target.id, delta, { reason })],
                      actorOf(ctx),
                      originOf(ctx),
                      { locked: true },
                    );
              await audit(ctx, tx, auth, {
                action: 'stock.adjusted',
                entityType: 'warehouse',
                entityId: target.id,
                details: { skuId, before: onHand, after: onHand + delta, delta, reason },
              });
              return { items: withCodes(levels, [target]) };
            }),
          );
        },
      },

      'stock.transfer': {
        params: schemaRef('api/inventory/transfer-stock-request'),
        async handler(ctx: Context<TransferParams>) {
          const auth = requireInventoryStaff(ctx);
          const { reference, reason } = ctx.params;
          const from = await warehouse('/fromWarehouseId', ctx.params.fromWarehouseId);
          const to = await warehouse('/toWarehouseId', ctx.params.toWarehouseId);
          if (from.id === to.id) {
            throw new ValidationFailed([
              { pointer: '/toWarehouseId', detail: 'must differ from fromWarehouseId' },
            ]);
          }
          const lines = mergeLines(ctx.params.lines);
          const skus = await lookUpSkus(ctx, { skuIds: lines.map((l) => l.skuId) });
          const unknown = ctx.params.lines.findIndex((l) => !skus.byId.has(l.skuId.toLowerCase()));
          if (unknown >= 0)
            throw new ValidationFailed([{ pointer: `/lines/${unknown}/skuId`, detail: 'no such SKU' }]);
          return guarded(() =>
            db.transaction(async (tx) => {
              const levels = await lockLevels(
                tx,
                lines.map((l) => l.skuId),
                [from.id, to.id],
              );
              const short = lines
                .map((l) => ({
                  skuId: l.skuId,
                  requested: l.quantity,
                  available: levels.get(levelKey(l.skuId, from.id))?.available ?? 0,
                }))
                .filter((l) => l.available < l.requested);
              if (short.length) {
                throw new UnprocessableRequest(
                  'insufficient-stock',
                  `Not enough available in ${from.code} to transfer`,
                  { lines: short },
                );
              }
              const transferId = randomUUID();
              const extra = { reference: reference ?? null, reason: reason ?? null, transferId };
              const kinds: Array<[MovementKind, string]> = [
                ['transfer_out', from.id],
                ['transfer_in', to.id],
              ];
              const after = await applyMovements(
                tx,
                lines.flatMap((l) =>
                  kinds.map(([kind, id]) => movement(kind, l.skuId, id, l.quantity, extra)),
                ),
                actorOf(ctx),
                originOf(ctx),
                { locked: true },
              );
              await audit(ctx, tx, auth, {
                action: 'stock.transferred',
                entityType: 'warehouse',
                entityId: from.id,
                details: {
                  transferId,
                  from: from.id,
                  to: to.id,
                  reference: reference ?? null,
                  lineCount: lines.length,
                  lines: lines.slice(0, AUDITED_LINES),
                },
              });
              return { items: withCodes(after, [from, to]), transferId };
            }),
          );
        },
      },

      'stock.levels': {
        params: schemaRef('api/inventory/stock-level-query'),
        async handler(
          ctx: Context<{
            skuId?: string[];
            warehouseId?: string;
            inStock?: boolean;
            limit: number;
            cursor?: string;
          }>,
        ) {
          requireInventoryStaff(ctx, 'read');
          const { skuId, warehouseId, inStock, limit, cursor } = ctx.params;
          return listStockLevels(db, {
            skuIds: skuId,
            warehouseId,
            inStock,
            limit,
            after: levelCursor(cursor),
          });
        },
      },

      'stock.movements': {
        params: schemaRef('api/inventory/movement-query'),
        async handler(
          ctx: Context<{
            skuId?: string;
            warehouseId?: string;
            kind?: MovementKind;
            reference?: string;
            limit: number;
            cursor?: string;
          }>,
        ) {
          requireInventoryStaff(ctx, 'read');
          const { cursor, ...filter } = ctx.params;
          return listMovements(db, { ...filter, before: movementCursor(cursor) });
        },
      },
    },
    routes: ROUTES,
  };
}

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: `${STAFF_BASE}/receipts`,
    action: 'inventory.stock.receive',
    operationId: 'receiveStock',
    tag: TAG,
    summary:
      'Goods received into a warehouse (入库): up to 500 lines by SKU id or code (staff, inventory.manage)',
    audience: 'staff',
    requestSchema: 'api/inventory/receive-stock-request',
    responseSchema: 'api/inventory/stock-change-response',
  },
  {
    method: 'POST',
    path: `${STAFF_BASE}/adjustments`,
    action: 'inventory.stock.adjust',
    operationId: 'adjustStock',
    tag: TAG,
    summary:
      'Correct on hand by a delta or to a counted quantity, with a reason (盘点) (staff, inventory.manage)',
    audience: 'staff',
    requestSchema: 'api/inventory/adjust-stock-request',
    responseSchema: 'api/inventory/stock-change-response',
  },
  {
    method: 'POST',
    path: `${STAFF_BASE}/transfers`,
    action: 'inventory.stock.transfer',
    operationId: 'transferStock',
    tag: TAG,
    summary: 'Move available units between warehouses (调拨) (staff, inventory.manage)',
    audience: 'staff',
    requestSchema: 'api/inventory/transfer-stock-request',
    responseSchema: 'api/inventory/stock-change-response',
  },
  {
    method: 'GET',
    path: `${STAFF_BASE}/stock`,
    action: 'inventory.stock.levels',
    operationId: 'listStockLevels',
    tag: TAG,
    summary: 'Stock per SKU and warehouse (on hand, reserved, available), keyset-paged, with filters (staff)',
    audience: 'staff',
    querySchema: 'api/inventory/stock-level-query',
    responseSchema: 'api/inventory/stock-level-list-response',
  },
  {
    method: 'GET',
    path: `${STAFF_BASE}/movements`,
    action: 'inventory.stock.movements',
    operationId: 'listStockMovements',
    tag: TAG,
    summary: 'The movement ledger, newest first, by SKU, warehouse, kind or reference (staff)',
    audience: 'staff',
    querySchema: 'api/inventory/movement-query',
    responseSchema: 'api/inventory/movement-list-response',
  },
];
