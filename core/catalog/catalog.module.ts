import path from 'node:path';
import type { ServiceSchema } from 'moleculer';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import { analyticsArea } from './analytics.actions.ts';
import { attributesArea } from './attributes.actions.ts';
import { brandsArea } from './brands.actions.ts';
import type { CatalogArea, CatalogContext } from './catalog-area.ts';
import { categoriesArea } from './categories.actions.ts';
import { exportArea } from './export/export.actions.ts';
import { importArea } from './import/imports.actions.ts';
import { internalArea } from './internal.actions.ts';
import { listsArea } from './lists.actions.ts';
import { mediaArea } from './media/media.actions.ts';
import { productsArea } from './products.actions.ts';
import { sharedCatalogsArea } from './shared-catalogs.actions.ts';
import { storefrontArea } from './storefront.actions.ts';

/** The parts of the catalog service, each in its own file with its actions and routes. */
const AREAS: Array<(context: CatalogContext) => CatalogArea> = [
  categoriesArea,
  brandsArea,
  attributesArea,
  productsArea,
  sharedCatalogsArea,
  storefrontArea,
  listsArea,
  analyticsArea,
  internalArea,
  exportArea,
  mediaArea,
  importArea,
];

function build(platform: Platform): CatalogArea {
  const areas = AREAS.map((area) => area({ platform }));
  return {
    actions: Object.assign({}, ...areas.map((a) => a.actions)),
    routes: areas.flatMap((a) => a.routes),
    async started() {
      for (const area of areas) await area.started?.();
    },
  };
}

// Routes are data: built once from a throwaway context (no I/O happens at build time).
const ROUTES = AREAS.flatMap((area) => area({ platform: {} as Platform }).routes);

export const catalogModule: HubModule = {
  name: 'catalog',
  description:
    'Product catalog: categories, brands, typed attributes, products with SKUs, shared catalogs and visibility, lists, compare, sitemap',
  migrations: { domain: 'catalog', directory: path.join(import.meta.dirname, 'migrations') },
  routes: ROUTES,
  service: (platform: Platform): ServiceSchema => {
    const { actions, started } = build(platform);
    return { name: 'catalog', actions, started };
  },
};
