import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import {
  csvOf,
  writeBuffer,
  writeXlsx,
  xlsxWithSheet,
} from '../../../core/platform/files/testing/sheet-files.ts';
import { type FileLayout, type FileRecord, formatProblems, parseFile } from './file-layout.ts';

const SHIPMENTS: FileLayout = {
  format: 'csv',
  columns: [
    { name: 'order_no', aliases: ['订单号'], nonEmpty: true },
    { name: 'tracking_no', aliases: ['运单号'], nonEmpty: true },
    { name: 'sku', nonEmpty: true },
    { name: 'shipped_qty', type: 'integer', nonEmpty: true },
    { name: 'weight_kg', type: 'decimal', required: false },
  ],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'file-layout-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let fileCount = 0;
const file = (data: Buffer | string, extension = 'csv') =>
  writeBuffer(path.join(dir, `f${++fileCount}.${extension}`), data);

async function parse(localPath: string, layout: FileLayout = SHIPMENTS, batchSize?: number) {
  const handed: FileRecord[][] = [];
  const result = await parseFile(localPath, layout, async (records) => void handed.push(records), {
    batchSize,
  });
  return { result, handed, records: handed.flat() };
}

describe('a file that fits its layout', () => {
  it('maps reordered and Chinese-alias headers to declared names, GBK detected, CRLF and quoted newlines kept, in batches', async () => {
    const rows = [
      ['运单号', 'sku', '订单号', 'shipped_qty', 'note'],
      ['SF100', 'HB-M8', 'SO-1', '5', '第一箱'],
      ['SF100', 'NUT-M8', 'SO-1', '10', '多行\r\n备注'],
      ['SF200', 'HB-M8', 'SO-2', '1', ''],
    ];
    const withNote: FileLayout = {
      ...SHIPMENTS,
      columns: [...SHIPMENTS.columns, { name: 'note', required: false }],
    };
    const { result, handed, records } = await parse(
      await file(iconv.encode(csvOf(rows), 'gbk')),
      withNote,
      2,
    );
    expect(result).toEqual({ accepted: true, rows: 3, skipped: [] });
    expect(handed.map((batch) => batch.length)).toEqual([2, 1]);
    expect(records[0]).toEqual({
      row: 2,
      values: {
        order_no: 'SO-1',
        tracking_no: 'SF100',
        sku: 'HB-M8',
        shipped_qty: '5',
        weight_kg: '',
        note: '第一箱',
      },
    });
    expect(records[1]!.values.note).toBe('多行\r\n备注');
    expect(records.map((record) => record.values.order_no)).toEqual(['SO-1', 'SO-1', 'SO-2']);
  });

  it('reads UTF-8 with a BOM (the BOM is not part of the first header) and XLSX', async () => {
    const rows = [
      ['order_no', 'tracking_no', 'sku', 'shipped_qty', 'weight_kg'],
      ['SO-1', 'SF100', '螺栓', '5', '1.25'],
    ];
    const bom = await parse(
      await file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csvOf(rows))])),
    );
    expect(bom.records.map((record) => record.values)).toEqual([
      { order_no: 'SO-1', tracking_no: 'SF100', sku: '螺栓', shipped_qty: '5', weight_kg: '1.25' },
    ]);
    const xlsx = path.join(dir, 'ship.xlsx');
    await writeXlsx(xlsx, rows);
    const fromXlsx = await parse(xlsx, { ...SHIPMENTS, format: 'xlsx' });
    expect(fromXlsx.records.map((record) => record.values)).toEqual(
      bom.records.map((record) => record.values),
    );
  });
});

describe('a file that does not fit', () => {
  it('refuses the whole file for one bad row, naming row, column and code; nothing is handed over', async () => {
    const rows = [
      ['order_no', 'tracking_no', 'sku', 'shipped_qty'],
      ['SO-1', 'SF100', 'HB-M8', '5'],
      ['SO-2', '', 'HB-M8', 'five'],
      ['SO-3', 'SF300', 'HB-M8', '1'],
    ];
    const { result, handed } = await parse(await file(csvOf(rows)));
    expect(handed).toEqual([]);
    expect(result.accepted).toBe(false);
    if (result.accepted) return;
    expect(result.problems.map((p) => [p.row, p.column, p.code])).toEqual([
      [3, 2, 'missing-value'],
      [3, 4, 'not-an-integer'],
    ]);
    const report = formatProblems('SHIPCONF_WMS01_20240510180000_000045.csv', result.problems);
    expect(report).toContain('3;tracking_no;missing-value;');
    expect(report).toContain('nothing of it was imported');
  });

  it('with rowErrors skip-row, hands over the good rows and reports the skipped ones', async () => {
    const rows = [
      ['order_no', 'tracking_no', 'sku', 'shipped_qty'],
      ['SO-1', 'SF100', 'HB-M8', '5'],
      ['SO-2', 'SF200', 'HB-M8', '-x'],
      ['SO-3', 'SF300', 'HB-M8', '1'],
    ];
    const { result, records } = await parse(await file(csvOf(rows)), { ...SHIPMENTS, rowErrors: 'skip-row' });
    expect(records.map((record) => record.row)).toEqual([2, 4]);
    expect(result).toMatchObject({ accepted: true, rows: 2, skipped: [{ row: 3, code: 'not-an-integer' }] });
  });

  it('refuses a header without a required column, an unknown column when the layout says so, and an empty file', async () => {
    const missing = await parse(
      await file(
        csvOf([
          ['order_no', 'sku', 'shipped_qty'],
          ['SO-1', 'A', '1'],
        ]),
      ),
    );
    expect(missing.result).toMatchObject({
      accepted: false,
      problems: [{ code: 'missing-column', columnName: 'tracking_no' }],
    });
    const extra = await parse(
      await file(
        csvOf([
          ['order_no', 'tracking_no', 'sku', 'shipped_qty', 'x'],
          ['SO-1', 'T', 'A', '1', 'y'],
        ]),
      ),
      {
        ...SHIPMENTS,
        unknownColumns: 'reject',
      },
    );
    expect(extra.result).toMatchObject({
      accepted: false,
      problems: [{ code: 'unknown-column', column: 5 }],
    });
    const empty = await parse(await file(''));
    expect(empty.result).toMatchObject({ accepted: false, problems: [{ code: 'empty-file' }] });
  });

  it('refuses hostile files without reading them whole: overlong line, too many rows, zip bomb, billion laughs, XXE', async () => {
    const header = ['order_no', 'tracking_no', 'sku', 'shipped_qty'];
    const longLine = await parse(await file(`${header.join(',')}\r\nSO-1,${'x'.repeat(200_000)},A,1\r\n`));
    expect(longLine.result).toMatchObject({ accepted: false, problems: [{ code: 'line-too-long', row: 2 }] });

    const many = csvOf([header, ...Array.from({ length: 30 }, (_, i) => [`SO-${i}`, 'T', 'A', '1'])]);
    const tooMany = await parse(await file(many), { ...SHIPMENTS, limits: { maxRows: 20 } });
    expect(tooMany.result).toMatchObject({ accepted: false, problems: [{ code: 'too-many-rows' }] });
    expect(tooMany.handed).toEqual([]);

    const bomb = xlsxWithSheet('<worksheet/>', undefined, [
      { name: 'xl/media/zeros.bin', data: Buffer.alloc(50 * 1024 * 1024) },
    ]);
    const zipBomb = await parse(await file(bomb, 'xlsx'), { ...SHIPMENTS, format: 'xlsx' });
    expect(zipBomb.result).toMatchObject({ accepted: false, problems: [{ code: 'zip-refused' }] });

    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>`;
    const billion = await parse(await file(xlsxWithSheet(laughs), 'xlsx'), { ...SHIPMENTS, format: 'xlsx' });
    expect(billion.result).toMatchObject({ accepted: false, problems: [{ code: 'malformed-xlsx' }] });

    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>`;
    const external = await parse(await file(xlsxWithSheet(xxe), 'xlsx'), { ...SHIPMENTS, format: 'xlsx' });
    expect(external.result).toMatchObject({ accepted: false, problems: [{ code: 'malformed-xlsx' }] });
    expect(JSON.stringify(external.result)).not.toContain('root:');
  });
});
