import type { Connector } from '../sdk/connector.ts';
import { describeConnectorContract } from '../sdk/testing/connector-contract-suite.ts';
import { KingdeeSimulator } from './kingdee.simulator.ts';
import { createKingdeeConnector } from './kingdee-connector.ts';
import { LONG_AGO, salesOrderPayload, seedOutstockBill, seedReceivable } from './kingdee-seed-data.ts';

describeConnectorContract({
  connector: () => createKingdeeConnector() as unknown as Connector,
  pageSize: 4,
  async world() {
    const simulator = await KingdeeSimulator.start();
    // Every stream spans several pages, half of it modified long ago and half now, so a later
    // run from the stored cursor re-reads only the look-back window.
    simulator.seedMaterials(6, { modifiedAt: LONG_AGO });
    simulator.seedMaterials(5, { prefix: 'NEW' });
    simulator.seedCustomers(4, { modifiedAt: LONG_AGO });
    simulator.seedCustomers(5, { prefix: 'NEWC' });
    const materials = simulator.records('BD_MATERIAL').map((record) => String(record.fnumber));
    simulator.seedStock(materials);
    for (let index = 1; index <= 5; index += 1) {
      seedOutstockBill(simulator, `XSCKD${index}`, { modifiedAt: index <= 2 ? LONG_AGO : undefined });
    }
    seedOutstockBill(simulator, 'XSCKD-DRAFT', { status: 'A' }); // not audited: not a shipment yet
    for (let index = 1; index <= 6; index += 1)
      seedReceivable(simulator, `AR${index}`, index <= 3 ? LONG_AGO : undefined);
    simulator.seed('SAL_SaleOrder', [{ ...salesOrderPayload('HUB-SO-CANCEL').Model, FDocumentStatus: 'C' }]);
    const connection = simulator.connection();
    const countBills = (billNo: string) => () =>
      simulator.records('SAL_SaleOrder').filter((record) => record.fbillno === billNo).length;
    return {
      connection: connection as unknown as {
        config: Record<string, unknown>;
        credentials: Record<string, unknown>;
      },
      badCredentials: { appId: connection.credentials.appId, appSecret: 'not-the-app-secret' },
      streams: {
        materials: { expectedRecords: 11 },
        customers: { expectedRecords: 9 },
        stock: { expectedRecords: 11 },
        outstockBills: { expectedRecords: 5 },
        receivables: { expectedRecords: 6 },
      },
      operations: {
        pushSalesOrder: {
          input: salesOrderPayload('HUB-SO-0001'),
          remoteCount: countBills('HUB-SO-0001'),
          expectedRemoteCount: 1,
        },
        cancelSalesOrder: {
          input: { FBillNo: 'HUB-SO-CANCEL' },
          remoteCount: countBills('HUB-SO-CANCEL'),
          expectedRemoteCount: 0,
        },
      },
      close: () => simulator.close(),
    };
  },
});
