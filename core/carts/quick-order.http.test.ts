import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { http, logInAs, type TestHub } from '../platform/testing/start-test-hub.ts';
import {
  assertMatchesSchema,
  createColleague,
  createProducts,
  DEMO_BUYER,
  DEMO_STAFF,
  defaultPriceList,
  setPrices,
  startCartsHub,
  type TestSku,
} from './testing/carts-hub.ts';

/**
 * Quick order and requisition lists end to end on a real PostgreSQL: pasted text, a GBK CSV and an
 * XLSX uploaded through the gateway, a product list merged into a cart, each with its per-row
 * report; the good rows land in one go, the cart's 500-line bound holds.
 */

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

let t: TestHub;
let staff: string;
let buyer: { id: string; token: string };
let skus: Map<string, TestSku>;

beforeAll(async () => {
  t = await startCartsHub();
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  const admin = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  buyer = await createColleague(t.baseUrl, admin, 'quick@acme.example');
  skus = await createProducts(t.hub.broker, [
    { codes: ['QO-BOLT'] },
    { codes: ['QO-NUT'] },
    { codes: ['QO-MOQ'] },
    { codes: ['QO-NOPRICE'] },
    { codes: ['QO-HIDDEN'], isPublic: false },
    { codes: ['QO-LUOSHUAN'] },
    { codes: Array.from({ length: 500 }, (_, i) => `QO-BULK-${String(i).padStart(3, '0')}`) },
  ]);
  const listId = await defaultPriceList(t.baseUrl, staff, 'QO-STD');
  const prices: Record<string, number> = {
    'QO-BOLT': 1130,
    'QO-NUT': 113,
    'QO-MOQ': 500,
    'QO-HIDDEN': 100,
    'QO-LUOSHUAN': 220,
  };
  for (let i = 0; i < 500; i++) prices[`QO-BULK-${String(i).padStart(3, '0')}`] = 100 + i;
  await setPrices(t.baseUrl, staff, listId, prices);
  const rule = await http(t.baseUrl, 'POST', '/api/staff/pricing/quantity-rules', {
    token: staff,
    body: { skuId: skus.get('QO-MOQ')!.skuId, minQty: 10, increment: 10 },
  });
  expect(rule.status).toBe(201);
}, 180_000);

afterAll(async () => {
  await t?.stop();
});

async function newCart(name: string): Promise<Any> {
  const created = await http(t.baseUrl, 'POST', '/api/carts', { token: buyer.token, body: { name } });
  expect(created.status).toBe(201);
  return created.body;
}

function upload(cartId: string, body: Uint8Array, contentType: string, token = buyer.token) {
  return fetch(`${t.baseUrl}/api/carts/${cartId}/quick-order/file`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  }).then(async (response) => ({ status: response.status, body: (await response.json()) as Any }));
}

const verdicts = (answer: Any) =>
  answer.rows.map((r: Any) => [r.row, r.sku, r.quantity, r.status, r.reason, r.mergedIntoRow]);

describe('quick order from pasted text', () => {
  it('judges every row, adds the good ones in one go and reports the rest', async () => {
    const cart = await newCart('Pasted');
    const text = [
      '物料编码\t数量',
      'QO-BOLT\t20',
      'QO-NUT, 15',
      '',
      'QO-BOLT 5',
      'NO-SUCH-SKU 3',
      'QO-HIDDEN 1',
      'QO-MOQ 15',
      'QO-NOPRICE 2',
      'QO-NUT zwei',
      'bad/code! 1',
      'ＱＯ－ＬＵＯＳＨＵＡＮ　８',
    ].join('\n');
    const answer = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
      token: buyer.token,
      body: { text },
    });
    expect(answer.status).toBe(200);
    assertMatchesSchema('api/carts/cart-intake-response', answer.body);
    expect(verdicts(answer.body)).toEqual([
      [2, 'QO-BOLT', 20, 'added', null, null],
      [3, 'QO-NUT', 15, 'added', null, null],
      [5, 'QO-BOLT', 5, 'added', 'duplicate_merged', 2],
      [6, 'NO-SUCH-SKU', 3, 'rejected', 'unknown_sku', null],
      [7, 'QO-HIDDEN', 1, 'rejected', 'not_visible', null],
      [8, 'QO-MOQ', 15, 'rejected', 'not_multiple', null],
      [9, 'QO-NOPRICE', 2, 'rejected', 'no_price', null],
      [10, 'QO-NUT', null, 'rejected', 'invalid_quantity', null],
      [11, 'bad/code!', 1, 'rejected', 'unknown_sku', null],
      [12, 'QO-LUOSHUAN', 8, 'added', null, null],
    ]);
    expect(answer.body).toMatchObject({ added: 4, rejected: 6, stockChecked: false });
    expect(answer.body.rows[5].detail).toBe('is sold in multiples of 10 (pack size)');
    // One transaction: one version step for the whole paste.
    expect(answer.body.cart.version).toBe(2);
    expect(answer.body.cart.lines.map((l: Any) => [l.skuCode, l.quantity, l.status])).toEqual([
      ['QO-BOLT', 25, 'priced'],
      ['QO-NUT', 15, 'priced'],
      ['QO-LUOSHUAN', 8, 'priced'],
    ]);
  });

  it('judges the quantity the cart line ends up with, so a second paste can reach the minimum', async () => {
    const cart = await newCart('Reach the minimum');
    const first = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
      token: buyer.token,
      body: { text: 'QO-MOQ 10' },
    });
    expect(verdicts(first.body)).toEqual([[1, 'QO-MOQ', 10, 'added', null, null]]);
    const second = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
      token: buyer.token,
      body: { text: 'QO-MOQ 5\nQO-MOQ 5' },
    });
    expect(verdicts(second.body)).toEqual([
      [1, 'QO-MOQ', 5, 'added', null, null],
      [2, 'QO-MOQ', 5, 'added', 'duplicate_merged', 1],
    ]);
    expect(second.body.cart.lines[0].quantity).toBe(20);
    const third = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
      token: buyer.token,
      body: { text: 'QO-MOQ 5\nQO-MOQ 1' },
    });
    expect(verdicts(third.body)).toEqual([
      [1, 'QO-MOQ', 5, 'rejected', 'not_multiple', null],
      [2, 'QO-MOQ', 1, 'rejected', 'not_multiple', 1],
    ]);
    expect(third.body.cart).toMatchObject({ version: second.body.cart.version, lines: [{ quantity: 20 }] });
  });

  it('refuses more than 500 rows as a whole, changing nothing', async () => {
    const cart = await newCart('Too long');
    const text = Array.from({ length: 501 }, () => 'QO-BOLT 1').join('\n');
    const answer = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
      token: buyer.token,
      body: { text },
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      type: 'https://hub.local/problems/too-many-rows',
      detail: expect.stringContaining('at most 500 rows'),
    });
    expect(
      (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: buyer.token })).body.lines,
    ).toEqual([]);
  });
});

describe('quick order from files', () => {
  it('a GBK CSV saved by Excel on a Chinese Windows', async () => {
    const cart = await newCart('GBK CSV');
    const csv = iconv.encode(
      '物料编码,数量,备注\r\nQO-BOLT,12,六角螺栓\r\nQO-NUT,"1,000",螺母\r\nQO-HIDDEN,1,\r\n',
      'gbk',
    );
    const answer = await upload(cart.id, csv, 'application/vnd.ms-excel');
    expect(answer.status).toBe(200);
    assertMatchesSchema('api/carts/cart-intake-response', answer.body);
    expect(verdicts(answer.body)).toEqual([
      [2, 'QO-BOLT', 12, 'added', null, null],
      [3, 'QO-NUT', 1000, 'added', null, null],
      [4, 'QO-HIDDEN', 1, 'rejected', 'not_visible', null],
    ]);
    expect(answer.body.cart.lines.map((l: Any) => [l.skuCode, l.quantity])).toEqual([
      ['QO-BOLT', 12],
      ['QO-NUT', 1000],
    ]);
  });

  it('an XLSX workbook with its columns anywhere and numeric quantities', async () => {
    const cart = await newCart('XLSX');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('采购单');
    sheet.addRow(['序号', '说明', 'SKU', 'Qty']);
    sheet.addRow([1, '螺栓', 'QO-BOLT', 30]);
    sheet.addRow([2, '螺母', 'QO-NUT', { formula: '2*20', result: 40 }]);
    sheet.addRow([3, '不存在', 'QO-NOTHING', 1]);
    sheet.addRow([4, '起订量', 'QO-MOQ', 5]);
    const bytes = new Uint8Array(await book.xlsx.writeBuffer());
    const answer = await upload(cart.id, bytes, XLSX);
    expect(answer.status).toBe(200);
    expect(verdicts(answer.body)).toEqual([
      [2, 'QO-BOLT', 30, 'added', null, null],
      [3, 'QO-NUT', 40, 'added', null, null],
      [4, 'QO-NOTHING', 1, 'rejected', 'unknown_sku', null],
      [5, 'QO-MOQ', 5, 'rejected', 'below_moq', null],
    ]);
    expect(answer.body.cart.totals.gross.amountMinor).toBe(String(30 * 1130 + 40 * 113));
  });

  it('refuses other media types (415), larger files (413), unreadable ones (422), and carts not theirs (404)', async () => {
    const cart = await newCart('Refusals');
    expect((await upload(cart.id, Buffer.from('{}'), 'application/json')).status).toBe(415);
    const big = Buffer.alloc(2 * 1024 * 1024 + 1, 0x41);
    expect((await upload(cart.id, big, 'text/csv')).status).toBe(413);
    const broken = await upload(cart.id, Buffer.from('PK\u0003\u0004 not really a zip'), XLSX);
    expect([broken.status, broken.body.type]).toEqual([422, expect.stringContaining('unreadable-file')]);
    const stranger = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
    expect((await upload(cart.id, Buffer.from('QO-BOLT,1\n'), 'text/csv', stranger)).status).toBe(404);
    expect(
      (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: buyer.token })).body.lines,
    ).toEqual([]);
  });
});

describe('requisition lists into a cart', () => {
  it('merges a product list: quantities add up, skipped items say why', async () => {
    const cart = await newCart('From list');
    await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/lines`, {
      token: buyer.token,
      body: { code: 'QO-BOLT', quantity: 3 },
    });
    const list = await http(t.baseUrl, 'POST', '/api/catalog/lists', {
      token: buyer.token,
      body: { name: '每月常购' },
    });
    expect(list.status).toBe(201);
    for (const [code, quantity] of [
      ['QO-BOLT', 5],
      ['QO-NUT', 7],
      ['QO-MOQ', 3],
      ['QO-LUOSHUAN', 2],
    ] as const) {
      const put = await http(t.baseUrl, 'POST', `/api/catalog/lists/${list.body.id}/items`, {
        token: buyer.token,
        body: { skuId: skus.get(code)!.skuId, quantity },
      });
      expect(put.status).toBe(200);
    }
    // Staff hide one product after it went on the list.
    await t.hub.broker.call(
      'catalog.products.update',
      { id: skus.get('QO-LUOSHUAN')!.productId, isPublic: false },
      { meta: { auth: { kind: 'staff', principalId: buyer.id, companyId: null, permissions: ['*'] } } },
    );
    const merged = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/lines/from-list`, {
      token: buyer.token,
      body: { listId: list.body.id },
    });
    expect(merged.status).toBe(200);
    assertMatchesSchema('api/carts/cart-intake-response', merged.body);
    expect(verdicts(merged.body)).toEqual([
      [1, 'QO-BOLT', 5, 'added', null, null],
      [2, 'QO-NUT', 7, 'added', null, null],
      [3, 'QO-MOQ', 3, 'rejected', 'below_moq', null],
      [4, 'QO-LUOSHUAN', 2, 'rejected', 'not_visible', null],
    ]);
    expect(merged.body.cart.lines.map((l: Any) => [l.skuCode, l.quantity])).toEqual([
      ['QO-BOLT', 8],
      ['QO-NUT', 7],
    ]);
    // The list itself is unchanged, and another buyer's list is not found.
    const admin = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
    const theirs = await http(t.baseUrl, 'POST', '/api/catalog/lists', {
      token: admin,
      body: { name: 'Admin list' },
    });
    const foreign = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/lines/from-list`, {
      token: buyer.token,
      body: { listId: theirs.body.id },
    });
    expect(foreign.status).toBe(404);
  });
});

describe('bounds', () => {
  it('a cart holds at most 500 lines: a full cart takes more of its SKUs, no new ones', async () => {
    const cart = await newCart('Bulk');
    const text = Array.from(
      { length: 500 },
      (_, i) => `QO-BULK-${String(i).padStart(3, '0')}\t${i + 1}`,
    ).join('\n');
    const started = performance.now();
    const filled = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
      token: buyer.token,
      body: { text },
    });
    const elapsed = performance.now() - started;
    expect(filled.status).toBe(200);
    expect(filled.body).toMatchObject({ added: 500, rejected: 0 });
    expect(filled.body.cart.lines).toHaveLength(500);
    expect(filled.body.cart.totals.pricedLines).toBe(500);
    let gross = 0n;
    for (let i = 0; i < 500; i++) gross += BigInt((100 + i) * (i + 1));
    expect(filled.body.cart.totals.gross.amountMinor).toBe(String(gross));
    process.stdout.write(`quick order of 500 rows into an empty cart: ${elapsed.toFixed(0)} ms\n`);

    const more = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
      token: buyer.token,
      body: { text: 'QO-BOLT 1\nQO-BULK-000 4' },
    });
    expect(verdicts(more.body)).toEqual([
      [1, 'QO-BOLT', 1, 'rejected', 'cart_full', null],
      [2, 'QO-BULK-000', 4, 'added', null, null],
    ]);
    expect(more.body.cart.lines[0].quantity).toBe(5);
    const single = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/lines`, {
      token: buyer.token,
      body: { code: 'QO-NUT', quantity: 1 },
    });
    expect([single.status, single.body.type]).toEqual([422, 'https://hub.local/problems/cart-full']);
  });

  it('a line holds at most 1,000,000 units, however it is reached', async () => {
    const cart = await newCart('Huge');
    await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/lines`, {
      token: buyer.token,
      body: { code: 'QO-NUT', quantity: 999_999 },
    });
    const answer = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
      token: buyer.token,
      body: { text: 'QO-NUT 1\nQO-NUT 1' },
    });
    expect(verdicts(answer.body)).toEqual([
      [1, 'QO-NUT', 1, 'rejected', 'invalid_quantity', null],
      [2, 'QO-NUT', 1, 'rejected', 'invalid_quantity', 1],
    ]);
    expect(answer.body.cart.lines[0].quantity).toBe(999_999);
  });

  it('a buyer keeps at most 50 carts', async () => {
    const admin = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
    const hoarder = await createColleague(t.baseUrl, admin, 'hoarder@acme.example');
    const answers = await Promise.all(
      Array.from({ length: 51 }, (_, i) =>
        http(t.baseUrl, 'POST', '/api/carts', { token: hoarder.token, body: { name: `Cart ${i}` } }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(50);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(1);
    const list = await http(t.baseUrl, 'GET', '/api/carts', { token: hoarder.token });
    expect(list.body.items).toHaveLength(50);
    expect(list.body.items.filter((c: Any) => c.isDefault)).toHaveLength(1);
  });
});

describe('stock, once an inventory service answers on the mesh', () => {
  it('rejects rows beyond what is available, asked with the buyer context, and says stock was checked', async () => {
    const available = new Map([
      [skus.get('QO-BOLT')!.skuId, 50],
      [skus.get('QO-NUT')!.skuId, 10],
    ]);
    const askedFor: Array<{ companyId: string | null; lines: unknown }> = [];
    // Stands in for issue 6's inventory domain: the contract stock-check.ts documents.
    const inventory = await t.hub.broker.createService({
      name: 'inventory',
      actions: {
        'internal.available': {
          visibility: 'public',
          handler(ctx: Any) {
            askedFor.push({ companyId: ctx.meta.auth?.companyId ?? null, lines: ctx.params.lines });
            return {
              items: ctx.params.lines.map((line: Any) => ({
                skuId: line.skuId,
                available: available.get(line.skuId) ?? 0,
              })),
            };
          },
        },
      },
    });
    try {
      await t.hub.broker.waitForServices('inventory');
      const cart = await newCart('Stock');
      const answer = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
        token: buyer.token,
        body: { text: 'QO-BOLT 40\nQO-NUT 5\nQO-BOLT 20\nQO-LUOSHUAN 1' },
      });
      expect(answer.status).toBe(200);
      expect(verdicts(answer.body)).toEqual([
        [1, 'QO-BOLT', 40, 'rejected', 'insufficient_stock', null],
        [2, 'QO-NUT', 5, 'added', null, null],
        [3, 'QO-BOLT', 20, 'rejected', 'insufficient_stock', 1],
        [4, 'QO-LUOSHUAN', 1, 'rejected', 'not_visible', null],
      ]);
      expect(answer.body.rows[0].detail).toBe('only 50 available now');
      expect(answer.body.stockChecked).toBe(true);
      const company = (await http(t.baseUrl, 'GET', '/api/company', { token: buyer.token })).body.id;
      expect(askedFor).toEqual([
        {
          companyId: company,
          lines: [
            { skuId: skus.get('QO-BOLT')!.skuId, quantity: 60 },
            { skuId: skus.get('QO-NUT')!.skuId, quantity: 5 },
          ],
        },
      ]);
    } finally {
      await t.hub.broker.destroyService(inventory);
    }
  });
});
