import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { http, logInAs, type TestHub } from '../platform/testing/start-test-hub.ts';
import {
  asCatalogStaff,
  assertMatchesSchema,
  createColleague,
  createProducts,
  DEMO_BUYER,
  DEMO_STAFF,
  defaultPriceList,
  setPrices,
  startCartsHub,
  sumMinor,
  type TestSku,
} from './testing/carts-hub.ts';

/**
 * Carts end to end through the gateway on a real PostgreSQL: several named carts per buyer kept
 * across logins, repricing at the buyer's current prices (staff change a price through pricing's
 * staff API), stale-price warnings and their acknowledgement, line problems, sharing with
 * colleagues and a superior, and optimistic concurrency between two editors.
 */

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Any = any;

let t: TestHub;
let staff: string;
let admin: string;
let skus: Map<string, TestSku>;
let listId: string;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
let carol: { id: string; token: string };
let dave: { id: string; token: string };
let boss: { id: string; token: string };
let outsider: string;

const sku = (code: string) => skus.get(code)!;

beforeAll(async () => {
  t = await startCartsHub();
  staff = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  admin = await logInAs(t.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  skus = await createProducts(t.hub.broker, [
    { codes: ['CT-BOLT'] },
    { codes: ['CT-NUT'] },
    { codes: ['CT-WASHER'] },
    { codes: ['CT-MOQ'] },
    { codes: ['CT-OLD'] },
    { codes: ['CT-NOPRICE'] },
    { codes: ['CT-SECRET'], isPublic: false },
  ]);
  listId = await defaultPriceList(t.baseUrl, staff, 'CT-STD');
  await setPrices(t.baseUrl, staff, listId, {
    'CT-BOLT': 1130,
    'CT-NUT': 113,
    'CT-WASHER': 57,
    'CT-MOQ': 2000,
    'CT-OLD': 999,
    'CT-SECRET': 5000,
  });
  const rule = await http(t.baseUrl, 'POST', '/api/staff/pricing/quantity-rules', {
    token: staff,
    body: { skuId: sku('CT-MOQ').skuId, minQty: 10, increment: 5, maxQty: 1000 },
  });
  expect(rule.status).toBe(201);

  const units = await http(t.baseUrl, 'GET', '/api/units', { token: admin });
  const rootId = units.body.items[0].id;
  boss = await createColleague(t.baseUrl, admin, 'boss@acme.example', { roles: ['approver'] });
  const unit = await http(t.baseUrl, 'POST', '/api/units', {
    token: admin,
    body: { parentId: rootId, name: '设备维修 Maintenance', managerUserId: boss.id },
  });
  expect(unit.status).toBe(201);
  alice = await createColleague(t.baseUrl, admin, 'alice@acme.example', { unitId: unit.body.id });
  bob = await createColleague(t.baseUrl, admin, 'bob@acme.example');
  carol = await createColleague(t.baseUrl, admin, 'carol@acme.example');
  dave = await createColleague(t.baseUrl, admin, 'dave@acme.example');

  const other = await http(t.baseUrl, 'POST', '/api/staff/companies', {
    token: staff,
    body: {
      name: 'Other Co',
      status: 'active',
      admin: { email: 'admin@other.example', displayName: 'Other admin', password: 'other-password-1' },
    },
  });
  expect(other.status).toBe(201);
  outsider = await logInAs(t.baseUrl, 'admin@other.example', 'other-password-1');
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

async function newCart(token: string, name: string, isDefault = false): Promise<Any> {
  const created = await http(t.baseUrl, 'POST', '/api/carts', { token, body: { name, isDefault } });
  expect(created.status).toBe(201);
  return created.body;
}

async function addLine(token: string, cartId: string, body: object) {
  return http(t.baseUrl, 'POST', `/api/carts/${cartId}/lines`, { token, body });
}

describe('named carts', () => {
  it('a buyer keeps several named carts; the first is current; they survive a new login', async () => {
    const first = await newCart(alice.token, 'Line 2 maintenance');
    assertMatchesSchema('entities/cart', first);
    expect(first).toMatchObject({
      name: 'Line 2 maintenance',
      isDefault: true,
      ownerId: alice.id,
      access: 'owner',
      version: 1,
      lines: [],
      totals: null,
      currency: null,
      warnings: [],
    });
    const second = await newCart(alice.token, 'Line 3 spares');
    expect(second.isDefault).toBe(false);
    const added = await addLine(alice.token, second.id, { code: 'CT-BOLT', quantity: 4 });
    expect(added.status).toBe(200);
    expect(added.body.version).toBe(2);

    const duplicate = await http(t.baseUrl, 'POST', '/api/carts', {
      token: alice.token,
      body: { name: 'Line 3 spares' },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.errors).toEqual([{ pointer: '/name', detail: expect.any(String) }]);

    // A new session (a new login) sees the same carts and lines.
    const again = await logInAs(t.baseUrl, 'alice@acme.example', 'colleague-pass-1');
    const list = await http(t.baseUrl, 'GET', '/api/carts', { token: again });
    expect(list.status).toBe(200);
    assertMatchesSchema('api/carts/cart-list-response', list.body);
    expect(list.body.items.map((c: Any) => [c.name, c.isDefault, c.lineCount, c.access])).toEqual([
      ['Line 2 maintenance', true, 0, 'owner'],
      ['Line 3 spares', false, 1, 'owner'],
    ]);
    const current = await http(t.baseUrl, 'GET', '/api/carts/current', { token: again });
    expect(current.body.id).toBe(first.id);
    const reread = await http(t.baseUrl, 'GET', `/api/carts/${second.id}`, { token: again });
    expect(reread.body.lines.map((l: Any) => [l.skuCode, l.quantity])).toEqual([['CT-BOLT', 4]]);

    // Making the second cart current moves the flag; a stale version is refused.
    const stale = await http(t.baseUrl, 'PATCH', `/api/carts/${second.id}`, {
      token: again,
      body: { version: 1, isDefault: true },
    });
    expect(stale.status).toBe(409);
    const switched = await http(t.baseUrl, 'PATCH', `/api/carts/${second.id}`, {
      token: again,
      body: { version: 2, isDefault: true },
    });
    expect(switched.status).toBe(200);
    expect((await http(t.baseUrl, 'GET', '/api/carts/current', { token: again })).body.id).toBe(second.id);
    const firstNow = await http(t.baseUrl, 'GET', `/api/carts/${first.id}`, { token: again });
    expect(firstNow.body.isDefault).toBe(false);
  });

  it('the current cart is made on first use, once', async () => {
    const [a, b] = await Promise.all([
      http(t.baseUrl, 'GET', '/api/carts/current', { token: dave.token }),
      http(t.baseUrl, 'GET', '/api/carts/current', { token: dave.token }),
    ]);
    expect(a.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
    expect(a.body).toMatchObject({ name: 'Cart', isDefault: true, ownerId: dave.id });
    const list = await http(t.baseUrl, 'GET', '/api/carts', { token: dave.token });
    expect(list.body.items).toHaveLength(1);
  });

  it('of carts made current at the same time, one ends up current, without errors', async () => {
    const carts = await Promise.all(
      ['Race A', 'Race B', 'Race C', 'Race D'].map((name) => newCart(carol.token, name)),
    );
    const answers = await Promise.all(
      carts.map((cart) =>
        http(t.baseUrl, 'PATCH', `/api/carts/${cart.id}`, {
          token: carol.token,
          body: { version: cart.version, isDefault: true },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const list = await http(t.baseUrl, 'GET', '/api/carts', { token: carol.token });
    expect(list.body.items.filter((c: Any) => c.isDefault)).toHaveLength(1);
  });

  it('the owner deletes a cart; it is gone for good', async () => {
    const cart = await newCart(dave.token, 'Throwaway');
    const deleted = await http(t.baseUrl, 'DELETE', `/api/carts/${cart.id}`, { token: dave.token });
    expect(deleted.status).toBe(200);
    expect((await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: dave.token })).status).toBe(404);
  });
});

describe('repricing and stale prices', () => {
  let cart: Any;

  it('a cart is priced at the current prices; its totals are the sums of its lines', async () => {
    cart = await newCart(bob.token, 'Repricing');
    await addLine(bob.token, cart.id, { code: 'CT-BOLT', quantity: 3 });
    await addLine(bob.token, cart.id, { skuId: sku('CT-NUT').skuId, quantity: 10, note: '备用' });
    const answer = await addLine(bob.token, cart.id, { code: 'CT-WASHER', quantity: 7 });
    expect(answer.status).toBe(200);
    assertMatchesSchema('entities/cart', answer.body);
    const lines = answer.body.lines;
    expect(
      lines.map((l: Any) => [l.skuCode, l.quantity, l.status, l.unitPrice.amountMinor, l.gross.amountMinor]),
    ).toEqual([
      ['CT-BOLT', 3, 'priced', '1130', '3390'],
      ['CT-NUT', 10, 'priced', '113', '1130'],
      ['CT-WASHER', 7, 'priced', '57', '399'],
    ]);
    expect(lines[1]).toMatchObject({
      note: '备用',
      nameEn: 'Product CT-NUT',
      unit: 'pcs',
      priceListCode: 'CT-STD',
    });
    expect(lines.every((l: Any) => l.seenUnitPrice.amountMinor === l.unitPrice.amountMinor)).toBe(true);
    const { totals } = answer.body;
    expect(totals.gross.amountMinor).toBe('4919');
    expect(BigInt(totals.net.amountMinor)).toBe(sumMinor(lines.map((l: Any) => l.net)));
    expect(BigInt(totals.tax.amountMinor)).toBe(sumMinor(lines.map((l: Any) => l.tax)));
    expect(BigInt(totals.gross.amountMinor)).toBe(sumMinor(lines.map((l: Any) => l.gross)));
    expect(BigInt(totals.net.amountMinor) + BigInt(totals.tax.amountMinor)).toBe(
      BigInt(totals.gross.amountMinor),
    );
    expect(totals).toMatchObject({ pricedLines: 3, problemLines: 0 });
    expect(answer.body.warnings).toEqual([]);
  });

  it('adding the same SKU again adds up the quantities on one line', async () => {
    const answer = await addLine(bob.token, cart.id, { code: 'CT-BOLT', quantity: 2 });
    expect(answer.body.lines.filter((l: Any) => l.skuCode === 'CT-BOLT').map((l: Any) => l.quantity)).toEqual(
      [5],
    );
  });

  it('a price changed by staff shows at once, with a warning naming the old and new price', async () => {
    await setPrices(t.baseUrl, staff, listId, { 'CT-BOLT': 1250 });
    const answer = await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: bob.token });
    assertMatchesSchema('entities/cart', answer.body);
    const bolt = answer.body.lines.find((l: Any) => l.skuCode === 'CT-BOLT');
    expect(bolt.unitPrice.amountMinor).toBe('1250');
    expect(bolt.gross.amountMinor).toBe('6250');
    expect(bolt.seenUnitPrice.amountMinor).toBe('1130');
    expect(answer.body.totals.gross.amountMinor).toBe(String(6250 + 1130 + 399));
    expect(answer.body.warnings).toEqual([
      {
        code: 'price_changed',
        lineId: bolt.id,
        skuCode: 'CT-BOLT',
        previous: { amountMinor: '1130', currency: 'CNY' },
        current: { amountMinor: '1250', currency: 'CNY' },
      },
    ]);
  });

  it('acknowledging the prices at a stale version is refused; at the current one it clears the warning', async () => {
    const before = await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: bob.token });
    const stale = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/acknowledge-prices`, {
      token: bob.token,
      body: { version: before.body.version - 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      type: 'https://hub.local/problems/conflict',
      errors: [{ pointer: '/version', detail: `is not the current version (${before.body.version})` }],
    });
    const acknowledged = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/acknowledge-prices`, {
      token: bob.token,
      body: { version: before.body.version },
    });
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body.warnings).toEqual([]);
    expect(acknowledged.body.version).toBe(before.body.version + 1);
    const bolt = acknowledged.body.lines.find((l: Any) => l.skuCode === 'CT-BOLT');
    expect(bolt.seenUnitPrice).toEqual({ amountMinor: '1250', currency: 'CNY' });
    // And it stays cleared on the next read.
    expect(
      (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: bob.token })).body.warnings,
    ).toEqual([]);
  });
});

describe('line rules and problems', () => {
  let cart: Any;

  it('a line below the minimum, off the pack increment, unknown, hidden or unpriced does not go in', async () => {
    cart = await newCart(carol.token, 'Rules');
    const cases: Array<[object, number, string, string]> = [
      [{ code: 'CT-MOQ', quantity: 3 }, 422, 'below_moq', '/quantity'],
      [{ code: 'CT-MOQ', quantity: 12 }, 422, 'not_multiple', '/quantity'],
      [{ code: 'CT-MOQ', quantity: 1005 }, 422, 'above_max', '/quantity'],
      [{ code: 'NO-SUCH-SKU', quantity: 1 }, 422, 'unknown_sku', '/code'],
      [{ code: 'CT-SECRET', quantity: 1 }, 422, 'not_visible', '/code'],
      [{ skuId: sku('CT-NOPRICE').skuId, quantity: 1 }, 422, 'no_price', '/skuId'],
    ];
    for (const [body, status, reason, pointer] of cases) {
      const answer = await addLine(carol.token, cart.id, body);
      expect([
        JSON.stringify(body),
        answer.status,
        answer.body.type,
        answer.body.errors?.[0]?.pointer,
      ]).toEqual([
        JSON.stringify(body),
        status,
        `https://hub.local/problems/${reason.replaceAll('_', '-')}`,
        pointer,
      ]);
    }
    const unchanged = await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: carol.token });
    expect(unchanged.body).toMatchObject({ version: 1, lines: [] });
    const fine = await addLine(carol.token, cart.id, { code: 'CT-MOQ', quantity: 15 });
    expect(fine.status).toBe(200);
    expect(fine.body.lines[0]).toMatchObject({
      skuCode: 'CT-MOQ',
      quantity: 15,
      status: 'priced',
      quantityRule: { minQty: '10', maxQty: '1000', increment: '5' },
    });
  });

  it('a rule or product changed later shows as a line problem, left out of the totals', async () => {
    await addLine(carol.token, cart.id, { code: 'CT-OLD', quantity: 2 });
    await addLine(carol.token, cart.id, { code: 'CT-NUT', quantity: 1 });
    const rules = await http(
      t.baseUrl,
      'GET',
      `/api/staff/pricing/quantity-rules?skuId=${sku('CT-MOQ').skuId}`,
      {
        token: staff,
      },
    );
    const rule = rules.body.items[0];
    const raised = await http(t.baseUrl, 'PATCH', `/api/staff/pricing/quantity-rules/${rule.id}`, {
      token: staff,
      body: { minQty: 20 },
    });
    expect(raised.status).toBe(200);
    await asCatalogStaff(t.hub.broker, 'catalog.products.lifecycle', {
      id: sku('CT-OLD').productId,
      lifecycle: 'discontinued',
    });
    const answer = await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: carol.token });
    assertMatchesSchema('entities/cart', answer.body);
    const byCode = Object.fromEntries(answer.body.lines.map((l: Any) => [l.skuCode, l]));
    expect(byCode['CT-MOQ']).toMatchObject({
      status: 'problem',
      gross: null,
      problems: [{ code: 'below_moq', detail: expect.stringContaining('20') }],
    });
    expect(byCode['CT-OLD']).toMatchObject({ status: 'problem', problems: [{ code: 'not_orderable' }] });
    expect(byCode['CT-NUT']).toMatchObject({ status: 'priced' });
    expect(answer.body.totals).toMatchObject({
      pricedLines: 1,
      problemLines: 2,
      gross: { amountMinor: byCode['CT-NUT'].gross.amountMinor },
    });

    // A product hidden from the buyer later reads as not visible, under the code it was added with.
    await asCatalogStaff(t.hub.broker, 'catalog.products.update', {
      id: sku('CT-NUT').productId,
      isPublic: false,
    });
    const hidden = await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: carol.token });
    const nut = hidden.body.lines.find((l: Any) => l.skuCode === 'CT-NUT');
    expect(nut).toMatchObject({
      status: 'problem',
      productId: null,
      nameEn: null,
      problems: [{ code: 'not_visible' }],
    });
    expect(hidden.body.totals.pricedLines).toBe(0);
    await asCatalogStaff(t.hub.broker, 'catalog.products.update', {
      id: sku('CT-NUT').productId,
      isPublic: true,
    });
  });

  it('changing a quantity is judged like adding; removing needs the current version', async () => {
    const cartNow = (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: carol.token })).body;
    const moq = cartNow.lines.find((l: Any) => l.skuCode === 'CT-MOQ');
    const tooFew = await http(t.baseUrl, 'PATCH', `/api/carts/${cart.id}/lines/${moq.id}`, {
      token: carol.token,
      body: { version: cartNow.version, quantity: 18 },
    });
    expect(tooFew.status).toBe(422);
    expect(tooFew.body.type).toBe('https://hub.local/problems/below-moq');
    const fixed = await http(t.baseUrl, 'PATCH', `/api/carts/${cart.id}/lines/${moq.id}`, {
      token: carol.token,
      body: { version: cartNow.version, quantity: 20, note: '月底前' },
    });
    expect(fixed.status).toBe(200);
    expect(fixed.body.lines.find((l: Any) => l.id === moq.id)).toMatchObject({
      quantity: 20,
      note: '月底前',
      status: 'priced',
    });
    const old = fixed.body.lines.find((l: Any) => l.skuCode === 'CT-OLD');
    const staleDelete = await http(
      t.baseUrl,
      'DELETE',
      `/api/carts/${cart.id}/lines/${old.id}?version=${cartNow.version}`,
      {
        token: carol.token,
      },
    );
    expect(staleDelete.status).toBe(409);
    const removed = await http(
      t.baseUrl,
      'DELETE',
      `/api/carts/${cart.id}/lines/${old.id}?version=${fixed.body.version}`,
      {
        token: carol.token,
      },
    );
    expect(removed.status).toBe(200);
    expect(removed.body.lines.map((l: Any) => l.skuCode).sort()).toEqual(['CT-MOQ', 'CT-NUT']);
  });

  it('quantities are whole numbers from 1 to 1,000,000', async () => {
    for (const quantity of [0, 1_000_001, 2.5]) {
      const answer = await addLine(carol.token, cart.id, { code: 'CT-BOLT', quantity });
      expect([quantity, answer.status, answer.body.errors[0].pointer]).toEqual([quantity, 400, '/quantity']);
    }
  });
});

describe('sharing', () => {
  let cart: Any;

  it('the owner shares a cart to view with one colleague and to edit with another', async () => {
    cart = await newCart(alice.token, 'Shared for review');
    await addLine(alice.token, cart.id, { code: 'CT-BOLT', quantity: 10 });
    const viewShare = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/shares`, {
      token: alice.token,
      body: { userId: bob.id, role: 'view' },
    });
    expect(viewShare.status).toBe(200);
    assertMatchesSchema('api/carts/cart-shares-response', viewShare.body);
    const editShare = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/shares`, {
      token: alice.token,
      body: { userId: carol.id, role: 'edit' },
    });
    expect(editShare.body.items.map((s: Any) => [s.userId, s.role, s.sharedBy])).toEqual([
      [bob.id, 'view', alice.id],
      [carol.id, 'edit', alice.id],
    ]);

    const bobList = await http(t.baseUrl, 'GET', '/api/carts', { token: bob.token });
    expect(bobList.body.items.find((c: Any) => c.id === cart.id)).toMatchObject({
      access: 'view',
      ownerId: alice.id,
    });
    const bobView = await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: bob.token });
    expect(bobView.status).toBe(200);
    expect(bobView.body).toMatchObject({ access: 'view', lines: [{ skuCode: 'CT-BOLT', quantity: 10 }] });
    expect(bobView.body.shares).toHaveLength(2);
  });

  it('a viewer cannot change anything; an editor changes lines but cannot share', async () => {
    const current = (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: bob.token })).body;
    const line = current.lines[0];
    const attempts = [
      await addLine(bob.token, cart.id, { code: 'CT-NUT', quantity: 1 }),
      await http(t.baseUrl, 'PATCH', `/api/carts/${cart.id}/lines/${line.id}`, {
        token: bob.token,
        body: { version: current.version, quantity: 20 },
      }),
      await http(t.baseUrl, 'DELETE', `/api/carts/${cart.id}/lines/${line.id}?version=${current.version}`, {
        token: bob.token,
      }),
      await http(t.baseUrl, 'PATCH', `/api/carts/${cart.id}`, {
        token: bob.token,
        body: { version: current.version, name: 'Hijacked' },
      }),
      await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/quick-order`, {
        token: bob.token,
        body: { text: 'CT-NUT 1' },
      }),
      await http(t.baseUrl, 'DELETE', `/api/carts/${cart.id}`, { token: bob.token }),
    ];
    expect(attempts.map((a) => a.status)).toEqual([403, 403, 403, 403, 403, 403]);

    const edited = await addLine(carol.token, cart.id, { code: 'CT-NUT', quantity: 5 });
    expect(edited.status).toBe(200);
    expect(edited.body.access).toBe('edit');
    expect(edited.body.lines.find((l: Any) => l.skuCode === 'CT-NUT').addedBy).toBe(carol.id);
    const reshare = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/shares`, {
      token: carol.token,
      body: { userId: dave.id, role: 'edit' },
    });
    expect(reshare.status).toBe(403);
    const deleteByEditor = await http(t.baseUrl, 'DELETE', `/api/carts/${cart.id}`, { token: carol.token });
    expect(deleteByEditor.status).toBe(403);
  });

  it('a colleague it is not shared with, and anyone of another company, gets 404', async () => {
    for (const token of [dave.token, outsider]) {
      const answers = [
        await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token }),
        await addLine(token, cart.id, { code: 'CT-NUT', quantity: 1 }),
        await http(t.baseUrl, 'GET', `/api/carts/${cart.id}/shares`, { token }),
      ];
      expect(answers.map((a) => a.status)).toEqual([404, 404, 404]);
    }
    expect(
      (await http(t.baseUrl, 'GET', '/api/carts', { token: dave.token })).body.items.map((c: Any) => c.id),
    ).not.toContain(cart.id);
  });

  it('sharing with someone of another company reads like an unknown user; disabled colleagues are refused', async () => {
    const otherUsers = await http(t.baseUrl, 'GET', '/api/users', { token: outsider });
    const foreign = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/shares`, {
      token: alice.token,
      body: { userId: otherUsers.body.items[0].id, role: 'view' },
    });
    expect(foreign.status).toBe(404);
    const ghost = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/shares`, {
      token: alice.token,
      body: { userId: '00000000-0000-4000-8000-000000000000', role: 'view' },
    });
    expect({ ...ghost.body, instance: undefined, requestId: undefined }).toEqual({
      ...foreign.body,
      instance: undefined,
      requestId: undefined,
    });
    const disabled = await createColleague(t.baseUrl, admin, 'gone@acme.example');
    expect(
      (await http(t.baseUrl, 'POST', `/api/users/${disabled.id}/disable`, { token: admin })).status,
    ).toBe(200);
    const refused = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/shares`, {
      token: alice.token,
      body: { userId: disabled.id, role: 'view' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.type).toContain('user-not-active');
  });

  it("the owner shares with their superior (their department's manager)", async () => {
    const shared = await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/shares`, {
      token: alice.token,
      body: { manager: true, role: 'view' },
    });
    expect(shared.status).toBe(200);
    expect(shared.body.items.find((s: Any) => s.userId === boss.id)).toMatchObject({ role: 'view' });
    const bossView = await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: boss.token });
    expect(bossView.status).toBe(200);
    // Bob is in no department: there is no superior to share with.
    const bobCart = await newCart(bob.token, 'No boss');
    const none = await http(t.baseUrl, 'POST', `/api/carts/${bobCart.id}/shares`, {
      token: bob.token,
      body: { manager: true, role: 'view' },
    });
    expect(none.status).toBe(422);
  });

  it('sharing is audited and announced; a revoked colleague gets 404', async () => {
    const { rows: audit } = await t.hub.platform.db.query(
      `SELECT actor_id, action, details FROM platform.audit_log WHERE entity_id = $1 ORDER BY id`,
      [cart.id],
    );
    expect(audit.map((r) => [r.actor_id, r.action, r.details.userId, r.details.role])).toEqual([
      [alice.id, 'cart.shared', bob.id, 'view'],
      [alice.id, 'cart.shared', carol.id, 'edit'],
      [alice.id, 'cart.shared', boss.id, 'view'],
    ]);
    const { rows: events } = await t.hub.platform.db.query(
      `SELECT payload FROM platform.outbox WHERE topic = 'cart.shared' AND payload->>'cartId' = $1 ORDER BY id`,
      [cart.id],
    );
    expect(events.map((e) => e.payload.userId)).toEqual([bob.id, carol.id, boss.id]);

    const revoked = await http(t.baseUrl, 'DELETE', `/api/carts/${cart.id}/shares/${carol.id}`, {
      token: alice.token,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.items.map((s: Any) => s.userId)).not.toContain(carol.id);
    expect((await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: carol.token })).status).toBe(404);
    // A viewer may leave a cart shared with them, not revoke others.
    expect(
      (await http(t.baseUrl, 'DELETE', `/api/carts/${cart.id}/shares/${boss.id}`, { token: bob.token }))
        .status,
    ).toBe(403);
    expect(
      (await http(t.baseUrl, 'DELETE', `/api/carts/${cart.id}/shares/${bob.id}`, { token: bob.token }))
        .status,
    ).toBe(200);
    expect((await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: bob.token })).status).toBe(404);
  });
});

describe('two people editing one cart', () => {
  let cart: Any;

  beforeAll(async () => {
    cart = await newCart(alice.token, 'Together');
    await addLine(alice.token, cart.id, { code: 'CT-BOLT', quantity: 1 });
    await http(t.baseUrl, 'POST', `/api/carts/${cart.id}/shares`, {
      token: alice.token,
      body: { userId: carol.id, role: 'edit' },
    });
  });

  it('the second change made from the same version gets 409 and changes nothing', async () => {
    const seen = (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: carol.token })).body;
    const line = seen.lines[0];
    const first = await http(t.baseUrl, 'PATCH', `/api/carts/${cart.id}/lines/${line.id}`, {
      token: alice.token,
      body: { version: seen.version, quantity: 30 },
    });
    expect(first.status).toBe(200);
    const second = await http(t.baseUrl, 'PATCH', `/api/carts/${cart.id}/lines/${line.id}`, {
      token: carol.token,
      body: { version: seen.version, quantity: 40 },
    });
    expect(second.status).toBe(409);
    expect(second.body.errors).toEqual([
      { pointer: '/version', detail: `is not the current version (${first.body.version})` },
    ]);
    const now = (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: carol.token })).body;
    expect(now.lines[0].quantity).toBe(30);
    expect(now.version).toBe(first.body.version);
  });

  it('of two changes racing from the same version exactly one wins', async () => {
    const seen = (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: carol.token })).body;
    const line = seen.lines[0];
    const answers = await Promise.all(
      [alice.token, carol.token, alice.token, carol.token].map((token, i) =>
        http(t.baseUrl, 'PATCH', `/api/carts/${cart.id}/lines/${line.id}`, {
          token,
          body: { version: seen.version, quantity: 50 + i },
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409]);
    const winner = answers.findIndex((a) => a.status === 200);
    const now = (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: alice.token })).body;
    expect(now.lines[0].quantity).toBe(50 + winner);
    expect(now.version).toBe(seen.version + 1);
  });

  it('additions without a version are merges: racing additions all count', async () => {
    const before = (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: alice.token })).body;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        addLine(i % 2 ? carol.token : alice.token, cart.id, { code: 'CT-WASHER', quantity: 3 }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    const after = (await http(t.baseUrl, 'GET', `/api/carts/${cart.id}`, { token: alice.token })).body;
    expect(after.lines.find((l: Any) => l.skuCode === 'CT-WASHER').quantity).toBe(24);
    expect(after.version).toBe(before.version + 8);
  });

  it('an addition sent with a stale version is refused', async () => {
    const answer = await addLine(carol.token, cart.id, { code: 'CT-NUT', quantity: 1, version: 1 });
    expect(answer.status).toBe(409);
  });
});

describe('the API document', () => {
  it('lists the carts operations in a valid OpenAPI 3.1 document', async () => {
    const { body } = await http(t.baseUrl, 'GET', '/api/openapi.json');
    const result = await new Validator().validate(body);
    expect(result.errors).toBeUndefined();
    expect(
      Object.keys(body.paths)
        .filter((path) => path.startsWith('/api/carts'))
        .sort(),
    ).toEqual([
      '/api/carts',
      '/api/carts/current',
      '/api/carts/{id}',
      '/api/carts/{id}/acknowledge-prices',
      '/api/carts/{id}/lines',
      '/api/carts/{id}/lines/from-list',
      '/api/carts/{id}/lines/{lineId}',
      '/api/carts/{id}/quick-order',
      '/api/carts/{id}/quick-order/file',
      '/api/carts/{id}/shares',
      '/api/carts/{id}/shares/{userId}',
    ]);
    expect(
      Object.keys(body.paths['/api/carts/{id}/quick-order/file'].post.requestBody.content).sort(),
    ).toEqual([
      'application/vnd.ms-excel',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'text/csv',
      'text/plain',
    ]);
  });
});
