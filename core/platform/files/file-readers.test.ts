import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { type CsvEncoding, detectEncoding, readCsvRows, type SheetRow } from './csv-rows.ts';
import { type FileLimits, FileRefusedError } from './file-limits.ts';
import { csvOf, writeBuffer, writeXlsx, xlsxWithSheet, zipOf } from './testing/sheet-files.ts';
import { readXlsxRows } from './xlsx-rows.ts';

const LIMITS: FileLimits = {
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

const dir = mkdtempSync(path.join(tmpdir(), 'file-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function all(rows: AsyncIterable<SheetRow>): Promise<SheetRow[]> {
  const out: SheetRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

function csvRows(bytes: Buffer, encoding?: CsvEncoding, limits: Partial<FileLimits> = {}) {
  // Small chunks, so multi-byte characters straddle chunk boundaries.
  const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) =>
    bytes.subarray(i * 7, i * 7 + 7),
  );
  return all(
    readCsvRows(Readable.from(chunks), {
      ...(encoding ? { encoding } : {}),
      limits: { ...LIMITS, ...limits },
    }),
  );
}

async function refusal(promise: Promise<unknown>): Promise<FileRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FileRefusedError);
  return error as FileRefusedError;
}

const TABLE = [
  ['slug', '名称', 'nameEn', 'SKU编码', 'attr:length'],
  ['hex-bolt-m8', 'M8不锈钢六角螺栓', 'Hex bolt M8, "A2"', 'HB-M8-100', '30 mm'],
  ['hex-bolt-m8', 'M8不锈钢六角螺栓', 'Hex bolt M8, "A2"', 'HB-M8-500', ''],
  ['', '', '', '', ''],
  ['nut-m8', '螺母\n多行', 'Nut', 'NUT-M8', '8'],
];

describe('CSV rows', () => {
  it('reads UTF-8 with a BOM: Chinese intact, quotes and line breaks inside cells, empty rows skipped', async () => {
    const rows = await csvRows(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csvOf(TABLE))]));
    expect(rows.map((r) => r.row)).toEqual([1, 2, 3, 5]);
    expect(rows[0]!.cells[0]).toBe('slug'); // the BOM is not part of the first header
    expect(rows[1]!.cells).toEqual(TABLE[1]);
    expect(rows[2]!.cells).toEqual(TABLE[2]!.slice(0, 4)); // trailing empty cells dropped
    expect(rows[3]!.cells[1]).toBe('螺母\n多行');
  });

  it('detects GBK (GB18030) without being told, and UTF-8 without a BOM', async () => {
    const gbk = await csvRows(iconv.encode(csvOf(TABLE), 'gbk'));
    expect(gbk[1]!.cells[1]).toBe('M8不锈钢六角螺栓');
    expect(gbk[3]!.cells[1]).toBe('螺母\n多行');
    const utf8 = await csvRows(Buffer.from(csvOf(TABLE)));
    expect(utf8[1]!.cells[1]).toBe('M8不锈钢六角螺栓');
    expect(detectEncoding(iconv.encode('名称,型号\r\n', 'gbk'), true)).toBe('gb18030');
    expect(detectEncoding(Buffer.from('名称,型号\r\n'), true)).toBe('utf-8');
  });

  it('takes an explicit encoding, and UTF-16 with its BOM; semicolons and tabs as delimiters', async () => {
    const explicit = await csvRows(iconv.encode(csvOf(TABLE), 'gb18030'), 'gb18030');
    expect(explicit[1]!.cells[1]).toBe('M8不锈钢六角螺栓');
    const utf16 = await csvRows(iconv.encode(`\uFEFF${csvOf(TABLE, '\t')}`, 'utf-16le'));
    expect(utf16[1]!.cells).toEqual(TABLE[1]);
    const semicolons = await csvRows(Buffer.from(csvOf(TABLE, ';')));
    expect(semicolons[1]!.cells).toEqual(TABLE[1]);
    // A declared delimiter wins over the header's majority (a header of one column has none).
    const declared = await all(
      readCsvRows(Readable.from([Buffer.from('note\r\na;b,c;d\r\n')]), { delimiter: ',', limits: LIMITS }),
    );
    expect(declared[1]!.cells).toEqual(['a;b', 'c;d']);
  });

  it('refuses, naming the row: too many rows, a too-long cell, too many columns, a too-long line, an open quote', async () => {
    const many = csvOf([['slug'], ...Array.from({ length: 11 }, (_, i) => [`p-${i}`])]);
    expect((await refusal(csvRows(Buffer.from(many), undefined, { maxRows: 10 }))).code).toBe(
      'too-many-rows',
    );
    const long = await refusal(
      csvRows(Buffer.from(csvOf([['slug'], ['x'.repeat(101)]])), undefined, { maxCellChars: 100 }),
    );
    expect([long.code, long.row, long.column]).toEqual(['cell-too-long', 2, 1]);
    const wide = await refusal(
      csvRows(Buffer.from(csvOf([Array.from({ length: 6 }, () => 'a')])), undefined, { maxColumns: 5 }),
    );
    expect(wide.code).toBe('too-many-columns');
    const line = await refusal(
      csvRows(Buffer.from(csvOf([['a'], ['b'.repeat(500)]])), undefined, { maxLineChars: 100 }),
    );
    expect(line.code).toBe('line-too-long');
    const open = await refusal(csvRows(Buffer.from('slug,name\r\n"unterminated,x\r\n')));
    expect(open.code).toBe('malformed-csv');
    const big = await refusal(
      csvRows(
        Buffer.from(csvOf([['slug'], ...Array.from({ length: 100 }, () => ['x'.repeat(50)])])),
        undefined,
        { maxFileBytes: 1000 },
      ),
    );
    expect(big.code).toBe('file-too-large');
  });
});

describe('XLSX rows', () => {
  it('reads a workbook written with shared strings: Chinese intact across inflate chunks, numbers as written', async () => {
    const file = path.join(dir, 'shared.xlsx');
    const rows = [
      ['slug', '名称', 'skuCode', 'attr:length', 'isPublic'],
      ...Array.from({ length: 3000 }, (_, i) => [
        `p-${i}`,
        `M${i}不锈钢六角螺栓（A2）`,
        `SKU-${i}`,
        12.5 + i,
        i % 2 === 0,
      ]),
    ];
    await writeXlsx(file, rows);
    const read = await all(readXlsxRows(file, LIMITS));
    expect(read).toHaveLength(3001);
    expect(read[0]).toEqual({ row: 1, cells: ['slug', '名称', 'skuCode', 'attr:length', 'isPublic'] });
    expect(read[1]).toEqual({ row: 2, cells: ['p-0', 'M0不锈钢六角螺栓（A2）', 'SKU-0', '12.5', 'true'] });
    expect(read.every((row, i) => i === 0 || row.cells[1] === `M${i - 1}不锈钢六角螺栓（A2）`)).toBe(true);
    expect(read.some((row) => row.cells.some((cell) => cell.includes('\uFFFD')))).toBe(false);
  });

  it('reads inline strings, rich text without phonetic runs, sparse cells and formula results', async () => {
    const sheet = `<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>slug</t></is></c><c r="C1" t="s"><v>0</v></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><r><t>hex</t></r><r><t xml:space="preserve">-bolt</t></r><rPh><t>ヘックス</t></rPh></is></c><c r="B3" t="str"><f>A3</f><v>calc &amp; result</v></c><c r="C3" t="b"><v>1</v></c></row>
</sheetData></worksheet>`;
    const strings = `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><r><t>名</t></r><r><t>称</t></r></si></sst>`;
    const file = await writeBuffer(path.join(dir, 'hand.xlsx'), xlsxWithSheet(sheet, strings));
    expect(await all(readXlsxRows(file, LIMITS))).toEqual([
      { row: 1, cells: ['slug', '', '名称'] },
      { row: 3, cells: ['hex-bolt', 'calc & result', 'true'] },
    ]);
  });

  it('refuses a zip bomb from its central directory before inflating anything', async () => {
    const bomb = xlsxWithSheet('<worksheet/>', undefined, [
      { name: 'xl/media/zeros.bin', data: Buffer.alloc(50 * 1024 * 1024) },
    ]);
    expect(bomb.length).toBeLessThan(200 * 1024);
    const file = await writeBuffer(path.join(dir, 'bomb.xlsx'), bomb);
    const error = await refusal(all(readXlsxRows(file, LIMITS)));
    expect(error.code).toBe('zip-refused');
    expect(error.message).toMatch(/zip bomb/);
    const total = await refusal(
      all(
        readXlsxRows(file, {
          ...LIMITS,
          maxCompressionRatio: 10_000,
          maxUnzippedBytes: 10 * 1024 * 1024,
        }),
      ),
    );
    expect(total.message).toMatch(/unpacks to more than/);
  });

  it('refuses an entry that inflates to more than its declared size', async () => {
    const sheet = `<worksheet><sheetData>${'<row><c t="inlineStr"><is><t>x</t></is></c></row>'.repeat(2000)}</sheetData></worksheet>`;
    const liar = zipOf([
      { name: 'xl/workbook.xml', data: '<workbook><sheets><sheet name="a"/></sheets></workbook>' },
      { name: 'xl/worksheets/sheet1.xml', data: sheet, declaredSize: 100 },
    ]);
    const file = await writeBuffer(path.join(dir, 'liar.xlsx'), liar);
    expect((await refusal(all(readXlsxRows(file, LIMITS)))).code).toBe('malformed-xlsx');
  });

  it('refuses a sheet with a DTD (billion laughs) without expanding an entity', async () => {
    const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol9 "&lol3;&lol3;&lol3;">]>
<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>`;
    const file = await writeBuffer(path.join(dir, 'laughs.xlsx'), xlsxWithSheet(laughs));
    const error = await refusal(all(readXlsxRows(file, LIMITS)));
    expect(error.code).toBe('malformed-xlsx');
    expect(error.message).toMatch(/DTD/);
    const external = `<?xml version="1.0"?><worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>`;
    const file2 = await writeBuffer(path.join(dir, 'xxe.xlsx'), xlsxWithSheet(external));
    expect((await refusal(all(readXlsxRows(file2, LIMITS)))).code).toBe('malformed-xlsx');
  });

  it('refuses a file that is not a ZIP, a ZIP that is not a workbook, and too many rows or columns', async () => {
    const csv = await writeBuffer(path.join(dir, 'fake.xlsx'), csvOf(TABLE));
    expect((await refusal(all(readXlsxRows(csv, LIMITS)))).code).toBe('not-xlsx');
    const other = await writeBuffer(
      path.join(dir, 'other.xlsx'),
      zipOf([{ name: 'readme.txt', data: 'hello' }]),
    );
    expect((await refusal(all(readXlsxRows(other, LIMITS)))).code).toBe('not-xlsx');
    const rows = `<worksheet><sheetData>${Array.from({ length: 12 }, (_, i) => `<row r="${i + 1}"><c r="A${i + 1}"><v>${i}</v></c></row>`).join('')}</sheetData></worksheet>`;
    const tall = await writeBuffer(path.join(dir, 'tall.xlsx'), xlsxWithSheet(rows));
    const error = await refusal(all(readXlsxRows(tall, { ...LIMITS, maxRows: 10 })));
    expect([error.code, error.row]).toEqual(['too-many-rows', 12]);
    const wide = await writeBuffer(
      path.join(dir, 'wide.xlsx'),
      xlsxWithSheet('<worksheet><sheetData><row r="1"><c r="ZZ1"><v>1</v></c></row></sheetData></worksheet>'),
    );
    expect((await refusal(all(readXlsxRows(wide, LIMITS)))).code).toBe('too-many-columns');
    writeFileSync(path.join(dir, 'empty.xlsx'), '');
    expect((await refusal(all(readXlsxRows(path.join(dir, 'empty.xlsx'), LIMITS)))).code).toBe('not-xlsx');
  });
});
