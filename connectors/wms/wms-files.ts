import { createHash } from 'node:crypto';
import iconv from 'iconv-lite';
import type { FileLayout } from '../sdk/files/file-layout.ts';

/**
 * The file contract of fact sheet §5 (the "proposed contract" a warehouse agrees to): names
 * `<TYPE>_<SENDER>_<YYYYMMDDHHmmss>_<SEQ6>.csv` in China time, a header row, one line per item
 * with the header fields repeated, RFC 4180 quoting, CRLF.
 */
export const SHIPMENT_FILE = /^SHIPCONF_[A-Za-z0-9-]+_[0-9]{14}_[0-9]{6}\.csv$/;
export const STOCK_FILE = /^INVSNAP_[A-Za-z0-9-]+_[0-9]{14}_[0-9]{6}\.csv$/;

export const DELIVERY_COLUMNS = [
  'order_no',
  'customer_code',
  'warehouse_code',
  'ship_to_name',
  'ship_to_phone',
  'province',
  'city',
  'district',
  'address',
  'carrier_code',
  'line_no',
  'sku',
  'qty',
  'uom',
] as const;

const text = (name: string, extra: Partial<FileLayout['columns'][number]> = {}) => ({
  name,
  maxLength: 200,
  ...extra,
});

/** Shipment confirmation (发货回传). */
export const SHIPMENT_LAYOUT: Omit<FileLayout, 'encoding'> = {
  format: 'csv',
  columns: [
    text('order_no', { nonEmpty: true, aliases: ['订单号'] }),
    text('shipment_no', { nonEmpty: true, aliases: ['发货单号'] }),
    text('carrier_code', { aliases: ['承运商'] }),
    text('tracking_no', { nonEmpty: true, aliases: ['运单号'] }),
    text('shipped_at', { nonEmpty: true, aliases: ['发货时间'] }),
    text('line_no', { nonEmpty: true, type: 'integer', aliases: ['行号'] }),
    text('sku', { nonEmpty: true, aliases: ['商品编码'] }),
    text('batch_no', { required: false, aliases: ['批次号'] }),
    text('shipped_qty', { nonEmpty: true, type: 'decimal', aliases: ['发货数量'] }),
    text('package_count', { required: false, type: 'integer', aliases: ['箱数'] }),
    text('weight_kg', { required: false, type: 'decimal', aliases: ['重量'] }),
  ],
};

/** Stock snapshot (库存快照). */
export const STOCK_LAYOUT: Omit<FileLayout, 'encoding'> = {
  format: 'csv',
  columns: [
    text('snapshot_at', { nonEmpty: true, aliases: ['快照时间'] }),
    text('warehouse_code', { nonEmpty: true, aliases: ['仓库编码'] }),
    text('sku', { nonEmpty: true, aliases: ['商品编码'] }),
    text('batch_no', { required: false, aliases: ['批次号'] }),
    text('status', { nonEmpty: true, aliases: ['库存状态'] }),
    text('qty_on_hand', { nonEmpty: true, type: 'decimal', aliases: ['在库数量'] }),
    text('qty_allocated', { required: false, type: 'decimal', aliases: ['已分配数量'] }),
    text('qty_available', { required: false, type: 'decimal', aliases: ['可用数量'] }),
  ],
  limits: { maxRows: 1_000_000, maxFileBytes: 100 * 1024 * 1024 },
};

/** `YYYYMMDDHHmmss` in China time (UTC+8, no daylight saving), as the names carry it. */
export function chinaStamp(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The six-digit sequence of the file written for one idempotency key: the same key, the same sequence. */
export function sequenceOf(idempotencyKey: string): string {
  const hash = createHash('sha256').update(idempotencyKey).digest();
  return String(hash.readUInt32BE(0) % 1_000_000).padStart(6, '0');
}

export function fileName(type: string, sender: string, at: Date, sequence: string): string {
  return `${type}_${sender}_${chinaStamp(at)}_${sequence}.csv`;
}

/** RFC 4180 CSV with CRLF line ends, in the encoding the warehouse expects. */
export function csvBytes(
  columns: readonly string[],
  rows: ReadonlyArray<Record<string, string>>,
  encoding: 'utf-8-bom' | 'utf-8' | 'gbk',
): Buffer {
  const cell = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const lines = [
    columns.join(','),
    ...rows.map((row) => columns.map((column) => cell(row[column] ?? '')).join(',')),
  ];
  const body = `${lines.join('\r\n')}\r\n`;
  if (encoding === 'gbk') return iconv.encode(body, 'gbk');
  return Buffer.concat([
    encoding === 'utf-8-bom' ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0),
    Buffer.from(body, 'utf8'),
  ]);
}
