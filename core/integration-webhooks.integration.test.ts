import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ConnectorManifest } from '../schemas/generated/types.ts';
import { accountsModule } from './accounts/accounts.module.ts';
import { seedDemoAccounts } from './accounts/demo-data.ts';
import { createGatewayModule } from './gateway/gateway.module.ts';
import { type RunningHub, startHub } from './hub.ts';
import type { WebhookVerifier } from './integration/connector-registry.ts';
import { createIntegrationModule } from './integration/integration.module.ts';
import { loadHubConfig } from './platform/config/hub-config.ts';
import { outboxModule } from './platform/outbox/outbox.module.ts';
import { http, logInAs } from './platform/testing/start-test-hub.ts';
import {
  createTestDatabase,
  type TestDatabase,
  testServers,
  uniqueName,
} from './platform/testing/test-servers.ts';
import { waitFor } from './platform/testing/wait-for.ts';

/**
 * Webhook intake on a real hub (PostgreSQL, BullMQ on Redis, the outbox relay, the gateway) for a
 * connector that declares an HMAC-SHA256 signature over the raw body, keyed by a credential.
 */

const manifest = {
  id: 'hooktest',
  displayName: 'Webhook test system',
  version: '0.1.0',
  capabilities: { webhooks: [{ name: 'events' }] },
} as unknown as ConnectorManifest;

const configSchema = {
  type: 'object',
  properties: {
    account: { type: 'string', minLength: 1, maxLength: 50 },
    signingSecret: { type: 'string', minLength: 16, maxLength: 200, 'x-secret': true },
  },
  required: ['account', 'signingSecret'],
  additionalProperties: false,
};

const hmacVerifier: WebhookVerifier = {
  headers: ['x-hook-signature', 'x-hook-event-id'],
  verify({ body, headers, credentials }) {
    const eventId = headers['x-hook-event-id'];
    const given = Buffer.from(headers['x-hook-signature'] ?? '', 'hex');
    const expected = createHmac('sha256', String(credentials.signingSecret)).update(body).digest();
    if (!eventId || given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return eventId;
  },
};

let hub: RunningHub;
let database: TestDatabase;
let baseUrl: string;
let connectionId: string;
const signingSecret = randomBytes(24).toString('hex');

function signed(body: string, eventId: string, secret = signingSecret) {
  return {
    'content-type': 'application/json',
    'x-hook-event-id': eventId,
    'x-hook-signature': createHmac('sha256', secret).update(body).digest('hex'),
  };
}

const deliveries = async () =>
  (
    await hub.platform.db.query(
      'SELECT event_id, body, processed_at FROM integration.webhook_deliveries ORDER BY received_at',
    )
  ).rows;

beforeAll(async () => {
  database = await createTestDatabase();
  const integration = createIntegrationModule({
    connectors: [{ manifest, configSchema }],
    webhookVerifiers: { hooktest: hmacVerifier },
  });
  const modules = [accountsModule, outboxModule, integration];
  const config = loadHubConfig({
    DATABASE_URL: database.url,
    REDIS_URL: testServers.redis,
    HUB_JWT_SECRET: randomBytes(32).toString('base64'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    HUB_NAMESPACE: uniqueName('hooks'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    HUB_FLOWS: 'off',
  });
  hub = await startHub(config, { modules: [...modules, createGatewayModule(modules)] });
  await seedDemoAccounts(hub.platform.db);
  const gateway = hub.broker.getLocalService('gateway') as unknown as { server: { address(): AddressInfo } };
  baseUrl = `http://127.0.0.1:${gateway.server.address().port}`;
  const staff = await logInAs(baseUrl, 'admin@hub.local', 'demo-admin-password');
  const created = await http(baseUrl, 'POST', '/api/staff/integrations/connections', {
    token: staff,
    body: {
      connectorId: 'hooktest',
      name: 'Hooks',
      config: { account: 'a1' },
      credentials: { signingSecret },
    },
  });
  expect(created.status).toBe(201);
  connectionId = created.body.id;
}, 120_000);

afterAll(async () => {
  await hub?.stop();
  await database?.drop();
});

describe('webhook intake', () => {
  it('refuses a wrong signature with 401 and stores nothing', async () => {
    const body = JSON.stringify({ shipment: 'S-1' });
    const forged = await http(baseUrl, 'POST', `/hooks/${connectionId}`, {
      rawBody: body,
      headers: signed(body, 'evt-forged', 'not-the-secret-at-all'),
    });
    expect(forged.status).toBe(401);
    const tampered = await http(baseUrl, 'POST', `/hooks/${connectionId}`, {
      rawBody: `${body} `,
      headers: signed(body, 'evt-tampered'),
    });
    expect(tampered.status).toBe(401);
    const unknown = await http(baseUrl, 'POST', `/hooks/${randomUUID()}`, {
      rawBody: body,
      headers: signed(body, 'evt-unknown'),
    });
    expect(unknown.status).toBe(404);
    expect(await deliveries()).toHaveLength(0);
  });

  it('stores the raw body, answers 202, processes it through the queue once, and dedupes by event id', async () => {
    const body = JSON.stringify({ shipment: 'S-2', waybill: 'SF123' });
    const first = await http(baseUrl, 'POST', `/hooks/${connectionId}`, {
      rawBody: body,
      headers: signed(body, 'evt-2'),
    });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ received: true, duplicate: false, eventId: 'evt-2' });
    const again = await http(baseUrl, 'POST', `/hooks/${connectionId}`, {
      rawBody: body,
      headers: signed(body, 'evt-2'),
    });
    expect(again.status).toBe(202);
    expect(again.body.duplicate).toBe(true);
    const stored = await deliveries();
    expect(stored).toHaveLength(1);
    expect((stored[0]!.body as Buffer).toString('utf8')).toBe(body);
    await waitFor(
      async () => (await deliveries())[0]!.processed_at !== null,
      'the delivery to be processed',
      30_000,
    );
    const { rows } = await hub.platform.db.query(
      `SELECT payload FROM platform.outbox WHERE kind = 'event' AND topic = 'integration.webhook_received'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload).toMatchObject({
      connectionId,
      eventId: 'evt-2',
      bytes: Buffer.byteLength(body),
    });
    const delivery = (await hub.broker.call('integration.internal.webhookDelivery', {
      id: rows[0]!.payload.deliveryId,
    })) as { body: string };
    expect(Buffer.from(delivery.body, 'base64').toString('utf8')).toBe(body);
  }, 60_000);

  it('refuses a body over the bound with 413 and stores nothing', async () => {
    const body = JSON.stringify({ filler: 'x'.repeat(1024 * 1024) });
    const big = await http(baseUrl, 'POST', `/hooks/${connectionId}`, {
      rawBody: body,
      headers: signed(body, 'evt-big'),
    });
    expect(big.status).toBe(413);
    expect((await deliveries()).map((row) => row.event_id)).not.toContain('evt-big');
  }, 60_000);
});
