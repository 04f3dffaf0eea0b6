import { expect, it } from '@jest/globals';
import { InventoryConfigError, loadInventoryConfig } from './inventory-config.ts';

it('defaults: per-warehouse detail for buyers, 30-minute reservations, a sweep a minute', () => {
  expect(loadInventoryConfig({})).toEqual({
    buyerDetail: 'per_warehouse',
    reservationTtlSeconds: 1800,
    sweepSeconds: 60,
  });
});

it('reads each setting and refuses a bad value naming the variable', () => {
  expect(
    loadInventoryConfig({
      HUB_INVENTORY_BUYER_DETAIL: 'none',
      HUB_INVENTORY_RESERVATION_TTL_SECONDS: '900',
      HUB_INVENTORY_SWEEP_SECONDS: '0',
    }),
  ).toEqual({ buyerDetail: 'none', reservationTtlSeconds: 900, sweepSeconds: 0 });
  for (const [name, value] of [
    ['HUB_INVENTORY_BUYER_DETAIL', 'warehouses'],
    ['HUB_INVENTORY_RESERVATION_TTL_SECONDS', '0'],
    ['HUB_INVENTORY_RESERVATION_TTL_SECONDS', '30'],
    ['HUB_INVENTORY_RESERVATION_TTL_SECONDS', '1e3'],
    ['HUB_INVENTORY_SWEEP_SECONDS', '3601'],
    ['HUB_INVENTORY_SWEEP_SECONDS', '-1'],
  ] as const) {
    expect(() => loadInventoryConfig({ [name]: value })).toThrow(InventoryConfigError);
    expect(() => loadInventoryConfig({ [name]: value })).toThrow(`${name}=${value}`);
  }
});
