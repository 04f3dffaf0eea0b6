import type { Writable } from 'node:stream';
import PDFDocument from 'pdfkit';
import type { PdfFont } from '../../platform/documents/pdf-font.ts';
import type { AttributeDefinition } from '../attributes.ts';
import {
  brandOf,
  categoryPathOf,
  type ExportRow,
  labels,
  lifecycleLabel,
  packSizesOf,
  skuCodesOf,
  specsOf,
  unitOf,
} from './export-columns.ts';
import { type ExportMeta, exportTexts, shanghaiTime } from './xlsx-export.ts';

/**
 * The PDF export: A4 portrait, a title block (title, source, generated-at in Asia/Shanghai, row
 * count, the cut when there was one), then a compact table, one block per row: the product's
 * names and model, brand, category, SKU code(s), quantity (lists), unit and pack sizes, status,
 * and its specs on a line below. The header row repeats on every page; every page's footer
 * carries the time, the page number and, when the export was cut, that it was.
 */
const MARGIN = { top: 40, bottom: 44, left: 32, right: 32 };
const PAD = 3;
const SIZE = { title: 15, info: 8.5, header: 7.5, name: 8.5, cell: 7.5, small: 7, footer: 7 };
const COLOR = { text: '#111111', muted: '#555555', line: '#C8CED8', header: '#E8EEF7', warn: '#C00000' };
/** A row's spec line is cut here, so no row outgrows a page. */
const MAX_SPEC_CHARS = 700;
const MAX_CELL_CHARS = 300;

interface PdfColumn {
  key: 'index' | 'product' | 'brand' | 'category' | 'sku' | 'quantity' | 'unit' | 'status';
  header: string;
  width: number;
}

function pdfColumns(meta: ExportMeta, listItems: boolean, tableWidth: number): PdfColumn[] {
  const l = labels(meta.lang);
  const fixed: PdfColumn[] = [
    { key: 'index', header: '#', width: 24 },
    { key: 'product', header: '', width: 0 },
    { key: 'brand', header: l.brand, width: 60 },
    { key: 'category', header: l.category, width: 84 },
    { key: 'sku', header: listItems ? l.skuCode : l.skuCodes, width: 92 },
    ...(listItems ? [{ key: 'quantity' as const, header: l.quantity, width: 40 }] : []),
    { key: 'unit', header: `${l.unit} / ${l.packSizes}`, width: 48 },
    { key: 'status', header: l.lifecycle, width: 40 },
  ];
  const product = fixed.find((column) => column.key === 'product')!;
  product.header = meta.lang === 'zh' ? '商品（名称 / 型号）' : 'Product (name / model)';
  product.width = tableWidth - fixed.reduce((sum, column) => sum + column.width, 0);
  return fixed;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The text lines of one cell, each with its size and colour. */
function cellLines(
  column: PdfColumn,
  row: ExportRow,
  index: number,
  meta: ExportMeta,
): Array<{ text: string; size: number; color: string }> {
  const { product } = row;
  const line = (text: string | null, size = SIZE.cell, color = COLOR.text) =>
    text ? [{ text: cut(text, MAX_CELL_CHARS), size, color }] : [];
  switch (column.key) {
    case 'index':
      return line(String(index), SIZE.cell, COLOR.muted);
    case 'product':
      return [
        ...line(product.nameZh, SIZE.name),
        ...line(product.nameEn, SIZE.small, COLOR.muted),
        ...line(product.model, SIZE.small, COLOR.muted),
      ];
    case 'brand':
      return line(brandOf(product, meta.lang));
    case 'category':
      return line(categoryPathOf(product, meta.lang));
    case 'sku':
      return line(skuCodesOf(row));
    case 'quantity':
      return line(row.item ? String(row.item.quantity) : null);
    case 'unit': {
      const pack = packSizesOf(row);
      return [...line(unitOf(row)), ...line(pack === null ? null : `× ${pack}`, SIZE.small, COLOR.muted)];
    }
    case 'status':
      return line(lifecycleLabel(product.lifecycle, meta.lang));
  }
}

/**
 * Writes the PDF to `out` as rows arrive and returns how many were written. Pages are emitted as
 * they fill (no page buffering), so a long export does not hold the whole document in memory.
 */
export async function writePdf(
  out: Writable,
  options: {
    rows: AsyncIterable<ExportRow>;
    meta: ExportMeta;
    attributes: readonly AttributeDefinition[];
    listItems: boolean;
    font: PdfFont;
    productUrl(row: ExportRow): string;
  },
): Promise<number> {
  const { meta, font } = options;
  const texts = exportTexts(meta.lang);
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    autoFirstPage: false,
    info: {
      Title: meta.title,
      Author: 'B2B Hub',
      Creator: 'B2B Hub catalog export',
      CreationDate: meta.generatedAt,
    },
  });
  doc.pipe(out);
  doc.registerFont('cjk', font.data, font.face);
  doc.font('cjk');

  const left = MARGIN.left;
  let pageWidth = 0;
  let bottom = 0;
  let pageNumber = 0;
  let columns: PdfColumn[] = [];
  const generated = shanghaiTime(meta.generatedAt);
  const note = meta.truncated ? texts.truncated(meta.total, meta.maxRows) : '';

  function footer() {
    // Text below the bottom margin would start a new page: lift the margin while writing it.
    const margin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = doc.page.height - MARGIN.bottom + 16;
    doc.fontSize(SIZE.footer).fillColor(COLOR.muted);
    const pageText = meta.lang === 'zh' ? `第 ${pageNumber} 页` : `Page ${pageNumber}`;
    doc.text(`${texts.generatedAt} ${generated}`, left, y, { width: pageWidth / 2, lineBreak: false });
    doc.text(pageText, left, y, { width: pageWidth, align: 'right', lineBreak: false });
    if (note) {
      doc
        .fillColor(COLOR.warn)
        .text(note, left, y + 10, { width: pageWidth, lineBreak: false, ellipsis: true });
    }
    doc.page.margins.bottom = margin;
  }

  function headerRow(y: number): number {
    doc.fontSize(SIZE.header);
    const height =
      Math.max(
        ...columns.map((column) => doc.heightOfString(column.header, { width: column.width - 2 * PAD })),
      ) +
      2 * PAD;
    doc.rect(left, y, pageWidth, height).fill(COLOR.header);
    let x = left;
    doc.fillColor(COLOR.text);
    for (const column of columns) {
      doc.text(column.header, x + PAD, y + PAD, { width: column.width - 2 * PAD });
      x += column.width;
    }
    return y + height;
  }

  let y = 0;
  function newPage() {
    doc.addPage();
    pageNumber += 1;
    pageWidth = doc.page.width - MARGIN.left - MARGIN.right;
    bottom = doc.page.height - MARGIN.bottom;
    columns = pdfColumns(meta, options.listItems, pageWidth);
    footer();
    y = MARGIN.top;
  }

  newPage();
  // Title block.
  doc.fillColor(COLOR.text).fontSize(SIZE.title).text(meta.title, left, y, { width: pageWidth });
  y = doc.y + 4;
  doc.fontSize(SIZE.info).fillColor(COLOR.muted);
  for (const line of [...meta.details, `${texts.generatedAt} ${generated}`, texts.visibility]) {
    doc.text(cut(line, 400), left, y, { width: pageWidth });
    y = doc.y + 1;
  }
  if (note) {
    doc.fillColor(COLOR.warn).text(note, left, y, { width: pageWidth });
    y = doc.y + 1;
  }
  y = headerRow(y + 6);

  let written = 0;
  for await (const row of options.rows) {
    written += 1;
    const cells = columns.map((column) => {
      const lines = cellLines(column, row, written, meta);
      const width = column.width - 2 * PAD;
      // Most cells hold one short line: measuring its width (cached per word) is far cheaper than
      // wrapping it, and a line that fits is drawn without the line wrapper.
      const fits = lines.map((line) => doc.fontSize(line.size).widthOfString(line.text) <= width);
      const heights = lines.map((line, i) => {
        doc.fontSize(line.size);
        return fits[i] ? doc.currentLineHeight(true) : doc.heightOfString(line.text, { width });
      });
      return { column, lines, fits, heights, height: heights.reduce((sum, h) => sum + h, 0) };
    });
    const specs = specsOf(row, options.attributes, meta.lang)
      .map((spec) => `${spec.name} ${spec.value}`)
      .join(' · ');
    const specText = cut(specs, MAX_SPEC_CHARS);
    const specX = left + columns[0]!.width + PAD;
    const specWidth = pageWidth - columns[0]!.width - 2 * PAD;
    doc.fontSize(SIZE.small);
    const specHeight = specText ? doc.heightOfString(specText, { width: specWidth }) + 2 : 0;
    const height = Math.max(...cells.map((cell) => cell.height)) + specHeight + 2 * PAD;

    if (y + height > bottom) {
      newPage();
      y = headerRow(y);
    }
    if (written % 2 === 0) doc.rect(left, y, pageWidth, height).fill('#F7F9FC');
    let x = left;
    for (const cell of cells) {
      let cellY = y + PAD;
      cell.lines.forEach((line, i) => {
        const link = cell.column.key === 'product' && i === 0 ? options.productUrl(row) : undefined;
        doc
          .fontSize(line.size)
          .fillColor(line.color)
          .text(line.text, x + PAD, cellY, {
            width: cell.column.width - 2 * PAD,
            lineBreak: !cell.fits[i],
            ...(link ? { link } : {}),
          });
        cellY += cell.heights[i]!;
      });
      x += cell.column.width;
    }
    if (specText) {
      doc
        .fontSize(SIZE.small)
        .fillColor(COLOR.muted)
        .text(specText, specX, y + height - PAD - specHeight + 2, { width: specWidth });
    }
    y += height;
    doc
      .moveTo(left, y)
      .lineTo(left + pageWidth, y)
      .lineWidth(0.4)
      .strokeColor(COLOR.line)
      .stroke();
  }
  if (written === 0) {
    doc
      .fontSize(SIZE.info)
      .fillColor(COLOR.muted)
      .text(meta.lang === 'zh' ? '没有可导出的商品。' : 'Nothing to export.', left, y + 8, {
        width: pageWidth,
      });
  }

  const finished = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
    out.once('close', resolve);
  });
  doc.end();
  await finished;
  return written;
}
