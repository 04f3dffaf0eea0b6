import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ServiceSchema } from 'moleculer';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import { priceArea } from './price.actions.ts';
import { createCaches } from './price-lines.ts';
import { priceListsArea } from './price-lists.actions.ts';
import type { PricingArea, PricingContext } from './pricing-area.ts';
import { loadPricingConfig, type PricingConfig } from './pricing-config.ts';
import { quantityRulesArea } from './quantity-rules.actions.ts';
import { vatRatesArea } from './vat-rates.actions.ts';

/** The parts of the pricing service, each in its own file with its actions and routes. */
const AREAS: Array<(context: PricingContext) => PricingArea> = [
  priceListsArea,
  quantityRulesArea,
  vatRatesArea,
  priceArea,
];

// Routes are data: built once from a throwaway context (no I/O happens at build time).
const ROUTES = AREAS.flatMap((area) => area({ platform: {} } as PricingContext).routes);

/**
 * The pricing service. `config` defaults to the environment (pricing-config.ts); tests pass one.
 * Each process keeps its own short-lived caches and clears them on `price_list.changed`: the
 * handler's group is unique per process, so every process hears the event, not just one of them.
 */
export function pricingService(
  platform: Platform,
  config: PricingConfig = loadPricingConfig(),
): ServiceSchema {
  const caches = createCaches(config);
  const areas = AREAS.map((area) => area({ platform, config, caches }));
  const forget = () => caches.lists.clear();
  return {
    name: 'pricing',
    actions: Object.assign({}, ...areas.map((a) => a.actions)),
    events: {
      'price_list.changed': { group: `pricing-cache-${randomUUID()}`, handler: forget },
    },
  };
}

export const pricingModule: HubModule = {
  name: 'pricing',
  description:
    'Pricing engine: price lists by level (default, tier, group, contract), quantity tiers, quantity rules, VAT, batch pricing with explanations',
  migrations: { domain: 'pricing', directory: path.join(import.meta.dirname, 'migrations') },
  routes: ROUTES,
  service: (platform: Platform): ServiceSchema => pricingService(platform),
};
