import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Database } from '../platform/database/database.ts';
import type { TestDatabase } from '../platform/testing/test-servers.ts';
import { seedDemoCatalog } from './demo-data.ts';
import { loadProducts } from './products.ts';
import { compareProducts, productForViewer, visibleCategoryTree } from './storefront.ts';
import { createCatalogDatabase } from './testing/catalog-db.ts';
import { assertMatchesSchema } from './testing/catalog-hub.ts';
import { visibleAmong } from './visibility.ts';

let database: TestDatabase;
let db: Database;
const acme = '66666666-6666-4666-8666-666666666666';

beforeAll(async () => {
  database = await createCatalogDatabase();
  db = database.db;
}, 60_000);

afterAll(async () => {
  await database?.drop();
});

describe('demo catalog', () => {
  it('seeds 30 active products with 5–8 specs each, once', async () => {
    expect(await seedDemoCatalog(db, { companyIds: [acme] })).toEqual({ created: true, products: 30 });
    expect(await seedDemoCatalog(db)).toEqual({ created: false, products: 0 });
    const { rows } = await db.query('SELECT id FROM catalog.products');
    const products = [
      ...(
        await loadProducts(
          db,
          rows.map((row) => row.id),
        )
      ).values(),
    ];
    expect(products).toHaveLength(30);
    for (const product of products) {
      assertMatchesSchema('entities/product', product);
      expect([product.slug, product.lifecycle]).toEqual([product.slug, 'active']);
      expect([product.slug, product.attributes.length >= 5 && product.attributes.length <= 8]).toEqual([
        product.slug,
        true,
      ]);
      expect(product.category.path).toHaveLength(2);
    }
    const bolt = products.find((product) => product.model === 'DIN933-M8x30-A2')!;
    expect(bolt).toMatchObject({ nameZh: 'M8不锈钢六角螺栓', brand: { name: 'Würth' } });
    const { rows: events } = await db.query(
      `SELECT count(*)::int AS n FROM platform.outbox WHERE topic = 'product.created'`,
    );
    expect(events[0]!.n).toBe(30);
  });

  it('shows fasteners and bearings to tier gold (and the named company), valves and cables to everyone', async () => {
    const { rows } = await db.query('SELECT id FROM catalog.products');
    const all = rows.map((row) => row.id as string);
    const guest = await visibleAmong(db, { kind: 'guest' }, all);
    const gold = await visibleAmong(db, { kind: 'buyer', companyId: acme, tier: null, tags: [] }, all);
    const goldTier = await visibleAmong(
      db,
      { kind: 'buyer', companyId: '77777777-7777-4777-8777-777777777777', tier: 'gold', tags: [] },
      all,
    );
    expect(guest.size).toBe(14);
    expect(gold.size).toBe(30);
    expect(goldTier.size).toBe(30);
    const tree = await visibleCategoryTree(db, { kind: 'guest' });
    expect(tree.filter((node) => node.depth === 1).map((node) => node.slug)).toEqual([
      'fasteners',
      'bearings',
      'valves',
      'cables',
    ]);
    const bolt = await productForViewer(db, { kind: 'guest' }, 'hex-bolt-din933-m8x30-a2');
    expect(bolt.relations.map((relation) => relation.product.slug)).toEqual([
      'hex-nut-din934-m8-a2',
      'flat-washer-din125-m8-a2',
    ]);
    const comparison = await compareProducts(db, { kind: 'guest' }, [
      (await productForViewer(db, { kind: 'guest' }, 'q41f-16p-dn25')).id,
      (await productForViewer(db, { kind: 'guest' }, 'q11f-16p-dn15')).id,
    ]);
    expect(comparison.rows.find((row) => row.key === 'connection')!.differs).toBe(true);
    expect(comparison.rows.find((row) => row.key === 'nominal_pressure')!.differs).toBe(false);
  });
});
