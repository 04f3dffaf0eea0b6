import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { http, logInAs, startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';
import { waitFor } from '../../platform/testing/wait-for.ts';
import { seedFixture } from '../testing/catalog-db.ts';
import { assertMatchesSchema } from '../testing/catalog-hub.ts';
import { insertImport } from './import-records.ts';
import { csvOf } from './testing/import-files.ts';

/**
 * Imports end to end through the gateway on a whole hub (real PostgreSQL, outbox relay, the job
 * queue, the object store on local disk, catalog search): upload, job, progress, report, events
 * reaching search, and who may do it.
 */
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;

let t: TestHub;
let dataDir: string;
let staff: string;
let staffId: string;
let buyer: string;
let finance: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'hub-import-'));
  t = await startTestHub({ env: { HUB_DATA_DIR: dataDir } });
  await seedFixture(t.hub.platform.db);
  staff = await logInAs(t.baseUrl, 'admin@hub.local', 'demo-admin-password');
  staffId = (await http(t.baseUrl, 'GET', '/api/me', { token: staff })).body.id;
  buyer = await logInAs(t.baseUrl, 'buyer@acme.example', 'demo-buyer-password');
  const created = await http(t.baseUrl, 'POST', '/api/staff/staff-users', {
    token: staff,
    body: {
      email: 'finance@hub.local',
      displayName: 'Finance 财务',
      password: 'finance-pass-123',
      roles: ['finance'],
    },
  });
  expect(created.status).toBe(201);
  finance = await logInAs(t.baseUrl, 'finance@hub.local', 'finance-pass-123');
}, 90_000);

afterAll(async () => {
  await t?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function upload(
  body: Buffer,
  options: { type?: string; name?: string; token?: string; query?: string } = {},
) {
  const headers: Record<string, string> = {
    'content-type': options.type ?? 'text/csv',
    authorization: `Bearer ${options.token ?? staff}`,
  };
  if (options.name)
    headers['content-disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(options.name)}`;
  return fetch(`${t.baseUrl}/api/staff/catalog/imports${options.query ? `?${options.query}` : ''}`, {
    method: 'POST',
    headers,
    body,
  });
}

async function finished(id: string): Promise<Any> {
  let record: Any;
  await waitFor(
    async () => {
      record = (await http(t.baseUrl, 'GET', `/api/staff/catalog/imports/${id}`, { token: staff })).body;
      return ['succeeded', 'partially_succeeded', 'failed'].includes(record.status);
    },
    `import ${id} to finish`,
    30_000,
  );
  return record;
}

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
];

describe('an import over HTTP', () => {
  it('is queued with 202 and Location, runs as a job, reports per row, and its products reach search', async () => {
    const tag = randomUUID().slice(0, 8);
    const bytes = iconv.encode(
      csvOf([
        HEADER,
        [
          `http-bolt-${tag}`,
          '不锈钢螺栓',
          `Stainless bolt ${tag}`,
          '伍尔特',
          '紧固件/螺栓',
          'pcs',
          '在售',
          '是',
          `HTTP-${tag}-1`,
          '30 mm',
        ],
        [
          `http-bolt-${tag}`,
          '不锈钢螺栓',
          `Stainless bolt ${tag}`,
          '伍尔特',
          '紧固件/螺栓',
          'pcs',
          '在售',
          '是',
          `HTTP-${tag}-2`,
          '30 mm',
        ],
        [
          `http-bad-${tag}`,
          '坏的',
          `Bad ${tag}`,
          '伍尔特',
          '紧固件/螺栓',
          'pcs',
          '',
          '',
          `HTTP-${tag}-3`,
          '30 inch',
        ],
      ]),
      'gbk',
    );
    const answer = await upload(bytes, { name: '产品导入 2026.csv' });
    expect(answer.status).toBe(202);
    const queued = (await answer.json()) as Any;
    assertMatchesSchema('entities/catalog-import', queued);
    expect(answer.headers.get('location')).toBe(`/api/staff/catalog/imports/${queued.id}`);
    expect(queued).toMatchObject({
      status: 'queued',
      format: 'csv',
      mode: 'upsert',
      dryRun: false,
      fileName: '产品导入 2026.csv',
      fileSize: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      createdBy: staffId,
    });

    const done = await finished(queued.id);
    assertMatchesSchema('entities/catalog-import', done);
    expect(done).toMatchObject({
      status: 'partially_succeeded',
      progress: { rowsRead: 3, rowsSettled: 3, rowsRejected: 1, productsCreated: 1, productsRejected: 1 },
      report: { entries: 2, dropped: 0 },
      failure: null,
    });
    expect(done.reportPreview).toEqual([
      {
        row: 4,
        column: 'attr:length',
        field: 'attributes.length',
        code: 'invalid-value',
        message: 'unit must be mm',
      },
      expect.objectContaining({ row: 4, code: 'product-rejected' }),
    ]);

    const report = await fetch(`${t.baseUrl}/api/staff/catalog/imports/${queued.id}/report`, {
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(report.headers.get('content-disposition')).toContain(
      encodeURIComponent('产品导入 2026-report.csv'),
    );
    const text = Buffer.from(await report.arrayBuffer());
    expect([...text.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(text.toString('utf8').slice(1).split('\r\n')).toEqual([
      'row,column,field,code,message',
      '4,attr:length,attributes.length,invalid-value,unit must be mm',
      expect.stringMatching(
        /^4,,,product-rejected,product http-bad-\S+ not imported: 1 problem in rows 4–4$/,
      ),
      '',
    ]);

    // The job worked from the object store and removed the upload once done.
    const list = await http(t.baseUrl, 'GET', '/api/staff/catalog/imports?limit=5', { token: staff });
    expect(list.body.items[0].id).toBe(queued.id);
    const { rows: audit } = await t.hub.platform.db.query(
      `SELECT action, actor_id, details FROM platform.audit_log WHERE entity_id = $1 ORDER BY id`,
      [queued.id],
    );
    expect(audit.map((a) => [a.action, a.actor_id])).toEqual([
      ['catalog_import.created', staffId],
      ['catalog_import.batch_applied', staffId],
      ['catalog_import.finished', staffId],
    ]);
    expect(audit[0]!.details).toMatchObject({ fileName: '产品导入 2026.csv', dryRun: false, format: 'csv' });

    // product.created went through the outbox to catalog search.
    await waitFor(
      async () => {
        const found = await http(
          t.baseUrl,
          'GET',
          `/api/catalog/search?q=${encodeURIComponent(`Stainless bolt ${tag}`)}`,
          {
            token: staff,
          },
        );
        return found.status === 200 && found.body.items.some((item: Any) => item.nameZh === '不锈钢螺栓');
      },
      'the imported product in search',
      20_000,
    );
  });

  it('reads XLSX uploads, and a file that is not one fails the import with a clear reason', async () => {
    const answer = await upload(Buffer.from(csvOf([HEADER])), { type: XLSX, name: 'products.xlsx' });
    expect(answer.status).toBe(202);
    const done = await finished(((await answer.json()) as Any).id);
    expect(done).toMatchObject({
      status: 'failed',
      format: 'xlsx',
      failure: {
        code: 'not-xlsx',
        message: 'The file is not an XLSX workbook (not a ZIP archive)',
        row: null,
      },
    });
  });

  it('refuses the same file while an import of it is queued or running (409), not after', async () => {
    const bytes = Buffer.from(
      csvOf([HEADER, [`dup-${randomUUID()}`, '甲', 'A', '', 'bolts', 'pcs', '', '', 'DUP-1', '']]),
    );
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const running = await insertImport(t.hub.platform.db, {
      format: 'csv',
      mode: 'upsert',
      dryRun: false,
      encoding: 'auto',
      fileName: 'first.csv',
      fileKey: 'catalog/imports/not-a-real-one',
      fileSize: bytes.length,
      sha256,
      createdBy: staffId,
      requestId: null,
    });
    const again = await upload(bytes);
    expect(again.status).toBe(409);
    expect(((await again.json()) as Any).detail).toBe(
      `The same file is already being imported (import ${running.id})`,
    );
    await t.hub.platform.db.query(`UPDATE catalog.imports SET status = 'failed' WHERE id = $1`, [running.id]);
    const later = await upload(bytes, { query: 'dryRun=true&mode=create-only' });
    expect(later.status).toBe(202);
    expect(await later.json()).toMatchObject({ dryRun: true, mode: 'create-only' });
  });

  it('takes only CSV and XLSX bodies, and only from staff with catalog.manage', async () => {
    expect((await upload(Buffer.from('{}'), { type: 'application/json' })).status).toBe(415);
    expect((await upload(Buffer.from('%PDF-1.7'), { type: 'application/pdf' })).status).toBe(415);
    expect((await upload(Buffer.from(csvOf([HEADER])), { token: buyer })).status).toBe(403);
    const refused = await upload(Buffer.from(csvOf([HEADER])), { token: finance });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as Any).detail).toBe('Missing permission catalog.manage');
    expect((await http(t.baseUrl, 'GET', '/api/staff/catalog/imports', { token: finance })).status).toBe(403);
    expect((await http(t.baseUrl, 'GET', '/api/staff/catalog/imports', { token: buyer })).status).toBe(403);
    expect(
      (await http(t.baseUrl, 'GET', `/api/staff/catalog/imports/${randomUUID()}`, { token: staff })).status,
    ).toBe(404);
    expect((await upload(Buffer.from(csvOf([HEADER])), { query: 'mode=replace-all' })).status).toBe(400);
  });

  it('serves a template whose header the import accepts', async () => {
    const template = await fetch(`${t.baseUrl}/api/staff/catalog/imports/template.csv`, {
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(template.status).toBe(200);
    const header = (await template.text()).replace(/^\uFEFF/, '').trim();
    expect(header.split(',')).toEqual(
      expect.arrayContaining(['slug', 'nameZh', 'skuCode', 'attr:length', 'variant:material']),
    );
    const answer = await upload(Buffer.from(`${header}\r\n`), { name: 'template.csv' });
    expect((await finished(((await answer.json()) as Any).id)).status).toBe('succeeded');
  });
});
