import type { Context } from 'moleculer';
import type { InboundStockLevel } from '../../schemas/generated/types.ts';
import { schemaRef } from '../../schemas/index.ts';
import { originOf } from '../platform/auth/auth-context.ts';
import { lookUpSkus } from './catalog-lookup.ts';
import { actorOf, type InventoryArea, type InventoryContext } from './inventory-area.ts';
import { applyMovements, levelKey, lockLevels, movement } from './stock-ledger.ts';

interface Rejected {
  skuCode: string;
  warehouseCode: string;
  reason: 'unknown-sku' | 'unknown-warehouse' | 'below-reserved';
}

/**
 * Stock counted by a remote system (ERP, WMS), set as on hand through `adjust` movements: the
 * ledger shows each change, a repeated snapshot changes nothing. Pairs whose SKU or warehouse the
 * hub does not know, or whose count is below what the hub has reserved, are answered as rejected
 * and left as they are.
 */
export function stockSyncArea({ platform }: InventoryContext): InventoryArea {
  const { db } = platform;
  return {
    routes: [],
    actions: {
      'internal.applyStockLevels': {
        visibility: 'public' as const,
        params: schemaRef('api/inventory/apply-stock-levels-params'),
        async handler(ctx: Context<{ source: string; levels: InboundStockLevel[] }>) {
          const counted = new Map<string, { skuCode: string; warehouseCode: string; onHand: number }>();
          for (const level of ctx.params.levels) {
            const key = `${level.skuCode}\u0000${level.warehouseCode}`;
            const entry = counted.get(key) ?? {
              skuCode: level.skuCode,
              warehouseCode: level.warehouseCode,
              onHand: 0,
            };
            if (level.status === 'available') entry.onHand += level.onHand;
            counted.set(key, entry);
          }
          const entries = [...counted.values()];
          const { byCode } = await lookUpSkus(ctx, { skuIds: [], codes: entries.map((e) => e.skuCode) });
          const { rows } = await db.query(
            'SELECT id, code FROM inventory.warehouses WHERE code = ANY($1::text[])',
            [[...new Set(entries.map((e) => e.warehouseCode))]],
          );
          const warehouseIds = new Map(rows.map((row) => [row.code as string, row.id as string]));
          const rejected: Rejected[] = [];
          const known = entries.flatMap((entry) => {
            const sku = byCode.get(entry.skuCode);
            const warehouseId = warehouseIds.get(entry.warehouseCode);
            if (!sku) rejected.push({ ...pick(entry), reason: 'unknown-sku' });
            else if (!warehouseId) rejected.push({ ...pick(entry), reason: 'unknown-warehouse' });
            return sku && warehouseId ? [{ ...entry, skuId: sku.skuId.toLowerCase(), warehouseId }] : [];
          });
          const changed = await db.transaction(async (tx) => {
            const levels = await lockLevels(
              tx,
              known.map((k) => k.skuId),
              known.map((k) => k.warehouseId),
            );
            const movements = known.flatMap((entry) => {
              const current = levels.get(levelKey(entry.skuId, entry.warehouseId));
              const delta = entry.onHand - (current?.onHand ?? 0);
              if (entry.onHand < (current?.reserved ?? 0)) {
                rejected.push({ ...pick(entry), reason: 'below-reserved' });
                return [];
              }
              return delta === 0
                ? []
                : [
                    movement('adjust', entry.skuId, entry.warehouseId, delta, {
                      reference: ctx.params.source,
                      reason: 'counted by a remote system',
                    }),
                  ];
            });
            if (movements.length > 0)
              await applyMovements(tx, movements, actorOf(ctx), originOf(ctx), { locked: true });
            return movements.length;
          });
          return {
            changed,
            unchanged: known.length - changed - rejected.filter((r) => r.reason === 'below-reserved').length,
            rejected,
          };
        },
      },
    },
  };
}

function pick(entry: { skuCode: string; warehouseCode: string }) {
  return { skuCode: entry.skuCode, warehouseCode: entry.warehouseCode };
}
