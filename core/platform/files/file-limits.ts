/**
 * Bounds of a tabular file from outside (an uploaded import, a partner's file over SFTP). A file
 * beyond any of them is refused as a whole by the readers in this folder, with a
 * `FileRefusedError`; callers choose the values (each domain or connector has its own defaults).
 */
export interface FileLimits {
  /** Bytes of the file. */
  maxFileBytes: number;
  /** Data rows, header excluded. */
  maxRows: number;
  /** Columns of the header and of any row. */
  maxColumns: number;
  /** Characters of one cell. */
  maxCellChars: number;
  /** Characters of one CSV record, all its cells. */
  maxLineChars: number;
  /** XLSX: sum of the uncompressed sizes of the archive's entries. */
  maxUnzippedBytes: number;
  /** XLSX: entries in the archive. */
  maxZipEntries: number;
  /** XLSX: uncompressed / compressed size of one entry bigger than 1 MiB (XML rarely passes 30). */
  maxCompressionRatio: number;
  /** XLSX: uncompressed bytes of the shared string table, held in memory while reading. */
  maxSharedStringsBytes: number;
  /** XLSX: uncompressed bytes of workbook.xml and its relationships. */
  maxWorkbookXmlBytes: number;
}

/**
 * Why a whole file is refused (a bound crossed, not a CSV/XLSX, malformed, unusable header).
 * `code` is stable (`file-too-large`, `too-many-rows`, `line-too-long`, `malformed-csv`,
 * `zip-refused`, `malformed-xlsx`, ...); `row` is the 1-based line where the problem was found
 * and `column` the 1-based column, when there is one.
 */
export class FileRefusedError extends Error {
  readonly code: string;
  readonly row: number | undefined;
  readonly column: number | undefined;
  constructor(code: string, message: string, row?: number, column?: number) {
    super(message);
    this.name = 'FileRefusedError';
    this.code = code;
    this.row = row;
    this.column = column;
  }
}
