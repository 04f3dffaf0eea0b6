/**
 * Bounds of a product import file. A file beyond any of them is refused as a whole, before a single
 * product is written (the file is read to the end and checked before anything is applied).
 * Defaults suit a catalog of a few hundred thousand SKUs; each can be changed by the environment
 * variable named beside it.
 */
export interface ImportLimits {
  /** Bytes of the uploaded file (HUB_IMPORT_MAX_BYTES, default 100 MiB). */
  maxFileBytes: number;
  /** Data rows (one per SKU), header excluded (HUB_IMPORT_MAX_ROWS, default 500,000). */
  maxRows: number;
  /** Columns of the header and of any row (HUB_IMPORT_MAX_COLUMNS, default 500). */
  maxColumns: number;
  /** Characters of one cell (HUB_IMPORT_MAX_CELL_CHARS, default 32,767: Excel's own cell limit). */
  maxCellChars: number;
  /** Characters of one CSV record, all its cells (HUB_IMPORT_MAX_LINE_CHARS, default 1,000,000). */
  maxLineChars: number;
  /** XLSX: sum of the uncompressed sizes of the archive's entries (HUB_IMPORT_MAX_UNZIPPED_BYTES, default 500 MiB). */
  maxUnzippedBytes: number;
  /** XLSX: entries in the archive (default 10,000). */
  maxZipEntries: number;
  /** XLSX: uncompressed / compressed size of one entry bigger than 1 MiB (default 200; XML rarely passes 30). */
  maxCompressionRatio: number;
  /** XLSX: uncompressed bytes of the shared string table, held in memory while reading (default 100 MiB). */
  maxSharedStringsBytes: number;
  /** XLSX: uncompressed bytes of workbook.xml and its relationships (default 10 MiB). */
  maxWorkbookXmlBytes: number;
}

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
 * imported. `row` is the 1-based line where the problem was found, when there is one.
 */
export class ImportFileError extends Error {
  readonly code: string;
  readonly row: number | undefined;
  constructor(code: string, message: string, row?: number) {
    super(message);
    this.name = 'ImportFileError';
    this.code = code;
    this.row = row;
  }
}
