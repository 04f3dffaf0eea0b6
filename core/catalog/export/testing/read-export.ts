import ExcelJS from 'exceljs';

/**
 * Reads exports back the way a person's tools would: PDFs through poppler (the platform's
 * `readPdf`), workbooks through exceljs' reader.
 */
export { readPdf } from '../../../platform/testing/read-pdf.ts';

export interface ReadWorkbook {
  workbook: ExcelJS.Workbook;
  sheet: ExcelJS.Worksheet;
  headers: string[];
  /** Data rows as header → value. */
  rows: Array<Record<string, unknown>>;
}

export async function readXlsx(xlsx: Buffer): Promise<ReadWorkbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(xlsx as unknown as ArrayBuffer);
  const sheet = workbook.worksheets[0]!;
  const headers = (sheet.getRow(1).values as unknown[]).slice(1).map(String);
  const rows: Array<Record<string, unknown>> = [];
  sheet.eachRow((row, number) => {
    if (number === 1) return;
    const values = (row.values as unknown[]).slice(1);
    rows.push(Object.fromEntries(headers.map((header, i) => [header, values[i] ?? null])));
  });
  return { workbook, sheet, headers, rows };
}
