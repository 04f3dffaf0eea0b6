import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectorRetryableError, MappingError, MaybeCommittedError } from '../sdk/connector-errors.ts';
import { cancelSalesOrder } from './cancel-sales-order.ts';
import { KingdeeSimulator } from './kingdee.simulator.ts';
import { KingdeeClient } from './kingdee-client.ts';
import { salesOrderPayload } from './kingdee-seed-data.ts';
import { pushSalesOrder } from './push-sales-order.ts';

let simulator: KingdeeSimulator;
let client: KingdeeClient;

beforeAll(async () => {
  simulator = await KingdeeSimulator.start();
  simulator.seedCustomers(1);
  simulator.seedMaterials(1);
  const { config, credentials } = simulator.connection({ timeoutMs: 10_000, requestsPerSecond: 1000 });
  client = new KingdeeClient(config, credentials);
});

afterEach(() => {
  simulator.latencyMs = 0;
});

afterAll(() => simulator.close());

function bills(billNo: string) {
  return simulator.records('SAL_SaleOrder').filter((record) => record.fbillno === billNo);
}

describe('pushSalesOrder', () => {
  it('saves, submits and audits a new bill', async () => {
    const result = await pushSalesOrder(client, salesOrderPayload('PSO-1'), { workflow: 'audit' });
    expect(result).toMatchObject({
      externalId: 'PSO-1',
      outcome: 'created',
      details: { documentStatus: 'C' },
    });
    expect(bills('PSO-1')).toHaveLength(1);
    expect(bills('PSO-1')[0]?.fdocumentstatus).toBe('C');
  });

  it('takes the bare Model, as the sales-order mapping produces it', async () => {
    const { Model } = salesOrderPayload('PSO-MODEL') as { Model: Record<string, unknown> };
    const result = await pushSalesOrder(client, Model, { workflow: 'audit' });
    expect(result).toMatchObject({ externalId: 'PSO-MODEL', outcome: 'created' });
    expect(bills('PSO-MODEL')[0]?.fdocumentstatus).toBe('C');
  });

  it('stops after Save or Submit when the connection says so', async () => {
    await pushSalesOrder(client, salesOrderPayload('PSO-SAVE'), { workflow: 'save' });
    await pushSalesOrder(client, salesOrderPayload('PSO-SUBMIT'), { workflow: 'submit' });
    expect(bills('PSO-SAVE')[0]?.fdocumentstatus).toBe('A');
    expect(bills('PSO-SUBMIT')[0]?.fdocumentstatus).toBe('B');
  });

  it('creates exactly one bill when Save commits but its answer never arrives, and still audits it', async () => {
    const { config, credentials } = simulator.connection({ timeoutMs: 3000, requestsPerSecond: 1000 });
    const impatient = new KingdeeClient(config, credentials);
    const saves = simulator.callCount('Save');
    simulator.injectFault({ kind: 'timeout-after-commit', service: 'Save' });
    const result = await pushSalesOrder(impatient, salesOrderPayload('PSO-TIMEOUT'), { workflow: 'audit' });
    expect(simulator.callCount('Save') - saves).toBe(1);
    expect(result).toMatchObject({ externalId: 'PSO-TIMEOUT', details: { documentStatus: 'C' } });
    expect(bills('PSO-TIMEOUT')).toHaveLength(1);
    expect(bills('PSO-TIMEOUT')[0]?.fdocumentstatus).toBe('C');
  }, 30_000);

  it('fails retryable, not maybe-committed, when the lookup before Save fails; the retry creates one bill', async () => {
    const saves = simulator.callCount('Save');
    simulator.injectFault({ kind: 'http-500', service: 'ExecuteBillQuery' });
    const failed = await pushSalesOrder(client, salesOrderPayload('PSO-RETRY'), { workflow: 'audit' }).catch(
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(ConnectorRetryableError);
    expect(failed).not.toBeInstanceOf(MaybeCommittedError);
    expect(simulator.callCount('Save')).toBe(saves);
    // The job queue retries; this time Save commits and its answer is lost, the lookup finds it.
    simulator.injectFault({ kind: 'reset-after-commit', service: 'Save' });
    await pushSalesOrder(client, salesOrderPayload('PSO-RETRY'), { workflow: 'audit' });
    expect(bills('PSO-RETRY')).toHaveLength(1);
    expect(bills('PSO-RETRY')[0]?.fdocumentstatus).toBe('C');
  }, 30_000);

  it('throws maybe-committed when the Save answer is lost and the lookup fails, and the retry finds the bill', async () => {
    // Faults are taken in order: the lookup before Save passes (a zero delay), the one after fails.
    simulator.injectFault({ kind: 'latency', ms: 0, service: 'ExecuteBillQuery' });
    simulator.injectFault({ kind: 'reset-after-commit', service: 'Save' });
    simulator.injectFault({ kind: 'http-500', service: 'ExecuteBillQuery' });
    const error = await pushSalesOrder(client, salesOrderPayload('PSO-MAYBE'), { workflow: 'audit' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MaybeCommittedError);
    expect(bills('PSO-MAYBE')).toHaveLength(1);
    expect(bills('PSO-MAYBE')[0]?.fdocumentstatus).toBe('A');
    const saves = simulator.callCount('Save');
    const retry = await pushSalesOrder(client, salesOrderPayload('PSO-MAYBE'), { workflow: 'audit' });
    expect(simulator.callCount('Save')).toBe(saves);
    expect(retry).toMatchObject({ outcome: 'updated', details: { documentStatus: 'C' } });
    expect(bills('PSO-MAYBE')).toHaveLength(1);
  }, 30_000);

  it('continues from an audit whose answer was lost: the retry sees the bill audited and does nothing', async () => {
    simulator.injectFault({ kind: 'reset-after-commit', service: 'Audit' });
    await expect(
      pushSalesOrder(client, salesOrderPayload('PSO-AUDIT'), { workflow: 'audit' }),
    ).rejects.toBeInstanceOf(ConnectorRetryableError);
    expect(bills('PSO-AUDIT')[0]?.fdocumentstatus).toBe('C');
    const retry = await pushSalesOrder(client, salesOrderPayload('PSO-AUDIT'), { workflow: 'audit' });
    expect(retry.outcome).toBe('unchanged');
    expect(bills('PSO-AUDIT')).toHaveLength(1);
  }, 30_000);

  it('continues when another attempt saved the same number first (Save refused as a duplicate)', async () => {
    const [first, second] = await Promise.all([
      pushSalesOrder(client, salesOrderPayload('PSO-RACE'), { workflow: 'audit' }),
      pushSalesOrder(client, salesOrderPayload('PSO-RACE'), { workflow: 'audit' }),
    ]);
    expect(first.externalId).toBe(second.externalId);
    expect(bills('PSO-RACE')).toHaveLength(1);
    expect(bills('PSO-RACE')[0]?.fdocumentstatus).toBe('C');
  });

  it('refuses a payload without FBillNo and a bill Kingdee rejects as mapping errors', async () => {
    await expect(
      pushSalesOrder(client, { Model: { FCustId: { FNumber: 'CUST0001' } } }, { workflow: 'audit' }),
    ).rejects.toBeInstanceOf(MappingError);
    const unknownCustomer = salesOrderPayload('PSO-BAD');
    unknownCustomer.Model.FCustId = { FNumber: 'NO-SUCH-CUSTOMER' };
    const error = await pushSalesOrder(client, unknownCustomer, { workflow: 'audit' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).remote?.messages?.join(' ')).toContain('NO-SUCH-CUSTOMER');
    expect(bills('PSO-BAD')).toHaveLength(0);
  });
});

describe('cancelSalesOrder', () => {
  it('un-audits and deletes an audited bill, and a repeat finds nothing to do', async () => {
    await pushSalesOrder(client, salesOrderPayload('PSO-CANCEL'), { workflow: 'audit' });
    expect(await cancelSalesOrder(client, { FBillNo: 'PSO-CANCEL' })).toMatchObject({ outcome: 'deleted' });
    expect(bills('PSO-CANCEL')).toHaveLength(0);
    expect(await cancelSalesOrder(client, { FBillNo: 'PSO-CANCEL' })).toMatchObject({ outcome: 'not-found' });
  });

  it('withdraws a submitted bill before deleting it', async () => {
    await pushSalesOrder(client, salesOrderPayload('PSO-CANCEL-B'), { workflow: 'submit' });
    expect(await cancelSalesOrder(client, { FBillNo: 'PSO-CANCEL-B' })).toMatchObject({
      outcome: 'deleted',
      details: { previousStatus: 'B' },
    });
    expect(bills('PSO-CANCEL-B')).toHaveLength(0);
  });
});
