import { buffer } from 'node:stream/consumers';
import PDFDocument from 'pdfkit';
import type { PdfFont } from './pdf-font.ts';

/**
 * Printable documents (order papers, contracts): an A4 pdfkit document set in the CJK font, a
 * table that wraps its cells and repeats its header on every page, and the finished bytes.
 * Catalog exports stream their own larger layout on the same font.
 */
export const A4_MARGINS = { top: 48, bottom: 52, left: 44, right: 44 };
export const INK = { text: '#111111', muted: '#555555', line: '#C8CED8', header: '#E8EEF7' };

export interface PdfDocumentOptions {
  font: PdfFont;
  title: string;
  /** The program part that made it, e.g. `B2B Hub orders`. */
  creator: string;
  createdAt?: Date;
  margins?: typeof A4_MARGINS;
}

/** A4 portrait with its first page, the CJK font registered as `cjk` and selected. */
export function createPdfDocument(options: PdfDocumentOptions): PDFKit.PDFDocument {
  const doc = new PDFDocument({
    size: 'A4',
    margins: options.margins ?? A4_MARGINS,
    info: {
      Title: options.title,
      Author: 'B2B Hub',
      Creator: options.creator,
      ...(options.createdAt ? { CreationDate: options.createdAt } : {}),
    },
  });
  doc.registerFont('cjk', options.font.data, options.font.face);
  doc.font('cjk').fillColor(INK.text);
  return doc;
}

/** Ends the document and answers its bytes (documents are small: a few pages, kept in memory). */
export async function pdfBytes(doc: PDFKit.PDFDocument): Promise<Buffer> {
  const bytes = buffer(doc);
  doc.end();
  return bytes;
}

/** The usable width between the page margins. */
export function contentWidth(doc: PDFKit.PDFDocument): number {
  return doc.page.width - doc.page.margins.left - doc.page.margins.right;
}

export interface TableColumn {
  header: string;
  /** Points; a column of width 0 takes what the others leave (at most one should). */
  width: number;
  align?: 'left' | 'right' | 'center';
}

const PAD = 3;
/** A cell's text is cut here, so no row outgrows a page. */
const MAX_CELL_CHARS = 400;

function cut(text: string): string {
  return text.length > MAX_CELL_CHARS ? `${text.slice(0, MAX_CELL_CHARS - 1)}…` : text;
}

/**
 * Draws a table from the current `doc.y` at the left margin: a shaded header row, then one row per
 * entry with wrapped cells and a rule below; a row that does not fit starts a new page, where the
 * header is drawn again. Leaves `doc.y` below the table.
 */
export function drawTable(
  doc: PDFKit.PDFDocument,
  columns: readonly TableColumn[],
  rows: ReadonlyArray<readonly string[]>,
  options: { fontSize?: number } = {},
): void {
  const size = options.fontSize ?? 8.5;
  const left = doc.page.margins.left;
  const width = contentWidth(doc);
  const fixed = columns.reduce((sum, column) => sum + column.width, 0);
  const widths = columns.map((column) => column.width || Math.max(40, width - fixed));
  const bottom = () => doc.page.height - doc.page.margins.bottom;

  const rowHeight = (cells: readonly string[]) =>
    Math.max(
      ...cells.map((cell, i) => doc.heightOfString(cut(cell) || ' ', { width: widths[i]! - 2 * PAD })),
    ) +
    2 * PAD;

  const drawRow = (cells: readonly string[], y: number, height: number, shade?: string) => {
    if (shade) doc.rect(left, y, width, height).fill(shade);
    doc.fillColor(INK.text);
    let x = left;
    cells.forEach((cell, i) => {
      doc.text(cut(cell), x + PAD, y + PAD, {
        width: widths[i]! - 2 * PAD,
        align: columns[i]!.align ?? 'left',
      });
      x += widths[i]!;
    });
    doc
      .moveTo(left, y + height)
      .lineTo(left + width, y + height)
      .lineWidth(0.4)
      .strokeColor(INK.line)
      .stroke();
  };

  doc.fontSize(size);
  const headers = columns.map((column) => column.header);
  const headerHeight = rowHeight(headers);
  let y = doc.y;
  if (y + headerHeight > bottom()) {
    doc.addPage();
    y = doc.page.margins.top;
  }
  drawRow(headers, y, headerHeight, INK.header);
  y += headerHeight;
  for (const row of rows) {
    doc.fontSize(size);
    const height = rowHeight(row);
    if (y + height > bottom()) {
      doc.addPage();
      y = doc.page.margins.top;
      drawRow(headers, y, headerHeight, INK.header);
      y += headerHeight;
    }
    drawRow(row, y, height);
    y += height;
  }
  doc.x = left;
  doc.y = y + 6;
}

/**
 * Integer minor units as a decimal amount with thousands separators, exactly (no floating
 * point): `1234567` with 2 digits → `12,345.67`, `-5` → `-0.05`.
 */
export function formatMinor(amountMinor: bigint | string, digits = 2): string {
  const value = BigInt(amountMinor);
  const negative = value < 0n;
  const text = (negative ? -value : value).toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = digits > 0 ? `.${text.slice(text.length - digits)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** Minor digits of the currencies the hub trades in (ISO 4217); 2 for any other. */
export function minorDigits(currency: string): number {
  return ({ JPY: 0, KRW: 0, VND: 0, BHD: 3, KWD: 3, OMR: 3 } as Record<string, number>)[currency] ?? 2;
}

/** `12,345.67 CNY`. */
export function formatMoney(money: { amountMinor: string | bigint; currency: string }): string {
  return `${formatMinor(money.amountMinor, minorDigits(money.currency))} ${money.currency}`;
}

/** A timestamp as Beijing time, `2025-03-01 14:05`. */
export function shanghaiDateTime(at: Date | string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
}
