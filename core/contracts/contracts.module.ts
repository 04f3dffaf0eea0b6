import path from 'node:path';
import type { Service, ServiceSchema } from 'moleculer';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import { contractsArea } from './contracts.actions.ts';
import type { ContractsArea, ContractsContext } from './contracts-area.ts';
import type { ESignatureGateway } from './esign/esignature-gateway.ts';
import { FascSimulator, fascSimulatorSecret } from './esign/fasc-simulator.ts';
import { templatesArea } from './templates.actions.ts';

const AREAS: Array<(context: ContractsContext) => ContractsArea> = [contractsArea, templatesArea];

/** One e-signature gateway per process: the simulator keeps the tasks it was given. */
const gateways = new WeakMap<Platform, ESignatureGateway>();

/** The e-signature port this process uses (tests play the provider through the simulator). */
export function esignatureOf(platform: Platform): ESignatureGateway {
  let gateway = gateways.get(platform);
  if (!gateway) {
    gateway = new FascSimulator({
      appId: process.env.HUB_ESIGN_SIMULATOR_APP_ID || 'hub-fasc-simulator',
      appSecret: fascSimulatorSecret(platform.config.masterKey),
    });
    gateways.set(platform, gateway);
  }
  return gateway;
}

// Routes are data: built once from a throwaway context (no I/O happens at build time).
const ROUTES = AREAS.flatMap(
  (area) =>
    area({ platform: {} as Platform, gateway: {} as ESignatureGateway, now: () => new Date() }).routes,
);

export const contractsModule: HubModule = {
  name: 'contracts',
  description:
    'Contracts: templates, contracts generated for orders and accepted quotes as PDF, e-signature through a port (法大大-style simulator), signed files kept with their SHA-256',
  migrations: { domain: 'contracts', directory: path.join(import.meta.dirname, 'migrations') },
  routes: ROUTES,
  service: (platform: Platform): ServiceSchema => {
    const context: ContractsContext = { platform, gateway: esignatureOf(platform), now: () => new Date() };
    // Sent contracts past their deadline are checked at the provider (a callback that never came).
    const interval = Number(process.env.HUB_CONTRACTS_SWEEP_MS ?? 3_600_000);
    let timer: NodeJS.Timeout | undefined;
    let sweeping: Promise<unknown> | undefined;
    return {
      name: 'contracts',
      actions: Object.assign({}, ...AREAS.map((area) => area(context).actions)),
      started(this: Service) {
        if (!(interval > 0)) return;
        const broker = this.broker;
        timer = setInterval(() => {
          if (sweeping) return;
          sweeping = broker
            .call('contracts.internal.sweepDeadlines', {})
            .catch((error: unknown) => platform.logger.warn({ err: error }, 'contract deadline sweep failed'))
            .finally(() => {
              sweeping = undefined;
            });
        }, interval);
        timer.unref();
      },
      async stopped() {
        if (timer) clearInterval(timer);
        timer = undefined;
        await sweeping;
      },
    };
  },
};
