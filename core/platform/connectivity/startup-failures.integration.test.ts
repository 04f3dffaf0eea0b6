import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { jest } from '@jest/globals';
import { freePort, spawnHub } from '../testing/hub-process.ts';
import { testServers } from '../testing/test-servers.ts';

const secrets = {
  HUB_JWT_SECRET: randomBytes(32).toString('base64'),
  HUB_MASTER_KEY: randomBytes(32).toString('base64'),
  HUB_CONNECT_TIMEOUT: '2',
};

// Each case spawns a hub process: loading every module takes seconds on a busy CI machine, so the
// bounds below catch a hang (the connect timeout is 2 s), not slowness.
const HANG_MS = 60_000;
jest.setTimeout(2 * HANG_MS);

/** A server that accepts connections and never says a word: the "hang" case. */
let silent: Server;
let silentPort: number;
const sockets = new Set<Socket>();
beforeAll(async () => {
  silentPort = await freePort();
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

async function startFails(env: Record<string, string>) {
  const started = Date.now();
  const hub = spawnHub(['start'], { ...secrets, PORT: String(await freePort()), ...env });
  const code = await hub.exited();
  return { code, stderr: hub.errors(), stdout: hub.output(), ms: Date.now() - started };
}

test.each([
  [
    'PostgreSQL refusing',
    { DATABASE_URL: 'postgres://hub:s3cret@127.0.0.1:1/hub' },
    /^hub: Cannot reach PostgreSQL at postgres:\/\/hub:\*\*\*@127\.0\.0\.1:1\/hub \(DATABASE_URL\): ECONNREFUSED\. .*unset it/,
  ],
  [
    'Redis refusing',
    { DATABASE_URL: testServers.postgres, REDIS_URL: 'redis://127.0.0.1:1' },
    /^hub: Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(REDIS_URL\)/,
  ],
  [
    'NATS refusing',
    { DATABASE_URL: testServers.postgres, NATS_URL: 'nats://127.0.0.1:1' },
    /^hub: Cannot reach NATS at nats:\/\/127\.0\.0\.1:1 \(NATS_URL\)/,
  ],
])('%s: one clear line, exit 1, no stack trace', async (_name, env, expected) => {
  const { code, stderr, ms } = await startFails(env);
  expect(code).toBe(1);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(expected);
  expect(stderr).not.toContain('s3cret');
  expect(ms).toBeLessThan(HANG_MS);
});

test.each([
  ['PostgreSQL', 'DATABASE_URL', 'postgres://127.0.0.1:PORT/hub', /Cannot reach PostgreSQL/],
  ['Redis', 'REDIS_URL', 'redis://127.0.0.1:PORT', /Cannot reach Redis/],
  ['NATS', 'NATS_URL', 'nats://127.0.0.1:PORT', /Cannot reach NATS/],
])(
  'a %s server that never answers times out with one line instead of hanging',
  async (_name, variable, url, expected) => {
    const env: Record<string, string> = {
      DATABASE_URL: testServers.postgres,
      [variable]: url.replace('PORT', String(silentPort)),
    };
    const { code, stderr, ms } = await startFails(env);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(expected);
    expect(ms).toBeLessThan(HANG_MS);
  },
);

test('an unknown service name in HUB_SERVICES is refused by name', async () => {
  const { code, stderr } = await startFails({
    DATABASE_URL: testServers.postgres,
    HUB_SERVICES: 'gateway,orderz',
  });
  expect(code).toBe(1);
  expect(stderr).toMatch(/^hub: HUB_SERVICES names unknown service\(s\) orderz; known: .*gateway/);
});

test('a clustered process without shared secrets is refused with the fix', async () => {
  const hub = spawnHub(['start'], { DATABASE_URL: testServers.postgres, PORT: String(await freePort()) });
  expect(await hub.exited()).toBe(1);
  // The first missing shared secret is named (the master key is read first, then the JWT secret).
  expect(hub.errors()).toMatch(/^hub: HUB_(MASTER_KEY|JWT_SECRET) is not set; .*openssl rand -base64 32/);
});

test('a gateway port already in use is one line naming the port', async () => {
  const { code, stderr } = await startFails({
    DATABASE_URL: testServers.postgres,
    PORT: String(silentPort),
    HOST: '127.0.0.1',
  });
  expect(code).toBe(1);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(
    new RegExp(`^hub: port ${silentPort} on 127\\.0\\.0\\.1 is already in use \\(PORT\\)`),
  );
});
