import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { applyMigrations } from '../../../core/platform/database/migrations.ts';
import { csvOf, xlsxWithSheet } from '../../../core/platform/files/testing/sheet-files.ts';
import { createTestDatabase, type TestDatabase } from '../../../core/platform/testing/test-servers.ts';
import { type FileIntakeSource, type IntakeHandler, pollFolder } from './file-intake.ts';
import type { FileLayout } from './file-layout.ts';
import { fileIntakeMigrations, type ImportedFile, PgImportedFileStore } from './imported-file-store.ts';
import { SftpTransport } from './sftp-transport.ts';
import { startTestSftpServer, type TestSftpServer } from './testing/sftp-server.ts';

const LAYOUT: FileLayout = {
  format: 'csv',
  columns: [
    { name: 'order_no', nonEmpty: true },
    { name: 'shipment_no', nonEmpty: true },
    { name: 'tracking_no', nonEmpty: true },
    { name: 'line_no', type: 'integer', nonEmpty: true },
    { name: 'sku', nonEmpty: true },
    { name: 'shipped_qty', type: 'integer', nonEmpty: true },
  ],
};
const HEADER = ['order_no', 'shipment_no', 'tracking_no', 'line_no', 'sku', 'shipped_qty'];

let server: TestSftpServer;
let database: TestDatabase;
let store: PgImportedFileStore;
let sftp: SftpTransport;
let folderCount = 0;

beforeAll(async () => {
  [server, database] = await Promise.all([startTestSftpServer(), createTestDatabase()]);
  await applyMigrations(database.db, [fileIntakeMigrations]);
  await database.db.query(`CREATE TABLE shipped_lines (
    shipment_no text, line_no integer, sku text, qty integer, PRIMARY KEY (shipment_no, line_no))`);
  store = new PgImportedFileStore(database.db);
  sftp = await SftpTransport.connect({
    host: server.host,
    port: server.port,
    username: server.username,
    privateKey: server.privateKey,
    hostKeyFingerprint: server.hostKeyFingerprint,
  });
}, 60_000);

afterAll(async () => {
  await sftp?.end();
  await server?.stop();
  await database?.drop();
});

/** A folder of its own per test, and a connection id of its own (the dedupe scope). */
function source(overrides: Partial<FileIntakeSource> = {}): FileIntakeSource {
  folderCount++;
  return {
    connection: `wms-${folderCount}`,
    directory: `/outbound/shipments${folderCount}`,
    convention: { kind: 'rename' },
    layout: LAYOUT,
    accept: /^SHIPCONF_.*\.csv$/,
    ...overrides,
  };
}

/** The sync engine's part, for real: an idempotent upsert per line, in one transaction per batch. */
const upsertLines: IntakeHandler = async (_file, records) => {
  await database.db.transaction(async (tx) => {
    for (const { values } of records) {
      await tx.query(
        `INSERT INTO shipped_lines VALUES ($1, $2, $3, $4)
         ON CONFLICT (shipment_no, line_no) DO UPDATE SET sku = EXCLUDED.sku, qty = EXCLUDED.qty`,
        [values.shipment_no, Number(values.line_no), values.sku, Number(values.shipped_qty)],
      );
    }
  });
};

function counting(handler: IntakeHandler): IntakeHandler & { calls: number } {
  const counted = Object.assign(
    async (...args: Parameters<IntakeHandler>) => {
      counted.calls++;
      await handler(...args);
    },
    { calls: 0 },
  );
  return counted;
}

async function linesOf(shipment: string): Promise<Array<[number, string, number]>> {
  const { rows } = await database.db.query<{ line_no: number; sku: string; qty: number }>(
    'SELECT line_no, sku, qty FROM shipped_lines WHERE shipment_no = $1 ORDER BY line_no',
    [shipment],
  );
  return rows.map((row) => [row.line_no, row.sku, row.qty]);
}

const names = async (remoteDir: string) => (await readdir(server.localPath(remoteDir))).sort();
const day = new Date('2024-05-10T18:00:00Z');

describe('file intake', () => {
  it('imports a complete file (UTF-8 BOM, CRLF), records its content, archives it, and leaves temp and foreign files alone', async () => {
    const folder = source();
    const content = `\uFEFF${csvOf([
      HEADER,
      ['SO-1', 'SH-1', 'SF100', '1', 'HB-M8', '5'],
      ['SO-1', 'SH-1', 'SF100', '2', 'NUT-M8', '10'],
    ])}`;
    await server.write(`${folder.directory}/SHIPCONF_WMS01_20240510180000_000045.csv`, content);
    await server.writePartial(
      `${folder.directory}/SHIPCONF_WMS01_20240510181000_000046.csv.part`,
      content,
      30,
    );
    await server.write(`${folder.directory}/README.txt`, 'not ours');

    const result = await pollFolder(sftp, folder, store, upsertLines, { now: () => day });
    expect(result.imported.map((file) => [file.name, file.rows])).toEqual([
      ['SHIPCONF_WMS01_20240510180000_000045.csv', 2],
    ]);
    expect(result.rejected).toEqual([]);
    expect(await linesOf('SH-1')).toEqual([
      [1, 'HB-M8', 5],
      [2, 'NUT-M8', 10],
    ]);
    expect(await store.find(folder.connection, result.imported[0]!.sha256)).toMatchObject({
      fileName: 'SHIPCONF_WMS01_20240510180000_000045.csv',
      rows: 2,
    });
    expect(await names(folder.directory)).toEqual([
      'README.txt',
      'SHIPCONF_WMS01_20240510181000_000046.csv.part',
      'archive',
    ]);
    expect(await names(`${folder.directory}/archive/20240510`)).toEqual([
      'SHIPCONF_WMS01_20240510180000_000045.csv',
    ]);
  });

  it('never imports the same content twice, even resent under another name, and only after a .done marker', async () => {
    const folder = source({ convention: { kind: 'marker' } });
    const content = iconv.encode(csvOf([HEADER, ['SO-2', 'SH-2', 'SF200', '1', '螺栓', '3']]), 'gbk');
    await server.write(`${folder.directory}/SHIPCONF_WMS01_20240510190000_000050.csv`, content);
    const handler = counting(upsertLines);

    const unmarked = await pollFolder(sftp, folder, store, handler, { now: () => day });
    expect([unmarked.imported, handler.calls]).toEqual([[], 0]);

    await server.write(`${folder.directory}/SHIPCONF_WMS01_20240510190000_000050.csv.done`, '');
    const first = await pollFolder(sftp, folder, store, handler, { now: () => day });
    expect(first.imported).toHaveLength(1);
    expect(await linesOf('SH-2')).toEqual([[1, '螺栓', 3]]);

    await server.write(`${folder.directory}/SHIPCONF_WMS01_20240510200000_000051.csv`, content);
    await server.write(`${folder.directory}/SHIPCONF_WMS01_20240510200000_000051.csv.done`, '');
    const resent = await pollFolder(sftp, folder, store, handler, { now: () => day });
    expect(resent.imported).toEqual([]);
    expect(resent.duplicates).toEqual([
      {
        name: 'SHIPCONF_WMS01_20240510200000_000051.csv',
        sha256: first.imported[0]!.sha256,
        importedAs: 'SHIPCONF_WMS01_20240510190000_000050.csv',
      },
    ]);
    expect(handler.calls).toBe(1);
    expect(await names(`${folder.directory}/archive/20240510`)).toHaveLength(4); // both files, both markers
    expect(await names(folder.directory)).toEqual(['archive']);
  });

  it('refuses a malformed or hostile file as a whole: error/ with a .err report, nothing handed over or recorded', async () => {
    const folder = source({ accept: /^SHIPCONF_.*\.csv$/ });
    await server.write(
      `${folder.directory}/SHIPCONF_A.csv`,
      csvOf([
        HEADER,
        ['SO-3', 'SH-3', 'SF300', '1', 'HB-M8', '5'],
        ['SO-3', 'SH-3', 'SF300', '2', 'NUT-M8', 'ten'],
      ]),
    );
    const laughs = `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>`;
    await server.write(`${folder.directory}/SHIPCONF_B.xlsx`, xlsxWithSheet(laughs));
    const handler = counting(upsertLines);

    const csv = await pollFolder(sftp, folder, store, handler, { now: () => day });
    const xlsx = await pollFolder(
      sftp,
      { ...folder, accept: /\.xlsx$/, layout: { ...LAYOUT, format: 'xlsx' } },
      store,
      handler,
    );
    expect(
      csv.rejected.map((file) => [file.name, file.problems.map((p) => [p.row, p.column, p.code])]),
    ).toEqual([['SHIPCONF_A.csv', [[3, 6, 'not-an-integer']]]]);
    expect(xlsx.rejected.map((file) => [file.name, file.problems[0]!.code])).toEqual([
      ['SHIPCONF_B.xlsx', 'malformed-xlsx'],
    ]);
    expect(handler.calls).toBe(0);
    expect(await linesOf('SH-3')).toEqual([]);
    expect(await names(`${folder.directory}/error`)).toEqual([
      'SHIPCONF_A.csv',
      'SHIPCONF_A.csv.err',
      'SHIPCONF_B.xlsx',
      'SHIPCONF_B.xlsx.err',
    ]);
    const report = (await server.read(`${folder.directory}/error/SHIPCONF_A.csv.err`)).toString();
    expect(report).toContain('3;shipped_qty;not-an-integer;');
  });

  it('after a crash between the committed import and the archive move, the next poll only archives the file', async () => {
    const folder = source();
    const file = `${folder.directory}/SHIPCONF_WMS01_20240511000000_000060.csv`;
    await server.write(file, csvOf([HEADER, ['SO-4', 'SH-4', 'SF400', '1', 'HB-M8', '7']]));

    // The handler records the file in the transaction of its effect, then the process "dies".
    const dying: IntakeHandler = async (intakeFile, records) => {
      await database.db.transaction(async (tx) => {
        const [record] = records;
        await tx.query('INSERT INTO shipped_lines VALUES ($1, $2, $3, $4)', [
          record!.values.shipment_no,
          1,
          record!.values.sku,
          Number(record!.values.shipped_qty),
        ]);
        const imported: ImportedFile = { ...intakeFile, fileName: intakeFile.name, rows: records.length };
        await store.record(imported, tx);
      });
      throw new Error('process killed before the file was moved');
    };
    await expect(pollFolder(sftp, folder, store, dying)).rejects.toThrow('process killed');
    expect(await names(folder.directory)).toContain('SHIPCONF_WMS01_20240511000000_000060.csv');

    const handler = counting(upsertLines);
    const next = await pollFolder(sftp, folder, store, handler, { now: () => day });
    expect(handler.calls).toBe(0);
    expect(next.duplicates.map((entry) => entry.name)).toEqual(['SHIPCONF_WMS01_20240511000000_000060.csv']);
    expect(await linesOf('SH-4')).toEqual([[1, 'HB-M8', 7]]);
    expect(await names(folder.directory)).toEqual(['archive']);
  });

  it('after a crash between the dedupe record and the move (intake recorded it), the file is archived, not imported again', async () => {
    const folder = source();
    await server.write(
      `${folder.directory}/SHIPCONF_C.csv`,
      csvOf([HEADER, ['SO-5', 'SH-5', 'SF500', '1', 'HB-M8', '2']]),
    );
    const dyingStore = {
      find: (connection: string, sha256: string) => store.find(connection, sha256),
      async record(file: ImportedFile) {
        await store.record(file);
        throw new Error('process killed after recording');
      },
    };
    await expect(pollFolder(sftp, folder, dyingStore, upsertLines)).rejects.toThrow('process killed');
    const handler = counting(upsertLines);
    const next = await pollFolder(sftp, folder, store, handler);
    expect([handler.calls, next.duplicates.length, next.imported.length]).toEqual([0, 1, 0]);
  });

  it('with stable-size, a file that grew between polls is taken only once it stopped growing', async () => {
    const folder = source({ convention: { kind: 'stable-size' } });
    const rows = Array.from({ length: 200 }, (_, i) => [
      'SO-6',
      'SH-6',
      'SF600',
      String(i + 1),
      'HB-M8',
      '1',
    ]);
    const content = csvOf([HEADER, ...rows]);
    await server.writePartial(`${folder.directory}/SHIPCONF_SLOW.csv`, content, 1000);
    const handler = counting(upsertLines);
    const first = await pollFolder(sftp, folder, store, handler);
    await server.write(`${folder.directory}/SHIPCONF_SLOW.csv`, content); // the producer wrote the rest
    const growing = await pollFolder(sftp, folder, store, handler, { previous: first.observation });
    expect([first.imported, growing.imported, handler.calls]).toEqual([[], [], 0]);
    const stable = await pollFolder(sftp, folder, store, handler, { previous: growing.observation });
    expect(stable.imported.map((file) => file.rows)).toEqual([200]);
    expect(await linesOf('SH-6')).toHaveLength(200);
  });
});
