import { type LineAmounts, lineAmounts, moneyOf, percentOff, sumAmounts } from './money.ts';
import type { PrecedenceStrategy, VatRate } from './pricing-config.ts';

/**
 * The pricing engine proper: pure functions, no I/O. `price-lines.ts` gathers what it needs (the
 * buyer's candidate lists, the SKUs as the catalog shows them to the buyer, every tier of those
 * SKUs in those lists, quantity rules, VAT rates) and hands it here; the answer is the same for
 * the same input, so every rule below is tested without a database.
 */

/** Where a list applies, most specific first: contract (客户专属价), customer group / tier, everyone. */
export const LEVELS = ['company', 'group', 'tier', 'default'] as const;
export type PriceLevel = (typeof LEVELS)[number];

/** Customer group (a company tag) and customer tier are one level; `priority` orders lists within it. */
const LEVEL_RANK: Record<PriceLevel, number> = { company: 3, group: 2, tier: 2, default: 1 };

export interface ListMeta {
  id: string;
  code: string;
  currency: string;
  pricesIncludeTax: boolean;
  priority: number;
  validFrom: Date | null;
  validTo: Date | null;
  active: boolean;
}

/** A list assigned to this buyer, at the most specific level it reaches them. */
export interface CandidateList extends ListMeta {
  level: PriceLevel;
}

export interface TierRow {
  priceListId: string;
  skuId: string;
  unit: string;
  minQty: bigint;
  amountMinor: bigint | null;
  percentOffBp: number | null;
  baseListId: string | null;
}

/** A SKU as the catalog shows it to this buyer (invisible SKUs are simply absent). */
export interface SkuFacts {
  skuId: string;
  code: string;
  productId: string;
  unitOfMeasure: string;
  orderable: boolean;
}

export interface QuantityRule {
  id: string;
  productId: string | null;
  skuId: string | null;
  companyId: string | null;
  unit: string | null;
  minQty: bigint | null;
  maxQty: bigint | null;
  increment: bigint | null;
}

export interface LineRequest {
  skuId?: string | undefined;
  code?: string | undefined;
  quantity: number;
  unit?: string | undefined;
}

export interface EngineInput {
  lines: readonly LineRequest[];
  skus: readonly SkuFacts[];
  /** Lists assigned to the buyer in the request's currency (validity is checked here, at `now`). */
  candidates: readonly CandidateList[];
  /** Every tier of the lines' SKUs in the candidate lists and in the base lists they refer to. */
  tiers: readonly TierRow[];
  /** Base lists named by percentage tiers, by id. */
  baseLists: ReadonlyMap<string, ListMeta>;
  rules: readonly QuantityRule[];
  vatRates: { bySku: ReadonlyMap<string, VatRate>; byProduct: ReadonlyMap<string, VatRate> };
  defaultVatRate: VatRate;
  strategy: PrecedenceStrategy;
  currency: string;
  /** The buyer's company (company-specific quantity rules); null for guests and staff. */
  companyId: string | null;
  /** `price`: price the lines; `hidden` / `on-request`: a guest sees availability, never amounts. */
  mode: 'price' | 'hidden' | 'on-request';
  now: Date;
  explain: boolean;
}

export type LineErrorCode =
  | 'unavailable'
  | 'not-orderable'
  | 'below-minimum'
  | 'above-maximum'
  | 'not-a-multiple'
  | 'no-price';

export interface LineError {
  code: LineErrorCode;
  pointer: string;
  detail: string;
}

export type CandidateOutcome =
  | 'won'
  | 'outranked'
  | 'higher-price'
  | 'no-price'
  | 'below-first-tier'
  | 'base-unavailable'
  | 'outside-validity';

export interface ExplainedCandidate {
  priceListId: string;
  code: string;
  level: PriceLevel;
  priority: number;
  outcome: CandidateOutcome;
  minQty?: string;
  unitPrice?: Money;
  gross?: Money;
}

export interface Money {
  amountMinor: string;
  currency: string;
}

export interface Explanation {
  strategy: PrecedenceStrategy;
  reason: string;
  priceListId: string | null;
  code: string | null;
  level: PriceLevel | null;
  minQty: string | null;
  rule: 'fixed' | 'percent-off' | null;
  percentOffBasisPoints: number | null;
  base: { priceListId: string; code: string; minQty: string; unitPrice: Money } | null;
  vatRateSource: 'sku' | 'product' | 'default' | null;
  candidates: ExplainedCandidate[];
}

export type LineStatus = 'priced' | 'error' | 'login-required' | 'on-request';

export interface PricedLine {
  index: number;
  skuId: string | null;
  code: string | null;
  productId: string | null;
  quantity: number;
  unit: string | null;
  status: LineStatus;
  priceListId: string | null;
  priceListCode: string | null;
  unitPrice: Money | null;
  pricesIncludeTax: boolean | null;
  vatRate: VatRate | null;
  net: Money | null;
  tax: Money | null;
  gross: Money | null;
  quantityRule: { minQty: string | null; maxQty: string | null; increment: string | null } | null;
  errors: LineError[];
  explanation?: Explanation;
}

export interface PricedResult {
  currency: string;
  strategy: PrecedenceStrategy;
  lines: PricedLine[];
  totals: { net: Money; tax: Money; gross: Money; pricedLines: number; errorLines: number };
  /** Per VAT rate, the sums of the priced lines at that rate (a 增值税 invoice's tax summary). */
  taxes: Array<{ rate: VatRate; net: Money; tax: Money; gross: Money }>;
}

/** A list is valid on the half-open window [validFrom, validTo). */
export function isValidAt(list: Pick<ListMeta, 'validFrom' | 'validTo' | 'active'>, now: Date): boolean {
  if (!list.active) return false;
  if (list.validFrom && list.validFrom.getTime() > now.getTime()) return false;
  if (list.validTo && list.validTo.getTime() <= now.getTime()) return false;
  return true;
}

/** Priority order: most specific level, then higher priority, then code (so ties are stable). */
export function byPrecedence(a: CandidateList, b: CandidateList): number {
  return (
    LEVEL_RANK[b.level] - LEVEL_RANK[a.level] ||
    b.priority - a.priority ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
  );
}

/** The most specific quantity rule: company + SKU, company + product, SKU, product; a rule naming a unit beats one that does not. */
export function ruleFor(
  rules: readonly QuantityRule[],
  sku: SkuFacts,
  unit: string,
  companyId: string | null,
): QuantityRule | undefined {
  let best: QuantityRule | undefined;
  let bestScore = -1;
  for (const rule of rules) {
    if (rule.companyId !== null && rule.companyId !== companyId) continue;
    if (rule.unit !== null && rule.unit !== unit) continue;
    if (rule.skuId !== null ? rule.skuId !== sku.skuId : rule.productId !== sku.productId) continue;
    const score = (rule.companyId ? 4 : 0) + (rule.skuId ? 2 : 0) + (rule.unit ? 1 : 0);
    if (score > bestScore) {
      best = rule;
      bestScore = score;
    }
  }
  return best;
}

/** Problems of `quantity` under `rule`, pointing at the line's quantity. */
export function quantityErrors(
  rule: QuantityRule | undefined,
  quantity: bigint,
  pointer: string,
): LineError[] {
  if (!rule) return [];
  const errors: LineError[] = [];
  if (rule.minQty !== null && quantity < rule.minQty) {
    errors.push({ code: 'below-minimum', pointer, detail: `the minimum order quantity is ${rule.minQty}` });
  }
  if (rule.maxQty !== null && quantity > rule.maxQty) {
    errors.push({
      code: 'above-maximum',
      pointer,
      detail: `at most ${rule.maxQty} can be ordered on one line`,
    });
  }
  if (rule.increment !== null && quantity % rule.increment !== 0n) {
    errors.push({
      code: 'not-a-multiple',
      pointer,
      detail: `is sold in multiples of ${rule.increment} (pack size)`,
    });
  }
  return errors;
}

/** The tier of a list's ladder that applies at `quantity`: the largest `minQty` not above it. */
function tierAt(ladder: readonly TierRow[], quantity: bigint): TierRow | undefined {
  let found: TierRow | undefined;
  for (const tier of ladder) {
    if (tier.minQty <= quantity && (!found || tier.minQty > found.minQty)) found = tier;
  }
  return found;
}

interface Quote {
  list: CandidateList;
  tier: TierRow;
  unitPrice: bigint;
  /** Worked out only where needed: for the winner, and for every quote under `lowest`. */
  amounts?: LineAmounts;
  base: { list: ListMeta; tier: TierRow; unitPrice: bigint } | null;
}

type Attempt = { quote: Quote } | { outcome: CandidateOutcome; minQty?: bigint };

export function priceLines(input: EngineInput): PricedResult {
  const { currency, now } = input;
  const skuById = new Map(input.skus.map((sku) => [sku.skuId, sku]));
  const skuByCode = new Map(input.skus.map((sku) => [sku.code, sku]));
  // Every tier of a SKU across the lists (a handful), then filtered by list and unit on use.
  const tiersOfSku = new Map<string, TierRow[]>();
  for (const tier of input.tiers) {
    const found = tiersOfSku.get(tier.skuId);
    if (found) found.push(tier);
    else tiersOfSku.set(tier.skuId, [tier]);
  }
  const ladderOf = (listId: string, skuId: string, unit: string): TierRow[] =>
    (tiersOfSku.get(skuId) ?? []).filter((tier) => tier.priceListId === listId && tier.unit === unit);
  const ordered = [...input.candidates].sort(byPrecedence);
  const valid = ordered.filter((list) => isValidAt(list, now));
  const invalid = ordered.filter((list) => !isValidAt(list, now));
  const validBase = (id: string) => {
    const base = input.baseLists.get(id);
    return base && isValidAt(base, now) && base.currency === currency ? base : undefined;
  };

  const attempt = (list: CandidateList, sku: SkuFacts, unit: string, quantity: bigint): Attempt => {
    const ladder = ladderOf(list.id, sku.skuId, unit);
    if (!ladder.length) return { outcome: 'no-price' };
    const tier = tierAt(ladder, quantity);
    if (!tier)
      return {
        outcome: 'below-first-tier',
        minQty: ladder.reduce((first, t) => (t.minQty < first.minQty ? t : first)).minQty,
      };
    let unitPrice: bigint;
    let base: Quote['base'] = null;
    if (tier.amountMinor !== null) {
      unitPrice = tier.amountMinor;
    } else {
      const baseList = tier.baseListId ? validBase(tier.baseListId) : undefined;
      const baseTier = baseList ? tierAt(ladderOf(baseList.id, sku.skuId, unit), quantity) : undefined;
      // A percentage applies to a fixed base price only, in the same tax basis: no chains, no mixing.
      if (
        !baseList ||
        !baseTier ||
        baseTier.amountMinor === null ||
        baseList.pricesIncludeTax !== list.pricesIncludeTax
      ) {
        return { outcome: 'base-unavailable', minQty: tier.minQty };
      }
      unitPrice = percentOff(baseTier.amountMinor, tier.percentOffBp!);
      base = { list: baseList, tier: baseTier, unitPrice: baseTier.amountMinor };
    }
    return { quote: { list, tier, unitPrice, base } };
  };

  const lines: PricedLine[] = input.lines.map((request, index) => {
    const pointer = `/lines/${index}`;
    const sku = request.skuId !== undefined ? skuById.get(request.skuId) : skuByCode.get(request.code ?? '');
    const line: PricedLine = {
      index,
      skuId: sku?.skuId ?? request.skuId ?? null,
      code: sku?.code ?? request.code ?? null,
      productId: sku?.productId ?? null,
      quantity: request.quantity,
      unit: request.unit ?? sku?.unitOfMeasure ?? null,
      status: 'error',
      priceListId: null,
      priceListCode: null,
      unitPrice: null,
      pricesIncludeTax: null,
      vatRate: null,
      net: null,
      tax: null,
      gross: null,
      quantityRule: null,
      errors: [],
    };
    if (!sku) {
      // Unknown and invisible read the same: a buyer learns nothing about SKUs they may not see.
      line.errors.push({
        code: 'unavailable',
        pointer: `${pointer}/${request.skuId !== undefined ? 'skuId' : 'code'}`,
        detail: 'no such SKU is available to you',
      });
      return line;
    }
    if (!sku.orderable) {
      line.errors.push({
        code: 'not-orderable',
        pointer,
        detail: 'this product is discontinued and cannot be ordered',
      });
    }
    const unit = line.unit!;
    const quantity = BigInt(request.quantity);
    const rule = ruleFor(input.rules, sku, unit, input.companyId);
    if (rule) {
      line.quantityRule = {
        minQty: rule.minQty?.toString() ?? null,
        maxQty: rule.maxQty?.toString() ?? null,
        increment: rule.increment?.toString() ?? null,
      };
    }
    line.errors.push(...quantityErrors(rule, quantity, `${pointer}/quantity`));
    if (input.mode !== 'price') {
      if (!line.errors.length) line.status = input.mode === 'hidden' ? 'login-required' : 'on-request';
      return line;
    }

    const skuRate = input.vatRates.bySku.get(sku.skuId);
    const productRate = input.vatRates.byProduct.get(sku.productId);
    const vatRate = skuRate ?? productRate ?? input.defaultVatRate;
    const vatRateSource = skuRate !== undefined ? 'sku' : productRate !== undefined ? 'product' : 'default';

    // Under `priority` without an explanation the first list with a price settles it.
    const attempts: Array<{ list: CandidateList; result: Attempt }> = [];
    for (const list of valid) {
      const result = attempt(list, sku, unit, quantity);
      attempts.push({ list, result });
      if ('quote' in result && input.strategy === 'priority' && !input.explain) break;
    }
    const quotes = attempts.flatMap((a) => ('quote' in a.result ? [a.result.quote] : []));
    const amountsOf = (quote: Quote): LineAmounts => {
      quote.amounts ??= lineAmounts(quote.unitPrice, quantity, quote.list.pricesIncludeTax, vatRate);
      return quote.amounts;
    };
    let winner: Quote | undefined;
    if (input.strategy === 'priority') winner = quotes[0];
    else {
      for (const quote of quotes)
        if (!winner || amountsOf(quote).gross < amountsOf(winner).gross) winner = quote;
    }

    if (!winner) {
      line.errors.push({
        code: 'no-price',
        pointer,
        detail: `no price list available to you prices ${sku.code} in ${unit} at this quantity in ${currency}`,
      });
    } else if (!line.errors.length) {
      const amounts = amountsOf(winner);
      line.status = 'priced';
      line.priceListId = winner.list.id;
      line.priceListCode = winner.list.code;
      line.unitPrice = moneyOf(winner.unitPrice, currency);
      line.pricesIncludeTax = winner.list.pricesIncludeTax;
      line.vatRate = vatRate;
      line.net = moneyOf(amounts.net, currency);
      line.tax = moneyOf(amounts.tax, currency);
      line.gross = moneyOf(amounts.gross, currency);
    }

    if (input.explain) {
      const candidates: ExplainedCandidate[] = attempts.map(({ list, result }) => {
        const entry: ExplainedCandidate = {
          priceListId: list.id,
          code: list.code,
          level: list.level,
          priority: list.priority,
          outcome: 'no-price',
        };
        if ('quote' in result) {
          entry.outcome =
            result.quote === winner ? 'won' : input.strategy === 'priority' ? 'outranked' : 'higher-price';
          entry.minQty = result.quote.tier.minQty.toString();
          entry.unitPrice = moneyOf(result.quote.unitPrice, currency);
          entry.gross = moneyOf(amountsOf(result.quote).gross, currency);
        } else {
          entry.outcome = result.outcome;
          if (result.minQty !== undefined) entry.minQty = result.minQty.toString();
        }
        return entry;
      });
      for (const list of invalid) {
        candidates.push({
          priceListId: list.id,
          code: list.code,
          level: list.level,
          priority: list.priority,
          outcome: 'outside-validity',
        });
      }
      line.explanation = {
        strategy: input.strategy,
        reason: reasonOf(winner, quotes.length, input.strategy, candidates),
        priceListId: winner?.list.id ?? null,
        code: winner?.list.code ?? null,
        level: winner?.list.level ?? null,
        minQty: winner?.tier.minQty.toString() ?? null,
        rule: winner ? (winner.base ? 'percent-off' : 'fixed') : null,
        percentOffBasisPoints: winner?.tier.percentOffBp ?? null,
        base: winner?.base
          ? {
              priceListId: winner.base.list.id,
              code: winner.base.list.code,
              minQty: winner.base.tier.minQty.toString(),
              unitPrice: moneyOf(winner.base.unitPrice, currency),
            }
          : null,
        vatRateSource: winner ? vatRateSource : null,
        candidates,
      };
    }
    return line;
  });

  return { currency, strategy: input.strategy, lines, ...totalsOf(lines, currency) };
}

function reasonOf(
  winner: Quote | undefined,
  quoted: number,
  strategy: PrecedenceStrategy,
  candidates: readonly ExplainedCandidate[],
): string {
  if (!winner) {
    return candidates.length
      ? `none of the ${candidates.length} candidate lists has a price at this quantity`
      : 'no price list is assigned to you in this currency';
  }
  const tier = `tier from ${winner.tier.minQty}`;
  const rule = winner.base
    ? `${winner.tier.percentOffBp! / 100}% off ${winner.base.list.code} (${winner.base.unitPrice} minor units)`
    : 'fixed price';
  if (strategy === 'lowest') {
    return `${winner.list.code} (${winner.list.level}) has the lowest amount of ${quoted} priced candidates: ${tier}, ${rule}`;
  }
  const fellBack = candidates.findIndex((c) => c.outcome === 'won');
  return `${winner.list.code} is the most specific list (${winner.list.level}, priority ${winner.list.priority}) with a price${
    fellBack > 0 ? `, after ${fellBack} list(s) without one` : ''
  }: ${tier}, ${rule}`;
}

function totalsOf(lines: readonly PricedLine[], currency: string) {
  const priced = lines.filter((line) => line.status === 'priced');
  const amountsOf = (line: PricedLine): LineAmounts => ({
    net: BigInt(line.net!.amountMinor),
    tax: BigInt(line.tax!.amountMinor),
    gross: BigInt(line.gross!.amountMinor),
  });
  const total = sumAmounts(priced.map(amountsOf));
  const byRate = new Map<VatRate, LineAmounts[]>();
  for (const line of priced) {
    const list = byRate.get(line.vatRate!) ?? [];
    list.push(amountsOf(line));
    byRate.set(line.vatRate!, list);
  }
  return {
    totals: {
      net: moneyOf(total.net, currency),
      tax: moneyOf(total.tax, currency),
      gross: moneyOf(total.gross, currency),
      pricedLines: priced.length,
      errorLines: lines.filter((line) => line.status === 'error').length,
    },
    taxes: [...byRate]
      .sort(([a], [b]) => b - a)
      .map(([rate, amounts]) => {
        const sum = sumAmounts(amounts);
        return {
          rate,
          net: moneyOf(sum.net, currency),
          tax: moneyOf(sum.tax, currency),
          gross: moneyOf(sum.gross, currency),
        };
      }),
  };
}
