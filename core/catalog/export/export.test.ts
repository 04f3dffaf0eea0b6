import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from '@jest/globals';
import ExcelJS from 'exceljs';
import { loadPdfFont } from '../../platform/documents/pdf-font.ts';
import type { Product } from '../products.ts';
import { exportFilename } from './export.actions.ts';
import { columnPlan, type ExportRow } from './export-columns.ts';
import { maxExportRows } from './export-source.ts';
import { writePdf } from './pdf-export.ts';
import { AT, ATTRIBUTES, product, rowsOf } from './testing/export-fixture.ts';
import { readPdf, readXlsx } from './testing/read-export.ts';
import { type ExportMeta, shanghaiTime, writeXlsx } from './xlsx-export.ts';

// The writers on their own, with rows built in memory: layout, cells, the font, the bounds.

function meta(overrides: Partial<ExportMeta> = {}): ExportMeta {
  return {
    lang: 'zh',
    title: '商品搜索：螺栓',
    details: ['搜索：螺栓'],
    generatedAt: new Date(AT),
    total: 3,
    maxRows: 5000,
    truncated: false,
    ...overrides,
  };
}

const url = (p: Product) => `https://shop.example/products/${p.slug}`;

async function pdfOf(count: number, overrides: Partial<ExportMeta> = {}) {
  const out = new PassThrough();
  const file = buffer(out);
  const written = await writePdf(out, {
    rows: rowsOf(count),
    meta: meta(overrides),
    attributes: ATTRIBUTES,
    listItems: false,
    font: loadPdfFont(),
    productUrl: (row) => url(row.product),
  });
  return { written, ...(await readPdf(await file)) };
}

async function xlsxOf(rows: AsyncIterable<ExportRow>, listItems = false) {
  const out = new PassThrough();
  const file = buffer(out);
  const columns = columnPlan({ lang: 'zh', listItems, attributes: ATTRIBUTES, productUrl: url });
  const written = await writeXlsx(out, columns, rows, meta());
  return { written, ...(await readXlsx(await file)) };
}

describe('PDF', () => {
  it('sets Chinese in the CJK font, so it comes back out of the text layer', async () => {
    const pdf = await pdfOf(3);
    expect(pdf.written).toBe(3);
    expect(pdf.pages).toBe(1);
    for (const text of [
      '商品搜索：螺栓',
      '第1号不锈钢螺栓',
      '第3号不锈钢螺栓',
      '伍尔特',
      '紧固件 / 螺栓',
      '工作温度 -40–150 °C',
    ]) {
      expect(pdf.text).toContain(text);
    }
    expect(pdf.text).toContain('2025-03-01 14:05 (UTC+8)');
    expect(pdf.text).toMatch(/第\s*1\s*页/);
  });

  it('grows page by page with the rows, each page numbered', async () => {
    const [small, medium, large] = [await pdfOf(10), await pdfOf(60), await pdfOf(240)];
    expect(small.pages).toBe(1);
    expect(medium.pages).toBeGreaterThan(small.pages);
    expect(large.pages).toBeGreaterThan(medium.pages * 3);
    expect(large.text).toContain('第240号不锈钢螺栓');
    expect(large.text).toMatch(new RegExp(`第\\s*${large.pages}\\s*页`));
    // The header row repeats on every page.
    expect(large.text.split('SKU 编码').length - 1).toBe(large.pages);
  });

  it('says on every page that the export was cut', async () => {
    const pdf = await pdfOf(60, { truncated: true, total: 9000, maxRows: 60 });
    const notes = pdf.text.split('结果共 9000 条，仅导出前 60 条').length - 1;
    // Under the title, and in every page's footer.
    expect(notes).toBe(pdf.pages + 1);
  });

  it('writes a page saying there is nothing to export', async () => {
    const pdf = await pdfOf(0);
    expect(pdf.pages).toBe(1);
    expect(pdf.text).toContain('没有可导出的商品');
  });
});

describe('XLSX', () => {
  it('keeps numbers as numbers, a range as two columns, text as text and never a formula', async () => {
    const hostile = product(1, {
      nameZh: '=HYPERLINK("http://evil.example","点我")',
      nameEn: 'bell\u0007 and nul\u0000 removed',
    });
    const book = await xlsxOf(
      (async function* () {
        yield { product: hostile };
        yield { product: product(2), item: { sku: product(2).skus[1]!, quantity: 7 } };
      })(),
      true,
    );
    expect(book.headers).toEqual([
      '中文名称',
      '英文名称',
      '型号',
      '品牌',
      '分类',
      'SKU 编码',
      '数量',
      '单位',
      '包装规格',
      '状态',
      '长度 (mm)',
      '工作温度 最小 (°C)',
      '工作温度 最大 (°C)',
      '备注',
      '环保',
      '商品链接',
    ]);
    const [first, second] = book.rows;
    // A product row lists its SKUs' differing variant values; a list item has its SKU's own.
    expect(first).toMatchObject({ 'SKU 编码': 'BOLT-1-30; BOLT-1-40', '长度 (mm)': '30; 40' });
    expect(second).toMatchObject({
      'SKU 编码': 'BOLT-2-40',
      数量: 7,
      '长度 (mm)': 40,
      '工作温度 最小 (°C)': -40,
      '工作温度 最大 (°C)': 150,
      环保: '是',
      包装规格: 100,
    });
    const nameCell = book.sheet.getCell('A2');
    expect(nameCell.type).toBe(ExcelJS.ValueType.String);
    expect(nameCell.value).toBe('=HYPERLINK("http://evil.example","点我")');
    expect(book.sheet.getCell('B2').value).toBe('bell and nul removed');
    expect(book.sheet.getCell('P3').value).toMatchObject({
      hyperlink: 'https://shop.example/products/bolt-2',
    });
  });

  it('freezes the header row, filters it, and describes the export on a second sheet', async () => {
    const book = await xlsxOf(rowsOf(3));
    expect(book.sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(book.sheet.autoFilter).toBe('A1:O1');
    expect(book.sheet.getRow(1).font).toMatchObject({ bold: true });
    expect(book.sheet.getColumn(1).width).toBe(30);
    const about = book.workbook.getWorksheet('导出说明')!;
    const lines: string[] = [];
    about.eachRow((row) => lines.push((row.values as unknown[]).filter(Boolean).join(' ')));
    expect(lines).toEqual(
      expect.arrayContaining(['商品搜索：螺栓', '行数 3', `生成时间 ${shanghaiTime(new Date(AT))}`]),
    );
  });
});

describe('bounds and names', () => {
  it('keeps the row cap within 1–10,000', () => {
    expect(maxExportRows(undefined)).toBe(5000);
    expect(maxExportRows('250')).toBe(250);
    expect(maxExportRows('0')).toBe(1);
    expect(maxExportRows('1000000')).toBe(10_000);
    expect(maxExportRows('lots')).toBe(5000);
  });

  it('makes file names safe to save, Chinese kept', () => {
    expect(exportFilename('常购清单 A/B-2025-03-01', 'xlsx')).toBe('常购清单 A_B-2025-03-01.xlsx');
    expect(exportFilename('a\u0000b:c*?"<>|d\\e', 'pdf')).toBe('a_b_c_d_e.pdf');
    expect(exportFilename('  ', 'pdf')).toBe('export.pdf');
    expect([...exportFilename('长'.repeat(500), 'pdf')]).toHaveLength(104);
  });
});
