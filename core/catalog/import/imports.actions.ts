import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context } from 'moleculer';
import { schemaRef } from '../../../schemas/index.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import { NotFound } from '../../platform/errors/hub-errors.ts';
import type { CsvEncoding } from '../../platform/files/csv-rows.ts';
import type { RouteSpec } from '../../platform/http/route-spec.ts';
import { sendFile, uploadOf } from '../../platform/http/uploads.ts';
import { PermanentFailure } from '../../platform/jobs/job-error-taxonomy.ts';
import { writeOutbox } from '../../platform/outbox/outbox-writer.ts';
import { listAttributes } from '../attributes.ts';
import {
  audit,
  type CatalogArea,
  type CatalogContext,
  cursorOf,
  type PageParams,
  requireCatalogStaff,
  TAG,
} from '../catalog-area.ts';
import { importLimitsFromEnv } from './import-limits.ts';
import type { ImportMode } from './import-plan.ts';
import {
  findImport,
  type ImportRecord,
  insertImport,
  jobFactsOf,
  listImports,
  reportCsv,
  reportEntries,
} from './import-records.ts';
import { failImport, runImport } from './run-import.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** Windows browsers label a .csv file `application/vnd.ms-excel`; the reader refuses real .xls bytes. */
const CSV_TYPES = ['text/csv', 'application/csv', 'application/vnd.ms-excel'];

/** The queue import jobs run on; every process running the catalog service works on it, one import at a time. */
export const IMPORT_QUEUE = 'catalog-imports';
const ATTEMPTS = 3;
/** Report entries in the answer for one import. */
const PREVIEW = 100;
/** A refused body is read and dropped up to this much, so the client gets the answer, then cut. */
const DRAIN_BYTES = 64 * 1024 * 1024;

const LIMITS = importLimitsFromEnv();

interface CreateQuery {
  mode: ImportMode;
  encoding: CsvEncoding;
  dryRun: boolean;
}

/** Reads and drops what is left of an upload body (bounded), so the client reads the refusal. */
function drop(body: NodeJS.ReadableStream): void {
  let dropped = 0;
  body.on('error', () => {});
  body.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_BYTES) (body as Readable).destroy();
  });
  body.resume();
}

/**
 * Staff bulk import and update of products from XLSX or CSV (catalog.manage): the upload is kept
 * in the object store and an import job queued through the outbox (in the transaction that
 * records the import, so it runs exactly when the record exists); the job, on any node running the
 * catalog, runs `runImport` and writes its progress to the record. Staff follow it on the record
 * and download the per-row report as CSV.
 */
export function importArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;

  async function processJob(job: { id: string; data: { importId: string }; attemptsMade: number }) {
    const facts = await jobFactsOf(db, job.data.importId);
    if (!facts || ['succeeded', 'partially_succeeded', 'failed'].includes(facts.record.status)) {
      return { status: facts?.record.status ?? 'missing' };
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'catalog-import-upload-'));
    try {
      let source: NodeJS.ReadableStream;
      try {
        source = await platform.storage.get(facts.fileKey);
      } catch (error) {
        if (!(error instanceof NotFound)) throw error;
        await failImport(db, facts.record.id, { code: 'file-missing', message: 'The uploaded file is gone' });
        throw new PermanentFailure(`import ${facts.record.id}: the uploaded file is gone`);
      }
      // XLSX needs random access (its central directory is at the end): a local copy, bounded.
      const file = path.join(dir, 'upload');
      await pipeline(source, createWriteStream(file));
      const record = await runImport({
        db,
        importId: facts.record.id,
        file,
        limits: LIMITS,
        workDir: dir,
        // Two batches in flight on a real PostgreSQL server; the embedded PGlite has a single session.
        concurrency: platform.config.databaseUrl ? 2 : 1,
      });
      await platform.storage.delete(facts.fileKey).catch(() => {});
      return { status: record.status };
    } catch (error) {
      if (!(error instanceof PermanentFailure) && job.attemptsMade + 1 >= ATTEMPTS) {
        await failImport(db, facts.record.id, {
          code: 'job-failed',
          message: `The import stopped on an unexpected error: ${(error as Error).message}`.slice(0, 2000),
        }).catch(() => {});
      }
      throw error;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    actions: {
      'imports.create': {
        params: schemaRef('api/catalog/import-create-query'),
        async handler(ctx: Context<CreateQuery>): Promise<ImportRecord> {
          const upload = uploadOf(ctx);
          let auth: AuthContext;
          try {
            auth = requireCatalogStaff(ctx);
          } catch (error) {
            drop(upload.stream);
            throw error;
          }
          const id = randomUUID();
          const key = `catalog/imports/${id}`;
          const format = upload.contentType === XLSX ? 'xlsx' : 'csv';
          const stored = await platform.storage.put(key, upload.stream, {
            contentType: upload.contentType,
            maxBytes: LIMITS.maxFileBytes,
          });
          try {
            return await db.transaction(async (tx) => {
              const record = await insertImport(tx, {
                id,
                format,
                mode: ctx.params.mode,
                dryRun: ctx.params.dryRun,
                encoding: ctx.params.encoding,
                fileName: upload.filename ?? null,
                fileKey: key,
                fileSize: stored.size,
                sha256: stored.sha256,
                createdBy: auth.principalId,
                requestId: ctx.requestID ?? null,
              });
              await writeOutbox(
                tx,
                [
                  {
                    kind: 'job',
                    job: {
                      queue: IMPORT_QUEUE,
                      name: 'import',
                      key: `catalog-import:${id}`,
                      data: { importId: id },
                      attempts: ATTEMPTS,
                    },
                  },
                ],
                { requestId: ctx.requestID ?? undefined },
              );
              await audit(ctx, tx, auth, {
                action: 'catalog_import.created',
                entityType: 'catalog_import',
                entityId: id,
                details: {
                  fileName: record.fileName,
                  fileSize: record.fileSize,
                  sha256: record.sha256,
                  format,
                  mode: record.mode,
                  dryRun: record.dryRun,
                },
              });
              // moleculer-web sets Location for 201 and 3xx only.
              (ctx.meta as Record<string, unknown>).$responseHeaders = { Location: `${IMPORTS}/${id}` };
              return record;
            });
          } catch (error) {
            await platform.storage.delete(key).catch(() => {});
            throw error;
          }
        },
      },

      'imports.list': {
        params: schemaRef('api/catalog/import-list-query'),
        async handler(ctx: Context<PageParams>) {
          requireCatalogStaff(ctx, 'read');
          const items = await listImports(db, { limit: ctx.params.limit, after: cursorOf(ctx.params) });
          return {
            items,
            nextCursor: items.length === ctx.params.limit ? items[items.length - 1]!.id : null,
          };
        },
      },

      'imports.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireCatalogStaff(ctx, 'read');
          const record = await findImport(db, ctx.params.id);
          if (!record) throw new NotFound('Import');
          const preview = await reportEntries(db, record.id, { limit: PREVIEW });
          return { ...record, reportPreview: preview.map(({ seq: _seq, ...entry }) => entry) };
        },
      },

      'imports.report': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          requireCatalogStaff(ctx, 'read');
          const record = await findImport(db, ctx.params.id);
          if (!record) throw new NotFound('Import');
          const stem = (record.fileName ?? 'import').replace(/\.[^.]*$/, '');
          return sendFile(
            ctx,
            { contentType: 'text/csv; charset=utf-8', filename: `${stem}-report.csv` },
            reportCsv(db, record.id),
          );
        },
      },

      'imports.template': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          requireCatalogStaff(ctx, 'read');
          const attributes = await listAttributes(db);
          const header = [
            ...TEMPLATE_COLUMNS,
            ...attributes.map((a) => `attr:${a.key}`),
            ...attributes.map((a) => `variant:${a.key}`),
          ];
          return sendFile(
            ctx,
            { contentType: 'text/csv; charset=utf-8', filename: 'product-import-template.csv' },
            Readable.from([`\uFEFF${header.join(',')}\r\n`]),
          );
        },
      },
    },
    routes: ROUTES,
    async started() {
      await platform.jobs.process<{ importId: string }>(IMPORT_QUEUE, processJob, { concurrency: 1 });
    },
  };
}

/** The template's product and SKU columns, in the order the README describes them. */
const TEMPLATE_COLUMNS = [
  'slug',
  'nameZh',
  'nameEn',
  'descriptionZh',
  'descriptionEn',
  'brand',
  'category',
  'model',
  'lifecycle',
  'isPublic',
  'unitOfMeasure',
  'packSizes',
  'scenarios',
  'metaTitle',
  'metaDescription',
  'skuCode',
  'skuUnit',
  'skuPackSize',
  'skuWeightGrams',
];

const IMPORTS = '/api/staff/catalog/imports';

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: IMPORTS,
    action: 'catalog.imports.create',
    operationId: 'createCatalogImport',
    tag: TAG,
    summary:
      'Import or update products from an XLSX or CSV file sent as the raw body (options in the query); answers the queued import, 409 while the same file is being imported (staff, catalog.manage)',
    audience: 'staff',
    querySchema: 'api/catalog/import-create-query',
    responseSchema: 'entities/catalog-import',
    successStatus: 202,
    location: `${IMPORTS}/{id}`,
    upload: { contentTypes: [XLSX, ...CSV_TYPES], maxBytes: LIMITS.maxFileBytes },
  },
  {
    method: 'GET',
    path: IMPORTS,
    action: 'catalog.imports.list',
    operationId: 'listCatalogImports',
    tag: TAG,
    summary: 'Product imports, newest first, with status and progress (staff)',
    audience: 'staff',
    querySchema: 'api/catalog/import-list-query',
    responseSchema: 'api/catalog/import-list-response',
  },
  {
    method: 'GET',
    path: `${IMPORTS}/template.csv`,
    action: 'catalog.imports.template',
    operationId: 'getCatalogImportTemplate',
    tag: TAG,
    summary: 'An empty import file: the header row with every product, SKU and attribute column (staff)',
    audience: 'staff',
    download: { contentTypes: ['text/csv'] },
  },
  {
    method: 'GET',
    path: `${IMPORTS}/:id`,
    action: 'catalog.imports.get',
    operationId: 'getCatalogImport',
    tag: TAG,
    summary: 'One product import: status, progress, failure and the first report entries (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    responseSchema: 'entities/catalog-import',
  },
  {
    method: 'GET',
    path: `${IMPORTS}/:id/report`,
    action: 'catalog.imports.report',
    operationId: 'getCatalogImportReport',
    tag: TAG,
    summary:
      'The whole per-row report of an import as CSV (UTF-8 with BOM: row, column, field, code, message) (staff)',
    audience: 'staff',
    paramsSchema: 'api/common/id-params',
    download: { contentTypes: ['text/csv'] },
  },
];
