import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { type FileLimits, FileRefusedError } from './file-limits.ts';

/** One non-empty row of a sheet: `row` is its 1-based number (the header is row 1). */
export interface SheetRow {
  row: number;
  cells: string[];
}

export const CSV_ENCODINGS = ['auto', 'utf-8', 'gb18030', 'gbk', 'utf-16le', 'utf-16be'] as const;
export type CsvEncoding = (typeof CSV_ENCODINGS)[number];

/** Bytes looked at to choose an encoding and a delimiter. */
const SNIFF_BYTES = 64 * 1024;

/**
 * The encoding of a CSV from its first bytes: a byte order mark decides; otherwise UTF-8 when the
 * bytes are valid UTF-8, else GB18030 (the superset of GBK and GB2312 that Excel on a Chinese
 * Windows writes as "CSV"). GB18030 text is almost never valid UTF-8, and the converse holds too.
 */
export function detectEncoding(head: Buffer, complete: boolean): Exclude<CsvEncoding, 'auto'> {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  // A multi-byte character cut at the end of the sample is not an error of the file.
  let end = head.length;
  if (!complete) {
    let back = 0;
    while (back < 3 && end - back - 1 >= 0 && (head[end - back - 1]! & 0xc0) === 0x80) back++;
    const lead = head[end - back - 1];
    if (lead !== undefined && lead >= 0xc0) end = end - back - 1;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
    return 'utf-8';
  } catch {
    return 'gb18030';
  }
}

/** `,` unless the header line has more `;` or tabs (European Excel writes `;`). */
export function detectDelimiter(firstLine: string): string {
  const unquoted = firstLine.replace(/"[^"]*"/g, '');
  const counts = [',', ';', '\t'].map((d) => [d, unquoted.split(d).length - 1] as const);
  const [best] = [...counts].sort((a, b) => b[1] - a[1]);
  return best && best[1] > 0 ? best[0] : ',';
}

/** Reads up to SNIFF_BYTES, then hands back a stream that replays them before the rest. */
async function sniff(
  input: Readable,
  limit: number,
): Promise<{ head: Buffer; complete: boolean; rest: Readable }> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = false;
  while (size < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      complete = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    chunks.push(chunk);
    size += chunk.length;
  }
  const head = Buffer.concat(chunks);
  let total = 0;
  async function* replay(): AsyncGenerator<Buffer> {
    total += head.length;
    if (total > limit) throw tooBig(limit);
    yield head;
    if (complete) return;
    while (true) {
      const next = await iterator.next();
      if (next.done) return;
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      total += chunk.length;
      if (total > limit) throw tooBig(limit);
      yield chunk;
    }
  }
  return { head, complete, rest: Readable.from(replay(), { objectMode: false }) };
}

function tooBig(limit: number): FileRefusedError {
  return new FileRefusedError('file-too-large', `The file is larger than ${limit} bytes`);
}

/**
 * The rows of a CSV file, streamed: decoded (UTF-8 with or without BOM, GBK/GB18030, UTF-16 with
 * BOM; detected unless `encoding` says), parsed by csv-parse (RFC 4180 quoting, CRLF or LF, the
 * delimiter detected from the header line unless `delimiter` says), empty rows skipped. Bounds:
 * file bytes, characters per record and per cell, columns, data rows; crossing one throws
 * `FileRefusedError`, as does malformed CSV (an unclosed quote), naming the row.
 */
export async function* readCsvRows(
  input: Readable,
  options: { encoding?: CsvEncoding; delimiter?: string; limits: FileLimits },
): AsyncGenerator<SheetRow> {
  const { limits } = options;
  const { head, complete, rest } = await sniff(input, limits.maxFileBytes);
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    throw new FileRefusedError('not-csv', 'The file is an XLSX workbook, not CSV');
  }
  if (head.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))) {
    throw new FileRefusedError(
      'not-csv',
      'The file is a legacy Excel .xls workbook: save it as .xlsx or CSV',
    );
  }
  const encoding =
    !options.encoding || options.encoding === 'auto' ? detectEncoding(head, complete) : options.encoding;
  const firstLine =
    iconv.decode(head.subarray(0, 4096), encoding, { stripBOM: true }).split(/\r?\n/)[0] ?? '';
  const parser = parse({
    delimiter: options.delimiter ?? detectDelimiter(firstLine),
    relax_column_count: true,
    max_record_size: limits.maxLineChars,
    skip_empty_lines: false,
  });
  const decoded = rest.pipe(iconv.decodeStream(encoding, { stripBOM: true }));
  decoded.on('error', (error) => parser.destroy(error));
  rest.on('error', (error) => parser.destroy(error));
  decoded.pipe(parser);
  let row = 0;
  let dataRows = -1; // the first non-empty row is the header
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      row++;
      if (record.length > limits.maxColumns) {
        throw new FileRefusedError(
          'too-many-columns',
          `Row ${row} has more than ${limits.maxColumns} cells`,
          row,
        );
      }
      let last = record.length - 1;
      while (last >= 0 && record[last]!.trim() === '') last--;
      if (last < 0) continue;
      for (let index = 0; index <= last; index++) {
        if (record[index]!.length > limits.maxCellChars) {
          throw new FileRefusedError(
            'cell-too-long',
            `Row ${row}, column ${index + 1}: a cell is longer than ${limits.maxCellChars} characters`,
            row,
            index + 1,
          );
        }
      }
      if (++dataRows > limits.maxRows) {
        throw new FileRefusedError(
          'too-many-rows',
          `The file has more than ${limits.maxRows} data rows`,
          row,
        );
      }
      yield { row, cells: last === record.length - 1 ? record : record.slice(0, last + 1) };
    }
  } catch (error) {
    if (error instanceof FileRefusedError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'CSV_MAX_RECORD_SIZE') {
      throw new FileRefusedError(
        'line-too-long',
        `Row ${row + 1} is longer than ${limits.maxLineChars} characters`,
        row + 1,
      );
    }
    if (typeof code === 'string' && (code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE')) {
      throw new FileRefusedError(
        'malformed-csv',
        `The CSV is malformed near row ${row + 1}: ${(error as Error).message}`,
        row + 1,
      );
    }
    throw error;
  } finally {
    rest.destroy();
    input.destroy();
  }
}
