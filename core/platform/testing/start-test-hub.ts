import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { seedDemoAccounts } from '../../accounts/demo-data.ts';
import { type RunningHub, startHub } from '../../hub.ts';
import { loadHubConfig } from '../config/hub-config.ts';
import { createTestDatabase, type TestDatabase, testServers, uniqueName } from './test-servers.ts';

export interface TestHub {
  hub: RunningHub;
  database: TestDatabase;
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * A whole hub in this process on a fresh database of the real PostgreSQL server, with the demo
 * accounts, its gateway on a free port. `redis: true` puts BullMQ on the real Redis.
 */
export async function startTestHub(
  options: { redis?: boolean; env?: Record<string, string> } = {},
): Promise<TestHub> {
  const database = await createTestDatabase();
  const config = loadHubConfig({
    DATABASE_URL: database.url,
    ...(options.redis ? { REDIS_URL: testServers.redis } : {}),
    HUB_JWT_SECRET: randomBytes(32).toString('base64'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    HUB_NAMESPACE: uniqueName('test'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    // Node-RED is one runtime per process; the tests that need it turn it on.
    HUB_FLOWS: 'off',
    ...options.env,
  });
  const hub = await startHub(config);
  await seedDemoAccounts(hub.platform.db);
  const gateway = hub.broker.getLocalService('gateway') as unknown as { server: { address(): AddressInfo } };
  const baseUrl = `http://127.0.0.1:${gateway.server.address().port}`;
  return {
    hub,
    database,
    baseUrl,
    async stop() {
      await hub.stop();
      await database.drop();
    },
  };
}

/** JSON over HTTP with the answer's status, headers and parsed body. */
export async function http(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON answers
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  } else if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed };
}

export async function logInAs(baseUrl: string, email: string, password: string): Promise<string> {
  const { status, body } = await http(baseUrl, 'POST', '/api/auth/login', { body: { email, password } });
  if (status !== 200) throw new Error(`login as ${email} failed: ${status} ${JSON.stringify(body)}`);
  return body.accessToken;
}
