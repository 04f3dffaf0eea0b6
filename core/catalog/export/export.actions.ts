import { PassThrough, type Writable } from 'node:stream';
import type { ActionSchema, Context } from 'moleculer';
import { schemaRef } from '../../../schemas/index.ts';
import { requireBuyerCompany } from '../../platform/auth/auth-context.ts';
import {
  loadPdfFont,
  type PdfFont,
  PdfFontUnavailable,
  pdfFontLocation,
} from '../../platform/documents/pdf-font.ts';
import { Forbidden } from '../../platform/errors/hub-errors.ts';
import type { RouteSpec } from '../../platform/http/route-spec.ts';
import { sendFile } from '../../platform/http/uploads.ts';
import { type CatalogArea, type CatalogContext, requireCatalogStaff, TAG } from '../catalog-area.ts';
import type { Lifecycle, Product } from '../products.ts';
import { viewerOf } from '../viewer.ts';
import type { Viewer } from '../visibility.ts';
import { columnPlan, type ExportColumn, type ExportRow, type Lang } from './export-columns.ts';
import {
  attributesOfProducts,
  type ExportSource,
  exportRows,
  listSource,
  maxExportRows,
  type SearchParams,
  searchSource,
  staffSource,
} from './export-source.ts';
import { writePdf } from './pdf-export.ts';
import { type ExportMeta, writeXlsx } from './xlsx-export.ts';

type Format = 'xlsx' | 'pdf';

/**
 * How long resolving an export may take before the file starts (the mesh's default is 30 s): a
 * 5,000-row search export pages through 50 searches first. Once the stream is returned, no
 * timeout applies to writing it.
 */
const RESOLVE_TIMEOUT_MS = 120_000;

/** An action with its own timeout: Moleculer honours `timeout` on an action, its typings omit it. */
function withTimeout(action: ActionSchema): ActionSchema {
  return Object.assign(action, { timeout: RESOLVE_TIMEOUT_MS });
}

const CONTENT_TYPES: Record<Format, string> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
};

/** Characters a saved file's name cannot hold on Windows or Unix, and control characters. */
const UNSAFE_IN_FILENAME = /[\\/:*?"<>|\p{Cc}\p{Cf}]+/gu;

export function exportFilename(stem: string, format: Format): string {
  const clean = [...stem.replace(UNSAFE_IN_FILENAME, '_').replace(/\s+/g, ' ').trim()].slice(0, 100).join('');
  return `${clean || 'export'}.${format}`;
}

/**
 * Columns of other domains for this export: where price (`pricing.internal.priceLines`, asked over
 * the mesh with the caller's context, so a buyer gets their own prices) and stock come in. Today
 * none: the catalog does not invent a price. The wiring is in the README ("Price and stock").
 */
async function commercialColumns(_ctx: Context, _source: ExportSource): Promise<ExportColumn[]> {
  return [];
}

/** What a client asking for a PDF is told on a server without a CJK font. */
const PDF_UNAVAILABLE = 'PDF export is not available on this server (it has no CJK font); XLSX export is';

/**
 * Bulk export of what a caller sees, to XLSX and PDF: one of their product lists, a search result,
 * or (staff) the catalog under the staff list's filters. The source is resolved first (errors are
 * problem+json), then the file streams: products are loaded in batches as the writer goes.
 */
export function exportArea({ platform }: CatalogContext): CatalogArea {
  const { db } = platform;
  const log = platform.logger?.child({ area: 'catalog-export' });
  if (log && !pdfFontLocation(process.env.HUB_PDF_FONT)) {
    log.warn(
      'no CJK font found for PDF exports (install fonts-wqy-microhei or set HUB_PDF_FONT); PDF exports answer 503',
    );
  }

  function pdfFont(): PdfFont {
    try {
      return loadPdfFont(process.env.HUB_PDF_FONT, { unavailableDetail: PDF_UNAVAILABLE });
    } catch (error) {
      if (error instanceof PdfFontUnavailable) log?.error(`PDF export refused: ${error.reason}`);
      throw error;
    }
  }

  function storefrontUrl(): string {
    return (process.env.HUB_STOREFRONT_URL || `http://localhost:${platform.config.httpPort}`).replace(
      /\/+$/,
      '',
    );
  }

  async function answer(
    ctx: Context,
    params: { format: Format; lang: Lang },
    viewer: Viewer,
    source: ExportSource,
  ) {
    const { format, lang } = params;
    // Refuse before anything streams when PDF cannot be made here.
    const font = format === 'pdf' ? pdfFont() : undefined;
    const attributes = await attributesOfProducts(
      db,
      source.entries.map((entry) => entry.productId),
    );
    const base = storefrontUrl();
    const productUrl = (product: Product) => `${base}/products/${encodeURIComponent(product.slug)}`;
    const columns = columnPlan({
      lang,
      listItems: source.listItems,
      attributes,
      productUrl,
      commercialColumns: await commercialColumns(ctx, source),
    });
    const meta: ExportMeta = {
      lang,
      title: source.title,
      details: source.details,
      generatedAt: new Date(),
      total: source.total,
      maxRows: maxExportRows(),
      truncated: source.truncated,
    };
    const rows = exportRows(db, viewer, source.entries);
    const out = new PassThrough();
    const write = (target: Writable): Promise<number> =>
      font
        ? writePdf(target, {
            rows,
            meta,
            attributes,
            listItems: source.listItems,
            font,
            productUrl: (row: ExportRow) => productUrl(row.product),
          })
        : writeXlsx(target, columns, rows, meta);
    write(out).then(
      (written) =>
        log?.debug({ format, rows: written, truncated: source.truncated }, 'catalog export written'),
      (error) => {
        // Headers are gone by now: cutting the stream is how the client learns it is incomplete.
        log?.error({ err: error, format }, 'catalog export failed while streaming');
        out.destroy(error as Error);
      },
    );
    sendFile(
      ctx,
      { contentType: CONTENT_TYPES[format], filename: exportFilename(source.filename, format) },
      out,
    );
    const headers = (ctx.meta as { $responseHeaders: Record<string, string> }).$responseHeaders;
    headers['X-Export-Rows'] = String(source.entries.length);
    headers['X-Export-Truncated'] = String(source.truncated);
    return out;
  }

  return {
    actions: {
      'export.list': withTimeout({
        params: schemaRef('api/catalog/export-list-query'),
        async handler(ctx: Context<{ id: string; format: Format; lang: Lang }>) {
          const { auth, companyId } = requireBuyerCompany(ctx);
          if (auth.kind !== 'buyer') throw new Forbidden('Product lists belong to buyer users');
          const viewer = await viewerOf(ctx);
          const source = await listSource(
            db,
            { companyId, userId: auth.principalId },
            viewer,
            ctx.params.id,
            {
              lang: ctx.params.lang,
              maxRows: maxExportRows(),
              now: new Date(),
            },
          );
          return answer(ctx, ctx.params, viewer, source);
        },
      }),

      'export.search': withTimeout({
        params: schemaRef('api/catalog/export-search-query'),
        async handler(ctx: Context<SearchParams & { format: Format; lang: Lang }>) {
          const { format, lang, ...search } = ctx.params;
          const viewer = await viewerOf(ctx);
          const source = await searchSource(ctx, search, { lang, maxRows: maxExportRows(), now: new Date() });
          return answer(ctx, { format, lang }, viewer, source);
        },
      }),

      'export.products': withTimeout({
        params: schemaRef('api/catalog/export-products-query'),
        async handler(
          ctx: Context<{
            format: Format;
            lang: Lang;
            lifecycle?: Lifecycle;
            categoryId?: string;
            brandId?: string;
          }>,
        ) {
          requireCatalogStaff(ctx, 'read');
          const { format, lang, ...filter } = ctx.params;
          const source = await staffSource(db, filter, { lang, maxRows: maxExportRows(), now: new Date() });
          return answer(ctx, { format, lang }, { kind: 'staff' }, source);
        },
      }),
    },
    routes: ROUTES,
  };
}

const FILE_TYPES = [CONTENT_TYPES.xlsx, CONTENT_TYPES.pdf];

const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/catalog/lists/:id/export',
    action: 'catalog.export.list',
    operationId: 'exportProductList',
    tag: TAG,
    summary:
      'One of the caller’s product lists as an Excel (xlsx) or PDF file: one row per item the buyer may still see',
    audience: 'buyer',
    querySchema: 'api/catalog/export-list-query',
    download: { contentTypes: FILE_TYPES },
  },
  {
    method: 'GET',
    path: '/api/catalog/search/export',
    action: 'catalog.export.search',
    operationId: 'exportCatalogSearch',
    tag: TAG,
    summary:
      'A catalog search result (same parameters as the search) as an Excel (xlsx) or PDF file, at most 5,000 products; guests get public products, a buyer token what the buyer may see',
    audience: 'public',
    querySchema: 'api/catalog/export-search-query',
    download: { contentTypes: FILE_TYPES },
  },
  {
    method: 'GET',
    path: '/api/staff/catalog/products/export',
    action: 'catalog.export.products',
    operationId: 'exportCatalogProducts',
    tag: TAG,
    summary:
      'Staff: products (drafts too) under the product list’s filters as an Excel (xlsx) or PDF file, at most 5,000 (catalog.read)',
    audience: 'staff',
    querySchema: 'api/catalog/export-products-query',
    download: { contentTypes: FILE_TYPES },
  },
];
