import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MappingError } from '../sdk/connector-errors.ts';
import { KingdeeSimulator } from './kingdee.simulator.ts';
import { createKingdeeConnector } from './kingdee-connector.ts';
import { salesOrderPayload } from './kingdee-seed-data.ts';

let simulator: KingdeeSimulator;

beforeAll(async () => {
  simulator = await KingdeeSimulator.start();
  simulator.seedCustomers(1);
  simulator.seedMaterials(1);
});

afterAll(() => simulator.close());

describe('an injected mapping', () => {
  it('turns the canonical record into the Save payload before the operation runs', async () => {
    const connector = createKingdeeConnector({
      mappings: {
        pushSalesOrder: (order) => salesOrderPayload(`HUB-${(order as { number: string }).number}`),
      },
    });
    const result = await connector.write(
      simulator.connection(),
      'pushSalesOrder',
      { number: 'ORD-77' },
      {
        idempotencyKey: 'order-77',
      },
    );
    expect(result.externalId).toBe('HUB-ORD-77');
    expect(simulator.bill('SAL_SaleOrder', 'HUB-ORD-77')?.fdocumentstatus).toBe('C');
    await connector.close?.();
  });

  it('reports a mapping that throws as a mapping error and calls nothing remote', async () => {
    const connector = createKingdeeConnector({
      mappings: {
        pushSalesOrder: () => {
          throw new Error('unit "box" has no Kingdee code');
        },
      },
    });
    const calls = [...simulator.calls.values()].reduce((sum, count) => sum + count, 0);
    const error = await connector
      .write(simulator.connection(), 'pushSalesOrder', { number: 'ORD-78' }, { idempotencyKey: 'order-78' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MappingError);
    expect((error as Error).message).toContain('unit "box"');
    expect([...simulator.calls.values()].reduce((sum, count) => sum + count, 0)).toBe(calls);
    await connector.close?.();
  });

  it('keeps one session per connection across calls', async () => {
    const connector = createKingdeeConnector();
    const logins = simulator.callCount('LoginBySign');
    for (let index = 0; index < 3; index += 1) {
      for await (const _page of connector.read(simulator.connection(), 'customers', null)) {
        // drain
      }
    }
    expect(simulator.callCount('LoginBySign') - logins).toBe(1);
    await connector.close?.();
  });
});
