import { expect, it } from '@jest/globals';
import { validators } from '../../schemas/generated/validators.js';
import { schemaId } from '../../schemas/index.ts';
import { buyerView } from './availability.actions.ts';
import type { SkuAvailability } from './stock-levels.ts';

function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validators[schemaId(name)]!;
  expect([validate(structuredClone(value)), validate.errors ?? null]).toEqual([true, null]);
}

const SKU = '00000000-0000-4000-8000-00000000000a';
const EMPTY = '00000000-0000-4000-8000-00000000000b';
const warehouse = (code: string, available: number, visibleToBuyers: boolean) => ({
  warehouseId: `00000000-0000-4000-8000-0000000000${code === 'SH' ? '01' : '02'}`,
  code,
  name: `${code} 仓`,
  region: null,
  visibleToBuyers,
  available,
});
const items: SkuAvailability[] = [
  { skuId: SKU, available: 12, warehouses: [warehouse('SH', 5, true), warehouse('BJ', 7, false)] },
  { skuId: EMPTY, available: 0, warehouses: [] },
];

it('per_warehouse: the total, and by name only the warehouses shown to buyers (多仓库存)', () => {
  const view = buyerView(items, 'per_warehouse');
  assertMatchesSchema('api/inventory/availability-response', view);
  expect(view.items).toEqual([
    {
      skuId: SKU,
      inStock: true,
      available: 12,
      warehouses: [
        {
          warehouseId: warehouse('SH', 5, true).warehouseId,
          code: 'SH',
          name: 'SH 仓',
          region: null,
          available: 5,
        },
      ],
    },
    { skuId: EMPTY, inStock: false, available: 0, warehouses: [] },
  ]);
});

it('total: one number per SKU; none: only whether it is in stock', () => {
  const total = buyerView(items, 'total');
  assertMatchesSchema('api/inventory/availability-response', total);
  expect(total.items).toEqual([
    { skuId: SKU, inStock: true, available: 12 },
    { skuId: EMPTY, inStock: false, available: 0 },
  ]);
  const none = buyerView(items, 'none');
  assertMatchesSchema('api/inventory/availability-response', none);
  expect(none).toEqual({
    detail: 'none',
    items: [
      { skuId: SKU, inStock: true },
      { skuId: EMPTY, inStock: false },
    ],
  });
});
