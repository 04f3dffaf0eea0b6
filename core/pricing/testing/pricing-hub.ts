import { randomUUID } from 'node:crypto';
import type moleculer from 'moleculer';
import { validators } from '../../../schemas/generated/validators.js';
import { schemaId } from '../../../schemas/index.ts';
import type { AuthContext } from '../../platform/auth/auth-context.ts';
import { startTestHub, type TestHub } from '../../platform/testing/start-test-hub.ts';

/**
 * A whole hub (real PostgreSQL, the real accounts and catalog domains, the pricing service) for
 * pricing's tests. The catalog and companies are built through their own actions, as staff would;
 * pricing never touches their tables.
 */
export async function startPricingHub(env: Record<string, string> = {}): Promise<TestHub> {
  // The pricing service reads its configuration from the environment when the hub starts.
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    const test = await startTestHub();
    await test.hub.broker.waitForServices(['pricing', 'catalog', 'accounts']);
    return test;
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

export type CallOptions = { meta: { auth?: AuthContext } };

export function asStaff(permissions: string[] = ['*']): CallOptions {
  return { meta: { auth: { kind: 'staff', principalId: randomUUID(), companyId: null, permissions } } };
}

export function asBuyer(companyId: string, permissions: string[] = ['*']): CallOptions {
  return {
    meta: { auth: { kind: 'buyer', principalId: randomUUID(), companyId, unitId: null, permissions } },
  };
}

export const asGuest: CallOptions = { meta: {} };

/** A buyer company with tier and tags, created through accounts. */
export async function createCompany(
  broker: moleculer.ServiceBroker,
  name: string,
  profile: { tier?: string; tags?: string[]; status?: 'active' | 'pending' } = {},
): Promise<string> {
  const company = (await broker.call(
    'accounts.companies.create',
    {
      name,
      status: profile.status ?? 'active',
      ...(profile.tier ? { tier: profile.tier } : {}),
      tags: profile.tags ?? [],
    },
    asStaff(),
  )) as { id: string };
  return company.id;
}

export interface TestSku {
  skuId: string;
  code: string;
  productId: string;
}

/**
 * Active products through the catalog's actions, one SKU each (plus any extra codes as more SKUs
 * of the first product), public unless `visibleTo` names the companies of a shared catalog.
 */
export async function createProducts(
  broker: moleculer.ServiceBroker,
  codes: readonly string[],
  options: { isPublic?: boolean; visibleTo?: string[]; lifecycle?: 'active' | 'discontinued' } = {},
): Promise<Map<string, TestSku>> {
  const staff = asStaff();
  const category = (await broker.call(
    'catalog.categories.create',
    { slug: `c-${randomUUID().slice(0, 8)}`, nameZh: '测试', nameEn: 'Test' },
    staff,
  )) as { id: string };
  const skus = new Map<string, TestSku>();
  const productIds: string[] = [];
  for (const code of codes) {
    const created = (await broker.call(
      'catalog.products.create',
      {
        nameZh: `产品 ${code}`,
        nameEn: `Product ${code}`,
        categoryId: category.id,
        unitOfMeasure: 'pcs',
        isPublic: options.isPublic ?? true,
        skus: [{ code }],
      },
      staff,
    )) as { id: string; skus: Array<{ id: string; code: string }> };
    await broker.call('catalog.products.lifecycle', { id: created.id, lifecycle: 'active' }, staff);
    if (options.lifecycle === 'discontinued') {
      await broker.call('catalog.products.lifecycle', { id: created.id, lifecycle: 'discontinued' }, staff);
    }
    productIds.push(created.id);
    skus.set(code, { skuId: created.skus[0]!.id, code, productId: created.id });
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

/** Fails unless `value` matches the canonical schema `name` (answers are closed: no stray fields). */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validators[schemaId(name)];
  if (!validate) throw new Error(`no canonical schema ${name}`);
  if (!validate(structuredClone(value))) {
    throw new Error(`${name}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(value).slice(0, 2000)}`);
  }
}
