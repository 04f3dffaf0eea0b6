import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { recordAudit } from '../../platform/audit/audit-log.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import type { Database, Transaction } from '../../platform/database/database.ts';
import { readCsvRows, type SheetRow } from '../../platform/files/csv-rows.ts';
import { readXlsxRows } from '../../platform/files/xlsx-rows.ts';
import type { OutboxMessage } from '../../platform/outbox/outbox.ts';
import { writeOutbox } from '../../platform/outbox/outbox-writer.ts';
import { refreshVisibility } from '../visibility.ts';
import { type ImportCatalog, loadImportCatalog } from './import-catalog.ts';
import { type ColumnMap, cellText, mapHeader } from './import-columns.ts';
import { ImportFileError, type ImportLimits } from './import-limits.ts';
import {
  lookUpBatch,
  type ProductPlan,
  type ProductRows,
  planProduct,
  productKeyOf,
  type ReportEntry,
} from './import-plan.ts';
import { appendReport, type ImportRecord, type ImportStatus, jobFactsOf } from './import-records.ts';
import { writePlans } from './import-writes.ts';

export interface RunImportOptions {
  db: Database;
  importId: string;
  /** The uploaded file on local disk (the job copies it out of the object store first). */
  file: string;
  limits: ImportLimits;
  /** Products per transaction (default 500). */
  batchProducts?: number;
  /** Report entries kept per import; further ones are only counted (default 100,000). */
  maxReportEntries?: number;
  /** Where the normalised rows are spooled between the passes (default the OS temp dir). */
  workDir?: string;
  /**
   * Batches in flight at once (default 1). With 2, the next batch is looked up, validated and
   * written while the previous one finishes; commits stay in file order. Only on a real
   * PostgreSQL server: the embedded PGlite has one session for every connection.
   */
  concurrency?: number;
}

const FINAL: readonly ImportStatus[] = ['succeeded', 'partially_succeeded', 'failed'];
/** Events per outbox call (the outbox takes at most 1,000). */
const OUTBOX_CHUNK = 500;
/** rows_read is written to the record every this many rows while the file is read. */
const READ_PROGRESS_EVERY = 10_000;

/** A pass-1 row as spooled: `[row, cells, problems?]`. */
type SpooledRow = [number, string[], ReportEntry[]?];

interface Counters {
  rowsRead: number;
  rowsSettled: number;
  rowsRejected: number;
  productsCreated: number;
  productsUpdated: number;
  productsRejected: number;
  reportEntries: number;
  reportDropped: number;
  settledLine: number;
}

/**
 * Runs one import to its end (or resumes one whose job was interrupted) and answers the final
 * record. Two passes over the file:
 *
 * 1. **Read**: the file is parsed as a stream (CSV or XLSX), every bound checked, the header mapped
 *    and each row normalised to a spool file on disk, together with what can only be seen across
 *    the whole file (a product's rows not consecutive, a SKU code used by two products). A file
 *    that breaks a bound or cannot be read fails here, before any product is written.
 * 2. **Apply**: the spooled rows are grouped into products (consecutive rows with the same key)
 *    and handled in batches of `batchProducts`, one transaction each: the batch's products and SKU
 *    codes are looked up (and locked), every product is validated in memory, the valid ones are
 *    written with a few multi-row statements, visibility is refreshed and product events written
 *    to the outbox, the report entries and progress saved. If the database still refuses the
 *    batch, it is retried with one savepoint per product, so only the product at fault is
 *    rejected. A product with any problem is not written at all. With `concurrency` 2 the next
 *    batch is worked on while the previous one commits; commits keep the file's order.
 *
 * Memory stays flat: rows stream in pass 1 (except an XLSX's shared strings) and at most
 * `concurrency` + 1 batches are in memory in pass 2. Two maps of keys and SKU codes of the file (for the whole-file checks) grow by
 * about 100 bytes a row, bounded by `maxRows`.
 */
export async function runImport(options: RunImportOptions): Promise<ImportRecord> {
  const { db, importId } = options;
  const facts = await jobFactsOf(db, importId);
  if (!facts) throw new Error(`Import ${importId} does not exist`);
  if (FINAL.includes(facts.record.status)) return facts.record;
  const { record } = facts;
  const actor: AuthContext = {
    kind: 'staff',
    principalId: record.createdBy,
    companyId: null,
    permissions: [],
  };
  const origin = { requestId: facts.requestId ?? undefined };
  await db.query(
    `UPDATE catalog.imports SET status = 'running', started_at = COALESCE(started_at, now()) WHERE id = $1`,
    [importId],
  );
  const counters: Counters = {
    ...record.progress,
    reportEntries: record.report.entries,
    reportDropped: record.report.dropped,
    settledLine: facts.settledLine,
  };
  const workDir = await mkdtemp(path.join(options.workDir ?? tmpdir(), 'catalog-import-'));
  try {
    const catalog = await loadImportCatalog(db);
    let read: { columns: ColumnMap; spool: string };
    try {
      read = await readToSpool(options, record, catalog, path.join(workDir, 'rows.jsonl'), counters);
    } catch (error) {
      if (!(error instanceof ImportFileError)) throw error;
      return await finish(db, importId, actor, origin, counters, {
        code: error.code,
        message: error.message,
        row: error.row ?? null,
      });
    }
    const apply = new BatchApplier(db, record, read.columns, catalog, counters, actor, origin, options);
    let batch: ProductRows[] = [];
    let group: ProductRows | undefined;
    for await (const [row, cells, problems] of spooledRows(read.spool)) {
      const key = productKeyOf(cells, read.columns);
      // A row with neither slug nor nameEn continues the product above it.
      if (!group || (key !== '' && key !== group.key)) {
        if (group) batch.push(group);
        if (batch.length >= (options.batchProducts ?? 500)) {
          await apply.submit(batch);
          batch = [];
        }
        group = { key, rows: [], problems: [] };
      }
      group.rows.push({ row, cells });
      if (problems) group.problems.push(...problems);
    }
    if (group) batch.push(group);
    await apply.submit(batch);
    await apply.drain();
    const applied = counters.productsCreated + counters.productsUpdated;
    const failure =
      counters.productsRejected > 0 && applied === 0
        ? {
            code: 'all-rejected',
            message: 'Every product of the file was rejected: see the report',
            row: null,
          }
        : null;
    return await finish(db, importId, actor, origin, counters, failure);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The spooled rows, pulled a chunk at a time: while a batch waits on the database nothing more is read. */
async function* spooledRows(file: string): AsyncGenerator<SpooledRow> {
  let rest: Buffer | undefined;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    // Lines are cut on the newline byte, which never occurs inside a UTF-8 sequence.
    const bytes = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let end = bytes.indexOf(10); end >= 0; end = bytes.indexOf(10, start)) {
      yield JSON.parse(bytes.toString('utf8', start, end)) as SpooledRow;
      start = end + 1;
    }
    rest = start < bytes.length ? bytes.subarray(start) : undefined;
  }
  if (rest) yield JSON.parse(rest.toString('utf8')) as SpooledRow;
}

/** Pass 1: parse, bound, map the header, spool the rows with the whole-file problems. */
async function readToSpool(
  options: RunImportOptions,
  record: ImportRecord,
  catalog: ImportCatalog,
  spool: string,
  counters: Counters,
): Promise<{ columns: ColumnMap; spool: string }> {
  const rows: AsyncIterable<SheetRow> =
    record.format === 'xlsx'
      ? readXlsxRows(options.file, options.limits)
      : readCsvRows(createReadStream(options.file, { highWaterMark: 256 * 1024 }), {
          encoding: record.encoding,
          limits: options.limits,
        });
  const out = createWriteStream(spool);
  const failed = once(out, 'error').then(([error]) => {
    throw error;
  });
  failed.catch(() => {});
  let columns: ColumnMap | undefined;
  const firstRowOfKey = new Map<string, number>();
  const firstRowOfCode = new Map<string, number>();
  let currentKey: string | undefined;
  let count = 0;
  for await (const { row, cells } of rows) {
    if (!columns) {
      columns = mapHeader(cells, catalog.definitions, row);
      continue;
    }
    count++;
    const problems: ReportEntry[] = [];
    const key = productKeyOf(cells, columns);
    if (key !== currentKey && key !== '') {
      const first = firstRowOfKey.get(key);
      if (first !== undefined) {
        problems.push({
          row,
          column: columns.columns[columns.product.slug ?? columns.product.nameEn!]?.header ?? null,
          field: 'slug',
          code: 'rows-not-consecutive',
          message: `product ${key} already appeared at row ${first}: a product's rows must be consecutive`,
        });
      } else firstRowOfKey.set(key, row);
    }
    if (key !== '') currentKey = key;
    const code = cellText(cells, columns.sku.skuCode);
    if (code !== undefined) {
      const first = firstRowOfCode.get(code);
      if (first === undefined) firstRowOfCode.set(code, row);
      else {
        problems.push({
          row,
          column: columns.columns[columns.sku.skuCode!]?.header ?? null,
          field: 'sku.code',
          code: 'duplicate-sku-code',
          message: `SKU code ${code} already appears at row ${first}`,
        });
      }
    }
    const line: SpooledRow = problems.length ? [row, cells, problems] : [row, cells];
    if (!out.write(`${JSON.stringify(line)}\n`)) await Promise.race([once(out, 'drain'), failed]);
    if (count % READ_PROGRESS_EVERY === 0) {
      await options.db.query('UPDATE catalog.imports SET rows_read = $2 WHERE id = $1', [
        options.importId,
        count,
      ]);
    }
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  if (!columns) throw new ImportFileError('empty-file', 'The file has no header row');
  counters.rowsRead = count;
  await options.db.query('UPDATE catalog.imports SET rows_read = $2 WHERE id = $1', [
    options.importId,
    count,
  ]);
  return { columns, spool };
}

/** True for an error the database raised (a constraint, a lock timeout), false for a bug of ours. */
function isDatabaseError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && 'severity' in (error as object);
}

/**
 * Pass 2, one batch of products per transaction, up to `concurrency` batches in flight. Each batch
 * commits only after the one before it: the progress saved with a commit (`settled_line`) then
 * always covers every earlier row, and a batch whose predecessor failed rolls back.
 */
class BatchApplier {
  readonly #db: Database;
  readonly #record: ImportRecord;
  readonly #columns: ColumnMap;
  readonly #catalog: ImportCatalog;
  readonly #counters: Counters;
  readonly #actor: AuthContext;
  readonly #origin: { requestId?: string | undefined };
  readonly #maxReport: number;
  readonly #concurrency: number;
  /** The last batch submitted: the next one commits after it. */
  #last: Promise<void> = Promise.resolve();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    db: Database,
    record: ImportRecord,
    columns: ColumnMap,
    catalog: ImportCatalog,
    counters: Counters,
    actor: AuthContext,
    origin: { requestId?: string | undefined },
    options: RunImportOptions,
  ) {
    this.#db = db;
    this.#record = record;
    this.#columns = columns;
    this.#catalog = catalog;
    this.#counters = counters;
    this.#actor = actor;
    this.#origin = origin;
    this.#maxReport = options.maxReportEntries ?? 100_000;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** Starts a batch once fewer than `concurrency` are in flight; a failed batch fails this call or `drain`. */
  async submit(groups: readonly ProductRows[]): Promise<void> {
    while (this.#inFlight.size >= this.#concurrency) {
      try {
        await Promise.race(this.#inFlight);
      } catch (error) {
        await Promise.allSettled(this.#inFlight);
        throw error;
      }
    }
    const run = this.#batch(groups, this.#last);
    this.#last = run;
    const tracked: Promise<void> = run.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
    // Observed by the next batch, `submit` or `drain`; never left unhandled.
    tracked.catch(() => {});
  }

  /** Waits for every batch; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.#inFlight);
    await this.#last;
  }

  async #batch(groups: readonly ProductRows[], previous: Promise<void>): Promise<void> {
    const counters = this.#counters;
    // Products a previous attempt of this job settled are skipped: resuming never applies twice.
    const pending = groups.filter((group) => group.rows[group.rows.length - 1]!.row > counters.settledLine);
    if (pending.length === 0) return previous;
    const dryRun = this.#record.dryRun;
    await this.#db
      .transaction(async (tx) => {
        const lookups = await lookUpBatch(tx, pending, this.#columns, !dryRun);
        const report: ReportEntry[] = [];
        let plans: ProductPlan[] = [];
        let rejectedRows = 0;
        let rejectedProducts = 0;
        for (const group of pending) {
          const result = planProduct(group, this.#columns, this.#catalog, lookups, this.#record.mode);
          if (result.ok) plans.push(result.plan);
          else {
            report.push(...result.problems);
            rejectedRows += group.rows.length;
            rejectedProducts++;
          }
        }
        if (!dryRun && plans.length) {
          const refused = await this.#write(tx, plans);
          for (const { plan, entry } of refused) {
            report.push(entry);
            rejectedRows += plan.rowCount;
            rejectedProducts++;
          }
          const refusedIds = new Set(refused.map(({ plan }) => plan.id));
          plans = plans.filter((plan) => !refusedIds.has(plan.id));
        }
        // From here on the batch needs the one before it committed (visibility's lock, the
        // report's numbering, the counters).
        await previous;
        if (!dryRun && plans.length) {
          await refreshVisibility(
            tx,
            plans.filter((plan) => plan.visibility).map((plan) => plan.id),
          );
          await this.#announce(tx, plans);
          if (plans.length) {
            await recordAudit(tx, this.#actor, this.#origin, {
              action: 'catalog_import.batch_applied',
              entityType: 'catalog_import',
              entityId: this.#record.id,
              companyId: null,
              details: {
                created: plans.filter((plan) => plan.kind === 'create').map((plan) => plan.id),
                updated: plans.filter((plan) => plan.kind === 'update').map((plan) => plan.id),
              },
            });
          }
        }
        report.sort((a, b) => a.row - b.row);
        const room = Math.max(0, this.#maxReport - counters.reportEntries);
        const kept = report.slice(0, room);
        await appendReport(tx, this.#record.id, counters.reportEntries + 1, kept);
        const next: Counters = {
          ...counters,
          rowsSettled: counters.rowsSettled + pending.reduce((sum, group) => sum + group.rows.length, 0),
          rowsRejected: counters.rowsRejected + rejectedRows,
          productsCreated: counters.productsCreated + plans.filter((plan) => plan.kind === 'create').length,
          productsUpdated: counters.productsUpdated + plans.filter((plan) => plan.kind === 'update').length,
          productsRejected: counters.productsRejected + rejectedProducts,
          reportEntries: counters.reportEntries + kept.length,
          reportDropped: counters.reportDropped + report.length - kept.length,
          settledLine: pending[pending.length - 1]!.rows.at(-1)!.row,
        };
        await saveProgress(tx, this.#record.id, next);
        // Only once the transaction commits do the counters move on.
        return next;
      })
      .then((next) => Object.assign(counters, next));
  }

  /**
   * Writes the plans in one go; if the database refuses, once more with a savepoint per product.
   * Answers the plans it refused, each with its report entry.
   */
  async #write(
    tx: Transaction,
    plans: readonly ProductPlan[],
  ): Promise<Array<{ plan: ProductPlan; entry: ReportEntry }>> {
    await tx.query('SAVEPOINT import_batch');
    try {
      await writePlans(tx, plans);
      await tx.query('RELEASE SAVEPOINT import_batch');
      return [];
    } catch (error) {
      if (!isDatabaseError(error)) throw error;
      await tx.query('ROLLBACK TO SAVEPOINT import_batch');
    }
    const refused: Array<{ plan: ProductPlan; entry: ReportEntry }> = [];
    for (const plan of plans) {
      await tx.query('SAVEPOINT import_product');
      try {
        await writePlans(tx, [plan]);
        await tx.query('RELEASE SAVEPOINT import_product');
      } catch (error) {
        if (!isDatabaseError(error)) throw error;
        await tx.query('ROLLBACK TO SAVEPOINT import_product');
        refused.push({
          plan,
          entry: {
            row: plan.firstRow,
            column: null,
            field: null,
            code: 'rejected-by-database',
            message: `product ${plan.slug} not imported: the database refused it (${error.message})`,
          },
        });
      }
    }
    return refused;
  }

  /** `product.created` / `product.updated` / `product.lifecycle_changed`, as the product actions announce them. */
  async #announce(tx: Transaction, plans: readonly ProductPlan[]): Promise<void> {
    const messages: OutboxMessage[] = [];
    for (const plan of plans) {
      if (plan.kind === 'create') {
        messages.push({
          kind: 'event',
          name: 'product.created',
          companyId: null,
          payload: { productId: plan.id, slug: plan.slug, lifecycle: plan.lifecycle?.to ?? 'draft' },
        });
        continue;
      }
      if (plan.changes.length) {
        messages.push({
          kind: 'event',
          name: 'product.updated',
          companyId: null,
          payload: { productId: plan.id, changes: plan.changes },
        });
      }
      if (plan.lifecycle) {
        messages.push({
          kind: 'event',
          name: 'product.lifecycle_changed',
          companyId: null,
          payload: { productId: plan.id, from: plan.lifecycle.from, to: plan.lifecycle.to, reason: 'import' },
        });
      }
    }
    for (let start = 0; start < messages.length; start += OUTBOX_CHUNK) {
      await writeOutbox(tx, messages.slice(start, start + OUTBOX_CHUNK), this.#origin);
    }
  }
}

async function saveProgress(db: Transaction | Database, importId: string, counters: Counters): Promise<void> {
  await db.query(
    `UPDATE catalog.imports
        SET rows_settled = $2, rows_rejected = $3, products_created = $4, products_updated = $5,
            products_rejected = $6, report_entries = $7, report_dropped = $8, settled_line = $9
      WHERE id = $1`,
    [
      importId,
      counters.rowsSettled,
      counters.rowsRejected,
      counters.productsCreated,
      counters.productsUpdated,
      counters.productsRejected,
      counters.reportEntries,
      counters.reportDropped,
      counters.settledLine,
    ],
  );
}

/** The final status, counts and audit entry of an import. */
async function finish(
  db: Database,
  importId: string,
  actor: AuthContext,
  origin: { requestId?: string | undefined },
  counters: Counters,
  failure: { code: string; message: string; row: number | null } | null,
): Promise<ImportRecord> {
  const status: ImportStatus = failure
    ? 'failed'
    : counters.productsRejected > 0
      ? 'partially_succeeded'
      : 'succeeded';
  return db.transaction(async (tx) => {
    await saveProgress(tx, importId, counters);
    const { rows } = await tx.query(
      `UPDATE catalog.imports SET status = $2, failure = $3::jsonb, finished_at = now(), rows_read = $4
        WHERE id = $1 RETURNING file_name, dry_run`,
      [importId, status, failure ? JSON.stringify(failure) : null, counters.rowsRead],
    );
    await recordAudit(tx, actor, origin, {
      action: 'catalog_import.finished',
      entityType: 'catalog_import',
      entityId: importId,
      companyId: null,
      details: {
        fileName: rows[0]?.file_name ?? null,
        dryRun: rows[0]?.dry_run ?? false,
        status,
        failure,
        rowsRead: counters.rowsRead,
        rowsRejected: counters.rowsRejected,
        productsCreated: counters.productsCreated,
        productsUpdated: counters.productsUpdated,
        productsRejected: counters.productsRejected,
      },
    });
    const facts = await jobFactsOf(tx, importId);
    return facts!.record;
  });
}

/** Marks an import failed for a reason outside the file (its job ran out of attempts). */
export async function failImport(
  db: Database,
  importId: string,
  failure: { code: string; message: string },
): Promise<void> {
  const facts = await jobFactsOf(db, importId);
  if (!facts || FINAL.includes(facts.record.status)) return;
  const actor: AuthContext = {
    kind: 'staff',
    principalId: facts.record.createdBy,
    companyId: null,
    permissions: [],
  };
  await finish(
    db,
    importId,
    actor,
    { requestId: facts.requestId ?? undefined },
    {
      ...facts.record.progress,
      reportEntries: facts.record.report.entries,
      reportDropped: facts.record.report.dropped,
      settledLine: facts.settledLine,
    },
    { ...failure, row: null },
  );
}
