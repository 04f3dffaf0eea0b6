import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KingdeeSimulator } from '../connectors/kingdee/kingdee.simulator.ts';
import { freePort, type HubProcess, spawnHub } from './platform/testing/hub-process.ts';
import { http, logInAs } from './platform/testing/start-test-hub.ts';
import {
  createTestDatabase,
  type TestDatabase,
  testServers,
  uniqueName,
} from './platform/testing/test-servers.ts';

/**
 * Connection credentials never reach a log line: a real hub process logging at debug level is
 * driven through create, check (passing and failing), credential rotation and a disabled
 * connection, and everything it wrote is searched for the secrets.
 */

let database: TestDatabase;
let hub: HubProcess;
let simulator: KingdeeSimulator;
let baseUrl: string;

beforeAll(async () => {
  database = await createTestDatabase();
  simulator = await KingdeeSimulator.start();
  const port = await freePort();
  hub = spawnHub(['start', '--demo'], {
    DATABASE_URL: database.url,
    REDIS_URL: testServers.redis,
    HUB_NAMESPACE: uniqueName('secrets'),
    HUB_JWT_SECRET: randomBytes(32).toString('base64'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
  });
  await hub.waitFor(/"msg":"demo data"/, 120_000);
  baseUrl = `http://127.0.0.1:${port}`;
}, 180_000);

afterAll(async () => {
  await hub?.stop();
  await simulator?.close();
  await database?.drop();
});

it('no log line of a debug-level hub carries a connection credential', async () => {
  const staff = await logInAs(baseUrl, 'admin@hub.local', 'demo-admin-password');
  const { config, credentials } = simulator.connection();
  const rotatedSecret = `rotated-${randomBytes(12).toString('hex')}`;
  const call = (method: string, path: string, body?: unknown) =>
    http(baseUrl, method, path, { token: staff, ...(body === undefined ? {} : { body }) });

  const created = await call('POST', '/api/staff/integrations/connections', {
    connectorId: 'kingdee',
    name: 'Logged',
    config: { ...config, timeoutMs: 2_000 },
    credentials,
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect((await call('POST', `/api/staff/integrations/connections/${id}/check`)).body.ok).toBe(true);
  const rotated = await call('PATCH', `/api/staff/integrations/connections/${id}`, {
    credentials: { ...credentials, appSecret: rotatedSecret },
  });
  expect(rotated.status).toBe(200);
  const refused = await call('POST', `/api/staff/integrations/connections/${id}/check`);
  expect(refused.body).toMatchObject({ ok: false, category: 'not-connected' });
  // A credential in the wrong place is refused without being repeated.
  const misplaced = await call('POST', '/api/staff/integrations/connections', {
    connectorId: 'kingdee',
    name: 'Misplaced',
    config: { ...config, appSecret: rotatedSecret },
    credentials: { appId: credentials.appId },
  });
  expect(misplaced.status).toBe(400);
  expect(JSON.stringify(misplaced.body)).not.toContain(rotatedSecret);

  const logged = hub.output() + hub.errors();
  expect(logged).toContain('"level":20'); // debug lines were written
  expect(logged).toContain(id);
  for (const secret of [credentials.appSecret, rotatedSecret]) expect(logged).not.toContain(secret);
}, 120_000);
