import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { PriceLinesResponse } from '../../schemas/generated/types.ts';
import type { TestHub } from '../platform/testing/start-test-hub.ts';
import { DEMO_PRICE_LISTS, type DemoSku, seedDemoPrices } from './demo-data.ts';
import { asBuyer, asStaff, createCompany, createProducts, startPricingHub } from './testing/pricing-hub.ts';

let t: TestHub;
let acme: string;
let gold: string;
let skus: DemoSku[];

beforeAll(async () => {
  t = await startPricingHub();
  acme = await createCompany(t.hub.broker, 'Acme demo');
  gold = await createCompany(t.hub.broker, 'Gold demo', { tier: 'gold' });
  const created = await createProducts(
    t.hub.broker,
    Array.from({ length: 10 }, (_, i) => `DEMO-${String(i).padStart(2, '0')}`),
  );
  const { items } = (await t.hub.broker.call(
    'catalog.internal.skus',
    { skuIds: [...created.values()].map((s) => s.skuId) },
    asStaff(),
  )) as { items: Array<{ skuId: string; code: string; productId: string; unitOfMeasure: string }> };
  skus = items.map((s) => ({ ...s, packSize: 1 }));
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

it('seeds a default, a gold-tier and an Acme contract list that price the demo catalog, once', async () => {
  expect(await seedDemoPrices(t.hub.platform.db, { skus, acmeCompanyId: acme })).toEqual({ created: true });
  expect(await seedDemoPrices(t.hub.platform.db, { skus, acmeCompanyId: acme })).toEqual({ created: false });
  const { rows } = await t.hub.platform.db.query('SELECT code FROM pricing.price_lists ORDER BY code');
  expect(rows.map((r) => r.code)).toEqual(Object.values(DEMO_PRICE_LISTS).sort());

  const lines = skus.map((s) => ({ skuId: s.skuId, quantity: 10 }));
  const price = async (companyId: string) =>
    (await t.hub.broker.call(
      'pricing.price',
      { lines, explain: true },
      asBuyer(companyId),
    )) as PriceLinesResponse;
  const forAcme = await price(acme);
  const forGold = await price(gold);
  const sorted = [...skus].sort((a, b) => (a.code < b.code ? -1 : 1));
  for (const line of forAcme.lines) {
    const contracted = sorted.findIndex((s) => s.skuId === line.skuId) < 8;
    expect(line.priceListCode).toBe(contracted ? DEMO_PRICE_LISTS.contract : DEMO_PRICE_LISTS.standard);
  }
  for (const line of forGold.lines) {
    expect(line).toMatchObject({
      status: 'priced',
      priceListCode: DEMO_PRICE_LISTS.gold,
      pricesIncludeTax: true,
    });
    expect(line.explanation).toMatchObject({ rule: 'percent-off', percentOffBasisPoints: 800, minQty: '10' });
    // The gold price is 8 % off the standard list's tier at the same quantity.
    const standard = BigInt(line.explanation!.base!.unitPrice.amountMinor);
    expect(BigInt(line.unitPrice!.amountMinor)).toBe((standard * 9200n + 5000n) / 10_000n);
  }
  // The first product sells in tens.
  const first = sorted[0]!;
  const odd = (await t.hub.broker.call(
    'pricing.price',
    { lines: [{ skuId: first.skuId, quantity: 5 }] },
    asBuyer(gold),
  )) as PriceLinesResponse;
  expect(odd.lines[0]!.errors.map((e) => e.code)).toEqual(['below-minimum', 'not-a-multiple']);
});
