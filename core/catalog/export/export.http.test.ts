import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseContentDisposition } from 'content-disposition';
import { http, logInAs, startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';
import { waitFor } from '../../platform/testing/wait-for.ts';
import { seedDemoCatalog } from '../demo-data.ts';
import { readPdf, readXlsx } from './testing/read-export.ts';

/**
 * Bulk export end to end through the gateway on the demo catalog: the demo buyer's company is
 * assigned the gold shared catalog (fasteners and bearings), guests and another company see only
 * public products. Files are read back with exceljs and poppler.
 */
const DEMO_STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
const DEMO_BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

let t: TestHub;
let staff: string;
let buyer: string;
let intruder: string;
let acmeId: string;
// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;

async function download(path: string, token?: string) {
  const response = await fetch(`${t.baseUrl}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body };
}

async function productId(slug: string): Promise<string> {
  const { body } = await http(t.baseUrl, 'GET', `/api/catalog/products/${slug}`, { token: staff });
  return body.id;
}

async function skuOf(slug: string): Promise<string> {
  const { body } = await http(t.baseUrl, 'GET', `/api/catalog/products/${slug}`, { token: staff });
  return body.skus[0].id;
}

beforeAll(async () => {
  t = await startTestHub();
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  buyer = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  const other = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: {
      name: 'Intruder Co',
      status: 'active',
      admin: { email: 'admin@intruder.example', displayName: 'Intruder', password: 'intruder-pass-1' },
    },
  });
  expect(other.status).toBe(201);
  intruder = await logInAs(t.baseUrl, 'admin@intruder.example', 'intruder-pass-1');
  acmeId = (await http(t.baseUrl, 'GET', '/api/company', { token: buyer })).body.id;
  await seedDemoCatalog(t.hub.platform.db, { companyIds: [acmeId] });
  // The search index follows product events through the outbox.
  await waitFor(
    async () =>
      (await http(t.baseUrl, 'GET', '/api/catalog/search?limit=1', { token: staff })).body.total === 30,
    'the demo catalog to be indexed',
    30_000,
  );
}, 90_000);

afterAll(async () => {
  delete process.env.HUB_EXPORT_MAX_ROWS;
  await t?.stop();
});

describe('search export', () => {
  it('XLSX: a buyer gets the gold bearings, a guest and another company only the public one', async () => {
    const path = `/api/catalog/search/export?format=xlsx&q=${encodeURIComponent('深沟球轴承')}`;
    const asBuyer = await download(path, buyer);
    expect(asBuyer.status).toBe(200);
    expect(asBuyer.headers.get('content-type')).toBe(XLSX);
    expect(asBuyer.headers.get('cache-control')).toBe('private, no-store');
    const filename = parseContentDisposition(asBuyer.headers.get('content-disposition')!).parameters.filename;
    expect(filename).toMatch(/^商品搜索-深沟球轴承-\d{4}-\d{2}-\d{2}\.xlsx$/);
    expect(asBuyer.headers.get('content-disposition')).toContain("filename*=UTF-8''");

    const book = await readXlsx(asBuyer.body);
    const models = book.rows.map((row) => row['型号']).sort();
    expect(models).toEqual(['6001-2RS', '6204-2RS', '6205-ZZ', '6206']);
    expect(asBuyer.headers.get('x-export-rows')).toBe('4');
    expect(asBuyer.headers.get('x-export-truncated')).toBe('false');

    // Every spec a bearing has is its own column, unit in the header, numbers as numbers.
    expect(book.headers).toEqual(
      expect.arrayContaining(['内径 (mm)', '外径 (mm)', '额定动载荷 (kN)', '极限转速 (r/min)', '密封形式']),
    );
    const skf = book.rows.find((row) => row['型号'] === '6204-2RS')!;
    expect(skf).toMatchObject({
      中文名称: '6204-2RS深沟球轴承',
      英文名称: 'Deep groove ball bearing 6204-2RS',
      品牌: '斯凯孚',
      分类: '轴承 / 深沟球轴承',
      'SKU 编码': '6204-2RS',
      状态: '在售',
      '内径 (mm)': 20,
      '额定动载荷 (kN)': 13.5,
      密封形式: '双面胶盖 2RS',
    });
    expect(skf['商品链接']).toMatchObject({
      hyperlink: expect.stringMatching(/\/products\/deep-groove-ball-bearing-6204-2rs$/),
    });
    // Bearings carry no fastener attribute: the columns are the union of what the rows carry.
    expect(book.headers).not.toContain('螺纹规格');
    expect(book.sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });

    for (const token of [undefined, intruder]) {
      const other = await readXlsx((await download(path, token)).body);
      expect(other.rows.map((row) => row['型号'])).toEqual(['6206']);
    }
  });

  it('XLSX in English: headers, labels and category path in English', async () => {
    const answer = await download(`/api/catalog/search/export?format=xlsx&lang=en&q=6204`, buyer);
    const book = await readXlsx(answer.body);
    expect(book.headers.slice(0, 4)).toEqual(['Name (Chinese)', 'Name (English)', 'Model', 'Brand']);
    expect(book.rows[0]).toMatchObject({
      Model: '6204-2RS',
      Brand: 'SKF',
      Category: 'Bearings / Deep groove ball bearings',
      Status: 'Active',
      Seal: 'Rubber seals 2RS',
    });
  });

  it('passes the search filters through: an attribute range and a brand narrow the file as they narrow the search', async () => {
    const ranged = await http(t.baseUrl, 'GET', '/api/catalog/search?attr.inner_diameter.min=20&limit=100', {
      token: buyer,
    });
    const book = await readXlsx(
      (await download('/api/catalog/search/export?format=xlsx&attr.inner_diameter.min=20', buyer)).body,
    );
    expect(book.rows.map((row) => row['中文名称']).sort()).toEqual(
      ranged.body.items.map((item: Any) => item.nameZh).sort(),
    );
    expect(book.rows.length).toBeGreaterThan(1);
    for (const row of book.rows) expect(row['内径 (mm)']).toBeGreaterThanOrEqual(20);

    const skf = ranged.body.facets.brands.find((brand: Any) => /SKF|斯凯孚/.test(brand.name));
    const branded = await readXlsx(
      (
        await download(
          `/api/catalog/search/export?format=xlsx&attr.inner_diameter.min=20&brand=${skf.id}`,
          buyer,
        )
      ).body,
    );
    expect(branded.rows.length).toBe(skf.count);
    expect(branded.rows.length).toBeLessThan(book.rows.length);
    for (const row of branded.rows) expect(row['品牌']).toBe('斯凯孚');
  });

  it('PDF: Chinese names come back out of the text layer; more rows make more pages', async () => {
    const one = await download(
      `/api/catalog/search/export?format=pdf&q=${encodeURIComponent('6204-2RS')}`,
      buyer,
    );
    expect(one.status).toBe(200);
    expect(one.headers.get('content-type')).toBe('application/pdf');
    expect(one.body.subarray(0, 5).toString()).toBe('%PDF-');
    const small = await readPdf(one.body);
    expect(small.text).toContain('6204-2RS深沟球轴承');
    expect(small.text).toContain('生成时间');
    expect(small.text).toContain('UTC+8');
    expect(small.pages).toBe(1);

    const all = await download('/api/catalog/search/export?format=pdf', buyer);
    const large = await readPdf(all.body);
    expect(large.text).toContain('M8不锈钢六角螺栓');
    expect(large.text).toContain('斯凯孚');
    expect(large.pages).toBeGreaterThan(small.pages);
    expect(all.headers.get('x-export-rows')).toBe('30');
  });

  it('cuts at the row cap and says so in the file, the PDF footer and a header', async () => {
    process.env.HUB_EXPORT_MAX_ROWS = '5';
    try {
      const xlsx = await download('/api/catalog/search/export?format=xlsx', buyer);
      expect(xlsx.headers.get('x-export-truncated')).toBe('true');
      const book = await readXlsx(xlsx.body);
      expect(book.rows).toHaveLength(5);
      const about = book.workbook.worksheets[1]!;
      const notes: string[] = [];
      about.eachRow((row) => notes.push((row.values as unknown[]).filter(Boolean).join(' ')));
      expect(notes.join('\n')).toContain('结果共 30 条，仅导出前 5 条');

      const pdf = await readPdf(
        (await download('/api/catalog/search/export?format=pdf&lang=en', buyer)).body,
      );
      expect(pdf.text).toContain('The result has 30 rows; only the first 5 are exported');
    } finally {
      delete process.env.HUB_EXPORT_MAX_ROWS;
    }
  });

  it('may take longer than the mesh default to resolve a 5,000-row search before the file starts', () => {
    const endpoint = t.hub.broker.registry
      .getActionEndpoints('catalog.export.search')!
      .next(undefined as never) as unknown as { action: { timeout?: number } };
    expect(endpoint.action.timeout).toBe(120_000);
  });

  it('answers 503 for PDF where no CJK font is installed, and still serves XLSX', async () => {
    process.env.HUB_PDF_FONT = '/nowhere/NotoSansCJK-Regular.ttc#NotoSansCJKsc-Regular';
    try {
      const pdf = await http(t.baseUrl, 'GET', '/api/catalog/search/export?format=pdf&q=6204');
      expect(pdf.status).toBe(503);
      expect(pdf.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(pdf.body).toMatchObject({
        type: 'https://hub.local/problems/service-unavailable',
        detail: 'PDF export is not available on this server (it has no CJK font); XLSX export is',
      });
      expect((await download('/api/catalog/search/export?format=xlsx&q=6204')).status).toBe(200);
    } finally {
      delete process.env.HUB_PDF_FONT;
    }
  });

  it('refuses a missing or unknown format and unknown parameters as problem+json with a pointer', async () => {
    const missing = await http(t.baseUrl, 'GET', '/api/catalog/search/export?q=bolt');
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(missing.body.errors).toEqual([expect.objectContaining({ pointer: '/format' })]);
    const unknown = await http(t.baseUrl, 'GET', '/api/catalog/search/export?format=csv');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ pointer: '/format' })]);
    const paging = await http(t.baseUrl, 'GET', '/api/catalog/search/export?format=xlsx&limit=10');
    expect(paging.status).toBe(400);
    expect(paging.body.errors).toEqual([expect.objectContaining({ pointer: '/limit' })]);
  });
});

describe('list export', () => {
  let listId: string;

  it("exports the buyer's own list item by item with quantities, under the list's Chinese name", async () => {
    const created = await http(t.baseUrl, 'POST', '/api/catalog/lists', {
      token: buyer,
      body: { name: '常购清单 A/B' },
    });
    expect(created.status).toBe(201);
    listId = created.body.id;
    for (const [slug, quantity] of [
      ['deep-groove-ball-bearing-6204-2rs', 12],
      ['hex-bolt-din933-m8x30-a2', 500],
    ] as const) {
      const put = await http(t.baseUrl, 'POST', `/api/catalog/lists/${listId}/items`, {
        token: buyer,
        body: { skuId: await skuOf(slug), quantity },
      });
      expect(put.status).toBe(200);
    }

    const answer = await download(`/api/catalog/lists/${listId}/export?format=xlsx`, buyer);
    expect(answer.status).toBe(200);
    const filename = parseContentDisposition(answer.headers.get('content-disposition')!).parameters.filename;
    // The slash cannot be in a saved file's name.
    expect(filename).toMatch(/^常购清单 A_B-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const book = await readXlsx(answer.body);
    expect(book.headers).toContain('数量');
    expect(book.rows.map((row) => [row['SKU 编码'], row['数量']])).toEqual([
      ['6204-2RS', 12],
      ['DIN933-M8X30-A2-100', 500],
    ]);
    const bolt = book.rows[1]!;
    // The SKU's own pack size and variant value; a range attribute as two number columns.
    expect(bolt).toMatchObject({ 包装规格: 100, '长度 (mm)': 30, 材质: '不锈钢A2' });
    expect(book.headers).toEqual(expect.arrayContaining(['工作温度 最小 (°C)', '工作温度 最大 (°C)']));
    expect(bolt['工作温度 最小 (°C)']).toBe(-40);

    const pdf = await readPdf((await download(`/api/catalog/lists/${listId}/export?format=pdf`, buyer)).body);
    expect(pdf.text).toContain('常购清单 A/B');
    expect(pdf.text).toContain('M8不锈钢六角螺栓');
    expect(pdf.text).toContain('6204-2RS深沟球轴承');
  });

  it("is 404 for another buyer's list, 401 for guests, 403 for staff", async () => {
    const foreign = await http(t.baseUrl, 'GET', `/api/catalog/lists/${listId}/export?format=pdf`, {
      token: intruder,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await http(t.baseUrl, 'GET', `/api/catalog/lists/${listId}/export?format=pdf`)).status).toBe(401);
    expect(
      (await http(t.baseUrl, 'GET', `/api/catalog/lists/${listId}/export?format=pdf`, { token: staff }))
        .status,
    ).toBe(403);
  });

  it('leaves out an item whose product the buyer may no longer see', async () => {
    const catalogs = await http(t.baseUrl, 'GET', '/api/staff/catalog/catalogs', { token: staff });
    const gold = catalogs.body.items[0];
    const narrowed = await http(t.baseUrl, 'PATCH', `/api/staff/catalog/catalogs/${gold.id}`, {
      token: staff,
      body: { assignments: [{ kind: 'tier', value: 'gold' }] },
    });
    expect(narrowed.status).toBe(200);
    const book = await readXlsx(
      (await download(`/api/catalog/lists/${listId}/export?format=xlsx`, buyer)).body,
    );
    expect(book.rows.map((row) => row['SKU 编码'])).toEqual(['DIN933-M8X30-A2-100']);
    const pdf = await readPdf((await download(`/api/catalog/lists/${listId}/export?format=pdf`, buyer)).body);
    expect(pdf.text).not.toContain('6204-2RS');
  });
});

describe('staff export', () => {
  it('includes drafts for staff and refuses buyers', async () => {
    const category = (
      await http(t.baseUrl, 'GET', `/api/catalog/products/hex-bolt-din933-m8x30-a2`, { token: staff })
    ).body.category;
    const draft = await http(t.baseUrl, 'POST', '/api/staff/catalog/products', {
      token: staff,
      body: {
        slug: 'draft-bolt',
        nameZh: '草稿螺栓',
        nameEn: 'Draft bolt',
        categoryId: category.id,
        unitOfMeasure: 'pcs',
        skus: [{ code: 'DRAFT-BOLT' }],
      },
    });
    expect(draft.status).toBe(201);
    const answer = await download('/api/staff/catalog/products/export?format=xlsx&lifecycle=draft', staff);
    expect(answer.status).toBe(200);
    const book = await readXlsx(answer.body);
    expect(book.rows.map((row) => [row['中文名称'], row['状态']])).toEqual([['草稿螺栓', '草稿']]);
    expect(await productId('draft-bolt')).toBe(draft.body.id);

    const all = await readXlsx(
      (await download('/api/staff/catalog/products/export?format=xlsx', staff)).body,
    );
    expect(all.rows).toHaveLength(31);
    expect(
      (await http(t.baseUrl, 'GET', '/api/staff/catalog/products/export?format=pdf', { token: buyer }))
        .status,
    ).toBe(403);
  });
});
