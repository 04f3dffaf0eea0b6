import path from 'node:path';
import type { ServiceSchema } from 'moleculer';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import { creditArea } from './credit.actions.ts';
import type { CreditArea, CreditContext } from './credit-area.ts';
import { invoiceRequestsArea } from './invoice-requests.actions.ts';
import { sweepOverdue } from './invoices.ts';
import type { PaymentGateway } from './payment-gateway.ts';
import { SimulatorPaymentGateway, simulatorSecret } from './payment-simulator.ts';
import { paymentsArea } from './payments.actions.ts';
import type { BankAccountDetails } from './payments.ts';
import { receivablesArea } from './receivables.actions.ts';
import { businessDate } from './terms.ts';

/**
 * One domain (core/credit, PostgreSQL schema `credit`), three services, so the mesh names match
 * the contracts other domains call: `credit` (accounts, ledger, holds), `receivables` (invoices,
 * overdue sweep, invoice requests) and `payments` (payment port, bank transfers, statements).
 * They share the tables, so each module carries the same migrations: any subset of them can run
 * in a process (applying a migration twice is a no-op).
 */
export interface CreditOptions {
  /** The clock (tests pass a fake one). */
  clock?: () => Date;
  /** The online payment port; default the simulator, its secret from the master key. */
  gateway?: PaymentGateway;
  /** How often the receivables service sweeps for overdue invoices (default 1 h; 0 = never). */
  overdueSweepMs?: number;
}

const MIGRATIONS = { domain: 'credit', directory: path.join(import.meta.dirname, 'migrations') };

type Env = Record<string, string | undefined>;

/** The hub operator's receiving account (对公账户) shown with bank transfer instructions. */
export function bankAccountFromEnv(env: Env = process.env): BankAccountDetails {
  return {
    accountName: env.HUB_BANK_ACCOUNT_NAME || 'B2B Hub Demo Trading Co., Ltd. 示例贸易有限公司',
    bankName: env.HUB_BANK_NAME || 'Demo Bank Shanghai Branch 示例银行上海分行',
    accountNumber: env.HUB_BANK_ACCOUNT_NUMBER || '6222 0000 0000 0000 000',
  };
}

/** One gateway per process: the simulator keeps what it was asked to create, for `queryStatus`. */
const gateways = new WeakMap<Platform, PaymentGateway>();

/** The payment port this process uses (tests play the simulated provider through it). */
export function gatewayOf(platform: Platform): PaymentGateway {
  let gateway = gateways.get(platform);
  if (!gateway) {
    gateway = new SimulatorPaymentGateway({ secret: simulatorSecret(platform.config.masterKey) });
    gateways.set(platform, gateway);
  }
  return gateway;
}

function contextOf(platform: Platform, options: CreditOptions): CreditContext {
  const gateway = options.gateway ?? gatewayOf(platform);
  return { platform, now: options.clock ?? (() => new Date()), gateway, bankAccount: bankAccountFromEnv() };
}

function areasOf(builders: Array<(context: CreditContext) => CreditArea>, context: CreditContext) {
  return builders.map((build) => build(context));
}

const CREDIT = [creditArea];
const RECEIVABLES = [receivablesArea, invoiceRequestsArea];
const PAYMENTS = [paymentsArea];

// Routes are data: built once from a throwaway context (no I/O happens at build time).
const routesOf = (builders: Array<(context: CreditContext) => CreditArea>) =>
  areasOf(builders, {
    platform: {} as Platform,
    now: () => new Date(),
    gateway: {} as PaymentGateway,
    bankAccount: bankAccountFromEnv({}),
  }).flatMap((area) => area.routes);

export function createCreditModules(options: CreditOptions = {}): HubModule[] {
  return [
    {
      name: 'credit',
      description:
        'Credit accounts (账期): limits, terms, exposure, holds for orders, overdue blocking, an append-only ledger',
      migrations: MIGRATIONS,
      routes: routesOf(CREDIT),
      service: (platform: Platform): ServiceSchema => ({
        name: 'credit',
        actions: Object.assign({}, ...areasOf(CREDIT, contextOf(platform, options)).map((a) => a.actions)),
      }),
    },
    {
      name: 'receivables',
      description:
        'Receivables: invoices against orders with due dates, overdue list and sweep, invoice requests (开票申请)',
      migrations: MIGRATIONS,
      routes: routesOf(RECEIVABLES),
      service: (platform: Platform): ServiceSchema => {
        const context = contextOf(platform, options);
        const interval = options.overdueSweepMs ?? 3_600_000;
        let timer: NodeJS.Timeout | undefined;
        let sweeping: Promise<unknown> | undefined;
        return {
          name: 'receivables',
          actions: Object.assign({}, ...areasOf(RECEIVABLES, context).map((a) => a.actions)),
          started() {
            if (interval <= 0) return;
            timer = setInterval(() => {
              if (sweeping) return;
              sweeping = sweepOverdue(platform.db, businessDate(context.now()))
                .catch((error: unknown) => platform.logger.warn({ err: error }, 'overdue sweep failed'))
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
    },
    {
      name: 'payments',
      description:
        'Payments: online payment port (simulator), bank transfers (对公转账) confirmed by staff or bank statement import',
      migrations: MIGRATIONS,
      routes: routesOf(PAYMENTS),
      service: (platform: Platform): ServiceSchema => ({
        name: 'payments',
        actions: Object.assign({}, ...areasOf(PAYMENTS, contextOf(platform, options)).map((a) => a.actions)),
      }),
    },
  ];
}

export const [creditModule, receivablesModule, paymentsModule] = createCreditModules() as [
  HubModule,
  HubModule,
  HubModule,
];
