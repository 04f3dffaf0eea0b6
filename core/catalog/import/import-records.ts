import { Readable } from 'node:stream';
import type { Queryable } from '../../platform/database/database.ts';
import { Conflict } from '../../platform/errors/hub-errors.ts';
import type { CsvEncoding } from '../../platform/files/csv-rows.ts';
import type { ImportMode, ReportEntry } from './import-plan.ts';

/** The import job records (`catalog.imports`) and their reports (`catalog.import_report`). */
export const IMPORT_STATUSES = ['queued', 'running', 'succeeded', 'partially_succeeded', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];
export type ImportFormat = 'csv' | 'xlsx';

export interface ImportRecord {
  id: string;
  status: ImportStatus;
  format: ImportFormat;
  mode: ImportMode;
  dryRun: boolean;
  encoding: CsvEncoding;
  fileName: string | null;
  fileSize: number;
  sha256: string;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: {
    rowsRead: number;
    rowsSettled: number;
    rowsRejected: number;
    productsCreated: number;
    productsUpdated: number;
    productsRejected: number;
  };
  report: { entries: number; dropped: number };
  failure: { code: string; message: string; row: number | null } | null;
}

/** What the job needs beyond the record: where the file is, and who asked. */
export interface ImportJobFacts {
  record: ImportRecord;
  fileKey: string;
  requestId: string | null;
  settledLine: number;
}

const iso = (value: unknown) =>
  value === null || value === undefined ? null : new Date(value as string).toISOString();

function toRecord(row: Record<string, unknown>): ImportRecord {
  return {
    id: row.id as string,
    status: row.status as ImportStatus,
    format: row.format as ImportFormat,
    mode: row.mode as ImportMode,
    dryRun: row.dry_run as boolean,
    encoding: row.encoding as CsvEncoding,
    fileName: (row.file_name as string | null) ?? null,
    fileSize: Number(row.file_size),
    sha256: row.sha256 as string,
    createdBy: row.created_by as string,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    progress: {
      rowsRead: row.rows_read as number,
      rowsSettled: row.rows_settled as number,
      rowsRejected: row.rows_rejected as number,
      productsCreated: row.products_created as number,
      productsUpdated: row.products_updated as number,
      productsRejected: row.products_rejected as number,
    },
    report: { entries: row.report_entries as number, dropped: row.report_dropped as number },
    failure: (row.failure as ImportRecord['failure']) ?? null,
  };
}

export interface NewImport {
  format: ImportFormat;
  mode: ImportMode;
  dryRun: boolean;
  encoding: CsvEncoding;
  fileName: string | null;
  fileKey: string;
  fileSize: number;
  sha256: string;
  createdBy: string;
  requestId: string | null;
}

/** A queued import; 409 while an import of the same file (sha256) is queued or running. */
export async function insertImport(db: Queryable, input: NewImport & { id?: string }): Promise<ImportRecord> {
  const inFlight = (id: string | null) =>
    new Conflict(`The same file is already being imported${id ? ` (import ${id})` : ''}`, {
      errors: [{ pointer: '', detail: `an import of this file is queued or running${id ? ` (${id})` : ''}` }],
    });
  const { rows: running } = await db.query(
    `SELECT id FROM catalog.imports WHERE sha256 = $1 AND status IN ('queued', 'running')`,
    [input.sha256],
  );
  if (running[0]) throw inFlight(running[0].id as string);
  try {
    const { rows } = await db.query(
      `INSERT INTO catalog.imports (id, format, mode, dry_run, encoding, file_name, file_key, file_size, sha256,
                                    created_by, request_id)
       VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [
        input.id ?? null,
        input.format,
        input.mode,
        input.dryRun,
        input.encoding,
        input.fileName,
        input.fileKey,
        input.fileSize,
        input.sha256,
        input.createdBy,
        input.requestId,
      ],
    );
    return toRecord(rows[0]!);
  } catch (error) {
    // Two uploads of the same file racing: the partial unique index lets one through.
    if ((error as { constraint?: string }).constraint === 'imports_in_flight_idx') throw inFlight(null);
    throw error;
  }
}

export async function findImport(db: Queryable, id: string): Promise<ImportRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM catalog.imports WHERE id = $1', [id]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export async function jobFactsOf(db: Queryable, id: string): Promise<ImportJobFacts | undefined> {
  const { rows } = await db.query('SELECT * FROM catalog.imports WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    record: toRecord(row),
    fileKey: row.file_key,
    requestId: row.request_id ?? null,
    settledLine: row.settled_line,
  };
}

/** Newest first; the cursor is the id of the last import of the previous page. */
export async function listImports(
  db: Queryable,
  filter: { limit: number; after?: string | undefined },
): Promise<ImportRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM catalog.imports i
      WHERE $1::uuid IS NULL
         OR (i.created_at, i.id) < (SELECT created_at, id FROM catalog.imports WHERE id = $1::uuid)
      ORDER BY i.created_at DESC, i.id DESC LIMIT $2`,
    [filter.after ?? null, filter.limit],
  );
  return rows.map(toRecord);
}

function toEntry(row: Record<string, unknown>): ReportEntry {
  return {
    row: row.line as number,
    column: (row.column as string | null) ?? null,
    field: (row.field as string | null) ?? null,
    code: row.code as string,
    message: row.message as string,
  };
}

/** The first `limit` report entries, in file order. */
export async function reportEntries(
  db: Queryable,
  importId: string,
  options: { limit: number; afterSeq?: number },
): Promise<Array<ReportEntry & { seq: number }>> {
  const { rows } = await db.query(
    `SELECT seq, line, "column", field, code, message FROM catalog.import_report
      WHERE import_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [importId, options.afterSeq ?? 0, options.limit],
  );
  return rows.map((row) => ({ ...toEntry(row), seq: row.seq as number }));
}

/** Appends report entries (their `seq` continue from `firstSeq`). */
export async function appendReport(
  db: Queryable,
  importId: string,
  firstSeq: number,
  entries: readonly ReportEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO catalog.import_report (import_id, seq, line, "column", field, code, message)
     SELECT $1, $2 + r.i, r.line, r.col, r.field, r.code, r.message
       FROM jsonb_to_recordset($3::jsonb) AS r(i integer, line integer, col text, field text, code text, message text)`,
    [
      importId,
      firstSeq,
      JSON.stringify(
        entries.map((entry, i) => ({
          i,
          line: entry.row,
          col: entry.column,
          field: entry.field,
          code: entry.code,
          message: entry.message,
        })),
      ),
    ],
  );
}

/** A CSV field: quoted when it holds a delimiter, quote or line break; formula-looking text defused. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  // A cell starting with = + - @ would run as a formula when the report is opened in Excel.
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The whole report as CSV (UTF-8 with BOM, so Excel shows the Chinese right), read from the
 * database a page at a time.
 */
export function reportCsv(db: Queryable, importId: string, pageSize = 5_000): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield '\uFEFFrow,column,field,code,message\r\n';
    let afterSeq = 0;
    while (true) {
      const page = await reportEntries(db, importId, { limit: pageSize, afterSeq });
      if (page.length === 0) return;
      yield page
        .map((e) => `${[e.row, e.column, e.field, e.code, e.message].map(csvField).join(',')}\r\n`)
        .join('');
      afterSeq = page[page.length - 1]!.seq;
    }
  }
  return Readable.from(lines());
}
