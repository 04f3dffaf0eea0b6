import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PriceLinesResponse } from '../../schemas/generated/types.ts';
import { loadPricingConfig, PricingConfigError } from './pricing-config.ts';
import {
  asBuyer,
  asGuest,
  asStaff,
  createCompany,
  createProducts,
  startPricingHub,
} from './testing/pricing-hub.ts';

describe('loadPricingConfig', () => {
  it('defaults: priority, prices hidden from guests, CNY, 13 % VAT, a 5 s cache', () => {
    expect(loadPricingConfig({})).toEqual({
      precedence: 'priority',
      guestPrices: 'hidden',
      defaultCurrency: 'CNY',
      defaultVatRate: 13,
      cacheMs: 5000,
    });
  });

  it('reads every setting and refuses what it does not know, naming the variable', () => {
    expect(
      loadPricingConfig({
        HUB_PRICING_PRECEDENCE: 'lowest',
        HUB_PRICING_GUEST_PRICES: 'on-request',
        HUB_PRICING_CURRENCY: 'USD',
        HUB_PRICING_DEFAULT_VAT_RATE: '6',
        HUB_PRICING_CACHE_MS: '0',
      }),
    ).toEqual({
      precedence: 'lowest',
      guestPrices: 'on-request',
      defaultCurrency: 'USD',
      defaultVatRate: 6,
      cacheMs: 0,
    });
    for (const [name, value] of [
      ['HUB_PRICING_PRECEDENCE', 'cheapest'],
      ['HUB_PRICING_GUEST_PRICES', 'shown'],
      ['HUB_PRICING_CURRENCY', 'RMB'],
      ['HUB_PRICING_DEFAULT_VAT_RATE', '17'],
      ['HUB_PRICING_DEFAULT_VAT_RATE', '13.0'],
      ['HUB_PRICING_CACHE_MS', '-1'],
    ] as const) {
      expect(() => loadPricingConfig({ [name]: value })).toThrow(PricingConfigError);
      expect(() => loadPricingConfig({ [name]: value })).toThrow(name);
    }
  });
});

/** A hub per configuration: the strategy and the guests' view are per deployment. */
async function pricedHub(env: Record<string, string>) {
  const t = await startPricingHub(env);
  const broker = t.hub.broker;
  const staff = asStaff();
  const company = await createCompany(broker, 'Gamma', { tier: 'silver' });
  await createProducts(broker, ['CFG-BOLT']);
  const list = async (code: string, target: Record<string, unknown>, amount: string) => {
    const created = (await broker.call(
      'pricing.priceLists.create',
      { code, name: code, currency: 'CNY' },
      staff,
    )) as {
      id: string;
    };
    await broker.call('pricing.priceLists.assign', { id: created.id, ...target }, staff);
    await broker.call(
      'pricing.priceLists.upsertPrices',
      { id: created.id, prices: [{ skuCode: 'CFG-BOLT', tiers: [{ minQty: 1, amountMinor: amount }] }] },
      staff,
    );
  };
  await list('CFG-CONTRACT', { level: 'company', companyId: company }, '900');
  await list('CFG-SILVER', { level: 'tier', tier: 'silver' }, '850');
  await list('CFG-DEFAULT', { level: 'default' }, '1000');
  const price = async (options: object) =>
    (await broker.call(
      'pricing.price',
      { lines: [{ code: 'CFG-BOLT', quantity: 1 }] },
      options,
    )) as PriceLinesResponse;
  return { t, broker, company, price };
}

describe('HUB_PRICING_PRECEDENCE=lowest, HUB_PRICING_GUEST_PRICES=on-request', () => {
  let hub: Awaited<ReturnType<typeof pricedHub>>;
  beforeAll(async () => {
    hub = await pricedHub({ HUB_PRICING_PRECEDENCE: 'lowest', HUB_PRICING_GUEST_PRICES: 'on-request' });
  }, 120_000);
  afterAll(async () => {
    await hub?.t.stop();
  });

  it('the lowest price wins over the contract', async () => {
    const answer = await hub.price(asBuyer(hub.company));
    expect(answer.strategy).toBe('lowest');
    expect(answer.lines[0]).toMatchObject({ priceListCode: 'CFG-SILVER', unitPrice: { amountMinor: '850' } });
  });

  it('guests see "price on request"', async () => {
    expect((await hub.price(asGuest)).lines[0]).toMatchObject({ status: 'on-request', unitPrice: null });
  });
});

describe('HUB_PRICING_GUEST_PRICES=default', () => {
  let hub: Awaited<ReturnType<typeof pricedHub>>;
  beforeAll(async () => {
    hub = await pricedHub({ HUB_PRICING_GUEST_PRICES: 'default' });
  }, 120_000);
  afterAll(async () => {
    await hub?.t.stop();
  });

  it('guests see the default level’s prices, and only those', async () => {
    const answer = await hub.price(asGuest);
    expect(answer.lines[0]).toMatchObject({
      status: 'priced',
      priceListCode: 'CFG-DEFAULT',
      unitPrice: { amountMinor: '1000' },
    });
    expect((await hub.price(asBuyer(hub.company))).lines[0]!.priceListCode).toBe('CFG-CONTRACT');
  });
});
