import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_BUYER, DEMO_STAFF } from './accounts/demo-data.ts';
import { freePort, spawnHub } from './platform/testing/hub-process.ts';
import { http } from './platform/testing/start-test-hub.ts';

/**
 * The zero-server default, exactly as a new user starts it: no DATABASE_URL, REDIS_URL or
 * NATS_URL; PGlite on disk, BullMQ on it, no transporter; data survives a restart.
 */
const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-embedded-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test('starts, loads the demo data, serves the API, and keeps its data across a restart', async () => {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = { HUB_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };

  // Start-up time is measured by `npm run bench` (cold and warm), not timed here: a busy CI machine
  // may take several times longer. The bounds below only catch a hang.
  const first = spawnHub(['start', '--demo'], env);
  await first.waitFor(/Hub ready in \d+ ms/, 120_000);

  const ready = await http(baseUrl, 'GET', '/health/ready');
  expect(ready.body).toMatchObject({
    status: 'ready',
    checks: {
      database: { ok: true },
      queue: { ok: true, backend: 'postgres' },
      transporter: { kind: 'none', ok: true },
    },
  });
  const staff = (await http(baseUrl, 'POST', '/api/auth/login', { body: DEMO_STAFF })).body.accessToken;
  const created = await http(baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: { name: '持久化测试公司' },
  });
  expect(created.status).toBe(201);
  expect(await first.stop()).toBe(0);

  // A restart on existing data, timed from outside the process: node, PGlite, migrations, services.
  const second = spawnHub(['start'], env);
  await second.waitFor(/Hub ready in \d+ ms/, 90_000);
  try {
    const buyer = await http(baseUrl, 'POST', '/api/auth/login', { body: DEMO_BUYER });
    expect(buyer.status).toBe(200);
    const token = (await http(baseUrl, 'POST', '/api/auth/login', { body: DEMO_STAFF })).body.accessToken;
    const again = await http(baseUrl, 'GET', `/api/companies/${created.body.id}`, { token });
    expect(again.body.name).toBe('持久化测试公司');
  } finally {
    expect(await second.stop()).toBe(0);
  }
}, 300_000);
