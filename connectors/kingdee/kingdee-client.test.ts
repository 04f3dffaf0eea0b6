import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ConnectorPermanentError,
  ConnectorRateLimitedError,
  ConnectorRetryableError,
  MappingError,
  MaybeCommittedError,
  NotConnectedError,
} from '../sdk/connector-errors.ts';
import { closedLoopbackPort } from '../sdk/testing/closed-port.ts';
import { KingdeeSimulator } from './kingdee.simulator.ts';
import { KingdeeClient, type KingdeeConfig } from './kingdee-client.ts';
import { salesOrderPayload } from './kingdee-seed-data.ts';

let simulator: KingdeeSimulator;

beforeAll(async () => {
  simulator = await KingdeeSimulator.start({ sessionIdleMs: 60_000 });
  simulator.seedMaterials(12);
  simulator.seedCustomers(1);
});

afterAll(() => simulator.close());

function clientWith(
  overrides: Partial<KingdeeConfig> = {},
  credentials?: { appId: string; appSecret: string },
) {
  const connection = simulator.connection({ timeoutMs: 10_000, requestsPerSecond: 1000, ...overrides });
  return new KingdeeClient(connection.config, credentials ?? connection.credentials);
}

const materials = {
  FormId: 'BD_MATERIAL',
  FieldKeys: ['FNumber'],
  OrderString: 'FNumber ASC',
  StartRow: 0,
  Limit: 5,
};

describe('sessions', () => {
  it('logs in once and keeps the session across calls', async () => {
    const client = clientWith();
    await client.executeBillQuery(materials);
    await client.executeBillQuery({ ...materials, StartRow: 5 });
    expect(client.loginCount).toBe(1);
  });

  it('renews a session that expired mid-run exactly once and repeats only the refused call', async () => {
    const client = clientWith();
    const first = await client.executeBillQuery(materials);
    const queries = simulator.callCount('ExecuteBillQuery');
    simulator.expireSessions();
    const second = await client.executeBillQuery({ ...materials, StartRow: 5 });
    expect(client.loginCount).toBe(2);
    expect(simulator.callCount('ExecuteBillQuery') - queries).toBe(2); // refused once, served once
    expect([...first, ...second].map((row) => row[0])).toEqual(
      Array.from({ length: 10 }, (_, index) => `MAT${String(index + 1).padStart(6, '0')}`),
    );
  });

  it('renews a session that went idle past the server timeout (simulated clock)', async () => {
    const client = clientWith();
    await client.executeBillQuery(materials);
    simulator.advanceClock(61);
    await client.executeBillQuery(materials);
    expect(client.loginCount).toBe(2);
  });

  it('gives up as not-connected, without looping, when the renewed session is refused too', async () => {
    const client = clientWith();
    await client.executeBillQuery(materials);
    const logins = simulator.callCount('LoginBySign');
    // The call and its one repeat both find the session gone.
    simulator.injectFault({ kind: 'session-expiry', service: 'ExecuteBillQuery', times: 2 });
    await expect(client.executeBillQuery(materials)).rejects.toBeInstanceOf(NotConnectedError);
    expect(simulator.callCount('LoginBySign') - logins).toBe(1);
  });

  it('renews the session of a Save refused with MsgCode 1 and saves once', async () => {
    const client = clientWith();
    await client.executeBillQuery(materials);
    simulator.expireSessions();
    const saved = await client.save('SAL_SaleOrder', salesOrderPayload('CLIENT-SO-1'));
    expect(saved.number).toBe('CLIENT-SO-1');
    expect(
      simulator.records('SAL_SaleOrder').filter((record) => record.fbillno === 'CLIENT-SO-1'),
    ).toHaveLength(1);
  });

  it.each([['cookie'], ['kdservice-sessionid'], ['SID']] as const)(
    'sends the session as %s',
    async (sessionTransport) => {
      const client = clientWith({ sessionTransport });
      expect(await client.executeBillQuery(materials)).toHaveLength(5);
      expect(client.loginCount).toBe(1);
    },
  );

  it('works with the positional envelope for login, queries and saves', async () => {
    const client = clientWith({ envelope: 'positional' });
    expect(await client.executeBillQuery(materials)).toHaveLength(5);
    const saved = await client.save('SAL_SaleOrder', salesOrderPayload('CLIENT-SO-POS'));
    expect(saved.number).toBe('CLIENT-SO-POS');
  });

  it('works with per-request signed headers and never logs in', async () => {
    const client = clientWith({ authMode: 'signed-headers' });
    const logins = simulator.callCount('LoginBySign');
    expect(await client.executeBillQuery(materials)).toHaveLength(5);
    await client.save('SAL_SaleOrder', salesOrderPayload('CLIENT-SO-SIGNED'));
    expect(simulator.callCount('LoginBySign')).toBe(logins);
  });
});

describe('failures map onto the taxonomy', () => {
  it('a refused login is not-connected, and its message carries no secret', async () => {
    const { credentials } = simulator.connection();
    const client = clientWith({}, { appId: credentials.appId, appSecret: 'wrong-secret' });
    const error = await client.executeBillQuery(materials).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotConnectedError);
    expect(String((error as Error).message)).not.toContain('wrong-secret');
  });

  it('a wrongly signed request is not-connected (signed-header mode has no session to renew)', async () => {
    const { credentials } = simulator.connection();
    const client = clientWith(
      { authMode: 'signed-headers' },
      { appId: credentials.appId, appSecret: 'wrong-secret' },
    );
    await expect(client.executeBillQuery(materials)).rejects.toBeInstanceOf(NotConnectedError);
  });

  it('HTTP 500 is retryable', async () => {
    simulator.injectFault({ kind: 'http-500', service: 'ExecuteBillQuery' });
    const error = await clientWith()
      .executeBillQuery(materials)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectorRetryableError);
    expect(error).not.toBeInstanceOf(MaybeCommittedError);
  });

  it('HTTP 429 is rate-limited with the Retry-After in milliseconds', async () => {
    simulator.injectFault({ kind: 'rate-limit', retryAfterSeconds: 7, service: 'ExecuteBillQuery' });
    const error = await clientWith()
      .executeBillQuery(materials)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectorRateLimitedError);
    expect((error as ConnectorRateLimitedError).retryAfterMs).toBe(7000);
  });

  it('a query with no answer before the deadline is retryable; a Save with no answer is maybe-committed', async () => {
    const client = clientWith({ timeoutMs: 2000 });
    simulator.injectFault({ kind: 'latency', ms: 8000, service: 'ExecuteBillQuery' });
    const queryError = await client.executeBillQuery(materials).catch((caught: unknown) => caught);
    expect(queryError).toBeInstanceOf(ConnectorRetryableError);
    expect(queryError).not.toBeInstanceOf(MaybeCommittedError);
    simulator.injectFault({ kind: 'timeout-after-commit', service: 'Save' });
    const saveError = await client
      .save('SAL_SaleOrder', salesOrderPayload('CLIENT-SO-LOST'))
      .catch((caught: unknown) => caught);
    expect(saveError).toBeInstanceOf(MaybeCommittedError);
    expect(simulator.bill('SAL_SaleOrder', 'CLIENT-SO-LOST')).toBeDefined();
  }, 30_000);

  it('a connection cut after a Save was sent is maybe-committed; after a query, retryable', async () => {
    const client = clientWith();
    simulator.injectFault({ kind: 'reset-after-commit', service: 'ExecuteBillQuery' });
    const queryError = await client.executeBillQuery(materials).catch((caught: unknown) => caught);
    expect(queryError).toBeInstanceOf(ConnectorRetryableError);
    expect(queryError).not.toBeInstanceOf(MaybeCommittedError);
    simulator.injectFault({ kind: 'reset-after-commit', service: 'Save' });
    const saveError = await client
      .save('SAL_SaleOrder', salesOrderPayload('CLIENT-SO-RESET'))
      .catch((caught: unknown) => caught);
    expect(saveError).toBeInstanceOf(MaybeCommittedError);
    expect(simulator.bill('SAL_SaleOrder', 'CLIENT-SO-RESET')).toBeDefined();
  });

  it('an unreachable site is retryable; a wrong path is not-connected', async () => {
    const closedPort = await closedLoopbackPort();
    await expect(
      clientWith({ baseUrl: `http://127.0.0.1:${closedPort}/k3cloud/` }).executeBillQuery(materials),
    ).rejects.toBeInstanceOf(ConnectorRetryableError);
    await expect(
      clientWith({ baseUrl: simulator.baseUrl.replace('/k3cloud/', '/not-k3cloud/') }).dataCenters(),
    ).rejects.toBeInstanceOf(NotConnectedError);
  });

  it('HTTP 200 with IsSuccess=false is a mapping error for unknown base data, permanent for a refused step', async () => {
    const client = clientWith();
    const payload = salesOrderPayload('CLIENT-SO-BAD');
    payload.Model.FSaleOrderEntry = [{ FMaterialId: { FNumber: 'NO-SUCH-MATERIAL' }, FQty: 1 }];
    await expect(client.save('SAL_SaleOrder', payload)).rejects.toBeInstanceOf(MappingError);
    await client.save('SAL_SaleOrder', salesOrderPayload('CLIENT-SO-DRAFT'));
    const audit = await client
      .workflow('Audit', 'SAL_SaleOrder', ['CLIENT-SO-DRAFT'])
      .catch((caught: unknown) => caught);
    expect(audit).toBeInstanceOf(ConnectorPermanentError);
    expect(audit).not.toBeInstanceOf(MappingError);
  });

  it('a query error row is classified, not returned as data', async () => {
    await expect(
      clientWith().executeBillQuery({ ...materials, FormId: 'NO_SUCH_FORM' }),
    ).rejects.toBeInstanceOf(ConnectorPermanentError);
  });

  it('an answer larger than the configured ceiling is refused', async () => {
    const client = clientWith({ maxResponseBytes: 200 });
    await expect(client.executeBillQuery({ ...materials, Limit: 12 })).rejects.toThrow(/exceeds 200 bytes/);
  });
});
