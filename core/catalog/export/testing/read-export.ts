import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';

const run = promisify(execFile);

/**
 * Reads exports back the way a person's tools would: PDFs through poppler (`pdftotext`,
 * `pdfinfo`, Debian's poppler-utils, installed by .ci/run), workbooks through exceljs' reader.
 */
export async function readPdf(pdf: Buffer): Promise<{ text: string; pages: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hub-export-'));
  try {
    const file = path.join(dir, 'export.pdf');
    await writeFile(file, pdf);
    const [{ stdout: text }, { stdout: info }] = await Promise.all([
      run('pdftotext', ['-enc', 'UTF-8', '-layout', file, '-'], { maxBuffer: 64 * 1024 * 1024 }),
      run('pdfinfo', [file]),
    ]);
    const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
    return { text, pages };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

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
