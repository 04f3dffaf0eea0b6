import { describe, expect, it } from '@jest/globals';
import { readPdf } from '../testing/read-pdf.ts';
import {
  createPdfDocument,
  drawTable,
  formatMinor,
  formatMoney,
  pdfBytes,
  shanghaiDateTime,
} from './pdf-document.ts';
import { loadPdfFont, NO_PDF_DETAIL, PdfFontUnavailable, pdfFontLocation } from './pdf-font.ts';

describe('the PDF font', () => {
  it('reads HUB_PDF_FONT as a file and an optional face', () => {
    expect(pdfFontLocation('/fonts/a.ttc#NotoSansCJKsc-Regular')).toEqual({
      path: '/fonts/a.ttc',
      face: 'NotoSansCJKsc-Regular',
    });
    expect(pdfFontLocation('/fonts/a.ttf')).toEqual({ path: '/fonts/a.ttf', face: undefined });
    expect(pdfFontLocation(undefined, () => false)).toBeUndefined();
    expect(pdfFontLocation(undefined, (path) => path.includes('noto'))).toMatchObject({
      face: 'NotoSansCJKsc-Regular',
    });
  });

  it('refuses a missing file, a face not in the collection and a file that is no font: 503 for the client, the setting named for the operator', () => {
    const refusal = (setting: string, detail?: string) => {
      try {
        loadPdfFont(setting, detail ? { unavailableDetail: detail } : {});
      } catch (error) {
        return error as PdfFontUnavailable;
      }
      throw new Error(`${setting} was accepted`);
    };
    const missing = refusal('/nowhere/font.ttf');
    expect(missing).toBeInstanceOf(PdfFontUnavailable);
    expect(missing.code).toBe(503);
    expect(missing.type).toBe('service-unavailable');
    expect(missing.message).toBe(NO_PDF_DETAIL);
    expect(missing.reason).toContain('HUB_PDF_FONT names /nowhere/font.ttf, which does not exist: install');
    expect(refusal('/nowhere/font.ttf', 'PDF export is not available; XLSX is').message).toBe(
      'PDF export is not available; XLSX is',
    );
    expect(refusal(`${loadPdfFont().source}#NoSuchFace`).reason).toContain(
      '#NoSuchFace is not a usable font',
    );
    expect(refusal(`${process.cwd()}/package.json`).reason).toContain('package.json is not a usable font');
  });
});

describe('printable documents', () => {
  it('sets Chinese text and a table that repeats its header on every page it runs over', async () => {
    const doc = createPdfDocument({ font: loadPdfFont(), title: '销售订单', creator: 'test' });
    doc.fontSize(16).text('销售订单 SO-0001');
    const rows = Array.from({ length: 120 }, (_, i) => [
      String(i + 1),
      `不锈钢六角螺栓 第${i + 1}号`,
      formatMinor(BigInt(i) * 100_005n),
    ]);
    drawTable(
      doc,
      [
        { header: '序号', width: 40 },
        { header: '品名', width: 0 },
        { header: '金额', width: 90, align: 'right' },
      ],
      rows,
    );
    doc.text('合计 完');
    const pdf = await readPdf(await pdfBytes(doc));
    expect(pdf.pages).toBeGreaterThan(1);
    expect(pdf.text).toContain('销售订单 SO-0001');
    expect(pdf.text).toContain('不锈钢六角螺栓 第1号');
    expect(pdf.text).toContain('不锈钢六角螺栓 第120号');
    expect(pdf.text).toMatch(/不锈钢六角螺栓 第120号\s+119,005.95/);
    // The header row opens every page.
    expect(pdf.text.match(/序号\s+品名\s+金额/g)?.length).toBe(pdf.pages);
    expect(pdf.text.trimEnd().endsWith('合计 完')).toBe(true);
  });

  it('formats minor units exactly, with grouping and the currency’s digits', () => {
    expect(formatMinor(0n)).toBe('0.00');
    expect(formatMinor(5n)).toBe('0.05');
    expect(formatMinor(-5n)).toBe('-0.05');
    expect(formatMinor('123456789012345678')).toBe('1,234,567,890,123,456.78');
    expect(formatMinor(100000n)).toBe('1,000.00');
    expect(formatMoney({ amountMinor: '1234567', currency: 'CNY' })).toBe('12,345.67 CNY');
    expect(formatMoney({ amountMinor: '1234567', currency: 'JPY' })).toBe('1,234,567 JPY');
    expect(shanghaiDateTime('2025-03-01T16:05:00.000Z')).toBe('2025-03-02 00:05');
  });
});
