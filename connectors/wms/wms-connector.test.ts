import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ReadPage } from '../sdk/connector.ts';
import { NotConnectedError } from '../sdk/connector-errors.ts';
import { otherHostKeyFingerprint } from '../sdk/files/testing/sftp-server.ts';
import { WmsSimulator } from './wms.simulator.ts';
import { createWmsConnector, type WmsConfig } from './wms-connector.ts';
import { deliveryRows } from './wms-seed-data.ts';

// One clock for the hub and the warehouse, so archive/YYYYMMDD folders never straddle midnight.
const clock = () => new Date('2026-05-10T10:00:00Z');
const DAY = '20260510';
const connector = createWmsConnector({ now: clock });
let wms: WmsSimulator;
let gbkMarkerWms: WmsSimulator;

beforeAll(async () => {
  [wms, gbkMarkerWms] = await Promise.all([
    WmsSimulator.start({ clock }),
    WmsSimulator.start({ completion: 'marker', encoding: 'gbk', wmsCode: 'WMS02', clock }),
  ]);
}, 60_000);

afterAll(async () => {
  await wms?.close();
  await gbkMarkerWms?.close();
});

async function readAll(
  simulator: WmsSimulator,
  stream: string,
  cursor: string | null,
  pageSize = 100,
  config: Partial<WmsConfig> = {},
): Promise<ReadPage[]> {
  const pages: ReadPage[] = [];
  for await (const page of connector.read(simulator.connection(config), stream, cursor, { pageSize }))
    pages.push(page);
  return pages;
}

const shipmentNos = (pages: ReadPage[]) =>
  pages.flatMap((page) => page.records.map((record) => record.shipment_no));

async function ship(
  simulator: WmsSimulator,
  orderNo: string,
  shipmentNo: string,
  lines = 2,
): Promise<string> {
  simulator.received.set(orderNo, deliveryRows(orderNo, lines));
  return simulator.shipOrder(orderNo, { shipmentNo, trackingNo: `SF-${shipmentNo}` });
}

describe('shipment confirmations', () => {
  it('reads each complete file once; the next run from the stored cursor only archives them, even after a crash before the move', async () => {
    const first = await ship(wms, 'SO-A1', 'SH-A1', 2);
    const second = await ship(wms, 'SO-A2', 'SH-A2', 1);
    const pages = await readAll(wms, 'shipmentConfirmations', null);
    expect(shipmentNos(pages)).toEqual(['SH-A1', 'SH-A2']);
    const shipment = pages[0]!.records[0] as {
      order_no: string;
      file: string;
      rows: Array<Record<string, string>>;
    };
    expect(shipment).toMatchObject({ order_no: 'SO-A1', file: first });
    expect(shipment.rows.map((row) => [row.line_no, row.sku, row.shipped_qty, row.tracking_no])).toEqual([
      ['1', 'DIN933-M8X30-1', '2', 'SF-SH-A1'],
      ['2', 'DIN933-M8X30-2', '4', 'SF-SH-A1'],
    ]);
    // The process "dies" after committing the records and the cursor, before anything is moved.
    expect(await wms.filesIn('shipments')).toEqual([first, second].sort());
    const stored = pages.at(-1)!.nextCursor;

    const again = await readAll(wms, 'shipmentConfirmations', stored);
    expect(shipmentNos(again)).toEqual([]);
    expect(await wms.filesIn('shipments')).toEqual(['archive']);
    expect(await wms.filesIn('shipments', `archive/${DAY}`)).toEqual([first, second].sort());
  });

  it('re-reads a file from its start when a run stopped in the middle of it (the cursor moves per whole file)', async () => {
    const cursor = (await readAll(wms, 'shipmentConfirmations', null)).at(-1)?.nextCursor ?? null;
    await ship(wms, 'SO-B1', 'SH-B1');
    await wms.dropShipmentConfirmation([
      ...['SH-B2', 'SH-B3'].map((shipmentNo) => ({
        order_no: 'SO-B2',
        shipment_no: shipmentNo,
        carrier_code: 'SF',
        tracking_no: `T-${shipmentNo}`,
        shipped_at: '2026-05-10 18:00:00',
        line_no: '1',
        sku: 'HB-M8',
        batch_no: '',
        shipped_qty: '1',
        package_count: '1',
        weight_kg: '0.5',
      })),
    ]);
    const iterator = connector.read(wms.connection(), 'shipmentConfirmations', cursor, { pageSize: 1 });
    const pages: ReadPage[] = [];
    for await (const page of iterator) {
      pages.push(page);
      if (pages.length === 2) break; // SH-B1 (its file done), then SH-B2 of the second file
    }
    expect(shipmentNos(pages)).toEqual(['SH-B1', 'SH-B2']);
    expect(
      connector.compareCursors('shipmentConfirmations', pages[0]!.nextCursor!, pages[1]!.nextCursor!),
    ).toBe(0);
    const resumed = await readAll(wms, 'shipmentConfirmations', pages[1]!.nextCursor);
    expect(shipmentNos(resumed)).toEqual(['SH-B2', 'SH-B3']);
  });

  it('never hands over the same content twice, resent under another name in the same run or later', async () => {
    const start = (await readAll(wms, 'shipmentConfirmations', null)).at(-1)?.nextCursor ?? null;
    const drained = await readAll(wms, 'shipmentConfirmations', start);
    const cursor = drained.at(-1)?.nextCursor ?? start;
    const original = await ship(wms, 'SO-C1', 'SH-C1');
    const sameRun = await wms.injectDuplicate('SHIPCONF', original);
    const pages = await readAll(wms, 'shipmentConfirmations', cursor);
    expect(shipmentNos(pages)).toEqual(['SH-C1']);
    const later = await wms.injectDuplicate('SHIPCONF', original);
    const next = await readAll(wms, 'shipmentConfirmations', pages.at(-1)!.nextCursor);
    expect(shipmentNos(next)).toEqual([]);
    const files = await wms.filesIn('shipments');
    for (const name of [original, sameRun, later]) expect(files).not.toContain(name);
  });

  it('leaves a partial transfer alone and refuses a malformed file to error/ with a report, handing over nothing of it', async () => {
    const cursor = (await readAll(wms, 'shipmentConfirmations', null)).at(-1)?.nextCursor ?? null;
    const baseline = await readAll(wms, 'shipmentConfirmations', cursor);
    const stored = baseline.at(-1)?.nextCursor ?? cursor;
    const partial = await wms.injectPartialFile('SHIPCONF', 'order_no,shipment_no\r\nSO-D1,SH-D1\r\n');
    const bad = await wms.dropRawShipmentFile(
      'order_no,shipment_no,carrier_code,tracking_no,shipped_at,line_no,sku,batch_no,shipped_qty\r\n' +
        'SO-D2,SH-D2,SF,T1,2026-05-10 18:00:00,1,HB-M8,,3\r\n' +
        'SO-D2,SH-D2,SF,T1,2026-05-10 18:00:00,2,NUT-M8,,three\r\n',
    );
    const hostile = await wms.dropRawShipmentFile(
      `order_no,shipment_no,carrier_code,tracking_no,shipped_at,line_no,sku,batch_no,shipped_qty\r\nSO-D3,${'x'.repeat(200_000)},SF,T,t,1,A,,1\r\n`,
    );
    const pages = await readAll(wms, 'shipmentConfirmations', stored);
    expect(shipmentNos(pages)).toEqual([]);
    expect(await wms.filesIn('shipments')).toContain(partial);
    expect(await wms.filesIn('shipments', 'error')).toEqual(
      [bad, `${bad}.err`, hostile, `${hostile}.err`].sort(),
    );
    const report = (await wms.server.read(`/outbound/shipments/error/${bad}.err`)).toString();
    expect(report).toContain('3;shipped_qty;not-a-number;');
    const hostileReport = (await wms.server.read(`/outbound/shipments/error/${hostile}.err`)).toString();
    expect(hostileReport).toContain('line-too-long');
  });
});

describe('a warehouse that writes GBK and .done markers', () => {
  it('takes a file only once its marker exists, reads GBK, and archives file and marker together', async () => {
    gbkMarkerWms.received.set('SO-G1', deliveryRows('SO-G1', 1));
    const partial = await gbkMarkerWms.injectPartialFile('INVSNAP', 'snapshot_at,warehouse_code\r\n');
    const name = await gbkMarkerWms.dropStockSnapshot([
      {
        snapshot_at: '2026-05-11 00:00:00',
        warehouse_code: '上海仓',
        sku: 'HB-M8',
        batch_no: '批次1',
        status: 'frozen',
        qty_on_hand: '12',
        qty_allocated: '2',
        qty_available: '10',
      },
    ]);
    const pages = await readAll(gbkMarkerWms, 'stockSnapshots', null);
    expect(pages.flatMap((page) => page.records)).toEqual([
      {
        snapshot_at: '2026-05-11 00:00:00',
        warehouse_code: '上海仓',
        sku: 'HB-M8',
        batch_no: '批次1',
        status: 'frozen',
        qty_on_hand: '12',
        qty_allocated: '2',
        qty_available: '10',
        file: name,
      },
    ]);
    await readAll(gbkMarkerWms, 'stockSnapshots', pages.at(-1)!.nextCursor);
    expect(await gbkMarkerWms.filesIn('inventory', `archive/${DAY}`)).toEqual([name, `${name}.done`]);
    expect(await gbkMarkerWms.filesIn('inventory')).toEqual(['archive', partial].sort());
  });
});

describe('delivery instructions', () => {
  it('writes one UTF-8-with-BOM CRLF file per order, named by §5; a retry after the WMS picked it up writes nothing', async () => {
    const rows = deliveryRows('SO-E1', 2);
    const first = await connector.write(
      wms.connection(),
      'sendDeliveryInstruction',
      { rows },
      { idempotencyKey: 'evt-e1' },
    );
    expect(first).toMatchObject({ externalId: 'SO-E1', outcome: 'created' });
    const file = String(first.details?.file);
    expect(file).toMatch(/^\/inbound\/orders\/ORDER_HUB_[0-9]{14}_[0-9]{6}\.csv$/);
    const bytes = await wms.server.read(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8')).toContain(
      '\r\nSO-E1,ACME-SH,WMS01-SH,张敏,13800138000,上海市,上海市,浦东新区,"张江路 88 号, 3 号楼",SF,1,',
    );
    expect(await wms.pickUpDeliveryInstructions()).toEqual(['SO-E1']);
    expect(wms.received.get('SO-E1')).toEqual(rows);

    const retry = await connector.write(
      wms.connection(),
      'sendDeliveryInstruction',
      { rows },
      { idempotencyKey: 'evt-e1' },
    );
    expect(retry.outcome).toBe('unchanged');
    expect(await wms.deliveryFilesOf('SO-E1')).toHaveLength(1);
    expect(await wms.pickUpDeliveryInstructions()).toEqual([]);
  });

  it('refuses rows of two orders as a mapping error and a server with another host key as not-connected', async () => {
    const mixed = [...deliveryRows('SO-F1', 1), ...deliveryRows('SO-F2', 1)];
    await expect(
      connector.write(
        wms.connection(),
        'sendDeliveryInstruction',
        { rows: mixed },
        { idempotencyKey: 'evt-f' },
      ),
    ).rejects.toMatchObject({ category: 'mapping' });
    const { config, credentials } = wms.connection({ hostKeyFingerprint: await otherHostKeyFingerprint() });
    await expect(connector.check(config, credentials)).rejects.toBeInstanceOf(NotConnectedError);
  });
});
