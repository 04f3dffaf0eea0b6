import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KingdeeSimulator } from '../connectors/kingdee/kingdee.simulator.ts';
import type { TestHub } from './platform/testing/start-test-hub.ts';
import { http } from './platform/testing/start-test-hub.ts';
import { testServers } from './platform/testing/test-servers.ts';
import { waitFor } from './platform/testing/wait-for.ts';
import {
  asStaff,
  buildWorld,
  createPricedSkus,
  startOrdersHub,
  type World,
} from './workflows/testing/orders-hub.ts';

/**
 * The integration module on a whole hub (real PostgreSQL, BullMQ on the real Redis, the outbox
 * relay) with the Kingdee simulator as the remote system: connections with sealed credentials,
 * confirmed orders pushed as sales orders exactly once, failed items kept and replayed.
 */

let test: TestHub;
let world: World;
let kingdee: KingdeeSimulator;
let second: KingdeeSimulator;
/** Every HTTP answer body of this test run, to prove no credential is ever echoed. */
const answers: string[] = [];

const CONNECTIONS = '/api/staff/integrations/connections';

async function call(method: string, path: string, body?: unknown, token = world.staff) {
  const answer = await http(test.baseUrl, method, path, { token, ...(body === undefined ? {} : { body }) });
  answers.push(JSON.stringify(answer.body));
  return answer;
}

/** Settings of a connection to `simulator`: quick timeouts so a lost answer is seen in seconds. */
function settingsOf(simulator: KingdeeSimulator) {
  const { config, credentials } = simulator.connection();
  return { config: { ...config, timeoutMs: 2_000 }, credentials };
}

async function createConnection(simulator: KingdeeSimulator, name: string) {
  const { config, credentials } = settingsOf(simulator);
  const created = await call('POST', CONNECTIONS, {
    connectorId: 'kingdee',
    name,
    config,
    credentials,
    sync: {
      outbound: [{ event: 'order.confirmed', operation: 'pushSalesOrder', mapping: 'sales-order' }],
      requestsPerSecond: 50,
    },
  });
  expect(created.status).toBe(201);
  return created.body as { id: string };
}

async function linkCustomer(connectionId: string, customerNumber: string) {
  await test.hub.broker.call('integration.internal.link', {
    connectionId,
    entity: 'customer',
    externalId: customerNumber,
    canonicalId: world.companyId,
  });
}

async function placeOrder(): Promise<{ id: string; number: string; status: string }> {
  const answer = await http(test.baseUrl, 'POST', '/api/orders', {
    token: world.buyer,
    body: {
      lines: [
        { skuId: world.skus.get('KD000001')!, quantity: 3 },
        { skuId: world.skus.get('KD000002')!, quantity: 1 },
      ],
      checkoutToken: randomUUID(),
      paymentMethod: 'credit',
    },
  });
  if (answer.status !== 201) throw new Error(`place: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.order;
}

const salesOrders = (simulator: KingdeeSimulator, number: string) =>
  simulator.records('SAL_SaleOrder').filter((bill) => bill.fbillno === number);

beforeAll(async () => {
  [kingdee, second] = await Promise.all([KingdeeSimulator.start(), KingdeeSimulator.start()]);
  for (const simulator of [kingdee, second]) {
    simulator.seedCustomers(1, { prefix: 'ACME' });
    simulator.seedMaterials(2, { prefix: 'KD' });
  }
  test = await startOrdersHub({ env: { REDIS_URL: testServers.redis } });
  await test.hub.broker.waitForServices(['integration', 'connectors.kingdee']);
  world = await buildWorld(test, { KD000001: 1250, KD000002: 9900 });
}, 180_000);

afterAll(async () => {
  await test?.stop();
  await Promise.all([kingdee?.close(), second?.close()]);
});

describe('connections', () => {
  it('are checked against the connector, keep credentials sealed, report why a check fails, and are audited', async () => {
    const { config, credentials } = settingsOf(kingdee);
    const unknown = await call('POST', CONNECTIONS, { connectorId: 'sap', name: 'x', config, credentials });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].pointer).toBe('/connectorId');
    const misplaced = await call('POST', CONNECTIONS, {
      connectorId: 'kingdee',
      name: 'misplaced',
      config: { ...config, appSecret: credentials.appSecret },
      credentials: { appId: credentials.appId },
    });
    expect(misplaced.status).toBe(400);
    expect(misplaced.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(
      expect.arrayContaining(['/config/appSecret']),
    );
    const invalid = await call('POST', CONNECTIONS, {
      connectorId: 'kingdee',
      name: 'invalid',
      config: { ...config, baseUrl: 'ftp://nowhere' },
      credentials,
    });
    expect(invalid.status).toBe(400);
    const asBuyer = await call(
      'POST',
      CONNECTIONS,
      { connectorId: 'kingdee', name: 'b', config, credentials },
      world.buyer,
    );
    expect(asBuyer.status).toBe(403);

    const created = await call('POST', CONNECTIONS, {
      connectorId: 'kingdee',
      name: 'Checked ERP',
      config,
      credentials,
    });
    expect(created.status).toBe(201);
    expect(created.body.credentialFields).toEqual(['appId', 'appSecret']);
    expect(created.body.config.lcid).toBe(2052); // the schema's defaults are filled in
    const { rows } = await test.hub.platform.db.query(
      'SELECT credentials_sealed, config::text AS config FROM integration.connections WHERE id = $1',
      [created.body.id],
    );
    expect(rows[0]!.credentials_sealed).toMatch(/^v1\./);
    expect(rows[0]!.credentials_sealed).not.toContain(credentials.appSecret);
    expect(rows[0]!.config).not.toContain(credentials.appSecret);

    const passed = await call('POST', `${CONNECTIONS}/${created.body.id}/check`);
    expect(passed.status).toBe(200);
    expect(passed.body).toMatchObject({ ok: true, category: null });
    expect(passed.body.message).toContain(kingdee.acctId);

    const rotated = await call('PATCH', `${CONNECTIONS}/${created.body.id}`, {
      credentials: { ...credentials, appSecret: 'a-wrong-secret-0123456789abcdef' },
    });
    expect(rotated.status).toBe(200);
    const failed = await call('POST', `${CONNECTIONS}/${created.body.id}/check`);
    expect(failed.body).toMatchObject({ ok: false, category: 'not-connected' });
    const shown = await call('GET', `${CONNECTIONS}/${created.body.id}`);
    expect(shown.body.lastCheck).toMatchObject({ ok: false, category: 'not-connected' });
    expect(shown.body.version).toBe(2);

    const disabled = await call('PATCH', `${CONNECTIONS}/${created.body.id}`, { enabled: false });
    expect(disabled.body.enabled).toBe(false);
    const audit = await test.hub.platform.db.query(
      `SELECT action, details::text AS details FROM platform.audit_log WHERE entity_id = $1 ORDER BY id`,
      [created.body.id],
    );
    expect(audit.rows.map((row) => row.action)).toEqual([
      'connection.created',
      'connection.credentials_rotated',
      'connection.disabled',
    ]);
    for (const row of audit.rows) {
      expect(row.details).not.toContain(credentials.appSecret);
      expect(row.details).not.toContain('a-wrong-secret');
    }
  }, 60_000);
});

describe('outbound sync', () => {
  it('pushes a confirmed order as exactly one audited sales order when the first Save times out after committing, waits when rate-limited, and cancels the bill of a cancelled order', async () => {
    const connection = await createConnection(kingdee, 'Kingdee main');
    await linkCustomer(connection.id, 'ACME0001');
    kingdee.injectFault({ kind: 'timeout-after-commit', service: 'Save' });
    const order = await placeOrder();
    expect(order.status).toBe('confirmed');
    await waitFor(
      async () => {
        const link = (await test.hub.broker.call('integration.internal.resolve', {
          connectionId: connection.id,
          entity: 'order',
          canonicalId: order.id,
        })) as { found: boolean };
        return link.found;
      },
      'the order to be linked to its sales order',
      60_000,
    );
    const bills = salesOrders(kingdee, order.number);
    expect(bills).toHaveLength(1);
    expect(bills[0]!.fdocumentstatus).toBe('C'); // audited
    expect(kingdee.callCount('Save')).toBe(1); // the retry looked the bill up instead of saving again
    const resolved = await test.hub.broker.call('integration.internal.resolve', {
      connectionId: connection.id,
      entity: 'order',
      externalId: order.number,
    });
    expect(resolved).toEqual({ found: true, externalId: order.number, canonicalId: order.id });
    // The deterministic job id: the same event again does not enqueue a second push.
    const again = (await test.hub.platform.jobs.enqueue({
      queue: 'sync.kingdee.outbound',
      name: 'push-sales-order',
      key: `${connection.id}:sales-order:${order.id}:order.confirmed`,
      data: {},
    })) as { created: boolean };
    expect(again.created).toBe(false);

    // Kingdee asks to slow down: the push waits for its Retry-After and is done once.
    const saves = kingdee.callCount('Save');
    kingdee.injectFault({ kind: 'rate-limit', retryAfterSeconds: 1, service: 'Save' });
    const slowed = await placeOrder();
    await waitFor(() => salesOrders(kingdee, slowed.number).length === 1, 'the rate-limited push', 60_000);
    expect(kingdee.callCount('Save') - saves).toBe(2); // refused once, then saved
    expect(salesOrders(kingdee, slowed.number)[0]!.fdocumentstatus).toBe('C');
    const failures = await call('GET', `/api/staff/integrations/failures?connectionId=${connection.id}`);
    expect(failures.body.items).toEqual([]);

    // Cancelling the order in the hub cancels (deletes) its bill.
    const withCancel = await call('PATCH', `${CONNECTIONS}/${connection.id}`, {
      sync: {
        outbound: [
          { event: 'order.confirmed', operation: 'pushSalesOrder', mapping: 'sales-order' },
          { event: 'order.cancelled', operation: 'cancelSalesOrder', mapping: 'sales-order-cancel' },
        ],
        requestsPerSecond: 50,
      },
    });
    expect(withCancel.status).toBe(200);
    const cancelled = await call('POST', `/api/staff/orders/${order.id}/transitions`, {
      to: 'cancelled',
      reason: 'the buyer called',
    });
    expect(cancelled.status).toBe(200);
    await waitFor(() => salesOrders(kingdee, order.number).length === 0, 'the bill to be cancelled', 60_000);
    expect(salesOrders(kingdee, slowed.number)).toHaveLength(1);
    await call('PATCH', `${CONNECTIONS}/${connection.id}`, { enabled: false });
  }, 120_000);

  it('keeps an order whose mapping fails as a failed item, and pushes it when replayed after the fix', async () => {
    const connection = await createConnection(second, 'Kingdee second');
    const order = await placeOrder();
    let failure: Record<string, unknown> | undefined;
    await waitFor(
      async () => {
        const listed = await call('GET', `/api/staff/integrations/failures?connectionId=${connection.id}`);
        failure = listed.body.items?.[0];
        return failure !== undefined;
      },
      'the failed item',
      60_000,
    );
    expect(failure).toMatchObject({
      direction: 'outbound',
      entity: 'sales-order',
      errorCategory: 'mapping',
      attempts: 1,
      payload: { orderId: order.id, event: 'order.confirmed' },
      status: 'failed',
    });
    expect(String(failure!.errorMessage)).toContain('unlinked');
    expect(String(failure!.mappingVersion)).toMatch(/^kingdee\/sales-order\.outbound@[0-9a-f]{12}$/);
    expect(salesOrders(second, order.number)).toHaveLength(0);
    // The disabled first connection did not push this order.
    expect(salesOrders(kingdee, order.number)).toHaveLength(0);

    await linkCustomer(connection.id, 'ACME0001'); // the fix
    const replayed = await call('POST', `/api/staff/integrations/failures/${failure!.id}/replay`);
    expect(replayed.body).toEqual({ replayed: 1 });
    await waitFor(() => salesOrders(second, order.number).length === 1, 'the replayed push', 60_000);
    await waitFor(
      async () => {
        const listed = await call(
          'GET',
          `/api/staff/integrations/failures?connectionId=${connection.id}&status=resolved`,
        );
        return listed.body.items.length === 1;
      },
      'the failed item to be resolved',
      30_000,
    );
    const twice = await call('POST', `/api/staff/integrations/failures/${failure!.id}/replay`);
    expect(twice.status).toBe(409);
  }, 120_000);
});

describe('inbound sync', () => {
  const cursorOf = async (connectionId: string) =>
    (
      await test.hub.platform.db.query(
        `SELECT cursor, continuation, records_total, last_run_at, lease_until
           FROM integration.stream_cursors WHERE connection_id = $1 AND stream = 'stock'`,
        [connectionId],
      )
    ).rows[0] as
      | {
          continuation: string | null;
          records_total: string;
          last_run_at: Date | null;
          lease_until: Date | null;
        }
      | undefined;
  const movements = async (connectionId: string) =>
    (
      await test.hub.platform.db.query(
        `SELECT count(*)::int AS n FROM inventory.movements WHERE reference = $1`,
        [`integration:${connectionId}`],
      )
    ).rows[0]!.n as number;
  const onHand = async (skuCode: string, warehouseCode: string) => {
    const { rows } = await test.hub.platform.db.query(
      `SELECT l.on_hand FROM inventory.stock_levels l JOIN inventory.warehouses w ON w.id = l.warehouse_id
        WHERE w.code = $1 AND l.sku_id = $2`,
      [warehouseCode, world.skus.get(skuCode)],
    );
    return rows[0] ? Number(rows[0].on_hand) : undefined;
  };
  const runFinished = (connectionId: string, after: Date | null) => async () => {
    const state = await cursorOf(connectionId);
    return (
      !!state?.last_run_at &&
      state.lease_until === null &&
      state.continuation === null &&
      (!after || state.last_run_at > after)
    );
  };

  it('applies the stock snapshot page by page, resumes after a failed page without re-reading committed ones, dedupes re-reads, and replays a rejected row', async () => {
    for (const code of ['CK001', 'CK002']) {
      await test.hub.broker.call('inventory.warehouses.create', { code, name: `金蝶 ${code}` }, asStaff());
    }
    const [first] = kingdee.seedStock(['KD000001', 'KD000002'], ['CK001'], 40);
    kingdee.seedStock(['KD000001', 'KD000002'], ['CK002'], 12);
    kingdee.seedStock(['KD000099'], ['CK001'], 7); // a material the hub does not sell
    const { config, credentials } = settingsOf(kingdee);
    const created = await call('POST', CONNECTIONS, {
      connectorId: 'kingdee',
      name: 'Kingdee stock',
      config,
      credentials,
      // One read every 5 s: room to break the run between its pages.
      sync: {
        inbound: [
          { stream: 'stock', mapping: 'stock', target: 'stock-levels', everySeconds: 86400, pageSize: 2 },
        ],
        requestsPerSecond: 0.2,
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const queries = kingdee.callCount('ExecuteBillQuery');
    // The scheduler starts the day's run; once its first page is committed, the next read fails.
    await waitFor(
      async () => Number((await cursorOf(id))?.records_total ?? 0) >= 2,
      'the first page',
      60_000,
    );
    kingdee.injectFault({ kind: 'http-500', service: 'ExecuteBillQuery' });
    await waitFor(runFinished(id, null), 'the first run', 90_000);
    const firstRunQueries = kingdee.callCount('ExecuteBillQuery') - queries;
    const afterFirst = await cursorOf(id);
    expect(Number(afterFirst!.records_total)).toBe(5); // every row committed once: no page applied twice
    expect(afterFirst!.continuation).toBeNull();
    expect(await onHand('KD000001', 'CK001')).toBe(40);
    expect(await onHand('KD000002', 'CK002')).toBe(12);
    expect(await movements(id)).toBe(4);
    const failures = await call('GET', `/api/staff/integrations/failures?connectionId=${id}`);
    expect(failures.body.items).toHaveLength(1);
    expect(failures.body.items[0]).toMatchObject({
      direction: 'inbound',
      entity: 'stock',
      errorCategory: 'permanent',
    });
    expect(failures.body.items[0].errorMessage).toContain('unknown-sku');

    // A second run reads everything again: nothing changed, nothing applied, no new movement.
    await call('PATCH', `${CONNECTIONS}/${id}`, {
      sync: {
        inbound: [
          { stream: 'stock', mapping: 'stock', target: 'stock-levels', everySeconds: 86400, pageSize: 2 },
        ],
        requestsPerSecond: 50,
      },
    });
    const before = (await cursorOf(id))!.last_run_at;
    const secondQueries = kingdee.callCount('ExecuteBillQuery');
    expect((await call('POST', `${CONNECTIONS}/${id}/pull`, { stream: 'stock' })).status).toBe(202);
    await waitFor(runFinished(id, before), 'the second run', 60_000);
    // The first run made exactly one read more than a clean run: the failed one, not a re-read page.
    expect(firstRunQueries).toBe(kingdee.callCount('ExecuteBillQuery') - secondQueries + 1);
    expect(await movements(id)).toBe(4);

    // A count changed in Kingdee: exactly that level moves.
    kingdee.setStock(first!, 55);
    const beforeThird = (await cursorOf(id))!.last_run_at;
    await call('POST', `${CONNECTIONS}/${id}/pull`, { stream: 'stock' });
    await waitFor(runFinished(id, beforeThird), 'the third run', 60_000);
    expect(await onHand('KD000001', 'CK001')).toBe(55);
    expect(await movements(id)).toBe(5);

    // The rejected row is replayed in bulk once the hub sells that material.
    const added = await createPricedSkus(test, world.staff, { KD000099: 800 });
    world.skus.set('KD000099', added.get('KD000099')!);
    const replayed = await call('POST', '/api/staff/integrations/failures/replay', {
      connectionId: id,
      entity: 'stock',
    });
    expect(replayed.body).toEqual({ replayed: 1 });
    await waitFor(async () => (await onHand('KD000099', 'CK001')) === 7, 'the replayed row', 60_000);
    await waitFor(
      async () =>
        (await call('GET', `/api/staff/integrations/failures?connectionId=${id}&status=resolved`)).body.items
          .length === 1,
      'the failed row to be resolved',
      30_000,
    );
    expect(await movements(id)).toBe(6);
  }, 240_000);
});

describe('a pull the remote refuses', () => {
  it('is kept as a failed item with why, and runs again when replayed after the credentials are fixed', async () => {
    const { config, credentials } = settingsOf(kingdee);
    const inbound = [{ stream: 'stock', mapping: 'stock', target: 'stock-levels', everySeconds: 86400 }];
    const created = await call('POST', CONNECTIONS, {
      connectorId: 'kingdee',
      name: 'Kingdee refused',
      config,
      credentials: { ...credentials, appSecret: 'not-the-app-secret-0123456789' },
      sync: { inbound },
    });
    const id = created.body.id as string;
    let failure: Record<string, unknown> | undefined;
    await waitFor(
      async () => {
        failure = (await call('GET', `/api/staff/integrations/failures?connectionId=${id}`)).body.items[0];
        return failure !== undefined;
      },
      'the refused run',
      60_000,
    );
    expect(failure).toMatchObject({
      entity: 'stock',
      itemKey: 'pull:stock',
      errorCategory: 'not-connected',
      attempts: 1,
    });
    await call('PATCH', `${CONNECTIONS}/${id}`, { credentials });
    expect((await call('POST', `/api/staff/integrations/failures/${failure!.id}/replay`)).body).toEqual({
      replayed: 1,
    });
    await waitFor(
      async () =>
        (await call('GET', `/api/staff/integrations/failures?connectionId=${id}&status=resolved`)).body.items
          .length === 1,
      'the replayed run',
      60_000,
    );
    const { rows } = await test.hub.platform.db.query(
      `SELECT records_total FROM integration.stream_cursors WHERE connection_id = $1`,
      [id],
    );
    expect(Number(rows[0]!.records_total)).toBeGreaterThan(0);
  }, 120_000);
});

describe('secrets', () => {
  it('never appear in an answer, an event, an audit entry, a failed item or a job', async () => {
    const secrets = [kingdee, second].map((simulator) => simulator.connection().credentials.appSecret);
    const db = test.hub.platform.db;
    const stored = await db.query(
      `SELECT (SELECT coalesce(string_agg(payload::text, ' '), '') FROM platform.outbox) AS outbox,
              (SELECT coalesce(string_agg(details::text, ' '), '') FROM platform.audit_log) AS audit,
              (SELECT coalesce(string_agg(payload::text || error_message, ' '), '') FROM integration.failed_items) AS failed`,
    );
    const jobs = await test.hub.platform.jobs.failed('sync.kingdee.outbound');
    const haystack = [answers.join('\n'), ...Object.values(stored.rows[0]!), JSON.stringify(jobs)].join('\n');
    expect(answers.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(haystack).not.toContain(secret);
    }
  });
});
