import type { Connector } from '../sdk/connector.ts';
import { describeConnectorContract } from '../sdk/testing/connector-contract-suite.ts';
import { WmsSimulator } from './wms.simulator.ts';
import { createWmsConnector } from './wms-connector.ts';
import { deliveryRows } from './wms-seed-data.ts';

describeConnectorContract({
  connector: () => createWmsConnector() as unknown as Connector,
  pageSize: 2,
  async world() {
    const simulator = await WmsSimulator.start();
    // Three shipment files (5 shipments) and two stock files (7 rows), so every stream spans pages.
    simulator.received.set('SO-1', deliveryRows('SO-1', 2));
    simulator.received.set('SO-2', deliveryRows('SO-2', 1));
    simulator.received.set('SO-3', deliveryRows('SO-3', 3));
    await simulator.shipOrder('SO-1', { shipmentNo: 'SH-1', trackingNo: 'SF1' });
    await simulator.shipOrder('SO-2', { shipmentNo: 'SH-2', trackingNo: 'SF2' });
    await simulator.shipOrder('SO-3', { shipmentNo: 'SH-3A', trackingNo: 'SF3', lines: { '1': '1' } });
    await simulator.shipOrder('SO-3', {
      shipmentNo: 'SH-3B',
      trackingNo: 'SF4',
      lines: { '2': '2', '3': '1' },
    });
    await simulator.shipOrder('SO-1', { shipmentNo: 'SH-1B', trackingNo: 'SF5', lines: { '2': '1' } });
    const stock = (warehouse: string, skus: number) =>
      Array.from({ length: skus }, (_, i) => ({
        snapshot_at: '2026-05-11 00:00:00',
        warehouse_code: warehouse,
        sku: `SKU-${i}`,
        batch_no: '',
        status: 'available',
        qty_on_hand: String(100 + i),
        qty_allocated: '0',
        qty_available: String(100 + i),
      }));
    await simulator.dropStockSnapshot(stock('WH-SH', 4));
    await simulator.dropStockSnapshot(stock('WH-BJ', 3));
    const { config, credentials } = simulator.connection({
      // The contract reads the same folders several times from no cursor: keep imported files in place.
      archiveDelaySeconds: 3600,
    });
    const other = await WmsSimulator.start();
    const badCredentials = { privateKey: other.server.privateKey };
    await other.close();
    return {
      connection: { config: { ...config }, credentials: { ...credentials } },
      badCredentials,
      streams: {
        shipmentConfirmations: { expectedRecords: 5 },
        stockSnapshots: { expectedRecords: 7 },
      },
      operations: {
        sendDeliveryInstruction: {
          input: { rows: deliveryRows('SO-CONTRACT', 2) },
          remoteCount: async () => (await simulator.deliveryFilesOf('SO-CONTRACT')).length,
          expectedRemoteCount: 1,
        },
      },
      close: () => simulator.close(),
    };
  },
});
