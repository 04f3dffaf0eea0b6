import { randomBytes } from 'node:crypto';
import moleculer from 'moleculer';
import { KingdeeSimulator } from '../connectors/kingdee/kingdee.simulator.ts';
import { createKingdeeConnector } from '../connectors/kingdee/kingdee-connector.ts';
import { salesOrderPayload } from '../connectors/kingdee/kingdee-seed-data.ts';
import { NotConnectedError } from '../connectors/sdk/connector-errors.ts';
import { ConnectorServiceClient, connectorServiceName } from '../connectors/sdk/connector-service.ts';
import { migrate, selectModules } from './hub.ts';
import { freePort, type HubProcess, spawnHub } from './platform/testing/hub-process.ts';
import {
  createTestDatabase,
  type TestDatabase,
  testServers,
  uniqueName,
} from './platform/testing/test-servers.ts';
import { createSchemaValidator } from './platform/validation/schema-validator.ts';

/**
 * A hub process that runs only the Kingdee connector (`HUB_SERVICES=connectors.kingdee`), called
 * over the real NATS server from another node: the connector placed on a node of its own.
 */
let database: TestDatabase;
let connectorNode: HubProcess;
let caller: moleculer.ServiceBroker;
let simulator: KingdeeSimulator;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.db, selectModules(undefined));
  simulator = await KingdeeSimulator.start();
  simulator.seedCustomers(1);
  simulator.seedMaterials(5);
  const namespace = uniqueName('connector_node');
  connectorNode = spawnHub(['start'], {
    DATABASE_URL: database.url,
    REDIS_URL: testServers.redis,
    NATS_URL: testServers.nats,
    HUB_NAMESPACE: namespace,
    HUB_JWT_SECRET: randomBytes(32).toString('base64'),
    HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    HUB_SERVICES: connectorServiceName('kingdee'),
    HUB_NODE_ID: 'kingdee-1',
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
  });
  await connectorNode.waitFor(/"msg":"hub ready"/);
  caller = new moleculer.ServiceBroker({
    namespace,
    nodeID: `${namespace}-caller`,
    transporter: { type: 'NATS', options: { url: testServers.nats } },
    validator: createSchemaValidator(),
    logger: false,
    requestTimeout: 60_000,
  });
  await caller.start();
  await caller.waitForServices(connectorServiceName('kingdee'), 30_000);
}, 120_000);

afterAll(async () => {
  await caller?.stop();
  await connectorNode?.stop();
  await simulator?.close();
  await database?.drop();
});

test('the connector node checks, reads and writes for a caller on another node', async () => {
  const connection = simulator.connection() as unknown as {
    config: Record<string, unknown>;
    credentials: Record<string, unknown>;
  };
  const client = new ConnectorServiceClient(caller, createKingdeeConnector().manifest.id, connection);
  expect((await client.check()).summary).toContain(simulator.acctId);
  const numbers: unknown[] = [];
  for await (const page of client.read('materials', null, { pageSize: 2 })) {
    numbers.push(...page.records.map((record) => record.FNumber));
  }
  expect(numbers).toEqual(['MAT000001', 'MAT000002', 'MAT000003', 'MAT000004', 'MAT000005']);
  const written = await client.write('pushSalesOrder', salesOrderPayload('NODE-SO-1'), 'node-order-1');
  expect(written.externalId).toBe('NODE-SO-1');
  expect(simulator.bill('SAL_SaleOrder', 'NODE-SO-1')?.fdocumentstatus).toBe('C');
  const refused = new ConnectorServiceClient(caller, 'kingdee', {
    ...connection,
    credentials: { ...connection.credentials, appSecret: 'wrong-secret' },
  });
  await expect(refused.check()).rejects.toBeInstanceOf(NotConnectedError);
}, 60_000);
