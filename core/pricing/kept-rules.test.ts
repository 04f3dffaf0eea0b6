import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import type { PriceLinesResponse, PriceList } from '../../schemas/generated/types.ts';
import type { TestHub } from '../platform/testing/start-test-hub.ts';
import { MAX_KEPT_RULES_AND_RATES } from './price-lines.ts';
import {
  asBuyer,
  asStaff,
  createCompany,
  createProducts,
  startPricingHub,
  type TestSku,
} from './testing/pricing-hub.ts';

/**
 * Each pricing process keeps the deployment's quantity rules and VAT rates in memory and checks,
 * with every request's tier query, the version the database bumps on any change of them. So a
 * change made anywhere — an action on another node, the demo seed, SQL by hand — applies to the
 * very next request, and a deployment with more rules than can be kept still prices correctly.
 */
let t: TestHub;
let broker: moleculer.ServiceBroker;
let company: string;
let sku: TestSku;

beforeAll(async () => {
  t = await startPricingHub();
  broker = t.hub.broker;
  company = await createCompany(broker, 'Kept rules buyer');
  sku = (await createProducts(broker, ['KEPT-1'])).get('KEPT-1')!;
  const list = (await broker.call(
    'pricing.priceLists.create',
    { code: 'KEPT-STD', name: 'Kept standard', currency: 'CNY' },
    asStaff(),
  )) as PriceList;
  await broker.call('pricing.priceLists.assign', { id: list.id, level: 'default' }, asStaff());
  await broker.call(
    'pricing.priceLists.upsertPrices',
    { id: list.id, prices: [{ skuId: sku.skuId, tiers: [{ minQty: 1, amountMinor: '1000' }] }] },
    asStaff(),
  );
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

async function priceOne(quantity: number) {
  const answer = (await broker.call(
    'pricing.price',
    { lines: [{ skuId: sku.skuId, quantity }], explain: true },
    asBuyer(company),
  )) as PriceLinesResponse;
  return answer.lines[0]!;
}

const sql = (text: string, values: unknown[] = []) => t.hub.platform.db.query(text, values);

describe('kept quantity rules and VAT rates', () => {
  it('a rule or rate written straight into the tables applies to the next request', async () => {
    expect((await priceOne(3)).status).toBe('priced');
    const before = await priceOne(3);
    expect(before.vatRate).toBe(13);

    // Bypassing the actions (and their events): only the database knows.
    await sql('INSERT INTO pricing.quantity_rules (sku_id, min_qty, increment) VALUES ($1, 5, 5)', [
      sku.skuId,
    ]);
    const ruled = await priceOne(3);
    expect(ruled.errors.map((e) => e.code)).toEqual(['below-minimum', 'not-a-multiple']);
    await sql('INSERT INTO pricing.vat_rates (product_id, rate) VALUES ($1, 6)', [sku.productId]);
    const taxed = await priceOne(10);
    expect(taxed).toMatchObject({ status: 'priced', vatRate: 6 });

    await sql('DELETE FROM pricing.quantity_rules WHERE sku_id = $1', [sku.skuId]);
    await sql('UPDATE pricing.vat_rates SET rate = 9 WHERE product_id = $1', [sku.productId]);
    const after = await priceOne(3);
    expect(after).toMatchObject({ status: 'priced', vatRate: 9, errors: [] });
  }, 60_000);

  it("another company's rule never applies, kept or not", async () => {
    const other = randomUUID();
    await sql('INSERT INTO pricing.quantity_rules (sku_id, company_id, max_qty) VALUES ($1, $2, 2)', [
      sku.skuId,
      other,
    ]);
    expect((await priceOne(7)).errors).toEqual([]);
    await sql('INSERT INTO pricing.quantity_rules (sku_id, company_id, max_qty) VALUES ($1, $2, 2)', [
      sku.skuId,
      company,
    ]);
    expect((await priceOne(7)).errors.map((e) => e.code)).toEqual(['above-maximum']);
    await sql('DELETE FROM pricing.quantity_rules WHERE sku_id = $1', [sku.skuId]);
  }, 60_000);

  it('more rates than can be kept are queried per request, with the same answers', async () => {
    // Rates of products that do not exist fill the table past the bound.
    await sql(
      `INSERT INTO pricing.vat_rates (product_id, rate)
       SELECT gen_random_uuid(), 0 FROM generate_series(1, $1)`,
      [MAX_KEPT_RULES_AND_RATES],
    );
    expect(await priceOne(4)).toMatchObject({ status: 'priced', vatRate: 9 });
    await sql('UPDATE pricing.vat_rates SET rate = 0 WHERE product_id = $1', [sku.productId]);
    expect(await priceOne(4)).toMatchObject({ status: 'priced', vatRate: 0 });
    await sql('INSERT INTO pricing.quantity_rules (product_id, increment) VALUES ($1, 4)', [sku.productId]);
    expect((await priceOne(6)).errors.map((e) => e.code)).toEqual(['not-a-multiple']);
    // Back under the bound: kept again, and still current.
    await sql('DELETE FROM pricing.vat_rates WHERE product_id <> $1', [sku.productId]);
    expect((await priceOne(8)).errors).toEqual([]);
    await sql('UPDATE pricing.vat_rates SET rate = 13 WHERE product_id = $1', [sku.productId]);
    expect(await priceOne(8)).toMatchObject({ status: 'priced', vatRate: 13 });
  }, 60_000);
});
