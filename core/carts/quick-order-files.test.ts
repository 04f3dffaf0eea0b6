import { describe, expect, it } from '@jest/globals';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { rowsOfFile } from './quick-order-files.ts';
import { zipBytes } from './testing/zip-bytes.ts';

/** Quick-order files as buyers' tools write them, and as an attacker would. Real bytes, no mocks. */

const cells = (rows: Awaited<ReturnType<typeof rowsOfFile>>) => rows.map((r) => [r.row, ...r.cells]);

async function workbook(fill: (sheet: ExcelJS.Worksheet) => void): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  fill(book.addWorksheet('订单'));
  return Buffer.from(await book.xlsx.writeBuffer());
}

describe('CSV', () => {
  it('reads GBK as Excel on a Chinese Windows saves it', async () => {
    const bytes = iconv.encode(
      '物料编码,数量,备注\r\nDIN933-M8,20,螺栓\r\nDIN934-M8,"1,500",螺母\r\n',
      'gbk',
    );
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
    expect(cells(await rowsOfFile(bytes))).toEqual([
      [1, '物料编码', '数量', '备注'],
      [2, 'DIN933-M8', '20', '螺栓'],
      [3, 'DIN934-M8', '1,500', '螺母'],
    ]);
  });

  it('reads UTF-8 with a byte order mark, UTF-16 and semicolon-separated files', async () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('SKU,数量\nA-1,5\n')]);
    expect(cells(await rowsOfFile(bom))).toEqual([
      [1, 'SKU', '数量'],
      [2, 'A-1', '5'],
    ]);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('SKU\tQty\nB-2\t6\n', 'utf-16le')]);
    expect(cells(await rowsOfFile(utf16))).toEqual([
      [1, 'SKU', 'Qty'],
      [2, 'B-2', '6'],
    ]);
    expect(cells(await rowsOfFile(Buffer.from('SKU;Qty\nC-3;7\n')))).toEqual([
      [1, 'SKU', 'Qty'],
      [2, 'C-3', '7'],
    ]);
  });

  it('counts lines as the buyer sees them: quoted line breaks stay in their cell', async () => {
    const rows = await rowsOfFile(Buffer.from('A-1,1\n"B\n2",2\n\nC-3,3\n'));
    expect(cells(rows)).toEqual([
      [1, 'A-1', '1'],
      [3, 'B\n2', '2'],
      [4, ''],
      [5, 'C-3', '3'],
    ]);
  });

  it('refuses a record longer than its bound instead of reading on', async () => {
    const long = Buffer.from(`A-1,"${'x'.repeat(20_000)}"\n`);
    await expect(rowsOfFile(long)).rejects.toMatchObject({ code: 422, type: 'unreadable-file' });
  });
});

describe('XLSX', () => {
  it('reads the first worksheet: text, numbers, formulas by their result, rich text', async () => {
    const bytes = await workbook((sheet) => {
      sheet.addRow(['物料编码', '数量']);
      sheet.addRow(['DIN933-M8', 20]);
      sheet.addRow([]);
      sheet.addRow([
        { richText: [{ text: 'DIN' }, { text: '934-M8', font: { bold: true } }] },
        { formula: '3*5', result: 15 },
      ]);
      sheet.addRow(['螺栓-中文-编码', 7]);
    });
    expect(cells(await rowsOfFile(bytes))).toEqual([
      [1, '物料编码', '数量'],
      [2, 'DIN933-M8', '20'],
      [4, 'DIN934-M8', '15'],
      [5, '螺栓-中文-编码', '7'],
    ]);
  });

  it('stops collecting past a header and 500 rows (the order is refused later as a whole)', async () => {
    const bytes = await workbook((sheet) => {
      for (let i = 0; i < 2000; i++) sheet.addRow([`S-${i}`, 1]);
    });
    const rows = await rowsOfFile(bytes);
    expect(rows.length).toBe(502);
  });

  it('refuses an archive that inflates past its bound (a zip bomb), before exceljs opens it', async () => {
    const bomb = zipBytes([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(30 * 1024 * 1024, 0x20) },
    ]);
    expect(bomb.length).toBeLessThan(100 * 1024);
    await expect(rowsOfFile(bomb)).rejects.toMatchObject({
      code: 422,
      type: 'unreadable-file',
      message: expect.stringContaining('once unpacked'),
    });
  });

  it('refuses an archive whose headers lie about the inflated size', async () => {
    // 3 MiB is within the bound: what fails is the lie itself, caught as the entry inflates.
    const liar = zipBytes([
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(3 * 1024 * 1024, 0x20), declaredSize: 100 },
    ]);
    await expect(rowsOfFile(liar)).rejects.toMatchObject({
      code: 422,
      type: 'unreadable-file',
      message: expect.stringContaining('too many bytes'),
    });
  });

  it('refuses encrypted entries, archives of too many parts, and ZIPs that are no workbook', async () => {
    const encrypted = zipBytes([{ name: 'a.xml', data: Buffer.from('<a/>'), encrypted: true }]);
    await expect(rowsOfFile(encrypted)).rejects.toMatchObject({
      message: expect.stringContaining('encrypted'),
    });
    const many = zipBytes(
      Array.from({ length: 201 }, (_, i) => ({ name: `p${i}.xml`, data: Buffer.from('<a/>') })),
    );
    await expect(rowsOfFile(many)).rejects.toMatchObject({ message: expect.stringContaining('200 parts') });
    const notAWorkbook = zipBytes([{ name: 'readme.txt', data: Buffer.from('hello') }]);
    await expect(rowsOfFile(notAWorkbook)).rejects.toMatchObject({ code: 422, type: 'unreadable-file' });
    const truncated = (await workbook((sheet) => sheet.addRow(['A-1', 1]))).subarray(0, 200);
    await expect(rowsOfFile(truncated)).rejects.toMatchObject({ code: 422, type: 'unreadable-file' });
  });

  it('tells the buyer to save an Excel 97-2003 file as XLSX or CSV', async () => {
    const ole = Buffer.concat([
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
      Buffer.alloc(504),
    ]);
    await expect(rowsOfFile(ole)).rejects.toMatchObject({ message: expect.stringContaining('.xls') });
  });
});
