import path from 'node:path';
import type { WriteResult } from '../sdk/connector.ts';
import { MappingError } from '../sdk/connector-errors.ts';
import type { SftpTransport } from '../sdk/files/sftp-transport.ts';
import { csvBytes, DELIVERY_COLUMNS, fileName, sequenceOf } from './wms-files.ts';

export interface DeliveryInstructionOptions {
  ordersFolder: string;
  senderCode: string;
  encoding: 'utf-8-bom' | 'utf-8' | 'gbk';
  lookupDays: number;
  idempotencyKey: string;
  now: Date;
}

const MAX_ROWS = 500;

/** The payload the `delivery-instruction.outbound` mapping produces: the file's rows, as text. */
function rowsOf(input: unknown): Array<Record<string, string>> {
  const rows = (input as { rows?: unknown })?.rows;
  if (!Array.isArray(rows) || rows.length === 0 || rows.length > MAX_ROWS) {
    throw new MappingError(`A delivery instruction needs 1 to ${MAX_ROWS} rows`);
  }
  for (const [index, row] of rows.entries()) {
    if (typeof row !== 'object' || row === null) throw new MappingError(`Row ${index + 1} is not an object`);
    for (const column of DELIVERY_COLUMNS) {
      const value = (row as Record<string, unknown>)[column];
      if (typeof value !== 'string') throw new MappingError(`Row ${index + 1}: ${column} is not text`);
    }
    if ((row as Record<string, string>).order_no !== (rows[0] as Record<string, string>).order_no) {
      throw new MappingError('A delivery instruction file holds one order: the rows name different order_no');
    }
  }
  return rows as Array<Record<string, string>>;
}

/**
 * Writes one order's delivery instruction file (出库单) in the orders folder, at most once per
 * idempotency key. The file's sequence is derived from the key, so a retry looks for
 * `ORDER_<sender>_<any time>_<SEQ6>.csv` with the same bytes in the folder and in the
 * `archive/YYYYMMDD/` folders of the last `lookupDays` days (where the warehouse moves what it
 * picked up, fact sheet §5) before writing; found, the write is reported `unchanged`. The file
 * itself is written as `.tmp` and renamed, never replacing another file.
 */
export async function sendDeliveryInstruction(
  sftp: SftpTransport,
  input: unknown,
  options: DeliveryInstructionOptions,
): Promise<WriteResult> {
  const rows = rowsOf(input);
  const orderNo = rows[0]!.order_no!;
  const content = csvBytes(DELIVERY_COLUMNS, rows, options.encoding);
  const sequence = sequenceOf(options.idempotencyKey);
  const sameSequence = new RegExp(`^ORDER_${options.senderCode}_[0-9]{14}_${sequence}\\.csv$`);

  const folders = [options.ordersFolder];
  for (let day = 0; day < options.lookupDays; day++) {
    const date = new Date(options.now.getTime() - day * 86_400_000)
      .toISOString()
      .slice(0, 10)
      .replaceAll('-', '');
    folders.push(path.posix.join(options.ordersFolder, 'archive', date));
  }
  for (const folder of folders) {
    if (!(await sftp.exists(folder))) continue;
    for (const entry of await sftp.list(folder)) {
      if (!sameSequence.test(entry.name) || entry.size !== content.length) continue;
      const there = await sftp.readSmallFile(path.posix.join(folder, entry.name), content.length);
      if (there.equals(content)) {
        return {
          externalId: orderNo,
          outcome: 'unchanged',
          details: { file: path.posix.join(folder, entry.name) },
        };
      }
    }
  }
  const name = fileName('ORDER', options.senderCode, options.now, sequence);
  const written = await sftp.writeFile(options.ordersFolder, name, content);
  return {
    externalId: orderNo,
    outcome: written.alreadyThere ? 'unchanged' : 'created',
    details: { file: written.path },
  };
}
