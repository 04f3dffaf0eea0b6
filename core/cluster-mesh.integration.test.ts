import { randomBytes } from 'node:crypto';
import { DEMO_BUYER, DEMO_STAFF, seedDemoAccounts } from './accounts/demo-data.ts';
import { migrate, selectModules } from './hub.ts';
import { freePort, type HubProcess, spawnHub } from './platform/testing/hub-process.ts';
import { http } from './platform/testing/start-test-hub.ts';
import {
  createTestDatabase,
  type TestDatabase,
  testServers,
  uniqueName,
} from './platform/testing/test-servers.ts';

/**
 * Two hub processes on the real NATS server, each running other services: a request entering the
 * edge process's gateway is served by the accounts service of the core process.
 */
let database: TestDatabase;
let edge: HubProcess;
let core: HubProcess;
let baseUrl: string;
let corePort: number;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.db, selectModules(undefined));
  await seedDemoAccounts(database.db);
  const shared = {
    DATABASE_URL: database.url,
    REDIS_URL: testServers.redis,
    NATS_URL: testServers.nats,
    HUB_NAMESPACE: uniqueName('mesh'),
    HUB_JWT_SECRET: randomBytes(32).toString('base64'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'debug',
  };
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  edge = spawnHub(['start'], {
    ...shared,
    HUB_SERVICES: 'gateway',
    HUB_NODE_ID: 'edge-1',
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  corePort = await freePort();
  core = spawnHub(['start'], {
    ...shared,
    HUB_SERVICES: 'accounts,jobs,outbox',
    HUB_NODE_ID: 'core-1',
    PORT: String(corePort),
    HOST: '127.0.0.1',
  });
  await Promise.all([edge.waitFor(/"msg":"hub ready"/), core.waitFor(/"msg":"hub ready"/)]);
  // Service discovery over NATS takes a heartbeat or two.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const probe = await http(baseUrl, 'POST', '/api/auth/login', {
      body: { email: DEMO_STAFF.email, password: 'x' },
    });
    if (probe.status === 401) break;
    await new Promise((r) => setTimeout(r, 200));
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([edge?.stop(), core?.stop()]);
  await database?.drop();
});

test('the edge gateway serves buyer requests from the core process over NATS', async () => {
  const login = await http(baseUrl, 'POST', '/api/auth/login', { body: DEMO_BUYER });
  expect(login.status).toBe(200);
  const me = await http(baseUrl, 'GET', '/api/me', {
    token: login.body.accessToken,
    headers: { 'x-request-id': 'mesh-request-42' },
  });
  expect(me.status).toBe(200);
  expect(me.body.email).toBe(DEMO_BUYER.email);
  expect(me.headers.get('x-request-id')).toBe('mesh-request-42');
  // The call was handled (and logged with the caller's request id) on the core node.
  await core.waitFor(/"requestId":"mesh-request-42","action":"accounts\.me","caller":"edge-1"/, 5000);
  expect(edge.output()).not.toMatch(/"action":"accounts\.me"/);
});

test('the mesh view shows which node runs which service', async () => {
  const token = (await http(baseUrl, 'POST', '/api/auth/login', { body: DEMO_STAFF })).body.accessToken;
  const { status, body } = await http(baseUrl, 'GET', '/api/staff/system/nodes', { token });
  expect(status).toBe(200);
  const byId = Object.fromEntries(body.map((n: { id: string; services: string[] }) => [n.id, n.services]));
  expect(byId['edge-1']).toEqual(['gateway']);
  expect(byId['core-1']).toEqual(['accounts', 'jobs', 'outbox']);
});

test('the gateway-less core process still answers health and metrics', async () => {
  const coreUrl = `http://127.0.0.1:${corePort}`;
  const ready = await http(coreUrl, 'GET', '/health/ready');
  expect(ready.status).toBe(200);
  expect(ready.body).toMatchObject({
    status: 'ready',
    checks: {
      database: { ok: true },
      queue: { ok: true, backend: 'redis' },
      transporter: { kind: 'nats', ok: true },
    },
  });
  expect((await http(coreUrl, 'GET', '/metrics')).body).toMatch(
    /hub_action_calls_total\{action="accounts\.login"/,
  );
  expect((await http(coreUrl, 'GET', '/api/me')).status).toBe(404);
});

test('when the core process stops, its routes answer 503 instead of hanging', async () => {
  await core.stop();
  const deadline = Date.now() + 20_000;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await http(baseUrl, 'POST', '/api/auth/login', { body: DEMO_BUYER })).status;
    if (status === 503) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(status).toBe(503);
});
