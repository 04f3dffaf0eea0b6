import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ReadPage } from '../sdk/connector.ts';
import {
  ConnectorRateLimitedError,
  MaybeCommittedError,
  NotConnectedError,
} from '../sdk/connector-errors.ts';
import { type ConnectorNodes, startConnectorNodes } from '../sdk/testing/connector-nodes.ts';
import { KingdeeSimulator } from './kingdee.simulator.ts';
import { createKingdeeConnector } from './kingdee-connector.ts';
import { salesOrderPayload } from './kingdee-seed-data.ts';

type Settings = Record<string, unknown>;

let simulator: KingdeeSimulator;
let nodes: ConnectorNodes;
let connection: { config: Settings; credentials: Settings };

beforeAll(async () => {
  simulator = await KingdeeSimulator.start();
  simulator.seedMaterials(7);
  simulator.seedCustomers(1);
  connection = simulator.connection({ timeoutMs: 10_000 }) as unknown as typeof connection;
  nodes = await startConnectorNodes(createKingdeeConnector());
}, 60_000);

afterAll(async () => {
  await nodes?.stop();
  await simulator?.close();
});

describe('the Kingdee connector as a Moleculer service on its own node', () => {
  it('checks, reads page by page and writes over NATS', async () => {
    const client = nodes.client(connection);
    expect((await client.check()).summary).toContain(simulator.acctId);
    const pages: ReadPage[] = [];
    for await (const page of client.read('materials', null, { pageSize: 3 })) pages.push(page);
    expect(pages.map((page) => page.records.length)).toEqual([3, 3, 1]);
    const result = await client.write('pushSalesOrder', salesOrderPayload('SVC-SO-1'), 'order-1');
    expect(result).toMatchObject({ externalId: 'SVC-SO-1', outcome: 'created' });
  }, 60_000);

  it('restores taxonomy errors on the caller side, with retry-after', async () => {
    const refused = nodes.client({
      ...connection,
      credentials: { ...connection.credentials, appSecret: 'wrong' },
    });
    const error = await refused.check().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotConnectedError);
    expect(String((error as Error).message)).not.toContain('wrong');

    simulator.injectFault({ kind: 'rate-limit', retryAfterSeconds: 3, service: 'ExecuteBillQuery' });
    const limited = await nodes
      .client(connection)
      .write('pushSalesOrder', salesOrderPayload('SVC-SO-2'), 'order-2')
      .catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(ConnectorRateLimitedError);
    expect((limited as ConnectorRateLimitedError).retryAfterMs).toBe(3000);

    simulator.injectFault({ kind: 'latency', ms: 0, service: 'ExecuteBillQuery' });
    simulator.injectFault({ kind: 'reset-after-commit', service: 'Save' });
    simulator.injectFault({ kind: 'http-500', service: 'ExecuteBillQuery' });
    const lost = await nodes
      .client(connection)
      .write('pushSalesOrder', salesOrderPayload('SVC-SO-3'), 'order-3')
      .catch((caught: unknown) => caught);
    expect(lost).toBeInstanceOf(MaybeCommittedError);
  }, 60_000);

  it('refuses settings that break the config schema, and a secret sent as plain config, before calling Kingdee', async () => {
    const logins = simulator.callCount('LoginBySign');
    const badUrl = nodes.client({ ...connection, config: { ...connection.config, baseUrl: 'not a url' } });
    await expect(badUrl.check()).rejects.toBeInstanceOf(NotConnectedError);
    const leaked = nodes.client({
      config: { ...connection.config, appSecret: connection.credentials.appSecret },
      credentials: { appId: connection.credentials.appId },
    });
    const leakError = await leaked.check().catch((caught: unknown) => caught);
    expect(leakError).toBeInstanceOf(NotConnectedError);
    expect(String((leakError as Error).message)).toMatch(/credential, not configuration/);
    expect(String((leakError as Error).message)).not.toContain(String(connection.credentials.appSecret));
    expect(simulator.callCount('LoginBySign')).toBe(logins);
  }, 60_000);

  it('rejects params outside the canonical schema at the action', async () => {
    await expect(
      nodes.caller.call('connectors.kingdee.write', {
        ...connection,
        operation: 'pushSalesOrder',
        input: {},
      }),
    ).rejects.toMatchObject({ type: 'validation-failed' });
  });
});
