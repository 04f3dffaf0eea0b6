import path from 'node:path';
import type { Service, ServiceSchema } from 'moleculer';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import { documentsArea } from './documents/order-documents.actions.ts';
import { internalArea } from './internal.actions.ts';
import { startOrderInvoicing } from './order-invoicing.ts';
import { ordersArea } from './orders.actions.ts';
import type { OrdersArea, OrdersContext } from './orders-area.ts';
import { poDocumentsArea } from './po-documents.actions.ts';
import { sweepUnattachedPoDocuments } from './po-documents.ts';
import { reorderArea } from './reorder.actions.ts';
import { shipmentsArea } from './shipments.actions.ts';

/** The parts of the orders service, each in its own file with its actions and routes. */
const AREAS: Array<(context: OrdersContext) => OrdersArea> = [
  ordersArea,
  poDocumentsArea,
  shipmentsArea,
  reorderArea,
  documentsArea,
  internalArea,
];

/** How often unattached PO documents past their keep time are removed. */
const SWEEP_EVERY_MS = 60 * 60_000;

// Routes are data: built once from a throwaway context (no I/O happens at build time).
const ROUTES = AREAS.flatMap((area) => area({ platform: {} as Platform }).routes);

export const ordersModule: HubModule = {
  name: 'orders',
  description:
    'Orders: an explicit state machine with full history and events, buyer order history within the reader’s scope, staff review and processing, shipments and backorders per line, printable documents',
  migrations: { domain: 'orders', directory: path.join(import.meta.dirname, 'migrations') },
  routes: ROUTES,
  service: (platform: Platform): ServiceSchema => {
    let sweepTimer: NodeJS.Timeout | undefined;
    return {
      name: 'orders',
      actions: Object.assign({}, ...AREAS.map((area) => area({ platform }).actions)),
      async started(this: Service) {
        await startOrderInvoicing(platform, this.broker);
        sweepTimer = setInterval(() => {
          sweepUnattachedPoDocuments(platform.db, platform.storage).catch((error: unknown) =>
            platform.logger.warn({ err: error }, 'sweeping unattached PO documents failed'),
          );
        }, SWEEP_EVERY_MS);
        sweepTimer.unref();
      },
      async stopped() {
        if (sweepTimer) clearInterval(sweepTimer);
        sweepTimer = undefined;
      },
    };
  },
};
