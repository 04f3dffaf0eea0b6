import { randomUUID } from 'node:crypto';
import { DEMO_BUYER, DEMO_STAFF } from './accounts/demo-data.ts';
import { http, logInAs, startTestHub, type TestHub } from './platform/testing/start-test-hub.ts';

/**
 * The staff role presets across the domains that check them (accounts issues the permissions;
 * credit, inventory, orders and pricing enforce them): each role can do its work and nothing of
 * another role's. Real staff users, logged in, over HTTP.
 */

let t: TestHub;
let admin: string;
let companyId: string;
const tokens: Record<string, string> = {};

const cny = (minor: number) => ({ amountMinor: String(minor), currency: 'CNY' });

beforeAll(async () => {
  t = await startTestHub();
  admin = await logInAs(t.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  const { rows } = await t.hub.platform.db.query('SELECT company_id FROM accounts.users WHERE email = $1', [
    DEMO_BUYER.email,
  ]);
  companyId = rows[0]!.company_id;
  for (const role of ['finance', 'warehouse', 'sales', 'product-manager']) {
    const email = `${role}-${randomUUID().slice(0, 8)}@hub.local`;
    const created = await http(t.baseUrl, 'POST', '/api/staff/staff-users', {
      token: admin,
      body: { email, displayName: role, roles: [role], password: `${role}-password-1` },
    });
    if (created.status !== 201) throw new Error(`${role}: ${created.status} ${JSON.stringify(created.body)}`);
    tokens[role] = await logInAs(t.baseUrl, email, `${role}-password-1`);
  }
  const opened = await http(t.baseUrl, 'PUT', `/api/staff/credit/accounts/${companyId}`, {
    token: admin,
    body: { limit: cny(1_000_000), terms: { kind: 'net', days: 30 } },
  });
  if (opened.status !== 200) throw new Error(`credit: ${opened.status} ${JSON.stringify(opened.body)}`);
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

const putLimit = (role: string, limit: number) =>
  http(t.baseUrl, 'PUT', `/api/staff/credit/accounts/${companyId}`, {
    token: tokens[role]!,
    body: { limit: cny(limit), terms: { kind: 'month_end', days: 30 } },
  });

test('a finance user changes a credit limit (audited with who changed it); a warehouse or sales user cannot', async () => {
  const changed = await putLimit('finance', 2_500_000);
  expect(changed.status).toBe(200);
  expect(changed.body).toMatchObject({ limit: cny(2_500_000), terms: { kind: 'month_end', days: 30 } });

  for (const role of ['warehouse', 'sales', 'product-manager']) {
    const refused = await putLimit(role, 9_000_000);
    expect([role, refused.status, refused.body.type]).toEqual([
      role,
      403,
      'https://hub.local/problems/forbidden',
    ]);
  }
  const account = await http(t.baseUrl, 'GET', `/api/staff/credit/accounts/${companyId}`, {
    token: tokens.finance!,
  });
  expect(account.body.limit).toEqual(cny(2_500_000));
  const changes = await http(t.baseUrl, 'GET', `/api/staff/credit/accounts/${companyId}/changes`, {
    token: tokens.finance!,
  });
  expect(changes.status).toBe(200);
  const finance = await http(t.baseUrl, 'GET', '/api/me', { token: tokens.finance! });
  expect(JSON.stringify(changes.body.items[0])).toContain(finance.body.id);
});

test('the warehouse receives stock and ships; finance and sales do not move stock', async () => {
  const warehouse = await http(t.baseUrl, 'POST', '/api/staff/inventory/warehouses', {
    token: tokens.warehouse!,
    body: { code: `WH-${randomUUID().slice(0, 6)}`, name: '北京仓' },
  });
  expect(warehouse.status).toBe(201);
  for (const role of ['finance', 'sales']) {
    const refused = await http(t.baseUrl, 'POST', '/api/staff/inventory/warehouses', {
      token: tokens[role]!,
      body: { code: `WH-${randomUUID().slice(0, 6)}`, name: '天津仓' },
    });
    expect([role, refused.status]).toEqual([role, 403]);
  }
  // Shipping needs an order; the permission check comes first, so an unknown order shows who may.
  const ship = (role: string) =>
    http(t.baseUrl, 'POST', `/api/staff/orders/${randomUUID()}/shipments`, {
      token: tokens[role]!,
      body: { lines: [{ lineNo: 1, quantity: 1 }] },
    });
  expect((await ship('warehouse')).status).toBe(404);
  expect((await ship('finance')).status).toBe(403);
  // The warehouse ships but neither holds nor cancels orders, nor sets checkout rules.
  const transition = await http(t.baseUrl, 'POST', `/api/staff/orders/${randomUUID()}/transitions`, {
    token: tokens.warehouse!,
    body: { to: 'cancelled', reason: 'not mine to decide' },
  });
  expect(transition.status).toBe(403);
});

test('sales review orders and quotes; product managers manage prices; neither does the other’s work', async () => {
  for (const [role, status] of [
    ['sales', 200],
    ['finance', 200],
    ['warehouse', 200],
    ['product-manager', 403],
  ] as const) {
    const orders = await http(t.baseUrl, 'GET', '/api/staff/orders', { token: tokens[role]! });
    expect([role, orders.status]).toEqual([role, status]);
  }
  const settings = (role: string) =>
    http(t.baseUrl, 'PUT', `/api/staff/orders/settings/${companyId}`, {
      token: tokens[role]!,
      body: { poNumberRequired: false },
    });
  expect((await settings('sales')).status).toBe(200);
  expect((await settings('finance')).status).toBe(403);

  const priceList = (role: string) =>
    http(t.baseUrl, 'POST', '/api/staff/pricing/price-lists', {
      token: tokens[role]!,
      body: { code: `PL-${randomUUID().slice(0, 6)}`, name: 'Role test', currency: 'CNY' },
    });
  expect((await priceList('product-manager')).status).toBe(201);
  expect((await priceList('sales')).status).toBe(403);
  expect(
    (await http(t.baseUrl, 'GET', '/api/staff/pricing/price-lists', { token: tokens.sales! })).status,
  ).toBe(200);
});
