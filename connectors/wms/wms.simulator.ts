import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { startTestSftpServer, type TestSftpServer } from '../sdk/files/testing/sftp-server.ts';
import type { WmsConfig, WmsCredentials } from './wms-connector.ts';
import { chinaStamp, csvBytes } from './wms-files.ts';

export const SHIPMENT_COLUMNS = [
  'order_no',
  'shipment_no',
  'carrier_code',
  'tracking_no',
  'shipped_at',
  'line_no',
  'sku',
  'batch_no',
  'shipped_qty',
  'package_count',
  'weight_kg',
] as const;

export const STOCK_COLUMNS = [
  'snapshot_at',
  'warehouse_code',
  'sku',
  'batch_no',
  'status',
  'qty_on_hand',
  'qty_allocated',
  'qty_available',
] as const;

export interface WmsSimulatorOptions {
  /** The WMS's code in its file names (default WMS01). */
  wmsCode?: string;
  /** How the WMS hands files over: temp name then rename (default), or a `.done` marker after the file. */
  completion?: 'rename' | 'marker';
  /** What the WMS writes: UTF-8 with BOM (default) or GBK. */
  encoding?: 'utf-8-bom' | 'gbk';
  clock?: () => Date;
}

const FOLDERS = {
  orders: '/inbound/orders',
  shipments: '/outbound/shipments',
  inventory: '/outbound/inventory',
};

/**
 * A warehouse behaving like fact sheet §5 on a real OpenSSH server: it picks up the hub's
 * delivery instruction files from `/inbound/orders` (complete ones only, `.tmp` ignored) and
 * moves them to `archive/YYYYMMDD/`; it drops `SHIPCONF_<WMS>_<YYYYMMDDHHmmss>_<SEQ6>.csv` and
 * `INVSNAP_...` files in `/outbound/{shipments,inventory}` the way it was told to hand files over
 * (temp name + rename, or a `.done` marker), UTF-8 with BOM or GBK, CRLF. Faults on demand: a
 * partial file (a transfer that never completed), a duplicate (the same bytes resent under a new
 * name), a file being written slowly.
 */
export class WmsSimulator {
  readonly server: TestSftpServer;
  readonly wmsCode: string;
  readonly completion: 'rename' | 'marker';
  readonly encoding: 'utf-8-bom' | 'gbk';
  /** Delivery instructions picked up, by order number (rows as the file had them). */
  readonly received = new Map<string, Array<Record<string, string>>>();
  readonly #clock: () => Date;
  #sequence = 0;

  private constructor(server: TestSftpServer, options: WmsSimulatorOptions) {
    this.server = server;
    this.wmsCode = options.wmsCode ?? 'WMS01';
    this.completion = options.completion ?? 'rename';
    this.encoding = options.encoding ?? 'utf-8-bom';
    this.#clock = options.clock ?? (() => new Date());
  }

  static async start(options: WmsSimulatorOptions = {}): Promise<WmsSimulator> {
    const server = await startTestSftpServer();
    for (const folder of Object.values(FOLDERS)) await mkdir(server.localPath(folder), { recursive: true });
    return new WmsSimulator(server, options);
  }

  /** The hub's connection to this warehouse. */
  connection(overrides: Partial<WmsConfig> = {}): { config: WmsConfig; credentials: WmsCredentials } {
    return {
      config: {
        host: this.server.host,
        port: this.server.port,
        username: this.server.username,
        hostKeyFingerprint: this.server.hostKeyFingerprint,
        ordersFolder: FOLDERS.orders,
        shipmentsFolder: FOLDERS.shipments,
        inventoryFolder: FOLDERS.inventory,
        completion: this.completion,
        ...overrides,
      },
      credentials: { privateKey: this.server.privateKey },
    };
  }

  /** Takes the complete delivery instruction files, remembers their orders, archives them. */
  async pickUpDeliveryInstructions(): Promise<string[]> {
    const folder = this.server.localPath(FOLDERS.orders);
    const picked: string[] = [];
    for (const name of (await readdir(folder)).sort()) {
      if (!/^ORDER_[A-Za-z0-9-]+_[0-9]{14}_[0-9]{6}\.csv$/.test(name)) continue;
      const rows = parseCsv(await readFile(path.join(folder, name)));
      const orderNo = rows[0]?.order_no;
      if (orderNo) {
        this.received.set(orderNo, rows);
        picked.push(orderNo);
      }
      const archive = path.join(folder, 'archive', this.#day());
      await mkdir(archive, { recursive: true });
      await rename(path.join(folder, name), path.join(archive, name));
    }
    return picked;
  }

  /** Delivery instruction files of an order still waiting or already picked up. */
  async deliveryFilesOf(orderNo: string): Promise<string[]> {
    const root = this.server.localPath(FOLDERS.orders);
    const found: string[] = [];
    const visit = async (folder: string) => {
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) await visit(full);
        else if (entry.name.startsWith('ORDER_') && entry.name.endsWith('.csv')) {
          if (parseCsv(await readFile(full))[0]?.order_no === orderNo) found.push(full);
        }
      }
    };
    await visit(root);
    return found;
  }

  /**
   * Ships (part of) a picked-up order: one SHIPCONF file with a row per line shipped. `lines`
   * maps line_no → quantity shipped (default: every line in full).
   */
  async shipOrder(
    orderNo: string,
    shipment: {
      shipmentNo: string;
      trackingNo: string;
      carrierCode?: string;
      lines?: Record<string, string>;
    },
  ): Promise<string> {
    const order = this.received.get(orderNo);
    if (!order) throw new Error(`The WMS has not received order ${orderNo}`);
    const shippedAt = this.#chinaTime();
    const rows = order
      .filter((line) => !shipment.lines || shipment.lines[line.line_no!] !== undefined)
      .map((line) => ({
        order_no: orderNo,
        shipment_no: shipment.shipmentNo,
        carrier_code: shipment.carrierCode ?? line.carrier_code ?? '',
        tracking_no: shipment.trackingNo,
        shipped_at: shippedAt,
        line_no: line.line_no!,
        sku: line.sku!,
        batch_no: '',
        shipped_qty: shipment.lines?.[line.line_no!] ?? line.qty!,
        package_count: '1',
        weight_kg: '1.5',
      }));
    return this.dropShipmentConfirmation(rows);
  }

  async dropShipmentConfirmation(rows: ReadonlyArray<Record<string, string>>): Promise<string> {
    return this.#drop(FOLDERS.shipments, 'SHIPCONF', csvBytes(SHIPMENT_COLUMNS, rows, this.encoding));
  }

  async dropStockSnapshot(rows: ReadonlyArray<Record<string, string>>): Promise<string> {
    return this.#drop(FOLDERS.inventory, 'INVSNAP', csvBytes(STOCK_COLUMNS, rows, this.encoding));
  }

  /** Any bytes under a well-formed SHIPCONF name (a malformed or hostile file). */
  async dropRawShipmentFile(content: Buffer | string): Promise<string> {
    return this.#drop(FOLDERS.shipments, 'SHIPCONF', Buffer.from(content));
  }

  /**
   * Fault: a transfer that never completed. Under `rename` the bytes sit under `<name>.part`;
   * under `marker` the file is there without its marker.
   */
  async injectPartialFile(kind: 'SHIPCONF' | 'INVSNAP', content: Buffer | string): Promise<string> {
    const name = this.#nextName(kind);
    const folder = kind === 'SHIPCONF' ? FOLDERS.shipments : FOLDERS.inventory;
    const bytes = Buffer.from(content);
    const partial = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)));
    const target = this.completion === 'rename' ? `${name}.part` : name;
    await writeFile(this.server.localPath(`${folder}/${target}`), partial);
    return target;
  }

  /** Fault: the same bytes as an earlier file, resent under a new name (new time, new sequence). */
  async injectDuplicate(kind: 'SHIPCONF' | 'INVSNAP', earlierName: string): Promise<string> {
    const folder = kind === 'SHIPCONF' ? FOLDERS.shipments : FOLDERS.inventory;
    return this.#drop(folder, kind, await readFile(this.server.localPath(`${folder}/${earlierName}`)));
  }

  /** Files of a folder (`shipments` or `inventory`), with `archive/` and `error/` as paths. */
  async filesIn(kind: 'shipments' | 'inventory', sub = ''): Promise<string[]> {
    const folder = this.server.localPath(path.posix.join(FOLDERS[kind], sub));
    try {
      return (await readdir(folder)).sort();
    } catch {
      return [];
    }
  }

  async close(): Promise<void> {
    await this.server.stop();
  }

  async #drop(folder: string, kind: string, bytes: Buffer): Promise<string> {
    const name = this.#nextName(kind);
    const target = this.server.localPath(`${folder}/${name}`);
    if (this.completion === 'rename') {
      await writeFile(`${target}.tmp`, bytes);
      await rename(`${target}.tmp`, target);
    } else {
      await writeFile(target, bytes);
      await writeFile(`${target}.done`, '');
    }
    return name;
  }

  #nextName(kind: string): string {
    this.#sequence++;
    return `${kind}_${this.wmsCode}_${chinaStamp(this.#clock())}_${String(this.#sequence).padStart(6, '0')}.csv`;
  }

  #chinaTime(): string {
    const stamp = chinaStamp(this.#clock());
    return `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)} ${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:${stamp.slice(12, 14)}`;
  }

  #day(): string {
    return this.#clock().toISOString().slice(0, 10).replaceAll('-', '');
  }
}

function parseCsv(bytes: Buffer): Array<Record<string, string>> {
  const utf8 = (() => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return iconv.decode(bytes, 'gb18030');
    }
  })();
  return parse(utf8.replace(/^\uFEFF/, ''), { columns: true, skip_empty_lines: true }) as Array<
    Record<string, string>
  >;
}
