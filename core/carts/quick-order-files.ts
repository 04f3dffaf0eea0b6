import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import yauzl from 'yauzl';
import { UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { Upload } from '../platform/http/uploads.ts';
import { LIMITS } from './carts-area.ts';
import type { SheetRow } from './quick-order-rows.ts';

/**
 * The rows of an uploaded quick-order file: CSV (UTF-8 with or without a byte order mark, UTF-16,
 * or GBK/GB18030 as Excel on a Chinese Windows saves it) or XLSX (its first worksheet). What the
 * bytes are decides, not the declared media type: Windows browsers label a .csv
 * `application/vnd.ms-excel`. Every bound is checked before the next step: the upload's bytes (the
 * route's `maxBytes`), the XLSX archive's entries and real inflated size, cells per row, rows.
 */

export const QUICK_ORDER_FILE_TYPES = [
  'text/csv',
  'text/plain',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
];

/** Upload bound: a 500-row order is a few tens of kilobytes in either format. */
export const QUICK_ORDER_MAX_BYTES = 2 * 1024 * 1024;

const XLSX_LIMITS = {
  /** Sum of the real inflated sizes of every entry of the archive. */
  maxUnzippedBytes: 20 * 1024 * 1024,
  maxEntries: 200,
};
/** Cells read from one row (the SKU and quantity columns are among the first few). */
const MAX_CELLS = 50;
/** Characters of one CSV record. */
const MAX_RECORD_CHARS = 10_000;

function unreadable(detail: string): never {
  throw new UnprocessableRequest('unreadable-file', `The file cannot be read as a quick order: ${detail}`);
}

async function bytesOf(upload: Upload): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of upload.stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const isZip = (bytes: Buffer) => bytes.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
const isOleDocument = (bytes: Buffer) =>
  bytes.subarray(0, 8).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]));

/** The rows of an uploaded CSV or XLSX file. */
export async function rowsOfUpload(upload: Upload): Promise<SheetRow[]> {
  return rowsOfFile(await bytesOf(upload));
}

/** The rows of a CSV or XLSX file, told apart by their first bytes. */
export async function rowsOfFile(bytes: Buffer): Promise<SheetRow[]> {
  if (!bytes.length) unreadable('the file is empty');
  if (isZip(bytes)) return rowsOfXlsx(bytes);
  if (isOleDocument(bytes)) unreadable('Excel 97-2003 (.xls) files are not read: save it as .xlsx or CSV');
  return rowsOfCsv(bytes);
}

/** UTF-8 (BOM or valid), UTF-16 with a BOM, else GB18030 (which reads GBK and GB2312 too). */
export function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return iconv.decode(bytes.subarray(2), 'utf-16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return iconv.decode(bytes.subarray(2), 'utf-16be');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return iconv.decode(bytes, 'gb18030');
  }
}

/** `,` unless the first line has more `;` or tabs (European Excel writes `;`). */
function delimiterOf(text: string): string {
  const firstLine = (text.split(/\r\n|\n|\r/, 1)[0] ?? '').replace(/"[^"]*"/g, '');
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length - 1] as const);
  const [best] = [...counts].sort((a, b) => b[1] - a[1]);
  return best && best[1] > 0 ? best[0] : ',';
}

export function rowsOfCsv(bytes: Buffer): SheetRow[] {
  const text = decodeText(bytes);
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, {
      delimiter: delimiterOf(text),
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      max_record_size: MAX_RECORD_CHARS,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (error) {
    unreadable((error as Error).message.slice(0, 200));
  }
  return records.map(({ record, info }) => ({ row: info.lines, cells: record.slice(0, MAX_CELLS) }));
}

/**
 * Checks the archive before exceljs opens it: not too many entries, none encrypted, and the real
 * inflated size of everything within the bound. yauzl compares each entry's inflated bytes with
 * the size its header declares, so a zip bomb lying about its sizes fails here, not in exceljs.
 */
async function checkArchive(bytes: Buffer): Promise<void> {
  const zip = await yauzl
    .fromBufferPromise(bytes, { lazyEntries: true })
    .catch(() => unreadable('not a valid XLSX file'));
  let entries = 0;
  let inflated = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        entries += 1;
        if (entries > XLSX_LIMITS.maxEntries)
          return reject(new Error(`more than ${XLSX_LIMITS.maxEntries} parts`));
        if (entry.isEncrypted()) return reject(new Error('the workbook is encrypted'));
        if (inflated + entry.uncompressedSize > XLSX_LIMITS.maxUnzippedBytes) {
          return reject(new Error(`more than ${XLSX_LIMITS.maxUnzippedBytes} bytes once unpacked`));
        }
        zip.openReadStream(entry, (error, stream) => {
          if (error) return reject(error);
          stream.on('data', (chunk: Buffer) => {
            inflated += chunk.length;
            if (inflated > XLSX_LIMITS.maxUnzippedBytes) {
              stream.destroy(new Error(`more than ${XLSX_LIMITS.maxUnzippedBytes} bytes once unpacked`));
            }
          });
          stream.on('error', reject);
          stream.on('end', () => zip.readEntry());
        });
      });
      zip.readEntry();
    });
  } catch (error) {
    unreadable((error as Error).message.slice(0, 200));
  } finally {
    zip.close();
  }
}

/** A cell as text: numbers and dates as written, formulas by their cached result, rich text joined. */
function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    if ('richText' in value) return value.richText.map((part) => part.text).join('');
    if ('result' in value) return cellText(value.result as ExcelJS.CellValue);
    if ('text' in value) return String(value.text);
    if ('error' in value) return '';
  }
  return '';
}

async function rowsOfXlsx(bytes: Buffer): Promise<SheetRow[]> {
  await checkArchive(bytes);
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch (error) {
    unreadable(`not a valid XLSX file (${(error as Error).message.slice(0, 120)})`);
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) unreadable('the workbook has no worksheet');
  const rows: SheetRow[] = [];
  let nonEmpty = 0;
  sheet.eachRow({ includeEmpty: false }, (row, number) => {
    // Past a header and 500 rows the order is refused anyway (quickOrderRows): stop collecting.
    if (nonEmpty > LIMITS.quickOrderRows + 1) return;
    const cells: string[] = [];
    const width = Math.min(row.cellCount, MAX_CELLS);
    for (let column = 1; column <= width; column++) cells.push(cellText(row.getCell(column).value).trim());
    if (cells.some((cell) => cell !== '')) nonEmpty += 1;
    rows.push({ row: number, cells });
  });
  return rows;
}
