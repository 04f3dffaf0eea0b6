/**
 * Which warehouses a reservation takes from: a pure function of the lines and the stock the
 * reserving transaction has locked. The company's preferred warehouse first (when set and active),
 * then higher warehouse priority, then warehouse code; a line is split across warehouses when one
 * does not hold enough. All lines or none: any short line means no allocation at all.
 */

export interface WarehouseStock {
  warehouseId: string;
  code: string;
  priority: number;
  available: number;
}

export interface Allocation {
  skuId: string;
  warehouseId: string;
  quantity: number;
}

export interface Shortage {
  skuId: string;
  requested: number;
  available: number;
}

export type AllocationResult = { ok: true; allocations: Allocation[] } | { ok: false; shortages: Shortage[] };

/** Lines with the same SKU become one line with the summed quantity, sorted by SKU id. */
export function mergeLines(
  lines: ReadonlyArray<{ skuId: string; quantity: number }>,
): Array<{ skuId: string; quantity: number }> {
  const merged = new Map<string, number>();
  for (const line of lines) {
    const skuId = line.skuId.toLowerCase();
    merged.set(skuId, (merged.get(skuId) ?? 0) + line.quantity);
  }
  return [...merged]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([skuId, quantity]) => ({ skuId, quantity }));
}

/** The order warehouses are taken from. */
export function warehouseOrder(
  stock: readonly WarehouseStock[],
  preferredWarehouseId: string | null,
): WarehouseStock[] {
  return [...stock].sort((a, b) => {
    if (preferredWarehouseId) {
      if (a.warehouseId === preferredWarehouseId) return -1;
      if (b.warehouseId === preferredWarehouseId) return 1;
    }
    if (a.priority !== b.priority) return b.priority - a.priority;
    return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
  });
}

export function allocate(
  lines: ReadonlyArray<{ skuId: string; quantity: number }>,
  stockBySku: ReadonlyMap<string, readonly WarehouseStock[]>,
  preferredWarehouseId: string | null = null,
): AllocationResult {
  const allocations: Allocation[] = [];
  const shortages: Shortage[] = [];
  for (const line of mergeLines(lines)) {
    const candidates = warehouseOrder(
      (stockBySku.get(line.skuId) ?? []).filter((s) => s.available > 0),
      preferredWarehouseId,
    );
    const total = candidates.reduce((sum, s) => sum + s.available, 0);
    if (total < line.quantity) {
      shortages.push({ skuId: line.skuId, requested: line.quantity, available: total });
      continue;
    }
    let remaining = line.quantity;
    for (const candidate of candidates) {
      if (remaining === 0) break;
      const take = Math.min(candidate.available, remaining);
      allocations.push({ skuId: line.skuId, warehouseId: candidate.warehouseId, quantity: take });
      remaining -= take;
    }
  }
  return shortages.length ? { ok: false, shortages } : { ok: true, allocations };
}
