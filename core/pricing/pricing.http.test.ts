import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, logInAs, type TestHub } from '../platform/testing/start-test-hub.ts';
import {
  assertMatchesSchema,
  createCompany,
  createProducts,
  startPricingHub,
} from './testing/pricing-hub.ts';

/**
 * Pricing end to end through the gateway: staff build price lists over REST with the demo admin,
 * the demo buyer prices a cart, guests get no amounts (the default HUB_PRICING_GUEST_PRICES), and
 * errors come back as problem+json with pointers.
 */
const DEMO_STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
const DEMO_BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };

let t: TestHub;
let staff: string;
let buyer: string;
let acme: string;
// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;

beforeAll(async () => {
  t = await startPricingHub();
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  buyer = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  acme = (await http(t.baseUrl, 'GET', '/api/company', { token: buyer })).body.id;
  await createProducts(t.hub.broker, ['HTTP-BOLT', 'HTTP-NUT']);
  await createCompany(t.hub.broker, 'Bystander');
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe('pricing over HTTP', () => {
  let contract: Any;

  it('staff create a list (201, Location), assign it to a company, and upsert tiered prices', async () => {
    const created = await http(t.baseUrl, 'POST', '/api/staff/pricing/price-lists', {
      token: staff,
      body: {
        code: 'ACME-HTTP',
        name: 'Acme 客户专属价',
        currency: 'CNY',
        pricesIncludeTax: true,
        priority: 5,
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/staff/pricing/price-lists/${created.body.id}`);
    assertMatchesSchema('entities/price-list', created.body);
    contract = created.body;
    expect(contract).toMatchObject({
      pricesIncludeTax: true,
      priority: 5,
      active: true,
      version: 1,
      validTo: null,
    });

    const assigned = await http(
      t.baseUrl,
      'POST',
      `/api/staff/pricing/price-lists/${contract.id}/assignments`,
      {
        token: staff,
        body: { level: 'company', companyId: acme },
      },
    );
    expect(assigned.status).toBe(201);
    const location = assigned.headers.get('location')!;
    expect(location).toBe(`/api/staff/pricing/price-lists/${contract.id}/assignments/${assigned.body.id}`);
    expect((await http(t.baseUrl, 'GET', location, { token: staff })).body).toEqual(assigned.body);

    const standard = await http(t.baseUrl, 'POST', '/api/staff/pricing/price-lists', {
      token: staff,
      body: { code: 'STD-HTTP', name: 'Standard', currency: 'CNY', pricesIncludeTax: true },
    });
    await http(t.baseUrl, 'POST', `/api/staff/pricing/price-lists/${standard.body.id}/assignments`, {
      token: staff,
      body: { level: 'default' },
    });
    const standardPrices = await http(
      t.baseUrl,
      'POST',
      `/api/staff/pricing/price-lists/${standard.body.id}/prices`,
      {
        token: staff,
        body: {
          prices: [
            { skuCode: 'HTTP-BOLT', tiers: [{ minQty: 1, amountMinor: '1130' }] },
            { skuCode: 'HTTP-NUT', tiers: [{ minQty: 1, amountMinor: '113' }] },
          ],
        },
      },
    );
    expect(standardPrices.status).toBe(200);
    const upserted = await http(t.baseUrl, 'POST', `/api/staff/pricing/price-lists/${contract.id}/prices`, {
      token: staff,
      body: {
        prices: [
          {
            skuCode: 'HTTP-BOLT',
            tiers: [
              { minQty: 1, amountMinor: '1017' },
              { minQty: 100, percentOffBasisPoints: 2000, baseListId: standard.body.id },
            ],
          },
        ],
      },
    });
    expect(upserted.status).toBe(200);
    expect(upserted.body).toEqual({ entries: 1, tiers: 2, removed: 0, version: 3 });
  });

  it('the buyer prices a cart: contract and default lines, VAT taken out of gross prices, totals', async () => {
    const answer = await http(t.baseUrl, 'POST', '/api/pricing/price', {
      token: buyer,
      body: {
        lines: [
          { code: 'HTTP-BOLT', quantity: 3 },
          { code: 'HTTP-BOLT', quantity: 100 },
          { code: 'HTTP-NUT', quantity: 10 },
          { code: 'NO-SUCH-SKU', quantity: 1 },
        ],
        explain: true,
      },
    });
    expect(answer.status).toBe(200);
    assertMatchesSchema('api/pricing/price-lines-response', answer.body);
    const lines = answer.body.lines;
    expect(
      lines.map((l: Any) => [
        l.priceListCode,
        l.unitPrice?.amountMinor,
        l.net?.amountMinor,
        l.tax?.amountMinor,
      ]),
    ).toEqual([
      ['ACME-HTTP', '1017', '2700', '351'], // 3051 gross: tax = 3051 × 13 / 113 = 351
      ['ACME-HTTP', '904', '80000', '10400'], // 20 % off 1130, 90400 gross
      ['STD-HTTP', '113', '1000', '130'],
      [null, undefined, undefined, undefined],
    ]);
    expect(lines[1].explanation).toMatchObject({
      rule: 'percent-off',
      base: { code: 'STD-HTTP' },
      minQty: '100',
    });
    expect(lines[3].errors).toEqual([
      { code: 'unavailable', pointer: '/lines/3/code', detail: expect.any(String) },
    ]);
    expect(answer.body.totals).toEqual({
      net: { amountMinor: '83700', currency: 'CNY' },
      tax: { amountMinor: '10881', currency: 'CNY' },
      gross: { amountMinor: '94581', currency: 'CNY' },
      pricedLines: 3,
      errorLines: 1,
    });
    expect(answer.body.taxes).toEqual([
      {
        rate: 13,
        net: { amountMinor: '83700', currency: 'CNY' },
        tax: { amountMinor: '10881', currency: 'CNY' },
        gross: { amountMinor: '94581', currency: 'CNY' },
      },
    ]);
  });

  it('guests get the lines without amounts; another company never sees the contract', async () => {
    const guest = await http(t.baseUrl, 'POST', '/api/pricing/price', {
      body: { lines: [{ code: 'HTTP-BOLT', quantity: 3 }] },
    });
    expect(guest.status).toBe(200);
    expect(guest.body.lines[0]).toMatchObject({ status: 'login-required', unitPrice: null, gross: null });
    expect(JSON.stringify(guest.body)).not.toContain('1017');

    await http(t.baseUrl, 'POST', '/api/staff/companies', {
      token: staff,
      body: {
        name: 'Other Co',
        status: 'active',
        admin: { email: 'admin@other.example', displayName: 'Other', password: 'other-password-1' },
      },
    });
    const other = await logInAs(t.baseUrl, 'admin@other.example', 'other-password-1');
    const answer = await http(t.baseUrl, 'POST', '/api/pricing/price', {
      token: other,
      body: { lines: [{ code: 'HTTP-BOLT', quantity: 100 }], explain: true },
    });
    expect(answer.body.lines[0]).toMatchObject({
      priceListCode: 'STD-HTTP',
      unitPrice: { amountMinor: '1130' },
    });
    expect(JSON.stringify(answer.body)).not.toContain(contract.id);
  });

  it('answers problem+json with a pointer for 501 lines, and 403 for a buyer on staff routes', async () => {
    const tooMany = await http(t.baseUrl, 'POST', '/api/pricing/price', {
      token: buyer,
      body: { lines: Array.from({ length: 501 }, () => ({ code: 'HTTP-BOLT', quantity: 1 })) },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(tooMany.body.errors).toEqual([{ pointer: '/lines', detail: expect.stringMatching(/500/) }]);

    const both = await http(t.baseUrl, 'POST', '/api/pricing/price', {
      token: buyer,
      body: { lines: [{ code: 'HTTP-BOLT', skuId: '00000000-0000-4000-8000-000000000000', quantity: 1 }] },
    });
    expect(both.status).toBe(400);
    expect(both.body.errors[0].pointer).toMatch(/^\/lines\/0/);

    const forbidden = await http(t.baseUrl, 'GET', '/api/staff/pricing/price-lists', { token: buyer });
    expect(forbidden.status).toBe(403);
    const unknownList = await http(
      t.baseUrl,
      'GET',
      '/api/staff/pricing/price-lists/00000000-0000-4000-8000-000000000000',
      { token: staff },
    );
    expect(unknownList.status).toBe(404);
  });

  it('every pricing route is in the OpenAPI document', async () => {
    const { body } = await http(t.baseUrl, 'GET', '/api/openapi.json');
    expect(
      Object.keys(body.paths)
        .filter((p) => p.includes('pricing'))
        .sort(),
    ).toEqual([
      '/api/pricing/price',
      '/api/staff/pricing/price-lists',
      '/api/staff/pricing/price-lists/{id}',
      '/api/staff/pricing/price-lists/{id}/assignments',
      '/api/staff/pricing/price-lists/{id}/assignments/{assignmentId}',
      '/api/staff/pricing/price-lists/{id}/prices',
      '/api/staff/pricing/quantity-rules',
      '/api/staff/pricing/quantity-rules/{id}',
      '/api/staff/pricing/vat-rates',
      '/api/staff/pricing/vat-rates/{id}',
    ]);
  });
});
