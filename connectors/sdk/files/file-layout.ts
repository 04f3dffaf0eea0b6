import { createReadStream } from 'node:fs';
import { type CsvEncoding, readCsvRows, type SheetRow } from '../../../core/platform/files/csv-rows.ts';
import { type FileLimits, FileRefusedError } from '../../../core/platform/files/file-limits.ts';
import { readXlsxRows } from '../../../core/platform/files/xlsx-rows.ts';

/**
 * The declared shape of a partner's file: format, encoding, columns. The header row is matched
 * to the declared columns by name (or alias, case and surrounding space ignored), so the
 * partner may reorder columns; values come back as text keyed by the declared name (typing and
 * renaming are the mapping's job). A layout is all-or-nothing per file unless `rowErrors` is
 * `skip-row`.
 */
export interface FileLayout {
  format: 'csv' | 'xlsx';
  /** CSV only; `auto` (default) detects UTF-8 with or without BOM, GBK/GB18030 and UTF-16 with BOM. */
  encoding?: CsvEncoding;
  /** CSV only; default `,`. */
  delimiter?: string;
  columns: readonly LayoutColumn[];
  /** A header column the layout does not declare: `ignore` (default) or `reject` the file. */
  unknownColumns?: 'ignore' | 'reject';
  /** A row with a bad value: `reject-file` (default: nothing of the file is accepted) or `skip-row`. */
  rowErrors?: 'reject-file' | 'skip-row';
  limits?: Partial<FileLimits>;
}

export interface LayoutColumn {
  name: string;
  /** Other header texts meaning this column (`订单号` for `order_no`). */
  aliases?: readonly string[];
  /** The header must have it (default true). */
  required?: boolean;
  /** Every row must have a value (default false). */
  nonEmpty?: boolean;
  /** `integer`: optional sign and digits; `decimal`: digits with an optional fraction. Default `text`. */
  type?: 'text' | 'integer' | 'decimal';
  maxLength?: number;
}

/** One problem of a file: `row` and `column` are 1-based as the partner sees them in Excel. */
export interface FileProblem {
  row?: number;
  column?: number;
  columnName?: string;
  code: string;
  message: string;
}

export interface FileRecord {
  row: number;
  values: Record<string, string>;
}

/** Partners' files are small next to catalog imports: 50 MiB, 200,000 rows by default. */
export const DEFAULT_PARTNER_FILE_LIMITS: FileLimits = {
  maxFileBytes: 50 * 1024 * 1024,
  maxRows: 200_000,
  maxColumns: 200,
  maxCellChars: 4_000,
  maxLineChars: 100_000,
  maxUnzippedBytes: 200 * 1024 * 1024,
  maxZipEntries: 1_000,
  maxCompressionRatio: 200,
  maxSharedStringsBytes: 50 * 1024 * 1024,
  maxWorkbookXmlBytes: 5 * 1024 * 1024,
};

/** Problems listed in one report; the count beyond is stated, not listed. */
const MAX_PROBLEMS = 1_000;

export type ParsedFile =
  | { accepted: true; rows: number; skipped: FileProblem[] }
  | { accepted: false; problems: FileProblem[]; truncated: number };

/** The outcome of reading a whole file once against its layout (`checkFile`). */
export type CheckedFile =
  | {
      accepted: true;
      rows: number;
      skipped: FileProblem[];
      skippedRows: ReadonlySet<number>;
      columns: ColumnPositions;
    }
  | { accepted: false; problems: FileProblem[]; truncated: number };

/**
 * Reads a local copy of a partner's file against its layout, bounded by the layout's limits.
 * Pass one reads the whole file and checks every row; only if the file is accepted does pass
 * two hand its records to `onRecords` in batches, so a refused file hands over nothing. A
 * hostile file (zip bomb, DTD, overlong line, too many rows) is refused with its problem.
 */
export async function parseFile(
  localPath: string,
  layout: FileLayout,
  onRecords: (records: FileRecord[]) => Promise<void>,
  options: { batchSize?: number } = {},
): Promise<ParsedFile> {
  const checked = await checkFile(localPath, layout);
  if (!checked.accepted) return checked;
  const batchSize = options.batchSize ?? 1_000;
  let batch: FileRecord[] = [];
  for await (const record of acceptedRecords(localPath, layout, checked)) {
    batch.push(record);
    if (batch.length >= batchSize) {
      await onRecords(batch);
      batch = [];
    }
  }
  if (batch.length) await onRecords(batch);
  return { accepted: true, rows: checked.rows, skipped: checked.skipped };
}

/** Pass one: reads the whole file, checks the header and every row; hands nothing over. */
export async function checkFile(localPath: string, layout: FileLayout): Promise<CheckedFile> {
  const limits = { ...DEFAULT_PARTNER_FILE_LIMITS, ...layout.limits };
  const problems: FileProblem[] = [];
  let truncated = 0;
  const note = (problem: FileProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
    else truncated++;
  };
  let columns: ColumnPositions | undefined;
  let rows = 0;
  const skippedRows = new Set<number>();
  try {
    for await (const row of rowsOf(localPath, layout, limits)) {
      if (!columns) {
        const header = matchHeader(row, layout);
        if (header.problems.length) return { accepted: false, problems: header.problems, truncated: 0 };
        columns = header.columns;
        continue;
      }
      const rowProblems = checkRow(row, columns, layout);
      if (rowProblems.length) {
        skippedRows.add(row.row);
        for (const problem of rowProblems) note(problem);
      } else rows++;
    }
  } catch (error) {
    if (!(error instanceof FileRefusedError)) throw error;
    return {
      accepted: false,
      problems: [{ row: error.row, column: error.column, code: error.code, message: error.message }],
      truncated: 0,
    };
  }
  if (!columns) {
    return {
      accepted: false,
      problems: [{ code: 'empty-file', message: 'The file has no header row' }],
      truncated: 0,
    };
  }
  if (problems.length && layout.rowErrors !== 'skip-row') return { accepted: false, problems, truncated };
  return { accepted: true, rows, skipped: problems, skippedRows, columns };
}

/** Pass two: the records of a file `checkFile` accepted (the local copy must not have changed). */
export async function* acceptedRecords(
  localPath: string,
  layout: FileLayout,
  checked: Extract<CheckedFile, { accepted: true }>,
): AsyncGenerator<FileRecord> {
  const limits = { ...DEFAULT_PARTNER_FILE_LIMITS, ...layout.limits };
  let first = true;
  for await (const row of rowsOf(localPath, layout, limits)) {
    if (first) {
      first = false;
      continue;
    }
    if (checked.skippedRows.has(row.row)) continue;
    yield { row: row.row, values: valuesOf(row, checked.columns) };
  }
}

/** A report a partner can read: one line per problem, `row;column;code;message`. */
export function formatProblems(fileName: string, problems: readonly FileProblem[], truncated = 0): string {
  const lines = [`${fileName} was refused: nothing of it was imported.`, 'row;column;code;message'];
  for (const problem of problems) {
    const column = problem.columnName ?? (problem.column === undefined ? '' : String(problem.column));
    lines.push(
      `${problem.row ?? ''};${column};${problem.code};${problem.message.replaceAll(/[\r\n]+/g, ' ')}`,
    );
  }
  if (truncated > 0) lines.push(`... and ${truncated} more problems`);
  return `${lines.join('\r\n')}\r\n`;
}

export type ColumnPositions = Array<{ column: LayoutColumn; index: number | undefined }>;

function rowsOf(localPath: string, layout: FileLayout, limits: FileLimits): AsyncIterable<SheetRow> {
  return layout.format === 'xlsx'
    ? readXlsxRows(localPath, limits)
    : readCsvRows(createReadStream(localPath), {
        limits,
        encoding: layout.encoding ?? 'auto',
        delimiter: layout.delimiter ?? ',',
      });
}

const normalise = (text: string) => text.trim().toLowerCase();

function matchHeader(
  header: SheetRow,
  layout: FileLayout,
): { columns: ColumnPositions; problems: FileProblem[] } {
  const positions = new Map<string, number>();
  const problems: FileProblem[] = [];
  header.cells.forEach((cell, index) => {
    const key = normalise(cell);
    if (key === '') return;
    if (positions.has(key)) {
      problems.push({
        row: header.row,
        column: index + 1,
        code: 'duplicate-column',
        message: `The header names "${cell}" twice`,
      });
    }
    positions.set(key, index);
  });
  const known = new Set<number>();
  const columns = layout.columns.map((column) => {
    const names = [column.name, ...(column.aliases ?? [])].map(normalise);
    const index = names.map((name) => positions.get(name)).find((found) => found !== undefined);
    if (index !== undefined) known.add(index);
    else if (column.required !== false) {
      problems.push({
        row: header.row,
        columnName: column.name,
        code: 'missing-column',
        message: `The header has no column "${column.name}"`,
      });
    }
    return { column, index };
  });
  if (layout.unknownColumns === 'reject') {
    header.cells.forEach((cell, index) => {
      if (normalise(cell) !== '' && !known.has(index)) {
        problems.push({
          row: header.row,
          column: index + 1,
          code: 'unknown-column',
          message: `The column "${cell}" is not in the layout`,
        });
      }
    });
  }
  return { columns, problems };
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function checkRow(row: SheetRow, columns: ColumnPositions, layout: FileLayout): FileProblem[] {
  const problems: FileProblem[] = [];
  for (const { column, index } of columns) {
    const value = index === undefined ? '' : (row.cells[index] ?? '').trim();
    const at = {
      row: row.row,
      ...(index === undefined ? {} : { column: index + 1 }),
      columnName: column.name,
    };
    if (value === '') {
      if (column.nonEmpty)
        problems.push({ ...at, code: 'missing-value', message: `${column.name} is empty` });
      continue;
    }
    if (column.maxLength !== undefined && value.length > column.maxLength) {
      problems.push({
        ...at,
        code: 'too-long',
        message: `${column.name} is longer than ${column.maxLength} characters`,
      });
    }
    if (column.type === 'integer' && !INTEGER.test(value)) {
      problems.push({
        ...at,
        code: 'not-an-integer',
        message: `${column.name} "${value.slice(0, 40)}" is not a whole number`,
      });
    }
    if (column.type === 'decimal' && !DECIMAL.test(value)) {
      problems.push({
        ...at,
        code: 'not-a-number',
        message: `${column.name} "${value.slice(0, 40)}" is not a number`,
      });
    }
  }
  if (layout.unknownColumns === 'reject') {
    const used = new Set(columns.map((entry) => entry.index));
    row.cells.forEach((cell, index) => {
      if (!used.has(index) && cell.trim() !== '') {
        problems.push({
          row: row.row,
          column: index + 1,
          code: 'unknown-column',
          message: 'A value outside the declared columns',
        });
      }
    });
  }
  return problems;
}

function valuesOf(row: SheetRow, columns: ColumnPositions): Record<string, string> {
  const values: Record<string, string> = {};
  for (const { column, index } of columns)
    values[column.name] = index === undefined ? '' : (row.cells[index] ?? '').trim();
  return values;
}
