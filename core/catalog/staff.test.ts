import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import type { Database } from '../platform/database/database.ts';
import {
  asBuyer,
  asStaff,
  assertMatchesSchema,
  type CatalogHub,
  startCatalogHub,
} from './testing/catalog-hub.ts';

let hub: CatalogHub;
let broker: moleculer.ServiceBroker;
let db: Database;
// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;
const call = (action: string, params: object, options = asStaff()) =>
  broker.call(action, params, options) as Promise<Any>;
const failure = (action: string, params: object, options = asStaff()) =>
  call(action, params, options).then(
    () => {
      throw new Error(`${action} succeeded`);
    },
    (error) => ({ code: error.code, type: error.type, errors: error.data?.errors }),
  );

let fasteners: Any;
let bolts: Any;
let brand: Any;

beforeAll(async () => {
  hub = await startCatalogHub();
  broker = hub.broker;
  db = hub.test.hub.platform.db;
  fasteners = await call('catalog.categories.create', {
    slug: 'fasteners',
    nameZh: '紧固件',
    nameEn: 'Fasteners',
  });
  bolts = await call('catalog.categories.create', {
    parentId: fasteners.id,
    slug: 'bolts',
    nameZh: '螺栓',
    nameEn: 'Bolts',
  });
  brand = await call('catalog.brands.create', { slug: 'wurth', name: 'Würth', nameZh: '伍尔特' });
  await call('catalog.attributes.create', {
    key: 'length',
    nameZh: '长度',
    nameEn: 'Length',
    type: 'number',
    unit: 'mm',
    filterable: true,
  });
  await call('catalog.attributes.create', {
    key: 'material',
    nameZh: '材质',
    nameEn: 'Material',
    type: 'enum',
    options: [{ value: 'a2', nameZh: '不锈钢A2', nameEn: 'Stainless A2' }],
  });
}, 60_000);

afterAll(async () => {
  await hub?.stop();
});

async function auditOf(entityId: string): Promise<string[]> {
  const { rows } = await db.query(
    'SELECT action, actor_kind FROM platform.audit_log WHERE entity_id = $1 ORDER BY id',
    [entityId],
  );
  return rows.map((row) => `${row.actor_kind}:${row.action}`);
}

async function eventsOf(productId: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT topic FROM platform.outbox WHERE kind = 'event' AND payload->>'productId' = $1 ORDER BY id`,
    [productId],
  );
  return rows.map((row) => row.topic);
}

describe('staff catalog actions', () => {
  it('create a product, edit it, move it along its lifecycle: audited and announced in the same transactions', async () => {
    const product = await call('catalog.products.create', {
      nameZh: 'M8不锈钢六角螺栓',
      nameEn: 'Hex bolt M8x30 A2',
      categoryId: bolts.id,
      brandId: brand.id,
      model: 'DIN933-M8x30-A2',
      unitOfMeasure: 'pcs',
      attributes: [
        { key: 'length', value: 30, unit: 'mm' },
        { key: 'material', value: 'a2' },
      ],
      skus: [{ code: 'DIN933-M8X30-A2-100', packSize: 100 }],
    });
    assertMatchesSchema('entities/product', product);
    expect(product).toMatchObject({ slug: 'hex-bolt-m8x30-a2', lifecycle: 'draft', orderable: false });

    const updated = await call('catalog.products.update', {
      id: product.id,
      metaTitle: 'M8 bolts',
      isPublic: true,
    });
    expect(updated.metaTitle).toBe('M8 bolts');
    const withSku = await call('catalog.products.skus.create', {
      id: product.id,
      code: 'DIN933-M8X30-A2-500',
      packSize: 500,
      variant: [{ key: 'length', value: 30 }],
    });
    expect(withSku.skus.map((s: Any) => s.code)).toEqual(['DIN933-M8X30-A2-100', 'DIN933-M8X30-A2-500']);
    const active = await call('catalog.products.lifecycle', { id: product.id, lifecycle: 'active' });
    expect(active).toMatchObject({ lifecycle: 'active', orderable: true });
    const discontinued = await call('catalog.products.lifecycle', {
      id: product.id,
      lifecycle: 'discontinued',
      reason: 'replaced',
    });
    expect(discontinued).toMatchObject({ lifecycle: 'discontinued', orderable: false });

    expect(await auditOf(product.id)).toEqual([
      'staff:product.created',
      'staff:product.updated',
      'staff:product.sku_added',
      'staff:product.lifecycle_changed',
      'staff:product.lifecycle_changed',
    ]);
    expect(await eventsOf(product.id)).toEqual([
      'product.created',
      'product.updated',
      'product.updated',
      'product.lifecycle_changed',
      'product.lifecycle_changed',
    ]);
    const { rows } = await db.query(
      `SELECT payload FROM platform.outbox WHERE topic = 'product.lifecycle_changed' AND payload->>'productId' = $1 ORDER BY id`,
      [product.id],
    );
    expect(rows.map((row) => row.payload)).toEqual([
      { productId: product.id, from: 'draft', to: 'active', reason: null },
      { productId: product.id, from: 'active', to: 'discontinued', reason: 'replaced' },
    ]);
  });

  it('answer field pointers for invalid values, 409 for a taken slug, 404 for unknown ids', async () => {
    const invalid = await failure('catalog.products.create', {
      slug: 'bad-bolt',
      nameZh: '坏',
      nameEn: 'Bad',
      categoryId: bolts.id,
      unitOfMeasure: 'pcs',
      attributes: [{ key: 'length', value: 30, unit: 'cm' }],
      skus: [{ code: 'BAD-1', variant: [{ key: 'material', value: 'brass' }] }],
    });
    expect(invalid).toEqual({
      code: 400,
      type: 'validation-failed',
      errors: [
        { pointer: '/attributes/0/unit', detail: 'must be mm' },
        { pointer: '/skus/0/variant/0/value', detail: 'must be one of a2' },
      ],
    });
    expect(
      await failure('catalog.categories.create', { slug: 'bolts', nameZh: 'x', nameEn: 'x' }),
    ).toMatchObject({ code: 409, errors: [{ pointer: '/slug' }] });
    expect(
      await failure('catalog.products.get', { id: '00000000-0000-4000-8000-000000000000' }),
    ).toMatchObject({
      code: 404,
    });
    expect(
      await failure('catalog.products.create', {
        nameZh: 'x',
        nameEn: 'x',
        categoryId: bolts.id,
        unitOfMeasure: 'pcs',
        skus: [],
      }),
    ).toMatchObject({ code: 400 });
  });

  it('are for staff holding catalog.manage only; reads also with catalog.read', async () => {
    const buyer = asBuyer({
      id: '33333333-3333-4333-8333-333333333333',
      companyId: '44444444-4444-4444-8444-444444444444',
    });
    expect(
      await failure('catalog.categories.create', { slug: 'x', nameZh: 'x', nameEn: 'x' }, buyer),
    ).toMatchObject({
      code: 403,
    });
    const productManager = asStaff(['companies.read']);
    expect(
      await failure('catalog.categories.create', { slug: 'x', nameZh: 'x', nameEn: 'x' }, productManager),
    ).toMatchObject({ code: 403 });
    expect(await failure('catalog.products.list', { limit: 10 }, productManager)).toMatchObject({
      code: 403,
    });
    const reader = asStaff(['catalog.read']);
    await expect(call('catalog.products.list', { limit: 10 }, reader)).resolves.toMatchObject({
      items: expect.any(Array),
    });
    expect(await failure('catalog.brands.create', { slug: 'y', name: 'Y' }, reader)).toMatchObject({
      code: 403,
    });
    const manager = asStaff(['catalog.manage']);
    await expect(
      call('catalog.brands.create', { slug: 'bossard', name: 'Bossard' }, manager),
    ).resolves.toMatchObject({
      slug: 'bossard',
    });
  });

  it('move a category subtree and announce product.updated for the products in it', async () => {
    const screws = await call('catalog.categories.create', {
      slug: 'screws',
      nameZh: '螺钉',
      nameEn: 'Screws',
    });
    const product = await call('catalog.products.create', {
      slug: 'wood-screw',
      nameZh: '木螺钉',
      nameEn: 'Wood screw',
      categoryId: screws.id,
      unitOfMeasure: 'pcs',
      skus: [{ code: 'WS-1' }],
    });
    const moved = await call('catalog.categories.update', { id: screws.id, parentId: fasteners.id });
    expect(moved.path).toEqual([fasteners.id, screws.id]);
    expect(await auditOf(screws.id)).toEqual(['staff:category.created', 'staff:category.moved']);
    expect(await eventsOf(product.id)).toEqual(['product.created', 'product.updated']);
    const loaded = await call('catalog.products.get', { id: product.id });
    expect(loaded.category.path.map((c: Any) => c.slug)).toEqual(['fasteners', 'screws']);
    assertMatchesSchema('entities/category', moved);
    assertMatchesSchema('api/catalog/category-list-response', await call('catalog.categories.list', {}));
    assertMatchesSchema('api/catalog/attribute-list-response', await call('catalog.attributes.list', {}));
    assertMatchesSchema('api/catalog/brand-list-response', await call('catalog.brands.list', { limit: 50 }));
    assertMatchesSchema(
      'api/catalog/product-list-response',
      await call('catalog.products.list', { limit: 50 }),
    );
  });

  it('audit every change of brands, attributes and shared catalogs, and re-announce the products they touch', async () => {
    const bossard = await call('catalog.brands.create', { slug: 'audit-brand', name: 'Audit brand' });
    const coating = await call('catalog.attributes.create', {
      key: 'coating',
      nameZh: '涂层',
      nameEn: 'Coating',
      type: 'text',
    });
    const product = await call('catalog.products.create', {
      slug: 'audited-bolt',
      nameZh: '审计螺栓',
      nameEn: 'Audited bolt',
      categoryId: bolts.id,
      brandId: bossard.id,
      unitOfMeasure: 'pcs',
      attributes: [{ key: 'coating', value: 'Dacromet' }],
      skus: [{ code: 'AUDITED-1' }],
    });
    await call('catalog.brands.update', { id: bossard.id, nameZh: '审计品牌' });
    await call('catalog.attributes.update', { id: coating.id, nameEn: 'Surface coating' });
    expect(await eventsOf(product.id)).toEqual(['product.created', 'product.updated', 'product.updated']);
    expect((await call('catalog.products.get', { id: product.id })).attributes[0].nameEn).toBe(
      'Surface coating',
    );

    const shared = await call('catalog.catalogs.create', {
      name: 'Audited catalog',
      productIds: [product.id],
      assignments: [{ kind: 'tag', value: 'audit' }],
    });
    assertMatchesSchema('entities/catalog-shared-catalog', shared);
    await call('catalog.catalogs.update', { id: shared.id, description: 'for the audit' });
    assertMatchesSchema(
      'api/catalog/shared-catalog-list-response',
      await call('catalog.catalogs.list', { limit: 50 }),
    );
    await call('catalog.catalogs.delete', { id: shared.id });
    await call('catalog.products.delete', { id: product.id });
    await call('catalog.brands.delete', { id: bossard.id });
    await call('catalog.attributes.delete', { id: coating.id });

    expect(await auditOf(bossard.id)).toEqual([
      'staff:brand.created',
      'staff:brand.updated',
      'staff:brand.deleted',
    ]);
    expect(await auditOf(coating.id)).toEqual([
      'staff:attribute.created',
      'staff:attribute.updated',
      'staff:attribute.deleted',
    ]);
    expect(await auditOf(shared.id)).toEqual([
      'staff:shared_catalog.created',
      'staff:shared_catalog.updated',
      'staff:shared_catalog.deleted',
    ]);
    expect(await auditOf(product.id)).toEqual(['staff:product.created', 'staff:product.deleted']);
    const { rows } = await db.query(
      `SELECT details FROM platform.audit_log WHERE entity_id = $1 AND action = 'brand.updated'`,
      [bossard.id],
    );
    expect(rows[0]!.details).toMatchObject({ before: { nameZh: null }, after: { nameZh: '审计品牌' } });
  });
});
