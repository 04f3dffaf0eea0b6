import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type moleculer from 'moleculer';
import type { Database } from '../platform/database/database.ts';
import { escapeXml, sitemapXml } from './storefront.ts';
import {
  asBuyer,
  asGuest,
  asStaff,
  assertMatchesSchema,
  type CallOptions,
  type CatalogHub,
  createCompany,
  startCatalogHub,
} from './testing/catalog-hub.ts';

/**
 * What buyers and guests see: visibility by company, tier, tag and public flag (drafts never),
 * compare, product lists and the sitemap — each tried by a buyer who may not see the thing.
 */
let hub: CatalogHub;
let broker: moleculer.ServiceBroker;
let db: Database;
// biome-ignore lint/suspicious/noExplicitAny: action answers are checked field by field
type Any = any;
const call = (action: string, params: object, options: CallOptions = asStaff()) =>
  broker.call(action, params, options) as Promise<Any>;
const status = (action: string, params: object, options: CallOptions) =>
  call(action, params, options).then(
    () => 200,
    (error) => error.code as number,
  );

type Buyer = { id: string; companyId: string };
let gold: Buyer; // tier gold
let tagged: Buyer; // tag 华东
let plain: Buyer; // no tier, no tag: company-assigned catalog only
let other: Buyer; // sees public products only
const products: Record<string, Any> = {};

async function product(slug: string, categoryId: string, extra: object = {}, lifecycle = 'active') {
  const created = await call('catalog.products.create', {
    slug,
    nameZh: `产品 ${slug}`,
    nameEn: `Product ${slug}`,
    categoryId,
    unitOfMeasure: 'pcs',
    skus: [{ code: slug.toUpperCase() }],
    ...extra,
  });
  if (lifecycle !== 'draft')
    await call('catalog.products.lifecycle', { id: created.id, lifecycle: 'active' });
  if (lifecycle === 'discontinued') await call('catalog.products.lifecycle', { id: created.id, lifecycle });
  products[slug] = await call('catalog.products.get', { id: created.id });
  return products[slug];
}

beforeAll(async () => {
  hub = await startCatalogHub();
  broker = hub.broker;
  db = hub.test.hub.platform.db;
  gold = (await createCompany(broker, 'Gold Co', { tier: 'gold' })).buyer;
  tagged = (await createCompany(broker, 'East Co', { tags: ['华东'] })).buyer;
  plain = (await createCompany(broker, 'Plain Co')).buyer;
  other = (await createCompany(broker, 'Other Co', { tier: 'silver', tags: ['华南'] })).buyer;

  const root = await call('catalog.categories.create', {
    slug: 'industrial',
    nameZh: '工业品',
    nameEn: 'Industrial',
  });
  const fasteners = await call('catalog.categories.create', {
    parentId: root.id,
    slug: 'fasteners',
    nameZh: '紧固件',
    nameEn: 'Fasteners',
  });
  const bearings = await call('catalog.categories.create', {
    slug: 'bearings',
    nameZh: '轴承',
    nameEn: 'Bearings',
  });
  const cables = await call('catalog.categories.create', {
    slug: 'cables',
    nameZh: '电缆',
    nameEn: 'Cables & <wires>',
  });
  for (const [key, type, unit] of [
    ['length', 'number', 'mm'],
    ['diameter', 'number', 'mm'],
    ['rohs', 'boolean', null],
  ] as const) {
    await call('catalog.attributes.create', {
      key,
      nameZh: key,
      nameEn: key,
      type,
      ...(unit ? { unit } : {}),
    });
  }
  await product('gold-bolt', fasteners.id, {
    attributes: [
      { key: 'length', value: 30 },
      { key: 'diameter', value: 8 },
    ],
  });
  await product('gold-nut', fasteners.id, {
    attributes: [
      { key: 'diameter', value: 8 },
      { key: 'rohs', value: true },
    ],
  });
  await product('east-bearing', bearings.id);
  await product('plain-bearing', bearings.id);
  await product('public-cable', cables.id, { isPublic: true, nameEn: 'Cable "H07RN-F" & <more>' });
  await product('retired-cable', cables.id, { isPublic: true }, 'discontinued');
  await product('draft-cable', cables.id, { isPublic: true }, 'draft');
  await call('catalog.products.relations', {
    id: products['gold-bolt'].id,
    relations: [
      { kind: 'accessory', productId: products['gold-nut'].id },
      { kind: 'alternative', productId: products['east-bearing'].id },
      { kind: 'related', productId: products['public-cable'].id },
    ],
  });
  await call('catalog.catalogs.create', {
    name: 'Gold fasteners',
    categoryIds: [root.id],
    assignments: [{ kind: 'tier', value: 'gold' }],
  });
  await call('catalog.catalogs.create', {
    name: 'East bearings',
    productIds: [products['east-bearing'].id],
    assignments: [{ kind: 'tag', value: '华东' }],
  });
  await call('catalog.catalogs.create', {
    name: 'Plain',
    productIds: [products['plain-bearing'].id],
    assignments: [{ kind: 'company', value: plain.companyId }],
  });
}, 90_000);

afterAll(async () => {
  await hub?.stop();
});

const visibleTo = async (options: CallOptions) => {
  const seen: string[] = [];
  for (const slug of Object.keys(products)) {
    if ((await status('catalog.storefront.product', { idOrSlug: slug }, options)) === 200) seen.push(slug);
  }
  return seen.sort();
};

describe('visibility', () => {
  it('by tier, tag, company and public flag; drafts never; discontinued shown but not orderable', async () => {
    expect(await visibleTo(asBuyer(gold))).toEqual([
      'gold-bolt',
      'gold-nut',
      'public-cable',
      'retired-cable',
    ]);
    expect(await visibleTo(asBuyer(tagged))).toEqual(['east-bearing', 'public-cable', 'retired-cable']);
    expect(await visibleTo(asBuyer(plain))).toEqual(['plain-bearing', 'public-cable', 'retired-cable']);
    expect(await visibleTo(asBuyer(other))).toEqual(['public-cable', 'retired-cable']);
    expect(await visibleTo(asGuest)).toEqual(['public-cable', 'retired-cable']);
    const retired = await call('catalog.storefront.product', { idOrSlug: 'retired-cable' }, asGuest);
    expect(retired).toMatchObject({ lifecycle: 'discontinued', orderable: false });
  });

  it('finds by id or slug; relations show only what the caller may see', async () => {
    const byId = await call(
      'catalog.storefront.product',
      { idOrSlug: products['gold-bolt'].id },
      asBuyer(gold),
    );
    assertMatchesSchema('entities/product', byId);
    expect(byId.relations.map((r: Any) => [r.kind, r.product.slug])).toEqual([
      ['accessory', 'gold-nut'],
      ['related', 'public-cable'],
    ]);
  });

  it('follows tier changes in accounts and refuses buyers of inactive companies', async () => {
    await call('accounts.companies.update', { id: other.companyId, tier: 'gold' });
    expect(await status('catalog.storefront.product', { idOrSlug: 'gold-bolt' }, asBuyer(other))).toBe(200);
    await call('accounts.companies.update', { id: other.companyId, tier: 'silver' });
    expect(await status('catalog.storefront.product', { idOrSlug: 'gold-bolt' }, asBuyer(other))).toBe(404);
    await call('accounts.companies.update', {
      id: other.companyId,
      status: 'suspended',
      reason: 'unpaid invoices',
    });
    expect(await status('catalog.storefront.product', { idOrSlug: 'public-cable' }, asBuyer(other))).toBe(
      403,
    );
    await call('accounts.companies.update', { id: other.companyId, status: 'active' });
  });

  it('hides a product again when it loses its catalog', async () => {
    const { items } = await call('catalog.catalogs.list', { limit: 50 });
    const plainCatalog = items.find((c: Any) => c.name === 'Plain');
    await call('catalog.catalogs.update', { id: plainCatalog.id, assignments: [] });
    expect(await status('catalog.storefront.product', { idOrSlug: 'plain-bearing' }, asBuyer(plain))).toBe(
      404,
    );
    await call('catalog.catalogs.update', {
      id: plainCatalog.id,
      assignments: [{ kind: 'company', value: plain.companyId }],
    });
    expect(await status('catalog.storefront.product', { idOrSlug: 'plain-bearing' }, asBuyer(plain))).toBe(
      200,
    );
  });

  it('records views of buyers and guests, not of staff', async () => {
    const id = products['public-cable'].id;
    const count = async () =>
      (await db.query('SELECT count(*)::int AS n FROM catalog.product_views WHERE product_id = $1', [id]))
        .rows[0]!.n;
    const before = await count();
    await call('catalog.storefront.product', { idOrSlug: 'public-cable' }, asGuest);
    await call('catalog.storefront.product', { idOrSlug: 'public-cable' }, asBuyer(gold));
    await call('catalog.storefront.product', { idOrSlug: 'public-cable' }, asStaff());
    expect(await count()).toBe(before + 2);
  });
});

describe('category tree', () => {
  it('shows only categories holding something the caller may see, with counts', async () => {
    const tree = async (options: CallOptions) =>
      (await call('catalog.storefront.categories', {}, options)).items.map(
        (c: Any) => `${c.slug}:${c.productCount}`,
      );
    expect(await tree(asBuyer(gold))).toEqual(['cables:2', 'industrial:2', 'fasteners:2']);
    expect(await tree(asBuyer(tagged))).toEqual(['bearings:1', 'cables:2']);
    expect(await tree(asGuest)).toEqual(['cables:2']);
    assertMatchesSchema(
      'api/catalog/category-tree-response',
      await call('catalog.storefront.categories', {}, asGuest),
    );
  });
});

describe('compare', () => {
  it('aligns specs by attribute, flags differences, keeps the order asked', async () => {
    const answer = await call(
      'catalog.storefront.compare',
      { productIds: [products['gold-nut'].id, products['gold-bolt'].id] },
      asBuyer(gold),
    );
    assertMatchesSchema('entities/product-comparison', answer);
    expect(answer.products.map((p: Any) => p.slug)).toEqual(['gold-nut', 'gold-bolt']);
    expect(
      answer.rows.map((row: Any) => [row.key, row.values.map((v: Any) => v?.value ?? null), row.differs]),
    ).toEqual([
      ['diameter', [8, 8], false],
      ['rohs', [true, null], true],
      ['length', [null, 30], true],
    ]);
  });

  it('is 404 when any product is invisible to the caller', async () => {
    expect(
      await status(
        'catalog.storefront.compare',
        { productIds: [products['public-cable'].id, products['gold-bolt'].id] },
        asBuyer(tagged),
      ),
    ).toBe(404);
    expect(
      await status('catalog.storefront.compare', { productIds: [products['draft-cable'].id] }, asGuest),
    ).toBe(404);
  });
});

describe('product lists', () => {
  it('give every buyer a Favourites list; items need a visible SKU; lists are private', async () => {
    const { items } = await call('catalog.lists.list', {}, asBuyer(gold));
    expect(items.map((l: Any) => [l.name, l.isDefault])).toEqual([['Favourites', true]]);
    const favourites = items[0];
    const boltSku = products['gold-bolt'].skus[0].id;
    const withItem = await call(
      'catalog.lists.items.put',
      { id: favourites.id, skuId: boltSku, quantity: 5 },
      asBuyer(gold),
    );
    assertMatchesSchema('entities/product-list', withItem);
    expect(withItem.items.map((i: Any) => [i.skuCode, i.quantity, i.product.slug])).toEqual([
      ['GOLD-BOLT', 5, 'gold-bolt'],
    ]);
    const again = await call(
      'catalog.lists.items.put',
      { id: favourites.id, skuId: boltSku, quantity: 8 },
      asBuyer(gold),
    );
    expect(again.items.map((i: Any) => i.quantity)).toEqual([8]);

    const named = await call('catalog.lists.create', { name: 'Line 2 spares' }, asBuyer(gold));
    expect(named.isDefault).toBe(false);
    const renamed = await call(
      'catalog.lists.update',
      { id: named.id, name: 'Line 3 spares' },
      asBuyer(gold),
    );
    expect(renamed.name).toBe('Line 3 spares');
    expect(await status('catalog.lists.create', { name: 'Line 3 spares' }, asBuyer(gold))).toBe(409);
    expect(await status('catalog.lists.delete', { id: favourites.id }, asBuyer(gold))).toBe(409);

    // A SKU the buyer may not see cannot be added; another buyer's list is not found.
    const hidden = products['east-bearing'].skus[0].id;
    expect(
      await status(
        'catalog.lists.items.put',
        { id: favourites.id, skuId: hidden, quantity: 1 },
        asBuyer(gold),
      ),
    ).toBe(404);
    const colleague = { id: '55555555-5555-4555-8555-555555555555', companyId: gold.companyId };
    for (const [action, params] of [
      ['catalog.lists.get', { id: favourites.id }],
      ['catalog.lists.update', { id: favourites.id, name: 'Mine now' }],
      ['catalog.lists.delete', { id: named.id }],
      ['catalog.lists.items.put', { id: favourites.id, skuId: boltSku, quantity: 1 }],
      ['catalog.lists.items.remove', { id: favourites.id, skuId: boltSku }],
    ] as const) {
      expect([action, await status(action, params, asBuyer(colleague))]).toEqual([action, 404]);
      expect([action, await status(action, params, asBuyer(tagged))]).toEqual([action, 404]);
    }
    const theirs = await call('catalog.lists.list', {}, asBuyer(tagged));
    expect(theirs.items.map((l: Any) => l.id)).not.toContain(favourites.id);

    const removed = await call(
      'catalog.lists.items.remove',
      { id: favourites.id, skuId: boltSku },
      asBuyer(gold),
    );
    expect(removed.items).toEqual([]);
    await call('catalog.lists.delete', { id: named.id }, asBuyer(gold));
    assertMatchesSchema(
      'api/catalog/product-lists-response',
      await call('catalog.lists.list', {}, asBuyer(gold)),
    );
    const { rows } = await db.query(
      `SELECT action FROM platform.audit_log WHERE entity_type = 'product_list' AND company_id = $1 ORDER BY id`,
      [gold.companyId],
    );
    expect(rows.map((r) => r.action)).toEqual([
      'product_list.item_put',
      'product_list.item_put',
      'product_list.created',
      'product_list.renamed',
      'product_list.item_removed',
      'product_list.deleted',
    ]);
  });

  it('hide items whose product the buyer may no longer see', async () => {
    const { items } = await call('catalog.lists.list', {}, asBuyer(plain));
    const sku = products['plain-bearing'].skus[0].id;
    await call('catalog.lists.items.put', { id: items[0].id, skuId: sku, quantity: 2 }, asBuyer(plain));
    await call('catalog.products.lifecycle', { id: products['plain-bearing'].id, lifecycle: 'discontinued' });
    expect((await call('catalog.lists.get', { id: items[0].id }, asBuyer(plain))).items).toHaveLength(1);
    const { items: catalogs } = await call('catalog.catalogs.list', { limit: 50 });
    await call('catalog.catalogs.update', {
      id: catalogs.find((c: Any) => c.name === 'Plain').id,
      productIds: [],
    });
    expect((await call('catalog.lists.get', { id: items[0].id }, asBuyer(plain))).items).toEqual([]);
  });

  it('are for buyer users: guests and API keys are refused', async () => {
    expect(await status('catalog.lists.list', {}, asGuest)).toBe(401);
    const apiKey: CallOptions = {
      meta: { auth: { kind: 'system', principalId: 'key', companyId: gold.companyId, permissions: ['*'] } },
    };
    expect(await status('catalog.lists.list', {}, apiKey)).toBe(403);
  });
});

describe('internal actions for other domains', () => {
  it('filter product ids and look up SKUs as the calling buyer sees them', async () => {
    const ids = [products['gold-bolt'].id, products['east-bearing'].id, products['retired-cable'].id];
    expect(await call('catalog.internal.visibleProductIds', { productIds: ids }, asBuyer(gold))).toEqual({
      productIds: [products['gold-bolt'].id, products['retired-cable'].id],
    });
    const { items } = await call(
      'catalog.internal.skus',
      { codes: ['GOLD-BOLT', 'EAST-BEARING', 'RETIRED-CABLE'] },
      asBuyer(gold),
    );
    expect(items.map((i: Any) => [i.code, i.orderable])).toEqual([
      ['GOLD-BOLT', true],
      ['RETIRED-CABLE', false],
    ]);
    // By id and by code at once, each SKU once, as every kind of caller sees them: tier, tag,
    // company-assigned, public only, guests; staff see drafts too.
    const skuOf = (slug: string) => products[slug].skus[0].id as string;
    // The company-assigned catalog holds its product again (an earlier test emptied it).
    const { items: catalogs } = await call('catalog.catalogs.list', { limit: 50 });
    await call('catalog.catalogs.update', {
      id: catalogs.find((c: Any) => c.name === 'Plain').id,
      productIds: [products['plain-bearing'].id],
    });
    const lookUp = async (options: CallOptions) =>
      (
        await call(
          'catalog.internal.skus',
          {
            skuIds: ['gold-bolt', 'east-bearing', 'plain-bearing', 'draft-cable'].map(skuOf),
            codes: ['GOLD-BOLT', 'PUBLIC-CABLE', 'PLAIN-BEARING'],
          },
          options,
        )
      ).items.map((i: Any) => i.code);
    expect(await lookUp(asBuyer(gold))).toEqual(['GOLD-BOLT', 'PUBLIC-CABLE']);
    expect(await lookUp(asBuyer(tagged))).toEqual(['EAST-BEARING', 'PUBLIC-CABLE']);
    // Discontinued by an earlier test: still listed (not orderable).
    expect(await lookUp(asBuyer(plain))).toEqual(['PLAIN-BEARING', 'PUBLIC-CABLE']);
    expect(await lookUp(asBuyer(other))).toEqual(['PUBLIC-CABLE']);
    expect(await lookUp(asGuest)).toEqual(['PUBLIC-CABLE']);
    expect(await lookUp(asStaff())).toEqual([
      'DRAFT-CABLE',
      'EAST-BEARING',
      'GOLD-BOLT',
      'PLAIN-BEARING',
      'PUBLIC-CABLE',
    ]);
    const service = broker.getLocalService('catalog') as unknown as {
      schema: { actions: Record<string, Any> };
    };
    expect(service.schema.actions['internal.skus'].visibility).toBe('public');
  });
});

describe('sitemap.xml', () => {
  it('lists only what guests may see, escaped, with lastmod', async () => {
    const xml: string = await call('catalog.storefront.sitemap', {}, asGuest);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<urlset')).toBe(true);
    const locs = [...xml.matchAll(/<loc>([^<]*)<\/loc>/g)].map((m) => m[1]!.replace(/^https?:\/\/[^/]+/, ''));
    expect(locs.sort()).toEqual(['/categories/cables', '/products/public-cable', '/products/retired-cable']);
    expect(xml).toMatch(/<lastmod>\d{4}-\d\d-\d\dT[\d:.]+Z<\/lastmod>/);
    expect(xml).not.toContain('gold-bolt');
    expect(xml).not.toContain('draft-cable');
  });

  it('escapes what it prints', async () => {
    expect(escapeXml(`a&b<c>"d'`)).toBe('a&amp;b&lt;c&gt;&quot;d&apos;');
    const xml = await sitemapXml(db, 'https://shop.example/?site=cn&lang=<zh>/', 1);
    expect(xml).toContain('<loc>https://shop.example/?site=cn&amp;lang=&lt;zh&gt;/categories/cables</loc>');
    expect([...xml.matchAll(/<url>/g)]).toHaveLength(1);
  });
});
