import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  type CandidateList,
  type EngineInput,
  type ListMeta,
  type PricedLine,
  type PriceLevel,
  priceLines,
  type QuantityRule,
  type SkuFacts,
  type TierRow,
} from './price-engine.ts';
import { VAT_RATES, type VatRate } from './pricing-config.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
let n = 0;
const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

function list(code: string, level: PriceLevel, extra: Partial<CandidateList> = {}): CandidateList {
  return {
    id: id(),
    code,
    currency: 'CNY',
    pricesIncludeTax: false,
    priority: 0,
    validFrom: null,
    validTo: null,
    active: true,
    level,
    ...extra,
  };
}

function sku(code: string, extra: Partial<SkuFacts> = {}): SkuFacts {
  return { skuId: id(), code, productId: id(), unitOfMeasure: 'pcs', orderable: true, ...extra };
}

function fixed(l: ListMeta, s: SkuFacts, minQty: number, amount: number, unit = 'pcs'): TierRow {
  return {
    priceListId: l.id,
    skuId: s.skuId,
    unit,
    minQty: BigInt(minQty),
    amountMinor: BigInt(amount),
    percentOffBp: null,
    baseListId: null,
  };
}

function percent(l: ListMeta, s: SkuFacts, minQty: number, bp: number, base: ListMeta): TierRow {
  return {
    priceListId: l.id,
    skuId: s.skuId,
    unit: 'pcs',
    minQty: BigInt(minQty),
    amountMinor: null,
    percentOffBp: bp,
    baseListId: base.id,
  };
}

function input(partial: Partial<EngineInput>): EngineInput {
  return {
    lines: [],
    skus: [],
    candidates: [],
    tiers: [],
    baseLists: new Map(),
    rules: [],
    vatRates: { bySku: new Map(), byProduct: new Map() },
    defaultVatRate: 13,
    strategy: 'priority',
    currency: 'CNY',
    companyId: null,
    mode: 'price',
    now: NOW,
    explain: true,
    ...partial,
  };
}

const unit = (line: PricedLine) => line.unitPrice?.amountMinor;

// One SKU priced in a contract, a group, a tier and the default list.
const bolt = sku('BOLT-M8');
const contract = list('CONTRACT', 'company');
const group = list('GROUP', 'group', { priority: 5 });
const tier = list('GOLD', 'tier');
const standard = list('STANDARD', 'default');
const all = [standard, tier, group, contract];

describe('precedence', () => {
  const tiers = [
    fixed(contract, bolt, 1, 800),
    fixed(group, bolt, 1, 700),
    fixed(tier, bolt, 1, 900),
    fixed(standard, bolt, 1, 1000),
  ];

  it('priority: the most specific level with a price wins, whatever the amounts', () => {
    const result = priceLines(
      input({ lines: [{ code: 'BOLT-M8', quantity: 1 }], skus: [bolt], candidates: all, tiers }),
    );
    const [line] = result.lines;
    expect(line!.status).toBe('priced');
    expect(line!.priceListCode).toBe('CONTRACT');
    expect(unit(line!)).toBe('800');
    expect(line!.explanation!.level).toBe('company');
    expect(line!.explanation!.candidates.map((c) => [c.code, c.outcome])).toEqual([
      ['CONTRACT', 'won'],
      ['GROUP', 'outranked'],
      ['GOLD', 'outranked'],
      ['STANDARD', 'outranked'],
    ]);
  });

  it('priority: within a level, the higher priority wins; group and tier are one level', () => {
    const result = priceLines(
      input({
        lines: [{ skuId: bolt.skuId, quantity: 1 }],
        skus: [bolt],
        candidates: [standard, tier, group],
        tiers,
      }),
    );
    expect(result.lines[0]!.priceListCode).toBe('GROUP'); // priority 5 beats the tier list's 0
    const tierFirst = { ...tier, priority: 9 };
    const again = priceLines(
      input({
        lines: [{ skuId: bolt.skuId, quantity: 1 }],
        skus: [bolt],
        candidates: [standard, tierFirst, group],
        tiers,
      }),
    );
    expect(again.lines[0]!.priceListCode).toBe('GOLD');
  });

  it('lowest: the lowest amount wins across levels, and the explanation says so', () => {
    const result = priceLines(
      input({
        strategy: 'lowest',
        lines: [{ code: 'BOLT-M8', quantity: 1 }],
        skus: [bolt],
        candidates: all,
        tiers,
      }),
    );
    const [line] = result.lines;
    expect(line!.priceListCode).toBe('GROUP');
    expect(unit(line!)).toBe('700');
    expect(result.strategy).toBe('lowest');
    expect(line!.explanation!.reason).toMatch(/lowest/);
    expect(line!.explanation!.candidates.filter((c) => c.outcome === 'higher-price')).toHaveLength(3);
  });

  it('lowest: a tie goes to the list that would win under priority', () => {
    const tie = [fixed(contract, bolt, 1, 700), fixed(group, bolt, 1, 700), fixed(standard, bolt, 1, 700)];
    const result = priceLines(
      input({
        strategy: 'lowest',
        lines: [{ code: 'BOLT-M8', quantity: 1 }],
        skus: [bolt],
        candidates: all,
        tiers: tie,
      }),
    );
    expect(result.lines[0]!.priceListCode).toBe('CONTRACT');
  });

  it('lowest compares what the buyer pays: a gross-priced list against a net-priced one', () => {
    const gross = list('GROSS', 'company', { pricesIncludeTax: true });
    const net = list('NET', 'default');
    // 1100 incl. 13 % VAT (net 973) against 1000 net (+130 VAT = 1130): the gross list is cheaper.
    const result = priceLines(
      input({
        strategy: 'lowest',
        lines: [{ code: 'BOLT-M8', quantity: 1 }],
        skus: [bolt],
        candidates: [net, gross],
        tiers: [fixed(gross, bolt, 1, 1100), fixed(net, bolt, 1, 1000)],
      }),
    );
    expect(result.lines[0]).toMatchObject({ priceListCode: 'GROSS', pricesIncludeTax: true });
    expect(result.lines[0]!.gross).toEqual({ amountMinor: '1100', currency: 'CNY' });
  });
});

describe('fallback and validity', () => {
  it('falls back level by level to the first list that prices the SKU', () => {
    const nut = sku('NUT-M8');
    const washer = sku('WASHER-M8');
    const result = priceLines(
      input({
        lines: [
          { code: 'BOLT-M8', quantity: 1 },
          { code: 'NUT-M8', quantity: 1 },
          { code: 'WASHER-M8', quantity: 1 },
        ],
        skus: [bolt, nut, washer],
        candidates: all,
        tiers: [
          fixed(contract, bolt, 1, 800),
          fixed(tier, nut, 1, 90),
          fixed(standard, nut, 1, 100),
          fixed(standard, washer, 1, 10),
        ],
      }),
    );
    expect(result.lines.map((l) => [l.priceListCode, l.explanation!.level])).toEqual([
      ['CONTRACT', 'company'],
      ['GOLD', 'tier'],
      ['STANDARD', 'default'],
    ]);
    expect(result.lines[2]!.explanation!.reason).toMatch(/after 3 list\(s\) without one/);
    expect(result.lines[2]!.explanation!.candidates.slice(0, 3).map((c) => c.outcome)).toEqual([
      'no-price',
      'no-price',
      'no-price',
    ]);
  });

  it('a list outside its validity window is no candidate; the window is half-open', () => {
    const expired = list('EXPIRED', 'company', { validTo: NOW });
    const future = list('FUTURE', 'company', { validFrom: new Date(NOW.getTime() + 1) });
    const current = list('CURRENT', 'group', { validFrom: NOW, validTo: new Date(NOW.getTime() + 1) });
    const result = priceLines(
      input({
        lines: [{ code: 'BOLT-M8', quantity: 1 }],
        skus: [bolt],
        candidates: [expired, future, current, standard],
        tiers: [
          fixed(expired, bolt, 1, 1),
          fixed(future, bolt, 1, 2),
          fixed(current, bolt, 1, 3),
          fixed(standard, bolt, 1, 4),
        ],
      }),
    );
    expect(result.lines[0]!.priceListCode).toBe('CURRENT');
    const outcomes = Object.fromEntries(
      result.lines[0]!.explanation!.candidates.map((c) => [c.code, c.outcome]),
    );
    expect(outcomes).toEqual({
      EXPIRED: 'outside-validity',
      FUTURE: 'outside-validity',
      CURRENT: 'won',
      STANDARD: 'outranked',
    });
  });

  it('an inactive list never prices', () => {
    const off = list('OFF', 'company', { active: false });
    const result = priceLines(
      input({
        lines: [{ code: 'BOLT-M8', quantity: 1 }],
        skus: [bolt],
        candidates: [off],
        tiers: [fixed(off, bolt, 1, 1)],
      }),
    );
    expect(result.lines[0]!.errors.map((e) => e.code)).toEqual(['no-price']);
  });

  it('no candidate at all: a no-price error pointing at the line', () => {
    const result = priceLines(input({ lines: [{ code: 'BOLT-M8', quantity: 1 }], skus: [bolt] }));
    expect(result.lines[0]).toMatchObject({ status: 'error', net: null, gross: null });
    expect(result.lines[0]!.errors).toEqual([
      expect.objectContaining({ code: 'no-price', pointer: '/lines/0' }),
    ]);
    expect(result.lines[0]!.explanation!.reason).toBe('no price list is assigned to you in this currency');
  });
});

describe('quantity tiers (阶梯定价)', () => {
  const ladder = [
    fixed(standard, bolt, 1, 1000),
    fixed(standard, bolt, 10, 900),
    fixed(standard, bolt, 100, 800),
  ];
  const at = (quantity: number, tiers = ladder, candidates: CandidateList[] = [standard]) =>
    priceLines(input({ lines: [{ code: 'BOLT-M8', quantity }], skus: [bolt], candidates, tiers })).lines[0]!;

  it('applies the tier with the largest minQty not above the quantity, exactly at the breakpoints', () => {
    expect([1, 9, 10, 99, 100, 5000].map((q) => unit(at(q)))).toEqual([
      '1000',
      '1000',
      '900',
      '900',
      '800',
      '800',
    ]);
    expect(at(10).explanation!.minQty).toBe('10');
    expect(at(10).net).toEqual({ amountMinor: '9000', currency: 'CNY' });
  });

  it('below a list’s first tier the list has no price and the next level answers', () => {
    const bulk = [fixed(contract, bolt, 50, 500), ...ladder];
    expect(at(49, bulk, [contract, standard]).priceListCode).toBe('STANDARD');
    const below = at(49, bulk, [contract, standard]).explanation!.candidates[0]!;
    expect(below).toMatchObject({ code: 'CONTRACT', outcome: 'below-first-tier', minQty: '50' });
    expect(at(50, bulk, [contract, standard]).priceListCode).toBe('CONTRACT');
  });

  it('tiers are per unit of measure: a box price is not a piece price', () => {
    const boxes = [fixed(standard, bolt, 1, 1000), fixed(standard, bolt, 1, 45_000, 'box')];
    const result = priceLines(
      input({
        lines: [
          { code: 'BOLT-M8', quantity: 2 },
          { code: 'BOLT-M8', quantity: 2, unit: 'box' },
          { code: 'BOLT-M8', quantity: 2, unit: 'pallet' },
        ],
        skus: [bolt],
        candidates: [standard],
        tiers: boxes,
      }),
    );
    expect(result.lines.map((l) => [l.unit, unit(l) ?? l.errors[0]!.code])).toEqual([
      ['pcs', '1000'],
      ['box', '45000'],
      ['pallet', 'no-price'],
    ]);
  });
});

describe('percentage off a base list', () => {
  const listPrice = list('LIST-PRICE', 'default');
  const base = new Map([[listPrice.id, listPrice as ListMeta]]);

  it('takes the base list’s tier at the same quantity, less the percentage, rounded half up', () => {
    const discount = list('TEN-OFF', 'tier');
    const tiers = [
      fixed(listPrice, bolt, 1, 999),
      fixed(listPrice, bolt, 100, 995),
      percent(discount, bolt, 1, 1000, listPrice), // 10 % off
    ];
    const price = (quantity: number) =>
      priceLines(
        input({
          lines: [{ code: 'BOLT-M8', quantity }],
          skus: [bolt],
          candidates: [discount, listPrice],
          tiers,
          baseLists: base,
        }),
      ).lines[0]!;
    expect(unit(price(1))).toBe('899'); // 899.1
    expect(unit(price(100))).toBe('896'); // 895.5 → 896
    expect(price(100).explanation).toMatchObject({
      rule: 'percent-off',
      percentOffBasisPoints: 1000,
      code: 'TEN-OFF',
      base: { code: 'LIST-PRICE', minQty: '100', unitPrice: { amountMinor: '995', currency: 'CNY' } },
    });
    expect(price(100).net).toEqual({ amountMinor: '89600', currency: 'CNY' }); // unit × qty, exact
  });

  it('a base list that is not assigned to the buyer still serves as base', () => {
    const discount = list('TEN-OFF', 'company');
    const result = priceLines(
      input({
        lines: [{ code: 'BOLT-M8', quantity: 1 }],
        skus: [bolt],
        candidates: [discount],
        tiers: [fixed(listPrice, bolt, 1, 2000), percent(discount, bolt, 1, 2500, listPrice)],
        baseLists: base,
      }),
    );
    expect(unit(result.lines[0]!)).toBe('1500');
  });

  it('without a valid fixed base price the percentage tier is skipped, and says why', () => {
    const discount = list('TEN-OFF', 'company');
    const expiredBase = { ...listPrice, validTo: NOW };
    const other = sku('OTHER');
    const result = priceLines(
      input({
        lines: [
          { code: 'BOLT-M8', quantity: 1 },
          { code: 'OTHER', quantity: 1 },
        ],
        skus: [bolt, other],
        candidates: [discount, standard],
        tiers: [
          fixed(listPrice, bolt, 1, 2000),
          percent(discount, bolt, 1, 1000, listPrice),
          percent(discount, other, 1, 1000, listPrice), // the base has no price for OTHER
          fixed(standard, bolt, 1, 3000),
          fixed(standard, other, 1, 3000),
        ],
        baseLists: new Map([[listPrice.id, expiredBase]]),
      }),
    );
    for (const line of result.lines) {
      expect(line.priceListCode).toBe('STANDARD');
      expect(line.explanation!.candidates[0]).toMatchObject({ code: 'TEN-OFF', outcome: 'base-unavailable' });
    }
  });

  it('a base list in another currency is never used', () => {
    const discount = list('TEN-OFF', 'company');
    const usd = { ...listPrice, currency: 'USD' };
    const result = priceLines(
      input({
        lines: [{ code: 'BOLT-M8', quantity: 1 }],
        skus: [bolt],
        candidates: [discount],
        tiers: [fixed(usd, bolt, 1, 2000), percent(discount, bolt, 1, 1000, usd)],
        baseLists: new Map([[usd.id, usd]]),
      }),
    );
    expect(result.lines[0]!.errors[0]!.code).toBe('no-price');
  });
});

describe('quantity rules', () => {
  const rule = (extra: Partial<QuantityRule>): QuantityRule => ({
    id: id(),
    productId: null,
    skuId: null,
    companyId: null,
    unit: null,
    minQty: null,
    maxQty: null,
    increment: null,
    ...extra,
  });
  const run = (quantity: number, rules: QuantityRule[], companyId: string | null = null) =>
    priceLines(
      input({
        lines: [{ code: 'BOLT-M8', quantity }],
        skus: [bolt],
        candidates: [standard],
        tiers: [fixed(standard, bolt, 1, 100)],
        rules,
        companyId,
      }),
    ).lines[0]!;

  it('reports MOQ, maximum and increment as line errors pointing at the quantity, with no amounts', () => {
    const rules = [rule({ productId: bolt.productId, minQty: 10n, maxQty: 1000n, increment: 5n })];
    expect(run(5, rules).errors).toEqual([
      { code: 'below-minimum', pointer: '/lines/0/quantity', detail: 'the minimum order quantity is 10' },
    ]);
    expect(run(12, rules).errors.map((e) => e.code)).toEqual(['not-a-multiple']);
    expect(run(1005, rules).errors.map((e) => e.code)).toEqual(['above-maximum']);
    expect(run(7, rules).errors.map((e) => e.code)).toEqual(['below-minimum', 'not-a-multiple']);
    expect(run(7, rules)).toMatchObject({ status: 'error', unitPrice: null, net: null });
    expect(run(15, rules)).toMatchObject({
      status: 'priced',
      errors: [],
      quantityRule: { minQty: '10', maxQty: '1000', increment: '5' },
    });
  });

  it('the most specific rule applies: company + SKU, company + product, SKU, product', () => {
    const acme = id();
    const rules = [
      rule({ productId: bolt.productId, minQty: 100n }),
      rule({ skuId: bolt.skuId, minQty: 50n }),
      rule({ productId: bolt.productId, companyId: acme, minQty: 20n }),
      rule({ skuId: bolt.skuId, companyId: acme, minQty: 10n }),
    ];
    expect(run(10, rules, acme).status).toBe('priced');
    expect(run(10, rules.slice(0, 3), acme).errors[0]!.detail).toMatch(/20/);
    expect(run(10, rules.slice(0, 2), acme).errors[0]!.detail).toMatch(/50/);
    expect(run(10, rules.slice(0, 1), acme).errors[0]!.detail).toMatch(/100/);
  });

  it("another company's rule never applies", () => {
    const rules = [rule({ skuId: bolt.skuId, companyId: id(), minQty: 1000n })];
    expect(run(1, rules, id()).status).toBe('priced');
    expect(run(1, rules, null).status).toBe('priced');
  });
});

describe('lines the buyer cannot have', () => {
  it('unknown and invisible SKUs read the same; discontinued ones are not orderable', () => {
    const old = sku('OLD', { orderable: false });
    const result = priceLines(
      input({
        lines: [
          { code: 'NOPE', quantity: 1 },
          { skuId: '00000000-0000-4000-8000-999999999999', quantity: 1 },
          { code: 'OLD', quantity: 1 },
        ],
        skus: [old],
        candidates: [standard],
        tiers: [fixed(standard, old, 1, 100)],
      }),
    );
    expect(result.lines.map((l) => l.errors)).toEqual([
      [{ code: 'unavailable', pointer: '/lines/0/code', detail: 'no such SKU is available to you' }],
      [{ code: 'unavailable', pointer: '/lines/1/skuId', detail: 'no such SKU is available to you' }],
      [expect.objectContaining({ code: 'not-orderable', pointer: '/lines/2' })],
    ]);
    expect(result.totals).toMatchObject({
      pricedLines: 0,
      errorLines: 3,
      gross: { amountMinor: '0', currency: 'CNY' },
    });
  });

  it('guests see availability and quantity errors but never an amount when prices are hidden or on request', () => {
    for (const mode of ['hidden', 'on-request'] as const) {
      const result = priceLines(
        input({
          mode,
          lines: [
            { code: 'BOLT-M8', quantity: 1 },
            { code: 'NOPE', quantity: 1 },
          ],
          skus: [bolt],
          candidates: [standard],
          tiers: [fixed(standard, bolt, 1, 100)],
        }),
      );
      expect(result.lines[0]).toMatchObject({
        status: mode === 'hidden' ? 'login-required' : 'on-request',
        unitPrice: null,
        gross: null,
      });
      expect(result.lines[1]!.errors[0]!.code).toBe('unavailable');
      expect(JSON.stringify(result)).not.toContain('"100"');
    }
  });
});

describe('VAT', () => {
  it('takes the SKU’s rate, else the product’s, else the default; per rate a tax summary', () => {
    const food = sku('RICE');
    const service = sku('INSTALL');
    const result = priceLines(
      input({
        lines: [
          { code: 'BOLT-M8', quantity: 1 },
          { code: 'RICE', quantity: 1 },
          { code: 'INSTALL', quantity: 1 },
        ],
        skus: [bolt, food, service],
        candidates: [standard],
        tiers: [
          fixed(standard, bolt, 1, 1000),
          fixed(standard, food, 1, 1000),
          fixed(standard, service, 1, 1000),
        ],
        vatRates: {
          bySku: new Map([[service.skuId, 6]]),
          byProduct: new Map([
            [food.productId, 9],
            [service.productId, 0],
          ]),
        },
      }),
    );
    expect(result.lines.map((l) => [l.vatRate, l.tax!.amountMinor, l.explanation!.vatRateSource])).toEqual([
      [13, '130', 'default'],
      [9, '90', 'product'],
      [6, '60', 'sku'],
    ]);
    expect(result.taxes.map((t) => [t.rate, t.tax.amountMinor])).toEqual([
      [13, '130'],
      [9, '90'],
      [6, '60'],
    ]);
  });
});

describe('sum of lines equals the total, always', () => {
  const vat = fc.constantFrom<VatRate>(...VAT_RATES);
  const cart = fc.record({
    lists: fc.array(
      fc.record({
        level: fc.constantFrom<PriceLevel>('company', 'group', 'tier', 'default'),
        priority: fc.integer({ min: -5, max: 5 }),
        includesTax: fc.boolean(),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    skus: fc.array(
      fc.record({
        rate: vat,
        tiers: fc.array(
          fc.record({
            list: fc.nat(3),
            minQty: fc.integer({ min: 1, max: 500 }),
            amount: fc.bigInt({ min: 0n, max: 10n ** 9n }),
            percent: fc.option(fc.integer({ min: 0, max: 10_000 })),
          }),
          { maxLength: 8 },
        ),
      }),
      { minLength: 1, maxLength: 20 },
    ),
    lines: fc.array(fc.record({ sku: fc.nat(19), quantity: fc.integer({ min: 1, max: 1_000_000 }) }), {
      minLength: 1,
      maxLength: 60,
    }),
    strategy: fc.constantFrom('priority' as const, 'lowest' as const),
  });

  it('for random carts: totals are the sums of the priced lines, each line net + tax = gross, per-rate sums too', () => {
    fc.assert(
      fc.property(cart, (spec) => {
        const lists = spec.lists.map((l, i) =>
          list(`L${i}`, l.level, { priority: l.priority, pricesIncludeTax: l.includesTax }),
        );
        const base = list('BASE', 'default');
        const skus = spec.skus.map((_, i) => sku(`S${i}`));
        const tiers: TierRow[] = [];
        const seen = new Set<string>();
        spec.skus.forEach((s, i) => {
          tiers.push(fixed(base, skus[i]!, 1, 12_345));
          for (const t of s.tiers) {
            const target = lists[t.list % lists.length]!;
            const key = `${target.id}/${i}/${t.minQty}`;
            if (seen.has(key)) continue;
            seen.add(key);
            tiers.push(
              t.percent !== null && !target.pricesIncludeTax
                ? percent(target, skus[i]!, t.minQty, t.percent, base)
                : fixed(target, skus[i]!, t.minQty, Number(t.amount)),
            );
          }
        });
        const result = priceLines(
          input({
            strategy: spec.strategy,
            lines: spec.lines.map((l) => ({ code: `S${l.sku % skus.length}`, quantity: l.quantity })),
            skus,
            candidates: lists,
            tiers,
            baseLists: new Map([[base.id, base]]),
            vatRates: {
              bySku: new Map(spec.skus.map((s, i) => [skus[i]!.skuId, s.rate])),
              byProduct: new Map(),
            },
            explain: false,
          }),
        );
        const priced = result.lines.filter((l) => l.status === 'priced');
        const sum = (key: 'net' | 'tax' | 'gross', lines = priced) =>
          lines.reduce((total, l) => total + BigInt(l[key]!.amountMinor), 0n).toString();
        for (const line of priced) {
          expect(BigInt(line.net!.amountMinor) + BigInt(line.tax!.amountMinor)).toBe(
            BigInt(line.gross!.amountMinor),
          );
          const amount = BigInt(line.unitPrice!.amountMinor) * BigInt(line.quantity);
          expect(line.pricesIncludeTax ? line.gross!.amountMinor : line.net!.amountMinor).toBe(
            amount.toString(),
          );
        }
        expect(result.totals.net.amountMinor).toBe(sum('net'));
        expect(result.totals.tax.amountMinor).toBe(sum('tax'));
        expect(result.totals.gross.amountMinor).toBe(sum('gross'));
        expect(result.totals.pricedLines + result.totals.errorLines).toBe(result.lines.length);
        for (const rate of result.taxes) {
          const atRate = priced.filter((l) => l.vatRate === rate.rate);
          expect([rate.net.amountMinor, rate.tax.amountMinor, rate.gross.amountMinor]).toEqual([
            sum('net', atRate),
            sum('tax', atRate),
            sum('gross', atRate),
          ]);
        }
        const byRates = (key: 'net' | 'tax' | 'gross') =>
          result.taxes.reduce((t, r) => t + BigInt(r[key].amountMinor), 0n).toString();
        expect([byRates('net'), byRates('tax'), byRates('gross')]).toEqual([
          result.totals.net.amountMinor,
          result.totals.tax.amountMinor,
          result.totals.gross.amountMinor,
        ]);
      }),
      { numRuns: 500 },
    );
  });
});
