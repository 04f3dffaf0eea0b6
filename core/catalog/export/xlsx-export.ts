import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { CellValue, ExportColumn, ExportRow, Lang } from './export-columns.ts';

/** What an export file says about itself (title, when, how many rows, whether it was cut). */
export interface ExportMeta {
  lang: Lang;
  title: string;
  /** Lines describing the source: the search text and filters, the list's name. */
  details: string[];
  generatedAt: Date;
  /** How many rows the source had (before the cap). */
  total: number;
  /** The cap; a source with more rows is cut to it, and the file says so. */
  maxRows: number;
  truncated: boolean;
}

const TEXTS = {
  zh: {
    sheet: '商品',
    about: '导出说明',
    generatedAt: '生成时间',
    rows: '行数',
    truncated: (total: number, max: number) =>
      `结果共 ${total} 条，仅导出前 ${max} 条；请缩小范围后再导出其余部分。`,
    visibility: '只包含您有权查看的商品。价格与库存将在价格、库存模块上线后加入。',
  },
  en: {
    sheet: 'Products',
    about: 'About this export',
    generatedAt: 'Generated at',
    rows: 'Rows',
    truncated: (total: number, max: number) =>
      `The result has ${total} rows; only the first ${max} are exported. Narrow it down to export the rest.`,
    visibility:
      'Only products you may see are included. Prices and stock are added once pricing and inventory exist.',
  },
} as const;

export function exportTexts(lang: Lang) {
  return TEXTS[lang];
}

/** `2025-03-01 14:05 (UTC+8)`: exports are read in China, so Asia/Shanghai whatever the server's zone. */
export function shanghaiTime(at: Date): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Asia/Shanghai',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} (UTC+8)`;
}

// XML 1.0 cannot carry these; a cell holds at most 32,767 characters.
const XML_ILLEGAL = /(?![\t\n\r])\p{Cc}|[\uFFFE\uFFFF]/gu;
const MAX_CELL = 32_767;

export function cleanText(text: string): string {
  const clean = text.replace(XML_ILLEGAL, '');
  return clean.length > MAX_CELL ? clean.slice(0, MAX_CELL) : clean;
}

function cellOf(column: ExportColumn, row: ExportRow): ExcelJS.CellValue {
  const value: CellValue = column.value(row);
  if (value === null) return null;
  if (typeof value === 'number') return value;
  if (column.kind === 'link') return { text: cleanText(value), hyperlink: value };
  // Strings stay strings (inline, never formulas), so `=cmd|...` in a name cannot run in Excel.
  return cleanText(value);
}

/**
 * Writes the workbook to `out` row by row with exceljs' streaming writer: each row is committed
 * (serialised and released) as soon as it is added, so memory stays flat however many rows come.
 * Sheet 1: one header row (frozen, with an autofilter) and the rows; sheet 2: what was exported.
 * Returns the number of rows written.
 */
export async function writeXlsx(
  out: Writable,
  columns: readonly ExportColumn[],
  rows: AsyncIterable<ExportRow>,
  meta: ExportMeta,
): Promise<number> {
  const texts = TEXTS[meta.lang];
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  workbook.creator = 'B2B Hub';
  workbook.created = meta.generatedAt;
  workbook.title = meta.title;
  const note = meta.truncated ? texts.truncated(meta.total, meta.maxRows) : '';
  const sheet = workbook.addWorksheet(texts.sheet, {
    views: [{ state: 'frozen', ySplit: 1 }],
    headerFooter: {
      // Printed pages carry the title (and the cut) on top and the page number below.
      oddHeader: `&L${headerFooterText(meta.title)}&R${headerFooterText(note)}`,
      oddFooter: `&L${headerFooterText(shanghaiTime(meta.generatedAt))}&R&P / &N`,
    },
  });
  sheet.columns = columns.map((column) => ({ header: column.header, key: column.key, width: column.width }));
  const header = sheet.getRow(1);
  header.font = { bold: true };
  header.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EEF7' } };
  header.alignment = { vertical: 'middle', wrapText: true };
  header.commit();
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } };
  const linkColumn = columns.findIndex((column) => column.kind === 'link') + 1;

  let written = 0;
  for await (const row of rows) {
    const added = sheet.addRow(columns.map((column) => cellOf(column, row)));
    if (linkColumn > 0) added.getCell(linkColumn).font = { color: { argb: 'FF1F5FBF' }, underline: true };
    added.commit();
    written += 1;
  }
  sheet.commit();

  const about = workbook.addWorksheet(texts.about);
  about.columns = [{ width: 16 }, { width: 100 }];
  about.addRow([meta.title]).font = { bold: true, size: 14 };
  for (const line of meta.details) about.addRow(['', cleanText(line)]);
  about.addRow([texts.generatedAt, shanghaiTime(meta.generatedAt)]);
  about.addRow([texts.rows, written]);
  if (note) about.addRow(['', note]).font = { bold: true, color: { argb: 'FFC00000' } };
  about.addRow(['', texts.visibility]);
  about.commit();
  await workbook.commit();
  return written;
}

/** `&` starts a code in Excel's header and footer language. */
function headerFooterText(text: string): string {
  return cleanText(text).replace(/&/g, '&&').slice(0, 120);
}
