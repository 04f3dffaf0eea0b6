import { createHash, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../../../platform/database/database.ts';
import type { CsvEncoding } from '../../../platform/files/csv-rows.ts';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from '../import-limits.ts';
import type { ImportMode } from '../import-plan.ts';
import { type ImportRecord, insertImport, reportEntries } from '../import-records.ts';
import { runImport } from '../run-import.ts';

export const STAFF_ID = '00000000-0000-4000-8000-00000000aaaa';

/** Records an import of a local file (as the upload action would) and runs it to its end. */
export async function importFile(
  db: Database,
  file: string,
  options: {
    mode?: ImportMode;
    dryRun?: boolean;
    encoding?: CsvEncoding;
    limits?: Partial<ImportLimits>;
    batchProducts?: number;
    concurrency?: number;
    /** Prepare the record before the run (e.g. pretend an earlier attempt settled some rows). */
    before?: (record: ImportRecord) => Promise<void>;
  } = {},
): Promise<ImportRecord> {
  const bytes = await readFile(file);
  const record = await insertImport(db, {
    format: file.endsWith('.xlsx') ? 'xlsx' : 'csv',
    mode: options.mode ?? 'upsert',
    dryRun: options.dryRun ?? false,
    encoding: options.encoding ?? 'auto',
    fileName: path.basename(file),
    fileKey: `test/${randomUUID()}`,
    fileSize: (await stat(file)).size,
    // Unique per run: the same fixture may be imported by several tests at once.
    sha256: createHash('sha256').update(bytes).update(randomUUID()).digest('hex'),
    createdBy: STAFF_ID,
    requestId: null,
  });
  await options.before?.(record);
  return runImport({
    db,
    importId: record.id,
    file,
    limits: { ...DEFAULT_IMPORT_LIMITS, ...options.limits },
    ...(options.batchProducts ? { batchProducts: options.batchProducts } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
}

/** The whole report of an import, in order. */
export async function reportOf(db: Database, importId: string) {
  return (await reportEntries(db, importId, { limit: 10_000 })).map(({ seq: _seq, ...entry }) => entry);
}
