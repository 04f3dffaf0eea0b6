import path from 'node:path';
import type { Service, ServiceSchema } from 'moleculer';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import { availabilityArea } from './availability.actions.ts';
import { startExpirySweep } from './expiry-sweep.ts';
import type { InventoryArea, InventoryContext } from './inventory-area.ts';
import { type InventoryConfig, loadInventoryConfig } from './inventory-config.ts';
import { reservationsArea } from './reservations.actions.ts';
import { stockArea } from './stock.actions.ts';
import { stockSyncArea } from './stock-sync.actions.ts';
import { thresholdsArea } from './thresholds.actions.ts';
import { warehousesArea } from './warehouses.actions.ts';

/** The parts of the inventory service, each in its own file with its actions and routes. */
const AREAS: Array<(context: InventoryContext) => InventoryArea> = [
  warehousesArea,
  stockArea,
  stockSyncArea,
  thresholdsArea,
  reservationsArea,
  availabilityArea,
];

// Routes are data: built once from a throwaway context (no I/O happens at build time).
const ROUTES = AREAS.flatMap((area) => area({ platform: {} } as InventoryContext).routes);

/**
 * The inventory service. `config` defaults to the environment (inventory-config.ts); tests pass
 * one. When started it takes part in the cluster-wide expiry sweep (expiry-sweep.ts).
 */
export function inventoryService(
  platform: Platform,
  config: InventoryConfig = loadInventoryConfig(),
): ServiceSchema {
  const areas = AREAS.map((area) => area({ platform, config }));
  return {
    name: 'inventory',
    actions: Object.assign({}, ...areas.map((a) => a.actions)),
    async started(this: Service) {
      if (config.sweepSeconds > 0) {
        await startExpirySweep(platform, config.sweepSeconds, (expired) => {
          if (expired.length) this.logger.info(`released ${expired.length} expired reservations`);
        });
      }
    },
  };
}

export const inventoryModule: HubModule = {
  name: 'inventory',
  description:
    'Multi-warehouse inventory: stock per SKU and warehouse, reservations for orders, movement ledger, low-stock alerts, buyer availability',
  migrations: { domain: 'inventory', directory: path.join(import.meta.dirname, 'migrations') },
  routes: ROUTES,
  service: (platform: Platform): ServiceSchema => inventoryService(platform),
};
