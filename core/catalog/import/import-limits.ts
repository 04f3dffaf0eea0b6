import type { FileLimits } from '../../platform/files/file-limits.ts';

/**
 * Bounds of a product import file. A file beyond any of them is refused as a whole, before a single
 * product is written (the file is read to the end and checked before anything is applied).
 * Defaults suit a catalog of a few hundred thousand SKUs; some can be changed by the environment
 * (`ENV` below): HUB_IMPORT_MAX_BYTES (100 MiB), HUB_IMPORT_MAX_ROWS (500,000),
 * HUB_IMPORT_MAX_COLUMNS (500), HUB_IMPORT_MAX_CELL_CHARS (32,767: Excel's own cell limit),
 * HUB_IMPORT_MAX_LINE_CHARS (1,000,000), HUB_IMPORT_MAX_UNZIPPED_BYTES (500 MiB).
 */
export type ImportLimits = FileLimits;

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxFileBytes: 100 * 1024 * 1024,
  maxRows: 500_000,
  maxColumns: 500,
  maxCellChars: 32_767,
  maxLineChars: 1_000_000,
  maxUnzippedBytes: 500 * 1024 * 1024,
  maxZipEntries: 10_000,
  maxCompressionRatio: 200,
  maxSharedStringsBytes: 100 * 1024 * 1024,
  maxWorkbookXmlBytes: 10 * 1024 * 1024,
};

const ENV: Partial<Record<keyof ImportLimits, string>> = {
  maxFileBytes: 'HUB_IMPORT_MAX_BYTES',
  maxRows: 'HUB_IMPORT_MAX_ROWS',
  maxColumns: 'HUB_IMPORT_MAX_COLUMNS',
  maxCellChars: 'HUB_IMPORT_MAX_CELL_CHARS',
  maxLineChars: 'HUB_IMPORT_MAX_LINE_CHARS',
  maxUnzippedBytes: 'HUB_IMPORT_MAX_UNZIPPED_BYTES',
};

/** The limits with the environment's overrides; a value that is not a positive integer stops start-up. */
export function importLimitsFromEnv(env: Record<string, string | undefined> = process.env): ImportLimits {
  const limits = { ...DEFAULT_IMPORT_LIMITS };
  for (const [field, name] of Object.entries(ENV) as Array<[keyof ImportLimits, string]>) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new Error(`${name}=${raw} is not a positive integer`);
    limits[field] = value;
  }
  return limits;
}

/**
 * Why a whole file is refused (bounds, not a CSV/XLSX, unreadable header): nothing of it is
 * imported. The platform's file readers throw it; the import throws it for an unusable header.
 */
export { FileRefusedError as ImportFileError } from '../../platform/files/file-limits.ts';
