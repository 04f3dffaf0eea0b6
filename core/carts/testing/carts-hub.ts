import { randomUUID } from 'node:crypto';
import type moleculer from 'moleculer';
import { validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import { http, logInAs, startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';

/**
 * A whole hub (real PostgreSQL; the real accounts, catalog and pricing domains) for the carts'
 * tests. Products are built through the catalog's actions and prices through pricing's staff API,
 * as staff would; carts never touch their tables.
 */

/** The demo logins `startTestHub` seeds (README); a domain does not import accounts' demo data. */
export const DEMO_STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
export const DEMO_BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };

/**
 * Only the services carts work with (and the gateway). No inventory service runs, so stock is not
 * checked unless a test puts one on the mesh (`stock-check.ts`'s contract).
 */
export const CARTS_HUB_SERVICES = 'accounts,catalog,pricing,carts,gateway';

export async function startCartsHub(): Promise<TestHub> {
  const test = await startTestHub({ env: { HUB_SERVICES: CARTS_HUB_SERVICES } });
  await test.hub.broker.waitForServices(['accounts', 'catalog', 'pricing', 'carts']);
  return test;
}

function asStaff(): { meta: { auth: AuthContext } } {
  return {
    meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions: ['*'] } },
  };
}

export interface TestSku {
  skuId: string;
  code: string;
  productId: string;
}

/**
 * One active product per entry with the given SKU codes (so a product of 500 SKUs is one call),
 * public unless `isPublic: false`.
 */
export async function createProducts(
  broker: moleculer.ServiceBroker,
  products: ReadonlyArray<{ codes: readonly string[]; isPublic?: boolean; unitOfMeasure?: string }>,
): Promise<Map<string, TestSku>> {
  const staff = asStaff();
  const category = (await broker.call(
    'catalog.categories.create',
    { slug: `c-${randomUUID().slice(0, 8)}`, nameZh: '购物车测试', nameEn: 'Cart test' },
    staff,
  )) as { id: string };
  const skus = new Map<string, TestSku>();
  for (const product of products) {
    const created = (await broker.call(
      'catalog.products.create',
      {
        nameZh: `产品 ${product.codes[0]}`,
        nameEn: `Product ${product.codes[0]}`,
        categoryId: category.id,
        unitOfMeasure: product.unitOfMeasure ?? 'pcs',
        isPublic: product.isPublic ?? true,
        skus: product.codes.map((code) => ({ code })),
      },
      staff,
    )) as { id: string; skus: Array<{ id: string; code: string }> };
    await broker.call('catalog.products.lifecycle', { id: created.id, lifecycle: 'active' }, staff);
    for (const sku of created.skus)
      skus.set(sku.code, { skuId: sku.id, code: sku.code, productId: created.id });
  }
  return skus;
}

/** Calls a catalog staff action (product changes the tests make behind the buyers' backs). */
export async function asCatalogStaff(
  broker: moleculer.ServiceBroker,
  action: string,
  params: object,
): Promise<unknown> {
  return broker.call(action, params, asStaff());
}

/** A price list assigned to everyone, through pricing's staff API; returns its id. */
export async function defaultPriceList(baseUrl: string, staff: string, code: string): Promise<string> {
  const list = await http(baseUrl, 'POST', '/api/staff/pricing/price-lists', {
    token: staff,
    body: { code, name: `Standard ${code}`, currency: 'CNY', pricesIncludeTax: true },
  });
  if (list.status !== 201) throw new Error(`price list: ${list.status} ${JSON.stringify(list.body)}`);
  const assigned = await http(baseUrl, 'POST', `/api/staff/pricing/price-lists/${list.body.id}/assignments`, {
    token: staff,
    body: { level: 'default' },
  });
  if (assigned.status !== 201)
    throw new Error(`assignment: ${assigned.status} ${JSON.stringify(assigned.body)}`);
  return list.body.id;
}

/** Sets one flat unit price (minor units) per SKU code in a list, through pricing's staff API. */
export async function setPrices(
  baseUrl: string,
  staff: string,
  listId: string,
  prices: Record<string, number>,
): Promise<void> {
  const answer = await http(baseUrl, 'POST', `/api/staff/pricing/price-lists/${listId}/prices`, {
    token: staff,
    body: {
      prices: Object.entries(prices).map(([skuCode, amount]) => ({
        skuCode,
        tiers: [{ minQty: 1, amountMinor: String(amount) }],
      })),
    },
  });
  if (answer.status !== 200) throw new Error(`prices: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** A buyer user of the caller's company (created by its administrator), logged in. */
export async function createColleague(
  baseUrl: string,
  admin: string,
  email: string,
  options: { roles?: string[]; unitId?: string } = {},
): Promise<{ id: string; token: string }> {
  const created = await http(baseUrl, 'POST', '/api/users', {
    token: admin,
    body: {
      email,
      displayName: email.split('@')[0],
      roles: options.roles ?? ['purchaser'],
      password: 'colleague-pass-1',
      ...(options.unitId ? { unitId: options.unitId } : {}),
    },
  });
  if (created.status !== 201) throw new Error(`user: ${created.status} ${JSON.stringify(created.body)}`);
  return { id: created.body.user.id, token: await logInAs(baseUrl, email, 'colleague-pass-1') };
}

/** Fails unless `value` matches the canonical schema `name` (answers are closed: no stray fields). */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validators[schemaId(name)];
  if (!validate) throw new Error(`no canonical schema ${name}`);
  if (!validate(structuredClone(value))) {
    throw new Error(`${name}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(value).slice(0, 2000)}`);
  }
}

/** Sum of money amounts as a bigint. */
export function sumMinor(amounts: ReadonlyArray<{ amountMinor: string } | null>): bigint {
  return amounts.reduce((sum, money) => sum + BigInt(money?.amountMinor ?? 0), 0n);
}
