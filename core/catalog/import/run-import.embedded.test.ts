import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Database } from '../../platform/database/database.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../platform/database/embedded-postgres.ts';
import { applyMigrations } from '../../platform/database/migrations.ts';
import { platformMigrations } from '../../platform/migrations.ts';
import { loadProduct, productIdOf } from '../products.ts';
import { catalogMigrations, seedFixture } from '../testing/catalog-db.ts';
import { audiencesOfProduct } from '../visibility.ts';
import { csvOf, writeBuffer, writeXlsx } from './testing/import-files.ts';
import { importFile, reportOf } from './testing/run-test-import.ts';

/**
 * The import on the embedded default (PGlite behind pglite-socket): the same batched writes,
 * report and visibility, every batch transaction using only its own session.
 */
const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-import-embedded-'));
let embedded: EmbeddedPostgres;
let lite: Database;

beforeAll(async () => {
  embedded = await startEmbeddedPostgres(dataDir);
  lite = new Database(embedded.url, { max: 4 });
  await applyMigrations(lite, [platformMigrations, catalogMigrations]);
  await seedFixture(lite);
}, 120_000);

afterAll(async () => {
  await lite?.close();
  await embedded?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const HEADER = [
  'slug',
  '名称',
  'nameEn',
  '品牌',
  '类目',
  '单位',
  '状态',
  'isPublic',
  'SKU编码',
  'attr:length',
  'attr:material',
];

it('imports CSV and XLSX files on PGlite: products, values, visibility, report', async () => {
  const rows = (prefix: string) => [
    HEADER,
    [
      `${prefix}-bolt`,
      '不锈钢螺栓',
      'Stainless bolt',
      '伍尔特',
      '紧固件/螺栓',
      'pcs',
      '在售',
      '是',
      `${prefix}-B-1`,
      '30 mm',
      'a2',
    ],
    [
      `${prefix}-bolt`,
      '不锈钢螺栓',
      'Stainless bolt',
      '伍尔特',
      '紧固件/螺栓',
      'pcs',
      '在售',
      '是',
      `${prefix}-B-2`,
      '30 mm',
      'a2',
    ],
    [`${prefix}-bad`, '坏', 'Bad', '伍尔特', '紧固件/螺栓', 'pcs', '', '', `${prefix}-X-1`, '30', 'steel'],
  ];
  const csv = await writeBuffer(path.join(dataDir, 'lite.csv'), `\uFEFF${csvOf(rows('lite-csv'))}`);
  const xlsx = path.join(dataDir, 'lite.xlsx');
  await writeXlsx(xlsx, rows('lite-xlsx'));
  for (const [file, prefix] of [
    [csv, 'lite-csv'],
    [xlsx, 'lite-xlsx'],
  ] as const) {
    const record = await importFile(lite, file, { batchProducts: 1 });
    expect(record).toMatchObject({
      status: 'partially_succeeded',
      progress: { rowsRead: 3, productsCreated: 1, productsRejected: 1, rowsRejected: 1 },
    });
    expect((await reportOf(lite, record.id))[0]).toEqual({
      row: 4,
      column: 'attr:material',
      field: 'attributes.material',
      code: 'invalid-value',
      message: 'must be one of a2, a4',
    });
    const id = (await productIdOf(lite, `${prefix}-bolt`))!;
    const product = (await loadProduct(lite, id))!;
    expect(product).toMatchObject({ nameZh: '不锈钢螺栓', lifecycle: 'active', brand: { slug: 'wurth' } });
    expect(product.skus.map((s) => s.code)).toEqual([`${prefix}-B-1`, `${prefix}-B-2`]);
    expect(product.attributes.map((a) => [a.key, a.value])).toEqual([
      ['length', 30],
      ['material', 'a2'],
    ]);
    expect(await audiencesOfProduct(lite, id)).toEqual(['public']);
    expect(await productIdOf(lite, `${prefix}-bad`)).toBeUndefined();
  }
}, 60_000);
