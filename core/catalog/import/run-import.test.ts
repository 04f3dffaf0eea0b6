import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import type { TestDatabase } from '../../platform/testing/test-servers.ts';
import { insertProduct, loadProduct, productIdOf } from '../products.ts';
import { createCatalogDatabase, seedFixture } from '../testing/catalog-db.ts';
import { audiencesOfProduct } from '../visibility.ts';
import { DEFAULT_IMPORT_LIMITS } from './import-limits.ts';
import { findImport } from './import-records.ts';
import { runImport } from './run-import.ts';
import { csvOf, writeBuffer, writeXlsx, xlsxWithSheet } from './testing/import-files.ts';
import { importFile, reportOf, STAFF_ID } from './testing/run-test-import.ts';

let database: TestDatabase;
let fixture: Awaited<ReturnType<typeof seedFixture>>;
const dir = mkdtempSync(path.join(tmpdir(), 'run-import-'));

beforeAll(async () => {
  database = await createCatalogDatabase();
  fixture = await seedFixture(database.db);
});

afterAll(async () => {
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

let fileCount = 0;
async function csvFile(
  rows: string[][],
  encoding: 'utf8-bom' | 'utf8' | 'gbk' = 'utf8-bom',
): Promise<string> {
  const text = csvOf(rows);
  const bytes =
    encoding === 'gbk'
      ? iconv.encode(text, 'gbk')
      : Buffer.concat([Buffer.from(encoding === 'utf8-bom' ? [0xef, 0xbb, 0xbf] : []), Buffer.from(text)]);
  return writeBuffer(path.join(dir, `file-${++fileCount}.csv`), bytes);
}

const db = () => database.db;

async function product(slug: string) {
  const id = await productIdOf(db(), slug);
  return id ? loadProduct(db(), id) : undefined;
}

async function outboxSince(id: bigint) {
  const { rows } = await db().query(
    'SELECT id, topic, payload FROM platform.outbox WHERE id > $1 AND kind = $2 ORDER BY id',
    [id, 'event'],
  );
  return rows as Array<{ id: bigint; topic: string; payload: Record<string, unknown> }>;
}

async function lastOutboxId(): Promise<bigint> {
  const { rows } = await db().query('SELECT COALESCE(max(id), 0) AS id FROM platform.outbox');
  return BigInt(rows[0]!.id);
}

const FULL_HEADER = [
  'slug',
  '名称',
  'nameEn',
  '品牌',
  '类目',
  '单位',
  '状态',
  'isPublic',
  '型号',
  'packSizes',
  'scenarios',
  'SKU编码',
  'skuPackSize',
  'skuWeightGrams',
  'attr:length',
  'attr:material',
  '属性:备注',
  'attr:rohs',
  'attr:temperature',
  'variant:length',
];

const NEW_PRODUCTS = (suffix: string) => [
  FULL_HEADER,
  [
    `hex-bolt-${suffix}`,
    'M8不锈钢六角螺栓',
    `Hex bolt M8 A2 ${suffix}`,
    '伍尔特',
    '紧固件/螺栓',
    'pcs',
    '在售',
    '是',
    'DIN933-M8x30-A2',
    '100|500',
    '机械装配|化工',
    `HB-${suffix}-100`,
    '100',
    '1650',
    '30 mm',
    '不锈钢A2',
    'DIN 933',
    '是',
    '-40~200 °C',
    '30',
  ],
  [
    `hex-bolt-${suffix}`,
    'M8不锈钢六角螺栓',
    `Hex bolt M8 A2 ${suffix}`,
    '伍尔特',
    '紧固件/螺栓',
    'pcs',
    '在售',
    '是',
    'DIN933-M8x30-A2',
    '100|500',
    '机械装配|化工',
    `HB-${suffix}-500`,
    '500',
    '',
    '30 mm',
    '不锈钢A2',
    'DIN 933',
    '是',
    '-40~200 °C',
    '30',
  ],
  [
    `bearing-${suffix}`,
    '深沟球轴承6204',
    `Deep groove ball bearing ${suffix}`,
    'wurth',
    'bearings',
    '个',
    '',
    '',
    '6204-2RS',
    '',
    '',
    `BR-${suffix}`,
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
  ],
];

describe('a CSV import creates products', () => {
  it('with every column kind, Chinese aliases and values, from UTF-8 with a BOM', async () => {
    const since = await lastOutboxId();
    const record = await importFile(db(), await csvFile(NEW_PRODUCTS('bom')));
    expect(record).toMatchObject({
      status: 'succeeded',
      failure: null,
      progress: {
        rowsRead: 3,
        rowsSettled: 3,
        rowsRejected: 0,
        productsCreated: 2,
        productsUpdated: 0,
        productsRejected: 0,
      },
      report: { entries: 0, dropped: 0 },
    });
    const bolt = (await product('hex-bolt-bom'))!;
    expect(bolt).toMatchObject({
      nameZh: 'M8不锈钢六角螺栓',
      nameEn: 'Hex bolt M8 A2 bom',
      brand: { slug: 'wurth' },
      category: { slug: 'bolts', path: [{ slug: 'fasteners' }, { slug: 'bolts' }] },
      lifecycle: 'active',
      isPublic: true,
      model: 'DIN933-M8x30-A2',
      packSizes: [100, 500],
      scenarios: ['机械装配', '化工'],
      unitOfMeasure: 'pcs',
    });
    expect(
      Object.fromEntries(bolt.attributes.map((a) => [a.key, a.type === 'range' ? [a.min, a.max] : a.value])),
    ).toEqual({
      length: 30,
      material: 'a2',
      note: 'DIN 933',
      rohs: true,
      temperature: [-40, 200],
    });
    expect(
      bolt.skus.map((s) => [
        s.code,
        s.packSize,
        s.weightGrams,
        s.unitOfMeasure,
        s.variant.map((v) => v.value),
      ]),
    ).toEqual([
      ['HB-bom-100', 100, 1650, 'pcs', [30]],
      ['HB-bom-500', 500, null, 'pcs', [30]],
    ]);
    expect(await audiencesOfProduct(db(), bolt.id)).toEqual(['public']);
    const bearing = (await product('bearing-bom'))!;
    expect(bearing).toMatchObject({
      lifecycle: 'draft',
      isPublic: false,
      unitOfMeasure: '个',
      brand: { slug: 'wurth' },
    });
    expect(bearing.skus.map((s) => [s.code, s.unitOfMeasure, s.packSize])).toEqual([['BR-bom', '个', 1]]);
    expect(await audiencesOfProduct(db(), bearing.id)).toEqual([]);
    // Search re-indexes from the same events the product actions write.
    expect((await outboxSince(since)).map((e) => [e.topic, e.payload])).toEqual([
      ['product.created', { productId: bolt.id, slug: 'hex-bolt-bom', lifecycle: 'active' }],
      ['product.created', { productId: bearing.id, slug: 'bearing-bom', lifecycle: 'draft' }],
    ]);
    const { rows: audit } = await db().query(
      `SELECT action, actor_id, details FROM platform.audit_log WHERE entity_id = $1 ORDER BY id`,
      [record.id],
    );
    expect(audit.map((a) => [a.action, a.actor_id])).toEqual([
      ['catalog_import.batch_applied', STAFF_ID],
      ['catalog_import.finished', STAFF_ID],
    ]);
    expect(audit[0]!.details.created.sort()).toEqual([bolt.id, bearing.id].sort());
    expect(audit[1]!.details).toMatchObject({
      fileName: expect.stringMatching(/\.csv$/),
      productsCreated: 2,
      status: 'succeeded',
    });
  });

  it('from GBK without being told the encoding', async () => {
    const record = await importFile(db(), await csvFile(NEW_PRODUCTS('gbk'), 'gbk'));
    expect(record.status).toBe('succeeded');
    expect((await product('hex-bolt-gbk'))!.nameZh).toBe('M8不锈钢六角螺栓');
    expect((await product('bearing-gbk'))!.nameZh).toBe('深沟球轴承6204');
  });

  it('from XLSX, shared strings and numeric cells included', async () => {
    const rows = NEW_PRODUCTS('xlsx').map((row, index) =>
      index === 0
        ? row
        : row.map((cell, column) =>
            ['skuPackSize', 'skuWeightGrams'].includes(FULL_HEADER[column]!) && cell ? Number(cell) : cell,
          ),
    );
    const file = path.join(dir, 'products.xlsx');
    await writeXlsx(file, rows);
    const record = await importFile(db(), file);
    expect(record).toMatchObject({ status: 'succeeded', format: 'xlsx', progress: { productsCreated: 2 } });
    const bolt = (await product('hex-bolt-xlsx'))!;
    expect(bolt.nameZh).toBe('M8不锈钢六角螺栓');
    expect(bolt.skus.map((s) => [s.code, s.packSize, s.weightGrams])).toEqual([
      ['HB-xlsx-100', 100, 1650],
      ['HB-xlsx-500', 500, null],
    ]);
  });
});

describe('the per-row report', () => {
  it('names row, column and field of every problem; a product with any problem leaves no trace', async () => {
    const header = [
      'slug',
      '名称',
      'nameEn',
      '品牌',
      '类目',
      '单位',
      'SKU编码',
      'attr:length',
      'attr:material',
      'attr:temperature',
      'attr:thread',
    ];
    const row = (slug: string, code: string, extra: Partial<Record<string, string>> = {}) =>
      header.map(
        (column) =>
          ({
            slug,
            名称: `${slug} 中文`,
            nameEn: slug,
            品牌: '',
            类目: 'bolts',
            单位: 'pcs',
            SKU编码: code,
            ...extra,
          })[column] ?? '',
      );
    const since = await lastOutboxId();
    const file = await csvFile([
      header,
      row('rep-good-1', 'REP-G1'), // 2
      row('rep-bad-brand', 'REP-BB', { 品牌: 'nobrand' }), // 3
      row('rep-bad-values', 'REP-BV', {
        'attr:length': 'abc',
        'attr:temperature': '200~-40',
        'attr:material': 'steel',
      }), // 4
      row('rep-bad-values', ''), // 5
      row('rep-dup-code', 'REP-G1'), // 6
      row('rep-good-1', 'REP-G1-B'), // 7
      row('rep-thread', 'REP-TH', { 类目: 'bearings', 'attr:thread': 'm8' }), // 8
      row('rep-no-unit', 'REP-NU', { 单位: '' }), // 9
      row('rep-inconsistent', 'REP-IN-1'), // 10
      row('rep-inconsistent', 'REP-IN-2', { 名称: '另一个名称' }), // 11
      row('rep-good-3', 'REP-G3', { 'attr:length': '12.5mm' }), // 12
    ]);
    const record = await importFile(db(), file);
    expect(record).toMatchObject({
      status: 'partially_succeeded',
      progress: { rowsRead: 11, rowsSettled: 11, rowsRejected: 9, productsCreated: 2, productsRejected: 7 },
    });
    const report = await reportOf(db(), record.id);
    const problems = report.filter((entry) => entry.code !== 'product-rejected');
    expect(problems).toEqual([
      {
        row: 3,
        column: '品牌',
        field: 'brand',
        code: 'unknown-brand',
        message: 'is not a brand (slug or name)',
      },
      {
        row: 4,
        column: 'attr:length',
        field: 'attributes.length',
        code: 'invalid-value',
        message: 'must be a number',
      },
      {
        row: 4,
        column: 'attr:material',
        field: 'attributes.material',
        code: 'invalid-value',
        message: 'must be one of a2, a4',
      },
      {
        row: 4,
        column: 'attr:temperature',
        field: 'attributes.temperature',
        code: 'invalid-value',
        message: 'max must not be less than min',
      },
      {
        row: 5,
        column: 'SKU编码',
        field: 'sku.code',
        code: 'required',
        message: 'is required: every row is one SKU',
      },
      {
        row: 6,
        column: 'SKU编码',
        field: 'sku.code',
        code: 'duplicate-sku-code',
        message: 'SKU code REP-G1 already appears at row 2',
      },
      {
        row: 7,
        column: 'slug',
        field: 'slug',
        code: 'rows-not-consecutive',
        message: "product rep-good-1 already appeared at row 2: a product's rows must be consecutive",
      },
      {
        row: 8,
        column: 'attr:thread',
        field: 'attributes.thread',
        code: 'invalid-value',
        message: "does not apply to the product's category",
      },
      {
        row: 9,
        column: '单位',
        field: 'unitOfMeasure',
        code: 'required',
        message: 'is required to create a product',
      },
      {
        row: 11,
        column: '名称',
        field: 'nameZh',
        code: 'inconsistent-value',
        message:
          "differs from row 10: a product's columns repeat one value on each of its rows (or stay empty)",
      },
    ]);
    expect(report.filter((entry) => entry.code === 'product-rejected').map((entry) => entry.row)).toEqual([
      3, 4, 6, 7, 8, 9, 10,
    ]);
    // Applied: the two good products, and only the first group of rep-good-1.
    expect((await product('rep-good-1'))!.skus.map((s) => s.code)).toEqual(['REP-G1']);
    expect((await product('rep-good-3'))!.attributes.map((a) => [a.key, a.value])).toEqual([
      ['length', 12.5],
    ]);
    // Rejected: nothing of them in the catalog, no event.
    for (const slug of [
      'rep-bad-brand',
      'rep-bad-values',
      'rep-dup-code',
      'rep-thread',
      'rep-no-unit',
      'rep-inconsistent',
    ]) {
      expect(await productIdOf(db(), slug)).toBeUndefined();
    }
    const { rows: skus } = await db().query(
      `SELECT code FROM catalog.skus WHERE code LIKE 'REP-%' ORDER BY code`,
    );
    expect(skus.map((s) => s.code)).toEqual(['REP-G1', 'REP-G3']);
    expect((await outboxSince(since)).map((e) => e.payload.slug)).toEqual(['rep-good-1', 'rep-good-3']);
  });

  it('a row without slug and nameEn is one more SKU of the product above; product cells there must agree', async () => {
    const header = ['slug', 'nameZh', 'nameEn', 'category', 'unit', 'skuCode', 'skuPackSize'];
    const record = await importFile(
      db(),
      await csvFile([
        header,
        ['cont-1', '续', 'Cont 1', 'bolts', 'pcs', 'CONT-1-A', '1'],
        ['', '', '', '', '', 'CONT-1-B', '10'],
        ['', '', '', '', '', 'CONT-1-C', '100'],
        ['cont-2', '续二', 'Cont 2', 'bolts', 'pcs', 'CONT-2-A', ''],
        ['', '别的名字', '', '', '', 'CONT-2-B', ''],
      ]),
    );
    expect(record).toMatchObject({ progress: { productsCreated: 1, productsRejected: 1, rowsRejected: 2 } });
    expect((await product('cont-1'))!.skus.map((s) => [s.code, s.packSize])).toEqual([
      ['CONT-1-A', 1],
      ['CONT-1-B', 10],
      ['CONT-1-C', 100],
    ]);
    expect((await reportOf(db(), record.id)).map((entry) => [entry.row, entry.column, entry.code])).toEqual([
      [5, null, 'product-rejected'],
      [6, 'nameZh', 'inconsistent-value'],
    ]);
  });

  it('when the database refuses a product the in-memory checks let through, only that product is rejected', async () => {
    await db().query(`CREATE FUNCTION catalog.test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.slug = 'db-refused' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$`);
    await db().query(
      `CREATE TRIGGER test_refuse BEFORE INSERT ON catalog.products FOR EACH ROW EXECUTE FUNCTION catalog.test_refuse()`,
    );
    try {
      const header = ['slug', 'nameZh', 'nameEn', 'category', 'unit', 'skuCode', 'attr:length'];
      const record = await importFile(
        db(),
        await csvFile([
          header,
          ['db-ok-1', '甲', 'A', 'bolts', 'pcs', 'DB-OK-1', '10'],
          ['db-refused', '乙', 'B', 'bolts', 'pcs', 'DB-REF', '20'],
          ['db-ok-2', '丙', 'C', 'bolts', 'pcs', 'DB-OK-2', '30'],
        ]),
      );
      expect(record).toMatchObject({
        status: 'partially_succeeded',
        progress: { productsCreated: 2, productsRejected: 1, rowsRejected: 1 },
      });
      expect(await reportOf(db(), record.id)).toEqual([
        {
          row: 3,
          column: null,
          field: null,
          code: 'rejected-by-database',
          message: 'product db-refused not imported: the database refused it (refused by a test trigger)',
        },
      ]);
      expect((await product('db-ok-2'))!.attributes[0]!.value).toBe(30);
      const { rows } = await db().query(`SELECT count(*)::int AS n FROM catalog.skus WHERE code = 'DB-REF'`);
      expect(rows[0]!.n).toBe(0);
    } finally {
      await db().query('DROP TRIGGER test_refuse ON catalog.products');
      await db().query('DROP FUNCTION catalog.test_refuse()');
    }
  });
});

describe('an import updates existing products', () => {
  async function existing(slug: string, code: string) {
    const id = await insertProduct(db(), {
      slug,
      nameZh: '旧名称',
      nameEn: 'Old name',
      descriptionZh: '原来的描述',
      model: 'OLD-1',
      categoryId: fixture.bolts.id,
      unitOfMeasure: 'pcs',
      attributes: [
        { key: 'length', value: 30 },
        { key: 'material', value: 'a2' },
      ],
      skus: [
        { code: `${code}-A`, packSize: 100 },
        { code: `${code}-B`, packSize: 10 },
      ],
    });
    return id;
  }

  it('changing only the columns the file has; SKUs matched by code, new ones added, others kept', async () => {
    const id = await existing('upd-1', 'UPD1');
    const since = await lastOutboxId();
    const record = await importFile(
      db(),
      await csvFile([
        ['slug', 'nameEn', 'attr:length', 'skuCode', 'skuPackSize'],
        ['upd-1', 'New name', '45', 'UPD1-A', '200'],
        ['upd-1', 'New name', '', 'UPD1-C', ''],
      ]),
    );
    expect(record).toMatchObject({
      status: 'succeeded',
      progress: { productsUpdated: 1, productsCreated: 0 },
    });
    const after = (await loadProduct(db(), id))!;
    expect(after).toMatchObject({
      nameEn: 'New name',
      nameZh: '旧名称',
      descriptionZh: '原来的描述',
      model: 'OLD-1',
      lifecycle: 'draft',
    });
    expect(after.attributes.map((a) => [a.key, a.value])).toEqual([
      ['length', 45],
      ['material', 'a2'],
    ]);
    expect(after.skus.map((s) => [s.code, s.packSize, s.unitOfMeasure]).sort()).toEqual([
      ['UPD1-A', 200, 'pcs'],
      ['UPD1-B', 10, 'pcs'],
      ['UPD1-C', 1, 'pcs'],
    ]);
    expect((await outboxSince(since)).map((e) => [e.topic, e.payload])).toEqual([
      ['product.updated', { productId: id, changes: ['nameEn', 'attributes', 'skus'] }],
    ]);
  });

  it('moving the lifecycle only as the lifecycle allows, and refreshing who sees the product', async () => {
    const id = await existing('upd-2', 'UPD2');
    const header = ['slug', 'status', 'public', 'skuCode'];
    const back = await importFile(db(), await csvFile([header, ['upd-2', '停产', '', 'UPD2-A']]));
    expect(await reportOf(db(), back.id)).toContainEqual({
      row: 2,
      column: 'status',
      field: 'lifecycle',
      code: 'lifecycle-transition',
      message: 'a draft product cannot become discontinued',
    });
    const since = await lastOutboxId();
    const up = await importFile(db(), await csvFile([header, ['upd-2', 'active', 'true', 'UPD2-A']]));
    expect(up.status).toBe('succeeded');
    expect((await loadProduct(db(), id))!.lifecycle).toBe('active');
    expect(await audiencesOfProduct(db(), id)).toEqual(['public']);
    expect((await outboxSince(since)).map((e) => [e.topic, e.payload])).toEqual([
      ['product.updated', { productId: id, changes: ['isPublic'] }],
      ['product.lifecycle_changed', { productId: id, from: 'draft', to: 'active', reason: 'import' }],
    ]);
  });

  it('refusing a new category the values the product keeps do not apply to', async () => {
    const id = await insertProduct(db(), {
      slug: 'upd-thread',
      nameZh: '螺纹件',
      nameEn: 'Threaded',
      categoryId: fixture.bolts.id,
      unitOfMeasure: 'pcs',
      attributes: [{ key: 'thread', value: 'm8' }],
      skus: [{ code: 'UPDTH-1' }],
    });
    const record = await importFile(
      db(),
      await csvFile([
        ['slug', 'category', 'skuCode'],
        ['upd-thread', 'bearings', 'UPDTH-1'],
      ]),
    );
    expect((await reportOf(db(), record.id))[0]).toEqual({
      row: 2,
      column: 'category',
      field: 'category',
      code: 'not-applicable',
      message: "the product's thread value does not apply to this category",
    });
    expect((await loadProduct(db(), id))!.category.slug).toBe('bolts');
  });

  it('refusing a SKU code of another product', async () => {
    await existing('upd-3', 'UPD3');
    await existing('upd-4', 'UPD4');
    const record = await importFile(
      db(),
      await csvFile([
        ['slug', 'skuCode', 'skuPackSize'],
        ['upd-4', 'UPD3-A', '5'],
      ]),
    );
    expect((await reportOf(db(), record.id))[0]).toMatchObject({
      row: 2,
      code: 'sku-code-taken',
      field: 'sku.code',
    });
  });
});

describe('modes and dry runs', () => {
  const header = ['slug', 'nameZh', 'nameEn', 'category', 'unit', 'skuCode'];

  it('create-only refuses existing products, update-only unknown ones', async () => {
    await importFile(db(), await csvFile([header, ['mode-a', '甲', 'A', 'bolts', 'pcs', 'MODE-A']]));
    const createOnly = await importFile(
      db(),
      await csvFile([
        header,
        ['mode-a', '甲2', 'A2', 'bolts', 'pcs', 'MODE-A'],
        ['mode-b', '乙', 'B', 'bolts', 'pcs', 'MODE-B'],
      ]),
      { mode: 'create-only' },
    );
    expect(createOnly).toMatchObject({
      mode: 'create-only',
      progress: { productsCreated: 1, productsRejected: 1 },
    });
    expect((await reportOf(db(), createOnly.id))[0]).toMatchObject({
      row: 2,
      code: 'product-exists',
      field: 'slug',
    });
    expect((await product('mode-a'))!.nameZh).toBe('甲');
    const updateOnly = await importFile(
      db(),
      await csvFile([
        header,
        ['mode-a', '甲3', 'A3', 'bolts', 'pcs', 'MODE-A'],
        ['mode-c', '丙', 'C', 'bolts', 'pcs', 'MODE-C'],
      ]),
      { mode: 'update-only' },
    );
    expect(updateOnly).toMatchObject({ progress: { productsUpdated: 1, productsRejected: 1 } });
    expect((await reportOf(db(), updateOnly.id))[0]).toMatchObject({ row: 3, code: 'product-not-found' });
    expect((await product('mode-a'))!.nameZh).toBe('甲3');
    expect(await productIdOf(db(), 'mode-c')).toBeUndefined();
  });

  it('a dry run validates and counts but changes nothing', async () => {
    await importFile(db(), await csvFile([header, ['dry-a', '甲', 'A', 'bolts', 'pcs', 'DRY-A']]));
    const since = await lastOutboxId();
    const record = await importFile(
      db(),
      await csvFile([
        header,
        ['dry-a', '改了', 'A', 'bolts', 'pcs', 'DRY-A'],
        ['dry-b', '乙', 'B', 'bolts', 'pcs', 'DRY-B'],
        ['dry-c', '丙', 'C', 'nowhere', 'pcs', 'DRY-C'],
      ]),
      { dryRun: true },
    );
    expect(record).toMatchObject({
      dryRun: true,
      status: 'partially_succeeded',
      progress: { productsCreated: 1, productsUpdated: 1, productsRejected: 1 },
    });
    expect((await reportOf(db(), record.id))[0]).toMatchObject({ row: 4, code: 'unknown-category' });
    expect((await product('dry-a'))!.nameZh).toBe('甲');
    expect(await productIdOf(db(), 'dry-b')).toBeUndefined();
    expect(await outboxSince(since)).toEqual([]);
  });
});

describe('a file beyond a bound is refused whole', () => {
  const header = ['slug', 'nameZh', 'nameEn', 'category', 'unit', 'skuCode'];
  const rows = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => [
      `${prefix}-${i}`,
      '名',
      `N ${i}`,
      'bolts',
      'pcs',
      `${prefix.toUpperCase()}-${i}`,
    ]);

  it('too many rows: the valid first rows are not imported either', async () => {
    const record = await importFile(db(), await csvFile([header, ...rows('bound-rows', 5)]), {
      limits: { maxRows: 4 },
      batchProducts: 1,
    });
    expect(record).toMatchObject({
      status: 'failed',
      failure: { code: 'too-many-rows', row: 6 },
      progress: { productsCreated: 0, rowsSettled: 0 },
    });
    expect(await productIdOf(db(), 'bound-rows-0')).toBeUndefined();
  });

  it('a too-long cell, an unknown column, a zip bomb, a file that is not an XLSX', async () => {
    const long = await importFile(
      db(),
      await csvFile([header, ['bound-long', 'x'.repeat(200), 'N', 'bolts', 'pcs', 'BL-1']]),
      {
        limits: { maxCellChars: 100 },
      },
    );
    expect(long.failure).toMatchObject({ code: 'cell-too-long', row: 2 });
    const unknown = await importFile(
      db(),
      await csvFile([
        [...header, 'colour'],
        [...rows('bound-col', 1)[0]!, 'red'],
      ]),
    );
    expect(unknown.failure).toEqual({
      code: 'invalid-header',
      message: 'The header row is not usable: "colour" is not a known column',
      row: 1,
    });
    const bomb = await writeBuffer(
      path.join(dir, 'bomb.xlsx'),
      xlsxWithSheet('<worksheet/>', undefined, [
        { name: 'xl/media/zeros.bin', data: Buffer.alloc(20 * 1024 * 1024) },
      ]),
    );
    expect((await importFile(db(), bomb)).failure).toMatchObject({ code: 'zip-refused' });
    const fake = await writeBuffer(path.join(dir, 'fake.xlsx'), csvOf([header, ...rows('bound-fake', 1)]));
    expect((await importFile(db(), fake)).failure).toMatchObject({ code: 'not-xlsx' });
    expect(await productIdOf(db(), 'bound-col-0')).toBeUndefined();
    expect(await productIdOf(db(), 'bound-fake-0')).toBeUndefined();
  });
});

describe('batches and resumption', () => {
  it('with two batches in flight, commits them in file order: report, counters and events as one at a time', async () => {
    const header = ['slug', 'nameZh', 'nameEn', 'category', 'unit', 'skuCode', 'attr:length'];
    const since = await lastOutboxId();
    const record = await importFile(
      db(),
      await csvFile([
        header,
        ...Array.from({ length: 11 }, (_, i) => [
          `pipe-${i}`,
          '名',
          `N ${i}`,
          'bolts',
          'pcs',
          `PIPE-${i}`,
          i % 4 === 1 ? 'long' : String(i),
        ]),
      ]),
      { batchProducts: 2, concurrency: 2 },
    );
    expect(record).toMatchObject({
      status: 'partially_succeeded',
      progress: { rowsSettled: 11, productsCreated: 8, productsRejected: 3 },
      report: { entries: 6 },
    });
    expect((await reportOf(db(), record.id)).map((entry) => [entry.row, entry.code])).toEqual([
      [3, 'invalid-value'],
      [3, 'product-rejected'],
      [7, 'invalid-value'],
      [7, 'product-rejected'],
      [11, 'invalid-value'],
      [11, 'product-rejected'],
    ]);
    expect((await outboxSince(since)).map((event) => event.payload.slug)).toEqual(
      [0, 2, 3, 4, 6, 7, 8, 10].map((i) => `pipe-${i}`),
    );
    const { rows } = await db().query('SELECT settled_line FROM catalog.imports WHERE id = $1', [record.id]);
    expect(rows[0]!.settled_line).toBe(12);
  });

  it('a batch that fails rolls back the one after it; the retried job resumes and applies each product once', async () => {
    const header = ['slug', 'nameZh', 'nameEn', 'category', 'unit', 'skuCode'];
    const file = await csvFile([
      header,
      ...Array.from({ length: 8 }, (_, i) => [`crash-${i}`, '名', `N ${i}`, 'bolts', 'pcs', `CRASH-${i}`]),
    ]);
    // The progress write of the batch ending at row 5 (products 2 and 3) fails, as a lost connection would.
    await db().query(`CREATE FUNCTION catalog.test_crash() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.settled_line = 5 THEN RAISE EXCEPTION 'connection lost'; END IF; RETURN NEW; END $$`);
    await db().query(
      'CREATE TRIGGER test_crash BEFORE UPDATE ON catalog.imports FOR EACH ROW EXECUTE FUNCTION catalog.test_crash()',
    );
    let importId = '';
    try {
      await expect(
        importFile(db(), file, {
          batchProducts: 2,
          concurrency: 2,
          before: async (created) => {
            importId = created.id;
          },
        }),
      ).rejects.toThrow('connection lost');
    } finally {
      await db().query('DROP TRIGGER test_crash ON catalog.imports');
      await db().query('DROP FUNCTION catalog.test_crash()');
    }
    const { rows: created } = await db().query(
      `SELECT slug FROM catalog.products WHERE slug LIKE 'crash-%' ORDER BY slug`,
    );
    expect(created.map((row) => row.slug)).toEqual(['crash-0', 'crash-1']);
    expect(await findImport(db(), importId)).toMatchObject({
      status: 'running',
      progress: { rowsSettled: 2 },
    });
    const resumed = await runImport({
      db: db(),
      importId,
      file,
      limits: DEFAULT_IMPORT_LIMITS,
      batchProducts: 2,
    });
    expect(resumed).toMatchObject({ status: 'succeeded', progress: { rowsSettled: 8, productsCreated: 8 } });
    const { rows: all } = await db().query(
      `SELECT count(*)::int AS n, count(DISTINCT slug)::int AS d FROM catalog.products WHERE slug LIKE 'crash-%'`,
    );
    expect(all[0]).toEqual({ n: 8, d: 8 });
  });

  it('commits batch by batch and a retried job resumes after the last settled row', async () => {
    const header = ['slug', 'nameZh', 'nameEn', 'category', 'unit', 'skuCode'];
    const file = await csvFile([
      header,
      ...Array.from({ length: 7 }, (_, i) => [`resume-${i}`, '名', `N ${i}`, 'bolts', 'pcs', `RESUME-${i}`]),
    ]);
    // As if an earlier attempt had committed the batches up to row 4 (products 0–2) and then died.
    const record = await importFile(db(), file, {
      batchProducts: 2,
      before: async (created) => {
        await db().query(
          `UPDATE catalog.imports SET status = 'running', settled_line = 4, rows_settled = 3, products_created = 3 WHERE id = $1`,
          [created.id],
        );
      },
    });
    expect(record).toMatchObject({ status: 'succeeded', progress: { rowsSettled: 7, productsCreated: 7 } });
    expect(await productIdOf(db(), 'resume-2')).toBeUndefined();
    expect(await productIdOf(db(), 'resume-3')).toBeDefined();
    expect(await productIdOf(db(), 'resume-6')).toBeDefined();
    expect((await findImport(db(), record.id))!.finishedAt).not.toBeNull();
  });
});
