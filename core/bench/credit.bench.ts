/**
 * Credit for orders paid on account, on a hub running accounts, credit, receivables and payments:
 * the credit part of placing and confirming an order (`credit.internal.hold` → `capture` →
 * `receivables.internal.issueInvoice`) from 32 callers at once, timed per order. Twice: every
 * caller on one company (all holds serialise on that account's row: the worst case of the limit
 * check) and each caller on its own company. Once on real PostgreSQL and once on the embedded
 * PGlite.
 *
 * `BENCH_CREDIT_ORDERS` (orders per run, default 2000), `BENCH_CREDIT_CONCURRENCY` (default 32) and
 * `BENCH_CREDIT_EMBEDDED=0` (skip PGlite) tune it. Run alone with
 * `node_modules/.bin/node core/bench/credit.bench.ts`.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type RunningHub, startHub } from '../hub.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import { loadHubConfig } from '../platform/config/hub-config.ts';
import { benchHubEnv, onEachBackend, percentile } from './bench-kit.ts';

const ORDERS = Number(process.env.BENCH_CREDIT_ORDERS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CREDIT_CONCURRENCY ?? 32);
const EMBEDDED = process.env.BENCH_CREDIT_EMBEDDED !== '0';

export interface CreditBenchFigures {
  name: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Orders timed. */
  total: number;
}

const staff = (): { meta: { auth: AuthContext } } => ({
  meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions: ['*'] } },
});

const cny = (minor: number) => ({ amountMinor: String(minor), currency: 'CNY' });

async function company(hub: RunningHub): Promise<string> {
  const { id } = (await hub.broker.call(
    'accounts.companies.create',
    { name: `Credit bench ${randomUUID().slice(0, 8)}`, status: 'active' },
    staff(),
  )) as { id: string };
  await hub.broker.call(
    'credit.staff.accounts.put',
    { companyId: id, limit: cny(1_000_000_000_00), terms: { kind: 'month_end', days: 30 } },
    staff(),
  );
  return id;
}

/** `ORDERS` orders from `CONCURRENCY` callers; caller i uses `companies[i % companies.length]`. */
async function timeOrders(hub: RunningHub, name: string, companies: string[]): Promise<CreditBenchFigures> {
  const order = async (companyId: string) => {
    const reference = `bench:${randomUUID()}`;
    const amount = cny(10_000 + Math.floor(Math.random() * 90_000));
    await hub.broker.call('credit.internal.hold', { reference, companyId, amount });
    await hub.broker.call('credit.internal.capture', { reference });
    await hub.broker.call('receivables.internal.issueInvoice', { reference, companyId, amount });
  };
  for (let i = 0; i < 20; i++) await order(companies[0]!);
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, caller) => {
      while (next < ORDERS) {
        next++;
        const t0 = performance.now();
        await order(companies[caller % companies.length]!);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    total: latencies.length,
  };
}

async function onBackend(backend: string, env: Record<string, string>): Promise<CreditBenchFigures[]> {
  const config = loadHubConfig(
    benchHubEnv('credit', {
      ...env,
      HUB_SERVICES: 'accounts,credit,receivables,payments',
    }),
  );
  const hub = await startHub(config);
  try {
    await hub.broker.waitForServices(['accounts', 'credit', 'receivables', 'payments']);
    const shared = await company(hub);
    const own = await Promise.all(Array.from({ length: CONCURRENCY }, () => company(hub)));
    return [
      await timeOrders(hub, `hold → capture → invoice, one company (${backend})`, [shared]),
      await timeOrders(hub, `hold → capture → invoice, ${CONCURRENCY} companies (${backend})`, own),
    ];
  } finally {
    await hub.stop();
  }
}

export async function benchCredit(): Promise<CreditBenchFigures[]> {
  return onEachBackend('credit', EMBEDDED, (env, backend) => onBackend(backend, env));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of await benchCredit()) {
    console.log(
      `${f.name}: ${f.perSecond.toFixed(1)} orders/s, p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms (${f.total})`,
    );
  }
  process.exit(0);
}
