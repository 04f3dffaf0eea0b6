import { ConfigError } from '../platform/config/hub-config.ts';

/**
 * How this deployment prices, from the environment (one place, read once per process):
 *
 * - `HUB_PRICING_PRECEDENCE`: `priority` (default) — the most specific level that has a price wins
 *   (company → customer tier / group → default), higher `priority` first within a level; `lowest` —
 *   the lowest line amount among every candidate list wins, ties broken as under `priority`.
 * - `HUB_PRICING_GUEST_PRICES`: what a caller without a token gets for the lines they may see:
 *   `hidden` (default; status `login-required`), `on-request` (status `on-request`, 价格面议) or
 *   `default` (the default-level lists' prices).
 * - `HUB_PRICING_CURRENCY`: the currency of a request that names none (default `CNY`).
 * - `HUB_PRICING_DEFAULT_VAT_RATE`: VAT percent of products and SKUs without their own rate
 *   (13, 9, 6 or 0; default 13).
 * - `HUB_PRICING_CACHE_MS`: how long a buyer's company context and candidate lists are reused
 *   (default 5000; 0 turns the cache off). Changes on this node clear it at once, and other nodes
 *   on the `price_list.changed` event.
 */
export interface PricingConfig {
  precedence: PrecedenceStrategy;
  guestPrices: GuestPrices;
  defaultCurrency: string;
  defaultVatRate: VatRate;
  cacheMs: number;
}

export const PRECEDENCE_STRATEGIES = ['priority', 'lowest'] as const;
export type PrecedenceStrategy = (typeof PRECEDENCE_STRATEGIES)[number];

export const GUEST_PRICES = ['hidden', 'on-request', 'default'] as const;
export type GuestPrices = (typeof GUEST_PRICES)[number];

/** Chinese VAT rates (增值税): 13 % goods, 9 % e.g. transport and agricultural goods, 6 % services, 0 % exports. */
export const VAT_RATES = [13, 9, 6, 0] as const;
export type VatRate = (typeof VAT_RATES)[number];

/** A ConfigError, so `hub start` stops with one line naming the variable. */
export class PricingConfigError extends ConfigError {}

type Env = Record<string, string | undefined>;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new PricingConfigError(`${name}=${raw} is not one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

export function loadPricingConfig(env: Env = process.env): PricingConfig {
  const currency = env.HUB_PRICING_CURRENCY || 'CNY';
  if (!isKnownCurrency(currency)) {
    throw new PricingConfigError(`HUB_PRICING_CURRENCY=${currency} is not an ISO 4217 currency code`);
  }
  const vat = env.HUB_PRICING_DEFAULT_VAT_RATE || '13';
  if (!(VAT_RATES as readonly number[]).includes(Number(vat)) || !/^\d+$/.test(vat)) {
    throw new PricingConfigError(`HUB_PRICING_DEFAULT_VAT_RATE=${vat} is not one of ${VAT_RATES.join(', ')}`);
  }
  const cacheMs = Number(env.HUB_PRICING_CACHE_MS || 5000);
  if (!Number.isInteger(cacheMs) || cacheMs < 0 || cacheMs > 600_000) {
    throw new PricingConfigError(`HUB_PRICING_CACHE_MS=${env.HUB_PRICING_CACHE_MS} is not 0..600000`);
  }
  return {
    precedence: oneOf(env, 'HUB_PRICING_PRECEDENCE', PRECEDENCE_STRATEGIES, 'priority'),
    guestPrices: oneOf(env, 'HUB_PRICING_GUEST_PRICES', GUEST_PRICES, 'hidden'),
    defaultCurrency: currency,
    defaultVatRate: Number(vat) as VatRate,
    cacheMs,
  };
}

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** An ISO 4217 code this runtime knows (the ICU data Node ships), so `CYN` is refused, not stored. */
export function isKnownCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}
