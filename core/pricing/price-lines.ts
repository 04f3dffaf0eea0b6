import type { Context } from 'moleculer';
import type { HubMeta } from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Forbidden, ValidationFailed } from '../platform/errors/hub-errors.ts';
import { type Audience, assignedLists } from './assignments.ts';
import {
  type CandidateList,
  type EngineInput,
  type LineRequest,
  type ListMeta,
  type PricedResult,
  priceLines,
  type QuantityRule,
  type SkuFacts,
} from './price-engine.ts';
import { findPriceListsByIds, metaOf } from './price-lists.ts';
import { tiersFor, tiersWithRulesVersion } from './prices.ts';
import { isKnownCurrency, type PricingConfig, type VatRate } from './pricing-config.ts';
import { engineRule } from './quantity-rules.ts';

export interface PriceLinesParams {
  lines: LineRequest[];
  currency?: string | undefined;
  explain?: boolean | undefined;
}

/**
 * A small TTL map: entries live `ttlMs`, at most `max` of them (then it starts afresh). A load that
 * began before a `clear()` is not kept: it may have read what the change replaced.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();
  readonly #ttlMs: number;
  readonly #max: number;
  #generation = 0;

  constructor(ttlMs: number, max = 10_000) {
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.#ttlMs <= 0) return load();
    const hit = this.#entries.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const generation = this.#generation;
    const value = await load();
    if (generation !== this.#generation) return value;
    if (this.#entries.size >= this.#max) this.#entries.clear();
    this.#entries.set(key, { value, until: Date.now() + this.#ttlMs });
    return value;
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }
}

/** A buyer's candidate lists and the base lists their percentage tiers use. */
interface Candidates {
  candidates: CandidateList[];
  baseLists: Map<string, ListMeta>;
  /** Every list whose tiers pricing needs: the candidates and their base lists. */
  listIds: string[];
}

/**
 * Every quantity rule and VAT rate of the deployment, indexed by SKU and product: held in memory
 * when there are at most `MAX_KEPT_RULES_AND_RATES` rows of each, so a request needs no query for
 * them once the catalog has named the SKUs' products.
 */
export interface KeptRulesAndRates {
  rulesBySku: Map<string, QuantityRule[]>;
  rulesByProduct: Map<string, QuantityRule[]>;
  vatBySku: Map<string, VatRate>;
  vatByProduct: Map<string, VatRate>;
}

/** Beyond this many quantity rules (or VAT rates), each request queries its own. */
export const MAX_KEPT_RULES_AND_RATES = 20_000;

/**
 * What pricing keeps per process: the buyer's company context, candidate lists, and the
 * deployment's quantity rules and VAT rates (when few enough), briefly.
 */
export interface PricingCaches {
  companies: TtlCache<CompanyContext | null>;
  lists: TtlCache<Candidates>;
  /**
   * The rules and rates as of `version` of `pricing.rules_version` (`kept` null: too many to
   * keep), and the load under way. No expiry: a request reads the current version with its tiers.
   */
  rulesAndRates: {
    held: { version: bigint; kept: KeptRulesAndRates | null } | null;
    loading: Promise<{ version: bigint; kept: KeptRulesAndRates | null }> | null;
  };
}

export function createCaches(config: PricingConfig): PricingCaches {
  return {
    companies: new TtlCache(config.cacheMs),
    lists: new TtlCache(config.cacheMs),
    rulesAndRates: { held: null, loading: null },
  };
}

interface CompanyContext {
  companyId: string;
  status: string;
  tier: string | null;
  tags: string[];
}

interface CatalogSku {
  skuId: string;
  code: string;
  productId: string;
  unitOfMeasure: string;
  orderable: boolean;
}

/** Who is asking, from `ctx.meta.auth` only: the mode and the audience whose lists apply. */
async function callerOf(
  ctx: Context,
  config: PricingConfig,
  caches: PricingCaches,
): Promise<{ mode: EngineInput['mode']; audience: Audience }> {
  const auth = (ctx.meta as HubMeta).auth;
  const nobody: Audience = { companyId: null, tier: null, tags: [], defaultOnly: true };
  if (!auth) {
    if (config.guestPrices === 'hidden') return { mode: 'hidden', audience: nobody };
    if (config.guestPrices === 'on-request') return { mode: 'on-request', audience: nobody };
    return { mode: 'price', audience: nobody };
  }
  // Staff (and staff-level API keys) see the prices everyone gets: the default level.
  if (!auth.companyId) return { mode: 'price', audience: nobody };
  const companyId = auth.companyId;
  const company = await caches.companies.get(
    companyId,
    async () => (await ctx.call('accounts.internal.companyContext', { companyId })) as CompanyContext | null,
  );
  if (company?.status !== 'active')
    throw new Forbidden('Your company is not active: prices are not available');
  return {
    mode: 'price',
    audience: { companyId, tier: company.tier ?? null, tags: [...company.tags].sort(), defaultOnly: false },
  };
}

async function loadCandidates(db: Queryable, audience: Audience, currency: string): Promise<Candidates> {
  const assigned = await assignedLists(db, audience, currency);
  const baseIds = [...new Set(assigned.flatMap((list) => list.baseListIds))];
  const bases = await findPriceListsByIds(db, baseIds);
  const baseLists = new Map([...bases].map(([id, list]) => [id, metaOf(list)]));
  const candidates = assigned.map(({ baseListIds: _, ...list }) => list);
  return { candidates, baseLists, listIds: [...new Set([...candidates.map((c) => c.id), ...baseIds])] };
}

/** Quantity rules (everyone's and this company's only) and VAT rates of these SKUs and products, one round trip. */
async function rulesAndRates(
  db: Queryable,
  skuIds: readonly string[],
  productIds: readonly string[],
  companyId: string | null,
) {
  if (!skuIds.length) return { rules: [], vatRates: { bySku: new Map(), byProduct: new Map() } };
  const { rows } = await db.query(
    `SELECT
       (SELECT coalesce(json_agg(r), '[]') FROM (
          SELECT id, product_id, sku_id, company_id, unit, min_qty::text, max_qty::text, increment::text
            FROM pricing.quantity_rules
           WHERE (sku_id = ANY($1::uuid[]) OR product_id = ANY($2::uuid[]))
             AND (company_id IS NULL OR company_id = $3)) r) AS rules,
       (SELECT coalesce(json_agg(v), '[]') FROM (
          SELECT product_id, sku_id, rate FROM pricing.vat_rates
           WHERE sku_id = ANY($1::uuid[]) OR product_id = ANY($2::uuid[])) v) AS vat`,
    [skuIds, productIds, companyId],
  );
  const bySku = new Map<string, VatRate>();
  const byProduct = new Map<string, VatRate>();
  for (const v of rows[0]!.vat as Array<{
    product_id: string | null;
    sku_id: string | null;
    rate: VatRate;
  }>) {
    if (v.sku_id) bySku.set(v.sku_id, v.rate);
    else if (v.product_id) byProduct.set(v.product_id, v.rate);
  }
  return {
    rules: (rows[0]!.rules as Array<Record<string, unknown>>).map(engineRule),
    vatRates: { bySku, byProduct },
  };
}

/**
 * Every rule and rate and their version, in one statement (one snapshot); `kept` is null when
 * either table holds more than can be kept.
 */
async function loadAllRulesAndRates(
  db: Queryable,
): Promise<{ version: bigint; kept: KeptRulesAndRates | null }> {
  const { rows } = await db.query(
    `SELECT
       (SELECT version FROM pricing.rules_version) AS version,
       (SELECT coalesce(json_agg(r), '[]') FROM (
          SELECT id, product_id, sku_id, company_id, unit, min_qty::text, max_qty::text, increment::text
            FROM pricing.quantity_rules LIMIT $1) r) AS rules,
       (SELECT coalesce(json_agg(v), '[]') FROM (
          SELECT product_id, sku_id, rate FROM pricing.vat_rates LIMIT $1) v) AS vat`,
    [MAX_KEPT_RULES_AND_RATES + 1],
  );
  const ruleRows = rows[0]!.rules as Array<Record<string, unknown>>;
  const vatRows = rows[0]!.vat as Array<{ product_id: string | null; sku_id: string | null; rate: VatRate }>;
  const version = BigInt(rows[0]!.version);
  if (ruleRows.length > MAX_KEPT_RULES_AND_RATES || vatRows.length > MAX_KEPT_RULES_AND_RATES) {
    return { version, kept: null };
  }
  const kept: KeptRulesAndRates = {
    rulesBySku: new Map(),
    rulesByProduct: new Map(),
    vatBySku: new Map(),
    vatByProduct: new Map(),
  };
  for (const row of ruleRows) {
    const rule = engineRule(row);
    const [index, key] = rule.skuId ? [kept.rulesBySku, rule.skuId] : [kept.rulesByProduct, rule.productId!];
    const list = index.get(key);
    if (list) list.push(rule);
    else index.set(key, [rule]);
  }
  for (const v of vatRows) {
    if (v.sku_id) kept.vatBySku.set(v.sku_id, v.rate);
    else if (v.product_id) kept.vatByProduct.set(v.product_id, v.rate);
  }
  return { version, kept };
}

/**
 * The rules and rates of these SKUs and products: from what this process keeps when that is of
 * `version` (read with the tiers); otherwise everything is loaded again (when few enough to keep)
 * or just these are queried. At most one query, in place of the one a request always made.
 */
async function currentRulesAndRates(
  db: Queryable,
  caches: PricingCaches,
  version: bigint | null,
  skuIds: readonly string[],
  productIds: readonly string[],
  companyId: string | null,
): ReturnType<typeof rulesAndRates> {
  if (version === null) return rulesAndRates(db, skuIds, productIds, companyId);
  const keeper = caches.rulesAndRates;
  let held = keeper.held;
  if (held?.version !== version) {
    // One load at a time per process: requests that meet a new version meanwhile share it.
    keeper.loading ??= loadAllRulesAndRates(db).finally(() => {
      keeper.loading = null;
    });
    held = await keeper.loading;
    // A shared load that began before this version committed read older rows: read them again.
    if (held.version < version) held = await loadAllRulesAndRates(db);
    // Loads may finish out of order with versions read elsewhere: keep the newest.
    if (!keeper.held || keeper.held.version < held.version) keeper.held = held;
  }
  if (held.kept === null) return rulesAndRates(db, skuIds, productIds, companyId);
  return keptFor(held.kept, skuIds, productIds, companyId);
}

/** The kept rules and rates of these SKUs and products, as `rulesAndRates` would answer them. */
function keptFor(
  kept: KeptRulesAndRates,
  skuIds: readonly string[],
  productIds: readonly string[],
  companyId: string | null,
): Awaited<ReturnType<typeof rulesAndRates>> {
  const rules: QuantityRule[] = [];
  const bySku = new Map<string, VatRate>();
  const byProduct = new Map<string, VatRate>();
  const take = (list: QuantityRule[] | undefined) => {
    for (const rule of list ?? [])
      if (rule.companyId === null || rule.companyId === companyId) rules.push(rule);
  };
  for (const id of skuIds) {
    take(kept.rulesBySku.get(id));
    const rate = kept.vatBySku.get(id);
    if (rate !== undefined) bySku.set(id, rate);
  }
  for (const id of productIds) {
    take(kept.rulesByProduct.get(id));
    const rate = kept.vatByProduct.get(id);
    if (rate !== undefined) byProduct.set(id, rate);
  }
  return { rules, vatRates: { bySku, byProduct } };
}

/**
 * Prices lines for the caller of `ctx`: the SKUs as the catalog shows them to that caller
 * (`catalog.internal.skus` with the same meta, so visibility is the catalog's own rule) while, side
 * by side, the caller's candidate lists (cached briefly) and one query for every tier of the SKUs
 * asked for by id with the version of the rules and rates; then the quantity rules and VAT rates
 * from what this process keeps (a query only when the version moved on, or there are too many to
 * keep), the tiers of SKUs asked for by code, and the engine. One database round trip in sequence
 * on the steady path, two at most. Nothing here takes a tenant from the params.
 */
export async function priceForCaller(
  ctx: Context,
  db: Queryable,
  config: PricingConfig,
  caches: PricingCaches,
  params: PriceLinesParams,
  now = new Date(),
): Promise<PricedResult> {
  const currency = params.currency ?? config.defaultCurrency;
  if (!isKnownCurrency(currency)) {
    throw new ValidationFailed([{ pointer: '/currency', detail: 'is not an ISO 4217 currency code' }]);
  }
  const skuIds = [...new Set(params.lines.flatMap((l) => (l.skuId !== undefined ? [l.skuId] : [])))];
  const codes = [...new Set(params.lines.flatMap((l) => (l.code !== undefined ? [l.code] : [])))];
  // The catalog's answer (which SKUs the caller may see) and the tiers of the SKUs asked for by id
  // are fetched side by side; tiers of SKUs the caller may not see are fetched but never used.
  const caller = callerOf(ctx, config, caches).then(async ({ mode, audience }) => {
    const key = [
      audience.defaultOnly,
      audience.companyId,
      audience.tier,
      audience.tags.join('\u0001'),
      currency,
    ];
    const lists =
      mode === 'price'
        ? await caches.lists.get(key.join('\u0000'), () => loadCandidates(db, audience, currency))
        : { candidates: [], baseLists: new Map<string, ListMeta>(), listIds: [] };
    const { tiers, rulesVersion } = await tiersWithRulesVersion(db, lists.listIds, skuIds);
    return { mode, audience, lists, byId: tiers, rulesVersion };
  });
  const [{ items }, { mode, audience, lists, byId, rulesVersion }] = await Promise.all([
    ctx.call('catalog.internal.skus', { skuIds, codes }) as Promise<{ items: CatalogSku[] }>,
    caller,
  ]);
  const skus: SkuFacts[] = items.map((s) => ({
    skuId: s.skuId,
    code: s.code,
    productId: s.productId,
    unitOfMeasure: s.unitOfMeasure,
    orderable: s.orderable,
  }));
  // SKUs named by code are known only now.
  const asked = new Set(skuIds);
  const byCode = skus.filter((s) => !asked.has(s.skuId)).map((s) => s.skuId);
  const productIds = [...new Set(skus.map((s) => s.productId))];
  const skuIdsSeen = skus.map((s) => s.skuId);
  const [more, { rules, vatRates }] = await Promise.all([
    tiersFor(db, lists.listIds, byCode),
    currentRulesAndRates(db, caches, rulesVersion, skuIdsSeen, productIds, audience.companyId),
  ]);
  const { candidates, baseLists } = lists;
  const tiers = more.length ? [...byId, ...more] : byId;
  return priceLines({
    lines: params.lines,
    skus,
    candidates,
    tiers,
    baseLists,
    rules,
    vatRates,
    defaultVatRate: config.defaultVatRate,
    strategy: config.precedence,
    currency,
    companyId: audience.companyId,
    mode,
    now,
    explain: params.explain ?? false,
  });
}
