import { randomUUID } from 'node:crypto';
import type moleculer from 'moleculer';
import { validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import type { Queryable } from '../../platform/database/database.ts';
import { startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';

/**
 * A whole hub (real PostgreSQL; the real accounts and catalog domains; the inventory service) for
 * inventory's tests. Products and companies are built through their own domains' actions, as
 * staff would; inventory never touches their tables. `env` sets inventory's configuration
 * (read from the environment when the hub starts).
 */
export async function startInventoryHub(env: Record<string, string> = {}): Promise<TestHub> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    const test = await startTestHub();
    await test.hub.broker.waitForServices(['inventory', 'catalog', 'accounts']);
    return test;
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** The demo logins `startTestHub` seeds; a domain does not import accounts' demo data. */
export const DEMO_STAFF = { email: 'admin@hub.local', password: 'demo-admin-password' };
export const DEMO_BUYER = { email: 'buyer@acme.example', password: 'demo-buyer-password' };

export type CallOptions = { meta: { auth?: AuthContext } };

export function asStaff(permissions: string[] = ['*']): CallOptions {
  return { meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions } } };
}

export function asBuyer(companyId: string, permissions: string[] = ['*']): CallOptions {
  return {
    meta: { auth: { kind: 'buyer', principalId: randomUUID(), companyId, unitId: null, permissions } },
  };
}

/** The order saga calls without a company (a system principal). */
export const asSystem: CallOptions = {
  meta: { auth: { kind: 'system', principalId: randomUUID(), companyId: null, permissions: [] } },
};

export async function createCompany(broker: moleculer.ServiceBroker, name: string): Promise<string> {
  const company = (await broker.call('accounts.companies.create', { name, status: 'active' }, asStaff())) as {
    id: string;
  };
  return company.id;
}

/**
 * Active products through the catalog's actions, one SKU each; public unless `visibleTo` names the
 * companies of a shared catalog. Answers SKU ids by code.
 */
export async function createSkus(
  broker: moleculer.ServiceBroker,
  codes: readonly string[],
  options: { visibleTo?: string[] } = {},
): Promise<Map<string, string>> {
  const staff = asStaff();
  const category = (await broker.call(
    'catalog.categories.create',
    { slug: `c-${randomUUID().slice(0, 8)}`, nameZh: '库存测试', nameEn: 'Inventory test' },
    staff,
  )) as { id: string };
  const skus = new Map<string, string>();
  const productIds: string[] = [];
  for (const code of codes) {
    const created = (await broker.call(
      'catalog.products.create',
      {
        nameZh: `产品 ${code}`,
        nameEn: `Product ${code}`,
        categoryId: category.id,
        unitOfMeasure: 'pcs',
        isPublic: !options.visibleTo,
        skus: [{ code }],
      },
      staff,
    )) as { id: string; skus: Array<{ id: string }> };
    await broker.call('catalog.products.lifecycle', { id: created.id, lifecycle: 'active' }, staff);
    productIds.push(created.id);
    skus.set(code, created.skus[0]!.id);
  }
  if (options.visibleTo?.length) {
    await broker.call(
      'catalog.catalogs.create',
      {
        name: `Shared ${randomUUID().slice(0, 8)}`,
        productIds,
        assignments: options.visibleTo.map((value) => ({ kind: 'company', value })),
      },
      staff,
    );
  }
  return skus;
}

export async function createWarehouse(
  broker: moleculer.ServiceBroker,
  input: { code: string; name?: string; priority?: number; visibleToBuyers?: boolean; region?: string },
): Promise<string> {
  const warehouse = (await broker.call(
    'inventory.warehouses.create',
    { name: input.name ?? `仓库 ${input.code}`, ...input },
    asStaff(),
  )) as { id: string };
  return warehouse.id;
}

export async function receive(
  broker: moleculer.ServiceBroker,
  warehouseId: string,
  lines: Array<{ skuId: string; quantity: number }>,
): Promise<void> {
  await broker.call('inventory.stock.receive', { warehouseId, lines }, asStaff());
}

/**
 * Every (SKU, warehouse) whose stock level differs from the sum of its ledger, plus any negative
 * or over-reserved level: empty when the books balance.
 */
export async function ledgerMismatches(db: Queryable): Promise<unknown[]> {
  const { rows } = await db.query(
    `WITH sums AS (
       SELECT sku_id, warehouse_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
         FROM inventory.movements GROUP BY sku_id, warehouse_id
     )
     SELECT coalesce(s.sku_id, m.sku_id) AS sku_id, coalesce(s.warehouse_id, m.warehouse_id) AS warehouse_id,
            s.on_hand, s.reserved, m.on_hand AS ledger_on_hand, m.reserved AS ledger_reserved
       FROM inventory.stock_levels s FULL JOIN sums m USING (sku_id, warehouse_id)
      WHERE s.on_hand IS DISTINCT FROM m.on_hand OR s.reserved IS DISTINCT FROM m.reserved
         OR s.on_hand < 0 OR s.reserved < 0 OR s.on_hand < s.reserved`,
  );
  return rows;
}

/** Fails unless `value` matches the canonical schema `name` (answers are closed: no stray fields). */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validators[schemaId(name)];
  if (!validate) throw new Error(`no canonical schema ${name}`);
  if (!validate(structuredClone(value))) {
    throw new Error(`${name}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(value).slice(0, 2000)}`);
  }
}
