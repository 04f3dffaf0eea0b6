/**
 * `npm run bench`: figures for the foundation, printed as a table. Not part of the test suite.
 *
 * 1. Gateway HTTP → action → PostgreSQL: a hub process (real PostgreSQL, and the embedded PGlite
 *    default) serving GET /api/me (JWT check, Moleculer call, one SELECT), loaded by autocannon
 *    from this process.
 * 2. Moleculer remote calls over NATS beside a raw NATS request/reply loop, measured the same way
 *    (same payload, concurrency and duration, responder in another process); the ratio is the
 *    mesh's overhead.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import moleculer from 'moleculer';
import { connect } from 'nats';
import { DEMO_BUYER, seedDemoAccounts } from '../accounts/demo-data.ts';
import { migrate, selectModules } from '../hub.ts';
import { freePort, spawnHub } from '../platform/testing/hub-process.ts';
import { http } from '../platform/testing/start-test-hub.ts';
import { createTestDatabase, testServers, uniqueName } from '../platform/testing/test-servers.ts';
import { benchApprovalRules } from './approval-rules.bench.ts';
import { percentile } from './bench-kit.ts';
import { benchCarts } from './carts.bench.ts';
import { benchCatalogImport, importFiguresTable } from './catalog-import.bench.ts';
import { benchCatalogSearch, searchFiguresTable } from './catalog-search.bench.ts';
import { benchCredit } from './credit.bench.ts';
import { benchInventory } from './inventory.bench.ts';
import { benchMapping, mappingFiguresTable } from './mapping.bench.ts';
import { benchOrders } from './orders.bench.ts';
import { benchPermissionCheck } from './permission-check.bench.ts';
import { benchPricing } from './pricing.bench.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const HTTP_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const CALL_CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PAYLOAD = { sku: 'M8-SS-HEX-BOLT', qty: 12, note: '不锈钢六角螺栓' };

interface Figures {
  name: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  errors: number;
}

/** Runs `call` from `concurrency` loops for `seconds`; latency of every call is kept. */
async function closedLoop(
  name: string,
  concurrency: number,
  seconds: number,
  call: () => Promise<unknown>,
): Promise<Figures> {
  // Warm-up: connections, JIT, caches.
  const warmUntil = performance.now() + 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < warmUntil) await call();
    }),
  );
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        try {
          await call();
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

async function httpRoundTrips(
  name: string,
  env: Record<string, string>,
  seed: () => Promise<void>,
): Promise<Figures> {
  await seed();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const hub = spawnHub(['start', '--demo'], {
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  try {
    await hub.waitFor(/Hub ready in \d+ ms/, 60_000);
    const login = await http(baseUrl, 'POST', '/api/auth/login', { body: DEMO_BUYER });
    const token = login.body.accessToken as string;
    const run = (duration: number) =>
      autocannon({
        url: `${baseUrl}/api/me`,
        connections: HTTP_CONNECTIONS,
        duration,
        headers: { authorization: `Bearer ${token}` },
      });
    await run(1); // warm-up
    const result = await run(DURATION_S);
    return {
      name,
      perSecond: result.requests.average,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      total: result.requests.total,
      errors: result.errors + result.non2xx,
    };
  } finally {
    await hub.stop();
  }
}

function startResponder(mode: 'moleculer' | 'nats', namespace: string) {
  const child = spawn(
    process.execPath,
    [path.join(import.meta.dirname, 'bench-responder.ts'), mode, testServers.nats, namespace],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => String(chunk).includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`${mode} responder exited ${code}`)));
  });
  return { ready, stop: () => child.kill('SIGTERM') };
}

async function moleculerOverNats(): Promise<Figures> {
  const namespace = uniqueName('bench');
  const responder = startResponder('moleculer', namespace);
  await responder.ready;
  const broker = new moleculer.ServiceBroker({
    namespace,
    nodeID: 'bench-caller',
    transporter: { type: 'NATS', options: { url: testServers.nats } },
    logger: false,
  });
  await broker.start();
  await broker.waitForServices(['bench']);
  try {
    return await closedLoop('Moleculer call over NATS', CALL_CONCURRENCY, DURATION_S, () =>
      broker.call('bench.echo', PAYLOAD),
    );
  } finally {
    await broker.stop();
    responder.stop();
  }
}

/**
 * Raw NATS two ways: the client's `request()` (a timer and a muxed inbox per call), and the pattern
 * Moleculer's transporter itself uses (publish with a reply subject to one long-lived inbox,
 * answers matched by id), which is the fair baseline for the mesh's overhead.
 */
async function rawNats(): Promise<Figures[]> {
  const responder = startResponder('nats', '');
  await responder.ready;
  const nc = await connect({ servers: testServers.nats });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const body = encoder.encode(JSON.stringify(PAYLOAD));
  try {
    const request = await closedLoop('raw NATS request() per call', CALL_CONCURRENCY, DURATION_S, () =>
      nc.request('bench.echo', body, { timeout: 5000 }).then((m) => JSON.parse(decoder.decode(m.data))),
    );
    const inbox = `bench.reply.${randomBytes(6).toString('hex')}`;
    const pending = new Map<number, (value: unknown) => void>();
    nc.subscribe(inbox, {
      callback: (_error, message) => {
        const answer = JSON.parse(decoder.decode(message.data)) as { id: number };
        pending.get(answer.id)?.(answer);
        pending.delete(answer.id);
      },
    });
    let nextId = 0;
    const inboxLoop = await closedLoop(
      'raw NATS publish + shared reply inbox',
      CALL_CONCURRENCY,
      DURATION_S,
      () => {
        const id = nextId++;
        return new Promise((resolve) => {
          pending.set(id, resolve);
          nc.publish('bench.echo', encoder.encode(JSON.stringify({ id, ...PAYLOAD })), { reply: inbox });
        });
      },
    );
    return [request, inboxLoop];
  } finally {
    await nc.close();
    responder.stop();
  }
}

/** Milliseconds with enough digits for sub-millisecond figures. */
const ms = (value: number) => (value < 1 ? value.toFixed(4) : value.toFixed(2));

function table(rows: Figures[]): string {
  const header = ['benchmark', 'per second', 'p50 ms', 'p99 ms', 'total', 'errors'];
  const lines = rows.map((r) => [
    r.name,
    r.perSecond.toFixed(0),
    ms(r.p50Ms),
    ms(r.p99Ms),
    String(r.total),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n');
}

const secrets = {
  HUB_JWT_SECRET: randomBytes(32).toString('base64'),
  HUB_MASTER_KEY: randomBytes(32).toString('base64'),
};
const rows: Figures[] = [];

const database = await createTestDatabase();
try {
  rows.push(
    await httpRoundTrips(
      'HTTP GET /api/me → action → PostgreSQL',
      { ...secrets, DATABASE_URL: database.url, REDIS_URL: testServers.redis },
      async () => {
        await migrate(database.db, selectModules(undefined));
        await seedDemoAccounts(database.db);
      },
    ),
  );
} finally {
  await database.drop();
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-bench-'));
try {
  rows.push(
    await httpRoundTrips(
      'HTTP GET /api/me → action → embedded PGlite',
      { HUB_DATA_DIR: dataDir },
      async () => {},
    ),
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

const inProcess = [...(await benchApprovalRules()), ...(await benchPermissionCheck())];

const pricing = await benchPricing();

const carts = await benchCarts();

const credit = await benchCredit();

const inventory = await benchInventory();

const orders = await benchOrders();

const catalogImport = await benchCatalogImport();

const catalogSearch = await benchCatalogSearch();

const mapping = await benchMapping();

const mesh = await moleculerOverNats();
const [rawRequest, rawInbox] = await rawNats();
rows.push(mesh, rawRequest!, rawInbox!);

process.stdout.write(
  `\nFoundation benchmarks (${DURATION_S} s each; HTTP: ${HTTP_CONNECTIONS} connections; calls: ${CALL_CONCURRENCY} in flight)\n\n${table(rows)}\n\n` +
    `Mesh overhead against raw NATS with the same reply pattern: throughput ×${(mesh.perSecond / rawInbox!.perSecond).toFixed(2)}, ` +
    `p50 latency ×${(mesh.p50Ms / rawInbox!.p50Ms).toFixed(2)}; against request(): throughput ×${(mesh.perSecond / rawRequest!.perSecond).toFixed(2)}\n\n` +
    `In-process figures (one core)\n\n${table(inProcess.map((f) => ({ ...f, total: Math.round(f.perSecond), errors: 0 })))}\n\n` +
    `Pricing (one cart at a time through pricing.price; target p99 < 20 ms on PostgreSQL)\n\n${table(pricing.map((f) => ({ ...f, errors: 0 })))}\n\n` +
    `Carts (one request at a time through the carts actions: every answer is the cart repriced)\n\n${table(carts.map((f) => ({ ...f, errors: 0 })))}\n\n` +
    `Credit for orders on account (hold → capture → invoice per order, 32 callers)\n\n${table(credit.map((f) => ({ ...f, errors: 0 })))}\n\n` +
    `Inventory reservations through inventory.internal.reserve / release (32 callers; the hot SKU is one contended row)\n\n${table(inventory)}\n\n` +
    `Orders through the whole checkout saga (workflows.placeOrder in-process, no HTTP; 10 lines, credit, no approval; target > 200 orders/s)\n\n${table(orders)}\n\n` +
    `Catalog import into a fresh PostgreSQL database (target > 5,000 rows/s, memory flat in the file's size)\n\n${importFiguresTable(catalogImport)}\n\n` +
    `Catalog search, one search at a time (target p95 < 150 ms on PostgreSQL for broad queries and browsing)\n\n${searchFiguresTable(catalogSearch)}\n\n` +
    `Mapping engine, one record at a time, in process (each mapping file compiled once)\n\n${mappingFiguresTable(mapping)}\n`,
);
process.exit(0);
