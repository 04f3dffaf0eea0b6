import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { allocate, mergeLines, type WarehouseStock } from './allocation.ts';

const SKU_A = '00000000-0000-4000-8000-00000000000a';
const SKU_B = '00000000-0000-4000-8000-00000000000b';
const stock = (warehouseId: string, code: string, priority: number, available: number): WarehouseStock => ({
  warehouseId,
  code,
  priority,
  available,
});

describe('allocate', () => {
  const warehouses = [stock('w-sh', 'SH', 10, 5), stock('w-gz', 'GZ', 0, 20), stock('w-bj', 'BJ', 10, 3)];

  it('takes from higher priority first, code breaking ties, and splits a line when one warehouse is short', () => {
    const result = allocate([{ skuId: SKU_A, quantity: 12 }], new Map([[SKU_A, warehouses]]));
    expect(result).toEqual({
      ok: true,
      allocations: [
        { skuId: SKU_A, warehouseId: 'w-bj', quantity: 3 },
        { skuId: SKU_A, warehouseId: 'w-sh', quantity: 5 },
        { skuId: SKU_A, warehouseId: 'w-gz', quantity: 4 },
      ],
    });
  });

  it("takes from the company's preferred warehouse first, whatever its priority", () => {
    const result = allocate([{ skuId: SKU_A, quantity: 4 }], new Map([[SKU_A, warehouses]]), 'w-gz');
    expect(result).toEqual({ ok: true, allocations: [{ skuId: SKU_A, warehouseId: 'w-gz', quantity: 4 }] });
  });

  it('allocates nothing when any line is short, and names every short line with what is available', () => {
    const result = allocate(
      [
        { skuId: SKU_A, quantity: 28 },
        { skuId: SKU_B, quantity: 1 },
        { skuId: SKU_A, quantity: 1 },
      ],
      new Map([[SKU_A, warehouses]]),
    );
    expect(result).toEqual({
      ok: false,
      shortages: [
        { skuId: SKU_A, requested: 29, available: 28 },
        { skuId: SKU_B, requested: 1, available: 0 },
      ],
    });
  });

  it('merges lines of the same SKU (any case) and sorts them by SKU id', () => {
    expect(
      mergeLines([
        { skuId: SKU_B, quantity: 1 },
        { skuId: SKU_A.toUpperCase(), quantity: 2 },
        { skuId: SKU_A, quantity: 3 },
      ]),
    ).toEqual([
      { skuId: SKU_A, quantity: 5 },
      { skuId: SKU_B, quantity: 1 },
    ]);
  });

  it('never takes more than a warehouse has, and gives each line exactly its quantity or refuses all', () => {
    const skuIds = [SKU_A, SKU_B];
    const warehouseArb = fc.uniqueArray(
      fc.record({
        warehouseId: fc.constantFrom('w1', 'w2', 'w3', 'w4'),
        code: fc.constantFrom('A', 'B', 'C'),
        priority: fc.integer({ min: -2, max: 2 }),
        available: fc.integer({ min: -3, max: 30 }),
      }),
      { selector: (w) => w.warehouseId, maxLength: 4 },
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ skuId: fc.constantFrom(...skuIds), quantity: fc.integer({ min: 1, max: 60 }) }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        warehouseArb,
        warehouseArb,
        fc.option(fc.constantFrom('w1', 'w2', 'w3', 'w4'), { nil: null }),
        (lines, stockA, stockB, preferred) => {
          const bySku = new Map([
            [SKU_A, stockA],
            [SKU_B, stockB],
          ]);
          const result = allocate(lines, bySku, preferred);
          const wanted = new Map(mergeLines(lines).map((l) => [l.skuId, l.quantity]));
          const totalOf = (skuId: string) =>
            bySku.get(skuId)!.reduce((sum, s) => sum + Math.max(0, s.available), 0);
          if (!result.ok) {
            // Refused only when some line really is short, and every short line is named.
            const short = [...wanted].filter(([skuId, q]) => totalOf(skuId) < q).map(([skuId]) => skuId);
            expect(result.shortages.map((s) => s.skuId)).toEqual(short);
            expect(short.length).toBeGreaterThan(0);
            return;
          }
          for (const [skuId, quantity] of wanted) {
            const taken = result.allocations.filter((a) => a.skuId === skuId);
            expect(taken.reduce((sum, a) => sum + a.quantity, 0)).toBe(quantity);
            for (const a of taken) {
              const from = bySku.get(skuId)!.find((s) => s.warehouseId === a.warehouseId)!;
              expect(a.quantity).toBeGreaterThan(0);
              expect(a.quantity).toBeLessThanOrEqual(from.available);
            }
            // The preferred warehouse, when it has any, is drained before any other is touched.
            const own = bySku.get(skuId)!.find((s) => s.warehouseId === preferred && s.available > 0);
            if (own && taken.length > 1) {
              expect(taken[0]).toEqual({ skuId, warehouseId: own.warehouseId, quantity: own.available });
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
