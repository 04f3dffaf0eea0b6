import { randomUUID } from 'node:crypto';
import type moleculer from 'moleculer';
import { validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import { http, logInAs, startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';

/**
 * A whole hub (real PostgreSQL; every domain) for the checkout saga and the orders' tests.
 * Products come from the catalog's actions, prices from pricing's staff API, stock from
 * inventory's actions, credit from finance's: as staff would set them up.
 */

export const DEMO_STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
export const DEMO_BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };

export type CallOptions = { meta: { auth: AuthContext } };

export function asStaff(): CallOptions {
  return {
    meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions: ['*'] } },
  };
}

export function asBuyer(
  companyId: string,
  userId: string,
  permissions: string[] = ['orders.place@own', 'orders.read@own'],
  unitId: string | null = null,
): CallOptions {
  return { meta: { auth: { kind: 'buyer', principalId: userId, companyId, unitId, permissions } } };
}

export const cny = (minor: number | bigint | string) => ({ amountMinor: String(minor), currency: 'CNY' });

export interface World {
  test: TestHub;
  broker: moleculer.ServiceBroker;
  staff: string;
  buyer: string;
  companyId: string;
  buyerId: string;
  warehouseId: string;
  /** SKU id by code. */
  skus: Map<string, string>;
}

/** `env` reaches the hub's config (e.g. `HUB_DATA_DIR` for a test's own object store). */
export async function startOrdersHub(options: { env?: Record<string, string> } = {}): Promise<TestHub> {
  const test = await startTestHub(options);
  await test.hub.broker.waitForServices([
    'accounts',
    'catalog',
    'pricing',
    'carts',
    'credit',
    'inventory',
    'approvals',
    'orders',
    'workflows',
  ]);
  return test;
}

/** Active public products with one SKU each (Chinese names), priced in a default CNY list (gross, 13 % VAT). */
export async function createPricedSkus(
  test: TestHub,
  staff: string,
  prices: Record<string, number>,
): Promise<Map<string, string>> {
  const broker = test.hub.broker;
  const category = (await broker.call(
    'catalog.categories.create',
    { slug: `c-${randomUUID().slice(0, 8)}`, nameZh: '订单测试', nameEn: 'Order test' },
    asStaff(),
  )) as { id: string };
  const skus = new Map<string, string>();
  for (const code of Object.keys(prices)) {
    const created = (await broker.call(
      'catalog.products.create',
      {
        nameZh: `不锈钢螺栓 ${code}`,
        nameEn: `Bolt ${code}`,
        categoryId: category.id,
        unitOfMeasure: 'pcs',
        isPublic: true,
        skus: [{ code }],
      },
      asStaff(),
    )) as { id: string; skus: Array<{ id: string }> };
    await broker.call('catalog.products.lifecycle', { id: created.id, lifecycle: 'active' }, asStaff());
    skus.set(code, created.skus[0]!.id);
  }
  const listCode = `STD-${randomUUID().slice(0, 6)}`;
  const list = await http(test.baseUrl, 'POST', '/api/staff/pricing/price-lists', {
    token: staff,
    body: { code: listCode, name: `Standard ${listCode}`, currency: 'CNY', pricesIncludeTax: true },
  });
  if (list.status !== 201) throw new Error(`price list: ${list.status} ${JSON.stringify(list.body)}`);
  const assigned = await http(
    test.baseUrl,
    'POST',
    `/api/staff/pricing/price-lists/${list.body.id}/assignments`,
    {
      token: staff,
      body: { level: 'default' },
    },
  );
  if (assigned.status !== 201) throw new Error(`assignment: ${assigned.status}`);
  const put = await http(test.baseUrl, 'POST', `/api/staff/pricing/price-lists/${list.body.id}/prices`, {
    token: staff,
    body: {
      prices: Object.entries(prices).map(([skuCode, amount]) => ({
        skuCode,
        tiers: [{ minQty: 1, amountMinor: String(amount) }],
      })),
    },
  });
  if (put.status !== 200) throw new Error(`prices: ${put.status} ${JSON.stringify(put.body)}`);
  return skus;
}

export async function receiveStock(
  broker: moleculer.ServiceBroker,
  warehouseId: string,
  lines: Array<{ skuId: string; quantity: number }>,
): Promise<void> {
  await broker.call('inventory.stock.receive', { warehouseId, lines }, asStaff());
}

export async function openCredit(
  broker: moleculer.ServiceBroker,
  companyId: string,
  limit: number,
): Promise<void> {
  await broker.call(
    'credit.staff.accounts.put',
    { companyId, limit: cny(limit), terms: { kind: 'net', days: 30 }, graceDays: 0 },
    asStaff(),
  );
}

/** The demo buyer company with products, 1,000 units of each in one warehouse, and `creditLimit` of credit. */
export async function buildWorld(
  test: TestHub,
  prices: Record<string, number>,
  creditLimit = 100_000_000,
): Promise<World> {
  const broker = test.hub.broker;
  const staff = await logInAs(test.baseUrl, DEMO_STAFF.email, DEMO_STAFF.password);
  const buyer = await logInAs(test.baseUrl, DEMO_BUYER.email, DEMO_BUYER.password);
  const { rows } = await test.hub.platform.db.query(
    'SELECT id, company_id FROM accounts.users WHERE email = $1',
    [DEMO_BUYER.email],
  );
  const companyId = rows[0]!.company_id as string;
  const skus = await createPricedSkus(test, staff, prices);
  const warehouse = (await broker.call(
    'inventory.warehouses.create',
    { code: `WH-${randomUUID().slice(0, 6)}`, name: '上海仓', priority: 1 },
    asStaff(),
  )) as { id: string };
  await receiveStock(
    broker,
    warehouse.id,
    [...skus.values()].map((skuId) => ({ skuId, quantity: 1000 })),
  );
  await openCredit(broker, companyId, creditLimit);
  return { test, broker, staff, buyer, companyId, buyerId: rows[0]!.id, warehouseId: warehouse.id, skus };
}

/** A cart of the caller with these lines (through carts' own API); answers its id. */
export async function cartWith(
  baseUrl: string,
  token: string,
  lines: Array<{ skuId: string; quantity: number }>,
): Promise<string> {
  const cart = await http(baseUrl, 'POST', '/api/carts', {
    token,
    body: { name: `Cart ${randomUUID().slice(0, 8)}` },
  });
  if (cart.status !== 201) throw new Error(`cart: ${cart.status} ${JSON.stringify(cart.body)}`);
  for (const line of lines) {
    const added = await http(baseUrl, 'POST', `/api/carts/${cart.body.id}/lines`, { token, body: line });
    if (added.status !== 200 && added.status !== 201) {
      throw new Error(`line: ${added.status} ${JSON.stringify(added.body)}`);
    }
  }
  return cart.body.id;
}

/** What inventory says is available of each SKU. */
export async function available(
  broker: moleculer.ServiceBroker,
  skuIds: string[],
): Promise<Map<string, number>> {
  const answer = (await broker.call('inventory.internal.available', { skuIds })) as {
    items: Array<{ skuId: string; available: number }>;
  };
  return new Map(answer.items.map((item) => [item.skuId, item.available]));
}

/** The company's available credit (minor units). */
export async function creditAvailable(broker: moleculer.ServiceBroker, companyId: string): Promise<bigint> {
  const account = (await broker.call('credit.internal.account', { companyId })) as {
    available: { amountMinor: string };
  };
  return BigInt(account.available.amountMinor);
}

/** Outbox events of `name` about one order. */
export async function orderEvents(
  test: TestHub,
  name: string,
  orderId: string,
): Promise<Array<Record<string, unknown>>> {
  const { rows } = await test.hub.platform.db.query(
    `SELECT payload FROM platform.outbox WHERE kind = 'event' AND topic = $1 AND payload->>'orderId' = $2 ORDER BY id`,
    [name, orderId],
  );
  return rows.map((row) => row.payload);
}

/** Fails unless `value` matches the canonical schema `name`. */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validators[schemaId(name)];
  if (!validate) throw new Error(`no canonical schema ${name}`);
  if (!validate(structuredClone(value))) {
    throw new Error(`${name}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(value).slice(0, 2000)}`);
  }
}
