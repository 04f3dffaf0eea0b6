import path from 'node:path';
import type { ServiceSchema } from 'moleculer';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import { cartsArea } from './carts.actions.ts';
import type { CartsArea, CartsContext } from './carts-area.ts';
import { internalArea } from './internal.actions.ts';
import { linesArea } from './lines.actions.ts';
import { quickOrderArea } from './quick-order.actions.ts';
import { sharesArea } from './shares.actions.ts';

/** The parts of the carts service, each in its own file with its actions and routes. */
const AREAS: Array<(context: CartsContext) => CartsArea> = [
  cartsArea,
  linesArea,
  quickOrderArea,
  sharesArea,
  internalArea,
];

// Routes are data: built once from a throwaway context (no I/O happens at build time).
const ROUTES = AREAS.flatMap((area) => area({ platform: {} as Platform }).routes);

export const cartsModule: HubModule = {
  name: 'carts',
  description:
    'Carts: several named carts per buyer, repriced on every read with stale-price warnings, shared with colleagues, requisition lists and quick order (paste, CSV, XLSX)',
  migrations: { domain: 'carts', directory: path.join(import.meta.dirname, 'migrations') },
  routes: ROUTES,
  service: (platform: Platform): ServiceSchema => ({
    name: 'carts',
    actions: Object.assign({}, ...AREAS.map((area) => area({ platform }).actions)),
  }),
};
