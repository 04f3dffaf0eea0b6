import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import type { PriceLinesResponse, PriceList } from '../../schemas/generated/types.ts';
import type { TestHub } from '../platform/testing/start-test-hub.ts';
import {
  asBuyer,
  asGuest,
  asStaff,
  assertMatchesSchema,
  createCompany,
  createProducts,
  startPricingHub,
  type TestSku,
} from './testing/pricing-hub.ts';

/**
 * The pricing service on a whole hub: price lists at every level built through its staff actions,
 * companies from accounts, SKUs and their visibility from the catalog, priced through
 * `pricing.price` and `pricing.internal.priceLines` with the meta the gateway would set.
 */

let t: TestHub;
let broker: moleculer.ServiceBroker;
let acme: string;
let beta: string;
let pending: string;
let skus: Map<string, TestSku>;
const lists: Record<string, PriceList> = {};
const staff = asStaff();

const sku = (code: string) => skus.get(code)!;

async function createList(body: Record<string, unknown>): Promise<PriceList> {
  const list = (await broker.call('pricing.priceLists.create', body, staff)) as PriceList;
  lists[list.code] = list;
  return list;
}

async function upsert(list: PriceList, prices: unknown[]) {
  return broker.call('pricing.priceLists.upsertPrices', { id: list.id, prices }, staff);
}

async function assign(list: PriceList, target: Record<string, unknown>) {
  return broker.call('pricing.priceLists.assign', { id: list.id, ...target }, staff) as Promise<{
    id: string;
  }>;
}

async function price(options: { meta: object }, lines: unknown[], extra: Record<string, unknown> = {}) {
  const answer = (await broker.call('pricing.price', { lines, ...extra }, options)) as PriceLinesResponse;
  assertMatchesSchema('api/pricing/price-lines-response', answer);
  return answer;
}

const fixedTier = (minQty: number, amountMinor: string) => ({ minQty, amountMinor });

beforeAll(async () => {
  t = await startPricingHub();
  broker = t.hub.broker;
  acme = await createCompany(broker, 'Acme', { tier: 'gold', tags: ['vip'] });
  beta = await createCompany(broker, 'Beta', { tier: 'gold' });
  pending = await createCompany(broker, 'Pending', { status: 'pending' });
  skus = await createProducts(broker, ['BOLT', 'NUT', 'WASHER', 'GASKET']);
  for (const [code, value] of await createProducts(broker, ['SECRET'], {
    isPublic: false,
    visibleTo: [acme],
  })) {
    skus.set(code, value);
  }
  for (const [code, value] of await createProducts(broker, ['OLD'], { lifecycle: 'discontinued' })) {
    skus.set(code, value);
  }

  const standard = await createList({ code: 'STANDARD', name: 'Standard prices', currency: 'CNY' });
  await assign(standard, { level: 'default' });
  await upsert(standard, [
    { skuCode: 'BOLT', tiers: [fixedTier(1, '1000'), fixedTier(10, '900'), fixedTier(100, '800')] },
    { skuCode: 'NUT', tiers: [fixedTier(1, '100')] },
    { skuCode: 'WASHER', tiers: [fixedTier(1, '10')] },
    { skuCode: 'SECRET', tiers: [fixedTier(1, '5000')] },
    { skuCode: 'OLD', tiers: [fixedTier(1, '10')] },
  ]);
  const gold = await createList({ code: 'GOLD', name: 'Gold tier', currency: 'CNY' });
  await assign(gold, { level: 'tier', tier: 'gold' });
  await upsert(gold, [{ skuId: sku('BOLT').skuId, tiers: [fixedTier(1, '950')] }]);
  const vip = await createList({ code: 'VIP', name: 'VIP group', currency: 'CNY', priority: 1 });
  await assign(vip, { level: 'group', tag: 'vip' });
  await upsert(vip, [{ skuCode: 'NUT', tiers: [fixedTier(1, '80')] }]);
  const contract = await createList({ code: 'ACME-2026', name: 'Acme contract 客户专属价', currency: 'CNY' });
  await assign(contract, { level: 'company', companyId: acme });
  await upsert(contract, [
    { skuCode: 'BOLT', tiers: [fixedTier(1, '700')] },
    { skuCode: 'WASHER', tiers: [{ minQty: 1, percentOffBasisPoints: 5000, baseListId: standard.id }] },
  ]);
  const usd = await createList({ code: 'EXPORT-USD', name: 'Export', currency: 'USD' });
  await assign(usd, { level: 'default' });
  await upsert(usd, [{ skuCode: 'BOLT', tiers: [fixedTier(1, '150')] }]);
  await broker.call(
    'pricing.quantityRules.create',
    { productId: sku('BOLT').productId, minQty: 5, increment: 5 },
    staff,
  );
  await broker.call(
    'pricing.quantityRules.create',
    { skuId: sku('NUT').skuId, companyId: acme, maxQty: 1000 },
    staff,
  );
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe('pricing a buyer', () => {
  it('prices each line from the most specific list: contract, group, percent off base, default', async () => {
    const answer = await price(
      asBuyer(acme),
      [
        { code: 'BOLT', quantity: 10 },
        { code: 'NUT', quantity: 3 },
        { skuId: sku('WASHER').skuId, quantity: 7 },
        { code: 'SECRET', quantity: 1 },
      ],
      { explain: true },
    );
    expect(
      answer.lines.map((l) => [l.code, l.priceListCode, l.unitPrice?.amountMinor, l.explanation?.level]),
    ).toEqual([
      ['BOLT', 'ACME-2026', '700', 'company'],
      ['NUT', 'VIP', '80', 'group'],
      ['WASHER', 'ACME-2026', '5', 'company'],
      ['SECRET', 'STANDARD', '5000', 'default'],
    ]);
    expect(answer.lines[2]!.explanation).toMatchObject({
      rule: 'percent-off',
      percentOffBasisPoints: 5000,
      base: { code: 'STANDARD', unitPrice: { amountMinor: '10', currency: 'CNY' } },
    });
    // 7000 + 240 + 35 + 5000 net, 13 % VAT per line: 910 + 31.2→31 + 4.55→5 + 650.
    expect(answer.totals).toEqual({
      net: { amountMinor: '12275', currency: 'CNY' },
      tax: { amountMinor: '1596', currency: 'CNY' },
      gross: { amountMinor: '13871', currency: 'CNY' },
      pricedLines: 4,
      errorLines: 0,
    });
    expect(answer.strategy).toBe('priority');
  });

  it("never applies or shows another company's contract prices, nor SKUs it may not see", async () => {
    const answer = await price(
      asBuyer(beta),
      [
        { code: 'BOLT', quantity: 10 },
        { code: 'WASHER', quantity: 7 },
        { code: 'SECRET', quantity: 1 },
        { code: 'NUT', quantity: 2000 },
      ],
      { explain: true },
    );
    expect(
      answer.lines.map((l) => [l.code, l.priceListCode, l.unitPrice?.amountMinor ?? l.errors[0]?.code]),
    ).toEqual([
      ['BOLT', 'GOLD', '950'],
      ['WASHER', 'STANDARD', '10'],
      ['SECRET', null, 'unavailable'],
      ['NUT', 'STANDARD', '100'], // Acme's maximum of 1000 is Acme's alone
    ]);
    const text = JSON.stringify(answer);
    expect(text).not.toContain(lists['ACME-2026']!.id);
    expect(text).not.toContain('ACME-2026');
    expect(text).not.toContain('VIP'); // not in Beta's groups either
    expect(answer.lines[2]!.productId).toBeNull();
  });

  it('reports quantity rules as line errors and leaves those lines out of the totals', async () => {
    const answer = await price(asBuyer(acme), [
      { code: 'BOLT', quantity: 3 },
      { code: 'BOLT', quantity: 12 },
      { code: 'NUT', quantity: 1001 },
      { code: 'BOLT', quantity: 15 },
      { code: 'OLD', quantity: 1 },
    ]);
    expect(answer.lines.map((l) => l.errors.map((e) => `${e.code} ${e.pointer}`))).toEqual([
      ['below-minimum /lines/0/quantity', 'not-a-multiple /lines/0/quantity'],
      ['not-a-multiple /lines/1/quantity'],
      ['above-maximum /lines/2/quantity'],
      [],
      ['not-orderable /lines/4'],
    ]);
    expect(answer.lines[3]!.quantityRule).toEqual({ minQty: '5', maxQty: null, increment: '5' });
    expect(answer.totals).toMatchObject({ pricedLines: 1, errorLines: 4, net: { amountMinor: '10500' } });
  });

  it('prices in the requested currency only: lists in another currency are no candidates', async () => {
    const answer = await price(
      asBuyer(acme),
      [
        { code: 'BOLT', quantity: 5 },
        { code: 'NUT', quantity: 1 },
      ],
      { currency: 'USD', explain: true },
    );
    expect(answer.currency).toBe('USD');
    expect(answer.lines[0]).toMatchObject({
      priceListCode: 'EXPORT-USD',
      unitPrice: { amountMinor: '150', currency: 'USD' },
    });
    expect(answer.lines[0]!.explanation!.candidates.map((c) => c.code)).toEqual(['EXPORT-USD']);
    expect(answer.lines[1]!.errors[0]!.code).toBe('no-price');
    await expect(
      broker.call(
        'pricing.price',
        { lines: [{ code: 'BOLT', quantity: 5 }], currency: 'XYZ' },
        asBuyer(acme),
      ),
    ).rejects.toMatchObject({ code: 400, data: { errors: [{ pointer: '/currency' }] } });
  });

  it('the mesh action prices the same for carts, with the buyer in meta', async () => {
    const lines = [{ code: 'BOLT', quantity: 10 }];
    const viaMesh = await broker.call('pricing.internal.priceLines', { lines }, asBuyer(acme));
    expect(viaMesh).toEqual(await price(asBuyer(acme), lines));
  });

  it('staff see the default level; guests get no amounts by default', async () => {
    const lines = [{ code: 'BOLT', quantity: 10 }];
    expect((await price(staff, lines)).lines[0]).toMatchObject({
      priceListCode: 'STANDARD',
      unitPrice: { amountMinor: '900' },
    });
    const guest = await price(asGuest, [...lines, { code: 'SECRET', quantity: 1 }]);
    expect(guest.lines.map((l) => [l.status, l.unitPrice])).toEqual([
      ['login-required', null],
      ['error', null],
    ]);
    expect(guest.totals.gross.amountMinor).toBe('0');
  });

  it('refuses a buyer of a company that is not active, and more than 500 lines with a pointer', async () => {
    await expect(price(asBuyer(pending), [{ code: 'BOLT', quantity: 5 }])).rejects.toMatchObject({
      code: 403,
    });
    const lines = Array.from({ length: 501 }, () => ({ code: 'BOLT', quantity: 5 }));
    await expect(broker.call('pricing.price', { lines }, asBuyer(acme))).rejects.toMatchObject({
      code: 400,
      data: { errors: [{ pointer: '/lines', detail: expect.stringMatching(/500/) }] },
    });
    const ok = await price(asBuyer(acme), lines.slice(0, 500));
    expect(ok.totals.pricedLines).toBe(500);
  });
});

describe('changes take effect at once', () => {
  it('a new contract price, a closed validity window and a removed assignment each change the next answer', async () => {
    const bolt = [{ code: 'BOLT', quantity: 5 }];
    const contract = lists['ACME-2026']!;
    await upsert(contract, [{ skuCode: 'BOLT', tiers: [fixedTier(1, '650')] }]);
    expect((await price(asBuyer(acme), bolt)).lines[0]!.unitPrice!.amountMinor).toBe('650');

    await broker.call(
      'pricing.priceLists.update',
      { id: contract.id, validTo: new Date(Date.now() - 1000).toISOString(), validFrom: null },
      staff,
    );
    const expired = await price(asBuyer(acme), bolt, { explain: true });
    expect(expired.lines[0]!.priceListCode).toBe('GOLD');
    expect(expired.lines[0]!.explanation!.candidates.find((c) => c.code === 'ACME-2026')!.outcome).toBe(
      'outside-validity',
    );
    await broker.call('pricing.priceLists.update', { id: contract.id, validTo: null }, staff);
    expect((await price(asBuyer(acme), bolt)).lines[0]!.priceListCode).toBe('ACME-2026');

    const { items } = (await broker.call('pricing.priceLists.assignments', { id: contract.id }, staff)) as {
      items: Array<{ id: string; companyId: string }>;
    };
    expect(items).toEqual([expect.objectContaining({ level: 'company', companyId: acme })]);
    await broker.call('pricing.priceLists.unassign', { id: contract.id, assignmentId: items[0]!.id }, staff);
    expect((await price(asBuyer(acme), bolt)).lines[0]!.priceListCode).toBe('GOLD');
    await assign(contract, { level: 'company', companyId: acme });
    expect((await price(asBuyer(acme), bolt)).lines[0]!.priceListCode).toBe('ACME-2026');
  });

  it('VAT rates per product and SKU change the tax of the next answer', async () => {
    await broker.call(
      'pricing.vatRates.set',
      { items: [{ productId: sku('GASKET').productId, rate: 9 }] },
      staff,
    );
    const gasket = await createList({
      code: 'GASKETS',
      name: 'Gaskets (incl. VAT)',
      currency: 'CNY',
      pricesIncludeTax: true,
    });
    await assign(gasket, { level: 'default' });
    await upsert(gasket, [{ skuCode: 'GASKET', tiers: [fixedTier(1, '109')] }]);
    const answer = await price(asBuyer(beta), [{ code: 'GASKET', quantity: 1 }], { explain: true });
    expect(answer.lines[0]).toMatchObject({
      vatRate: 9,
      pricesIncludeTax: true,
      net: { amountMinor: '100' },
      tax: { amountMinor: '9' },
      gross: { amountMinor: '109' },
    });
    expect(answer.lines[0]!.explanation!.vatRateSource).toBe('product');
    const set = (await broker.call(
      'pricing.vatRates.set',
      { items: [{ skuId: sku('GASKET').skuId, rate: 0 }] },
      staff,
    )) as {
      items: Array<{ id: string }>;
    };
    expect((await price(asBuyer(beta), [{ code: 'GASKET', quantity: 1 }])).lines[0]).toMatchObject({
      vatRate: 0,
      net: { amountMinor: '109' },
    });
    await broker.call('pricing.vatRates.delete', { id: set.items[0]!.id }, staff);
    expect((await price(asBuyer(beta), [{ code: 'GASKET', quantity: 1 }])).lines[0]!.vatRate).toBe(9);
  });
});

describe('staff maintenance', () => {
  it('needs pricing.manage to change and pricing.read to read; buyers are refused', async () => {
    const body = { code: 'NOPE', name: 'Nope', currency: 'CNY' };
    await expect(broker.call('pricing.priceLists.create', body, asBuyer(acme))).rejects.toMatchObject({
      code: 403,
    });
    await expect(
      broker.call('pricing.priceLists.create', body, asStaff(['pricing.read'])),
    ).rejects.toMatchObject({
      code: 403,
    });
    await expect(
      broker.call('pricing.priceLists.create', body, asStaff(['catalog.manage'])),
    ).rejects.toMatchObject({
      code: 403,
    });
    await expect(
      broker.call('pricing.priceLists.list', {}, asStaff(['catalog.manage'])),
    ).rejects.toMatchObject({
      code: 403,
    });
    const page = (await broker.call('pricing.priceLists.list', { limit: 2 }, asStaff(['pricing.read']))) as {
      items: PriceList[];
      nextCursor: string | null;
    };
    expect(page.items).toHaveLength(2);
    assertMatchesSchema('api/pricing/price-list-list-response', page);
    await expect(
      broker.call(
        'pricing.priceLists.upsertPrices',
        { id: lists.STANDARD!.id, prices: [{ skuCode: 'BOLT', tiers: [] }] },
        asBuyer(acme),
      ),
    ).rejects.toMatchObject({ code: 403 });
  });

  it('refuses unknown SKUs, duplicate tiers and bad base lists with pointers, storing nothing', async () => {
    const standard = lists.STANDARD!;
    const usd = lists['EXPORT-USD']!;
    const gross = lists.GASKETS!;
    const fails = async (prices: unknown[]) => {
      try {
        await upsert(lists.GOLD!, prices);
      } catch (error) {
        return (error as { code: number; data: { errors: Array<{ pointer: string }> } }).data.errors.map(
          (e) => e.pointer,
        );
      }
      throw new Error('the upsert was accepted');
    };
    expect(
      await fails([
        { skuCode: 'BOLT', tiers: [fixedTier(1, '1')] },
        { skuCode: 'NO-SUCH', tiers: [] },
      ]),
    ).toEqual(['/prices/1/skuCode']);
    expect(await fails([{ skuCode: 'BOLT', tiers: [fixedTier(1, '1'), fixedTier(1, '2')] }])).toEqual([
      '/prices/0/tiers/1/minQty',
    ]);
    expect(
      await fails([
        { skuCode: 'NUT', tiers: [{ minQty: 1, percentOffBasisPoints: 100, baseListId: usd.id }] },
        { skuCode: 'WASHER', tiers: [{ minQty: 1, percentOffBasisPoints: 100, baseListId: gross.id }] },
        { skuCode: 'BOLT', tiers: [{ minQty: 1, percentOffBasisPoints: 100, baseListId: lists.GOLD!.id }] },
        { skuCode: 'GASKET', tiers: [{ minQty: 1, percentOffBasisPoints: 100, baseListId: standard.id }] },
      ]),
    ).toEqual([
      '/prices/0/tiers/0/baseListId',
      '/prices/1/tiers/0/baseListId',
      '/prices/2/tiers/0/baseListId',
    ]);
    expect(
      await fails([
        { skuCode: 'BOLT', tiers: [] },
        { skuId: sku('BOLT').skuId, tiers: [] },
      ]),
    ).toEqual(['/prices/1']);
    const entries = (await broker.call('pricing.priceLists.prices', { id: lists.GOLD!.id }, staff)) as {
      items: unknown[];
    };
    expect(entries.items).toEqual([
      { skuId: sku('BOLT').skuId, unit: 'pcs', tiers: [{ minQty: 1, amountMinor: '950' }] },
    ]);
  });

  it('refuses a window that ends before it starts, an unknown currency and a duplicate code', async () => {
    await expect(
      broker.call(
        'pricing.priceLists.create',
        {
          code: 'W',
          name: 'W',
          currency: 'CNY',
          validFrom: '2026-02-01T00:00:00Z',
          validTo: '2026-01-01T00:00:00Z',
        },
        staff,
      ),
    ).rejects.toMatchObject({ code: 400, data: { errors: [{ pointer: '/validTo' }] } });
    await expect(
      broker.call('pricing.priceLists.create', { code: 'X', name: 'X', currency: 'CYN' }, staff),
    ).rejects.toMatchObject({
      code: 400,
      data: { errors: [{ pointer: '/currency' }] },
    });
    await expect(
      broker.call('pricing.priceLists.create', { code: 'STANDARD', name: 'again', currency: 'CNY' }, staff),
    ).rejects.toMatchObject({
      code: 409,
    });
    await expect(
      broker.call(
        'pricing.priceLists.assign',
        { id: lists.GOLD!.id, level: 'company', companyId: '00000000-0000-4000-8000-000000000001' },
        staff,
      ),
    ).rejects.toMatchObject({ code: 400, data: { errors: [{ pointer: '/companyId' }] } });
    await expect(
      broker.call('pricing.priceLists.assign', { id: lists.GOLD!.id, level: 'tier', tag: 'vip' }, staff),
    ).rejects.toMatchObject({ code: 400 });
  });

  it('keeps a list other lists take percentages from (409), deletes others with their prices', async () => {
    await expect(
      broker.call('pricing.priceLists.delete', { id: lists.STANDARD!.id }, staff),
    ).rejects.toMatchObject({
      code: 409,
      message: expect.stringContaining('ACME-2026'),
    });
    const temp = await createList({ code: 'TEMP', name: 'Temporary', currency: 'CNY' });
    await assign(temp, { level: 'default' });
    await upsert(temp, [{ skuCode: 'NUT', tiers: [fixedTier(1, '1')] }]);
    await broker.call('pricing.priceLists.delete', { id: temp.id }, staff);
    await expect(broker.call('pricing.priceLists.get', { id: temp.id }, staff)).rejects.toMatchObject({
      code: 404,
    });
    const { rows } = await t.hub.platform.db.query(
      'SELECT count(*)::int AS n FROM pricing.prices WHERE price_list_id = $1',
      [temp.id],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('audits every change and announces it through the outbox in the same transaction', async () => {
    const db = t.hub.platform.db;
    const gold = lists.GOLD!;
    await upsert(gold, [{ skuCode: 'NUT', tiers: [fixedTier(1, '90'), fixedTier(50, '85')] }]);
    const { rows: audit } = await db.query(
      `SELECT action, details FROM platform.audit_log WHERE entity_id = $1 ORDER BY id DESC LIMIT 1`,
      [gold.id],
    );
    expect(audit[0]).toMatchObject({
      action: 'price_list.prices_upserted',
      details: { entries: 1, tiers: 2, removed: 0, skuIds: [sku('NUT').skuId] },
    });
    const { rows: events } = await db.query(
      `SELECT payload FROM platform.outbox WHERE topic = 'price_list.changed' AND payload->>'priceListId' = $1 ORDER BY id DESC LIMIT 1`,
      [gold.id],
    );
    expect(events[0]!.payload).toMatchObject({ code: 'GOLD', change: 'prices', skuIds: [sku('NUT').skuId] });
    const { rows: all } = await db.query(
      `SELECT topic, payload FROM platform.outbox WHERE topic = ANY($1::text[])`,
      [['price_list.changed', 'quantity_rule.changed', 'vat_rate.changed']],
    );
    expect(new Set(all.map((r) => r.topic)).size).toBe(3);
    for (const { topic, payload } of all) {
      assertMatchesSchema(`events/${topic.replace('.', '-').replaceAll('_', '-')}`, payload);
    }
    const actions = (
      await db.query(
        `SELECT DISTINCT action FROM platform.audit_log WHERE action LIKE ANY(ARRAY['price_list.%', 'quantity_rule.%', 'vat_rate.%'])`,
      )
    ).rows.map((r) => r.action);
    expect(actions.sort()).toEqual(
      expect.arrayContaining([
        'price_list.assigned',
        'price_list.created',
        'price_list.deleted',
        'price_list.prices_upserted',
        'price_list.unassigned',
        'price_list.updated',
        'quantity_rule.created',
        'vat_rate.deleted',
        'vat_rate.set',
      ]),
    );
  });

  it('upserts more SKUs than one catalog lookup takes, by code; refuses 5,001 entries with a pointer', async () => {
    const category = (await broker.call(
      'catalog.categories.create',
      { slug: 'bulk', nameZh: '批量', nameEn: 'Bulk' },
      staff,
    )) as { id: string };
    const codes: string[] = [];
    for (const batch of [0, 1]) {
      const batchCodes = Array.from({ length: 350 }, (_, i) => `BULK-${batch}-${String(i).padStart(3, '0')}`);
      await broker.call(
        'catalog.products.create',
        {
          nameZh: `批量 ${batch}`,
          nameEn: `Bulk ${batch}`,
          categoryId: category.id,
          unitOfMeasure: 'pcs',
          skus: batchCodes.map((code) => ({ code })),
        },
        staff,
      );
      codes.push(...batchCodes);
    }
    const bulk = await createList({ code: 'BULK', name: 'Bulk', currency: 'CNY' });
    const answer = await upsert(
      bulk,
      codes.map((code, i) => ({ skuCode: code, unit: 'box', tiers: [fixedTier(1, String(100 + i))] })),
    );
    expect(answer).toEqual({ entries: 700, tiers: 700, removed: 0, version: 2 });
    const { rows } = await t.hub.platform.db.query(
      `SELECT count(*)::int AS n, min(amount_minor)::text AS lo, max(amount_minor)::text AS hi
         FROM pricing.prices WHERE price_list_id = $1 AND unit = 'box'`,
      [bulk.id],
    );
    expect(rows[0]).toEqual({ n: 700, lo: '100', hi: '799' });
    const tooMany = Array.from({ length: 5001 }, () => ({ skuCode: 'BOLT', tiers: [] }));
    await expect(upsert(bulk, tooMany)).rejects.toMatchObject({
      code: 400,
      data: { errors: [{ pointer: '/prices' }] },
    });
  });

  it('pages a list’s prices by SKU and unit', async () => {
    const standard = lists.STANDARD!;
    const first = (await broker.call('pricing.priceLists.prices', { id: standard.id, limit: 2 }, staff)) as {
      items: Array<{ skuId: string }>;
      nextCursor: string;
    };
    assertMatchesSchema('api/pricing/price-entry-list-response', first);
    const rest = (await broker.call(
      'pricing.priceLists.prices',
      { id: standard.id, limit: 50, cursor: first.nextCursor },
      staff,
    )) as {
      items: Array<{ skuId: string }>;
      nextCursor: string | null;
    };
    const all = [...first.items, ...rest.items].map((e) => e.skuId);
    expect(new Set(all).size).toBe(5);
    expect(rest.nextCursor).toBeNull();
  });

  it('quantity rules: one per product or SKU, company and unit; limits are checked', async () => {
    await expect(
      broker.call('pricing.quantityRules.create', { productId: sku('BOLT').productId, minQty: 1 }, staff),
    ).rejects.toMatchObject({ code: 409 });
    await expect(
      broker.call(
        'pricing.quantityRules.create',
        { skuId: sku('WASHER').skuId, minQty: 10, maxQty: 5 },
        staff,
      ),
    ).rejects.toMatchObject({ code: 400, data: { errors: [{ pointer: '/maxQty' }] } });
    await expect(
      broker.call(
        'pricing.quantityRules.create',
        { skuId: '00000000-0000-4000-8000-000000000002', minQty: 1 },
        staff,
      ),
    ).rejects.toMatchObject({ code: 400, data: { errors: [{ pointer: '/skuId' }] } });
    const rule = (await broker.call(
      'pricing.quantityRules.create',
      { skuId: sku('WASHER').skuId, increment: 10 },
      staff,
    )) as {
      id: string;
    };
    assertMatchesSchema('entities/pricing-quantity-rule', rule);
    expect((await price(asBuyer(beta), [{ code: 'WASHER', quantity: 15 }])).lines[0]!.errors[0]!.code).toBe(
      'not-a-multiple',
    );
    await broker.call('pricing.quantityRules.update', { id: rule.id, increment: 5 }, staff);
    expect((await price(asBuyer(beta), [{ code: 'WASHER', quantity: 15 }])).lines[0]!.status).toBe('priced');
    await expect(
      broker.call('pricing.quantityRules.update', { id: rule.id, increment: null }, staff),
    ).rejects.toMatchObject({
      code: 400,
    });
    await broker.call('pricing.quantityRules.delete', { id: rule.id }, staff);
    await expect(broker.call('pricing.quantityRules.get', { id: rule.id }, staff)).rejects.toMatchObject({
      code: 404,
    });
  });
});
