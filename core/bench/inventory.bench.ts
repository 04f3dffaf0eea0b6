/**
 * Reservations per second through `inventory.internal.reserve` (the whole action path: schema
 * check, one transaction with the ordered row locks, allocation, lines, ledger) on a hub running
 * inventory, with 32 callers in flight:
 *
 * - hot SKU: every reservation takes 1 unit of the same SKU held in two warehouses — all callers
 *   queue on the same stock rows, the worst case for the locks;
 * - order-like: 10 lines of random SKUs out of 10,000 stocked in three warehouses — what the order
 *   saga does, mostly without contention;
 * - the release of those order-like reservations, one at a time per caller.
 *
 * Once on real PostgreSQL and once on the embedded PGlite (one session: transactions run one after
 * another). `BENCH_INVENTORY_SECONDS` (per scenario, default 5), `BENCH_INVENTORY_CONCURRENCY`
 * (default 32) and `BENCH_INVENTORY_EMBEDDED=0` (skip PGlite) tune it. Run alone with
 * `node_modules/.bin/node core/bench/inventory.bench.ts`.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type RunningHub, startHub } from '../hub.ts';
import { applyMovements, movement } from '../inventory/stock-ledger.ts';
import { insertWarehouse, type Warehouse } from '../inventory/warehouses.ts';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import { loadHubConfig } from '../platform/config/hub-config.ts';
import { benchHubEnv, onEachBackend, percentile } from './bench-kit.ts';

const SECONDS = Number(process.env.BENCH_INVENTORY_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_INVENTORY_CONCURRENCY ?? 32);
const EMBEDDED = process.env.BENCH_INVENTORY_EMBEDDED !== '0';
const SKUS = 10_000;
const LINES = 10;

export interface InventoryBenchFigures {
  name: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  errors: number;
}

const system = {
  meta: { auth: { kind: 'system', principalId: randomUUID(), companyId: null, permissions: [] } },
} as {
  meta: { auth: AuthContext };
};

/**
 * `CONCURRENCY` loops calling `call` for `SECONDS` (after a second of warm-up); every latency kept.
 * A loop whose call answers `'done'` stops early (nothing left to work on).
 */
async function closedLoop(
  name: string,
  call: (loop: number) => Promise<unknown>,
): Promise<InventoryBenchFigures> {
  const warmUntil = performance.now() + 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, loop) => {
      while (performance.now() < warmUntil) if ((await call(loop)) === 'done') return;
    }),
  );
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, loop) => {
      while (performance.now() < until) {
        const t0 = performance.now();
        try {
          if ((await call(loop)) === 'done') return;
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    total: latencies.length,
    errors,
  };
}

/** Three warehouses; 10,000 SKUs with plenty in each; one hot SKU in two. Through the ledger. */
async function seed(hub: RunningHub): Promise<{ skuIds: string[]; hot: string }> {
  const { db } = hub.platform;
  const warehouses: Warehouse[] = [];
  for (const [code, priority] of [
    ['SH', 10],
    ['GZ', 5],
    ['BJ', 0],
  ] as const) {
    warehouses.push(await insertWarehouse(db, { code, name: code, priority }));
  }
  const skuIds = Array.from({ length: SKUS }, () => randomUUID());
  const hot = randomUUID();
  const actor = { kind: 'system' as const, id: null };
  for (let start = 0; start < SKUS; start += 2000) {
    const batch = skuIds.slice(start, start + 2000);
    await db.transaction((tx) =>
      applyMovements(
        tx,
        batch.flatMap((skuId) => warehouses.map((w) => movement('in', skuId, w.id, 1_000_000))),
        actor,
      ),
    );
  }
  await db.transaction((tx) =>
    applyMovements(
      tx,
      warehouses.slice(0, 2).map((w) => movement('in', hot, w.id, 10_000_000)),
      actor,
    ),
  );
  await db.query('ANALYZE inventory.stock_levels');
  return { skuIds, hot };
}

async function onHub(env: Record<string, string>, backend: string): Promise<InventoryBenchFigures[]> {
  const config = loadHubConfig(
    benchHubEnv('inventory', {
      ...env,
      HUB_SERVICES: 'inventory',
    }),
  );
  // Inventory reads its settings from the environment when the hub starts: no sweep in the bench.
  const saved = process.env.HUB_INVENTORY_SWEEP_SECONDS;
  process.env.HUB_INVENTORY_SWEEP_SECONDS = '0';
  const hub = await startHub(config);
  if (saved === undefined) delete process.env.HUB_INVENTORY_SWEEP_SECONDS;
  else process.env.HUB_INVENTORY_SWEEP_SECONDS = saved;
  try {
    await hub.broker.waitForServices(['inventory']);
    const { skuIds, hot } = await seed(hub);
    const companyId = randomUUID();
    const reserve = (lines: Array<{ skuId: string; quantity: number }>) =>
      hub.broker.call(
        'inventory.internal.reserve',
        { reference: `bench:${randomUUID()}`, companyId, lines },
        system,
      );
    const figures: InventoryBenchFigures[] = [];
    figures.push(
      await closedLoop(`inventory: reserve 1 unit of one hot SKU, ${CONCURRENCY} callers (${backend})`, () =>
        reserve([{ skuId: hot, quantity: 1 }]),
      ),
    );
    const references: string[][] = Array.from({ length: CONCURRENCY }, () => []);
    figures.push(
      await closedLoop(
        `inventory: reserve ${LINES} lines of random SKUs, ${CONCURRENCY} callers (${backend})`,
        async (loop) => {
          const lines = Array.from({ length: LINES }, () => ({
            skuId: skuIds[Math.floor(Math.random() * SKUS)]!,
            quantity: 1 + Math.floor(Math.random() * 20),
          }));
          const answer = (await reserve(lines)) as { reference: string };
          references[loop]!.push(answer.reference);
        },
      ),
    );
    figures.push(
      await closedLoop(`inventory: release a ${LINES}-line reservation (${backend})`, async (loop) => {
        const reference = references[loop]!.pop();
        if (!reference) return 'done';
        return await hub.broker.call('inventory.internal.release', { reference }, system);
      }),
    );
    const { rows } = await hub.platform.db.query(
      `SELECT count(*)::int AS n FROM inventory.stock_levels WHERE on_hand < reserved OR reserved < 0`,
    );
    if (rows[0]!.n !== 0) throw new Error('the bench left negative or over-reserved stock');
    return figures;
  } finally {
    await hub.stop();
  }
}

export async function benchInventory(): Promise<InventoryBenchFigures[]> {
  return onEachBackend('inventory', EMBEDDED, onHub);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of await benchInventory()) {
    console.log(
      `${f.name}: ${f.perSecond.toFixed(0)}/s, p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms (${f.total} timed, ${f.errors} errors)`,
    );
  }
  process.exit(0);
}
