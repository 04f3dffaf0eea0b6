import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Database } from '../platform/database/database.ts';
import type { TestDatabase } from '../platform/testing/test-servers.ts';
import { deleteAttribute, updateAttribute } from './attributes.ts';
import { deleteCategory, findCategory, insertCategory, listCategories, moveCategory } from './categories.ts';
import {
  changeLifecycle,
  deleteProduct,
  insertProduct,
  loadProduct,
  type ProductInput,
  setRelations,
  slugify,
  updateProduct,
} from './products.ts';
import { deleteSku } from './skus.ts';
import { createCatalogDatabase, seedFixture } from './testing/catalog-db.ts';
import { audiencesOfProduct, refreshVisibility } from './visibility.ts';

let database: TestDatabase;
let db: Database;
let fixture: Awaited<ReturnType<typeof seedFixture>>;

beforeAll(async () => {
  database = await createCatalogDatabase();
  db = database.db;
  fixture = await seedFixture(db);
}, 60_000);

afterAll(async () => {
  await database?.drop();
});

// biome-ignore lint/suspicious/noExplicitAny: error bodies are checked field by field
const failure = async (work: Promise<unknown>): Promise<any> =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error) => ({ code: error.code, type: error.type, errors: error.data?.errors }),
  );

function bolt(overrides: Partial<ProductInput> = {}): ProductInput {
  return {
    nameZh: 'M8不锈钢六角螺栓',
    nameEn: 'Hex bolt M8 stainless steel',
    categoryId: fixture.bolts.id,
    brandId: fixture.brand.id,
    model: 'DIN933-M8x30-A2',
    unitOfMeasure: 'pcs',
    packSizes: [100, 500],
    scenarios: ['机械装配', 'outdoor'],
    attributes: [
      { key: 'length', value: 30, unit: 'mm' },
      { key: 'material', value: 'a2' },
      { key: 'thread', value: 'm8' },
      { key: 'rohs', value: true },
      { key: 'temperature', min: -40, max: 200 },
      { key: 'note', value: 'DIN 933 full thread' },
    ],
    skus: [
      {
        code: `B-${Math.random().toString(36).slice(2, 8)}`,
        packSize: 100,
        variant: [{ key: 'length', value: 30 }],
      },
    ],
    ...overrides,
  };
}

describe('category tree', () => {
  it('moves a subtree with its paths, refuses cycles, deletes only empty categories', async () => {
    const a = await insertCategory(db, { slug: 'tree-a', nameZh: 'A', nameEn: 'A' });
    const b = await insertCategory(db, { parentId: a.id, slug: 'tree-b', nameZh: 'B', nameEn: 'B' });
    const c = await insertCategory(db, { parentId: b.id, slug: 'tree-c', nameZh: 'C', nameEn: 'C' });
    const d = await insertCategory(db, { slug: 'tree-d', nameZh: 'D', nameEn: 'D' });
    expect(c.path).toEqual([a.id, b.id, c.id]);

    await moveCategory(db, b.id, d.id);
    expect((await findCategory(db, c.id))!.path).toEqual([d.id, b.id, c.id]);
    expect((await findCategory(db, b.id))!.parentId).toBe(d.id);

    expect(await failure(moveCategory(db, d.id, c.id))).toMatchObject({
      code: 422,
      type: 'category-cycle',
      errors: [{ pointer: '/parentId' }],
    });
    await moveCategory(db, b.id, null);
    expect((await findCategory(db, c.id))!.path).toEqual([b.id, c.id]);

    const all = await listCategories(db);
    expect(all.findIndex((x) => x.id === b.id)).toBeLessThan(all.findIndex((x) => x.id === c.id));
    expect(await failure(deleteCategory(db, b.id))).toMatchObject({ code: 409 });
    await deleteCategory(db, c.id);
    expect(await findCategory(db, c.id)).toBeUndefined();
    expect(await failure(insertCategory(db, { slug: 'tree-a', nameZh: 'x', nameEn: 'x' }))).toMatchObject({
      code: 409,
      errors: [{ pointer: '/slug' }],
    });
  });
});

describe('products', () => {
  it('stores a product with its SKUs and typed values, and reads them back', async () => {
    const id = await insertProduct(db, bolt({ slug: 'hex-bolt-m8-a2' }));
    const product = (await loadProduct(db, id))!;
    expect(product).toMatchObject({
      slug: 'hex-bolt-m8-a2',
      model: 'DIN933-M8x30-A2',
      lifecycle: 'draft',
      orderable: false,
      brand: { name: 'Würth' },
      category: { slug: 'bolts', path: [{ slug: 'fasteners' }, { slug: 'bolts' }] },
      packSizes: [100, 500],
      scenarios: ['机械装配', 'outdoor'],
    });
    expect(product.attributes.map((a) => [a.key, a.value, a.min, a.max, a.unit])).toEqual(
      expect.arrayContaining([
        ['length', 30, null, null, 'mm'],
        ['material', 'a2', null, null, null],
        ['temperature', null, -40, 200, '°C'],
        ['rohs', true, null, null, null],
      ]),
    );
    expect(product.attributes.find((a) => a.key === 'material')!.label).toEqual({
      zh: '不锈钢A2',
      en: 'Stainless A2',
    });
    expect(product.skus).toHaveLength(1);
    expect(product.skus[0]!.variant).toMatchObject([{ key: 'length', value: 30 }]);
  });

  it('reports every problem at once with pointers, and nothing is written', async () => {
    const problem = await failure(
      insertProduct(
        db,
        bolt({
          slug: 'broken',
          categoryId: fixture.bearings.id,
          brandId: '00000000-0000-4000-8000-000000000000',
          attributes: [
            { key: 'thread', value: 'm8' },
            { key: 'length', value: 'long' },
          ],
          skus: [{ code: 'DUP' }, { code: 'DUP', variant: [{ key: 'temperature', min: 5, max: 1 }] }],
        }),
      ),
    );
    expect(problem.code).toBe(400);
    expect(problem.errors).toEqual([
      { pointer: '/brandId', detail: 'is not a brand' },
      { pointer: '/attributes/0/key', detail: "does not apply to the product's category" },
      { pointer: '/attributes/1/value', detail: 'must be a number' },
      { pointer: '/skus/1/code', detail: 'appears twice' },
      { pointer: '/skus/1/variant/0/max', detail: 'must not be less than min' },
    ]);
    const { rowCount } = await db.query(`SELECT 1 FROM catalog.products WHERE slug = 'broken'`);
    expect(rowCount).toBe(0);
  });

  it('derives a slug from the English name; SKU codes are unique across products', async () => {
    expect(slugify('Hex bolt M8 × 30, A2-70!')).toBe('hex-bolt-m8-30-a2-70');
    const id = await insertProduct(db, bolt({ nameEn: 'Derived Slug Bolt' }));
    const product = (await loadProduct(db, id))!;
    expect(product.slug).toBe('derived-slug-bolt');
    const problem = await failure(
      db.transaction((tx) =>
        insertProduct(tx, bolt({ slug: 'other', skus: [{ code: product.skus[0]!.code }] })),
      ),
    );
    expect(problem).toMatchObject({ code: 409, errors: [{ pointer: '/skus/0/code' }] });
  });

  it('moves along draft → active → discontinued → active, never back to draft', async () => {
    const id = await insertProduct(db, bolt({ slug: 'lifecycle-bolt' }));
    expect(await failure(changeLifecycle(db, id, 'discontinued'))).toMatchObject({ code: 409 });
    expect(await changeLifecycle(db, id, 'active')).toBe('draft');
    expect((await loadProduct(db, id))!.orderable).toBe(true);
    await changeLifecycle(db, id, 'discontinued');
    expect((await loadProduct(db, id))!).toMatchObject({ lifecycle: 'discontinued', orderable: false });
    expect(await failure(changeLifecycle(db, id, 'draft'))).toMatchObject({ code: 409 });
    expect(await failure(deleteProduct(db, id))).toMatchObject({ code: 409 });
    await changeLifecycle(db, id, 'active');
  });

  it('re-checks values when the category changes, keeps one SKU, and relates products', async () => {
    const id = await insertProduct(db, bolt({ slug: 'moving-bolt' }));
    const before = (await loadProduct(db, id))!;
    const problem = await failure(updateProduct(db, before, { categoryId: fixture.bearings.id }));
    expect(problem.errors).toEqual([
      { pointer: '/attributes/5/key', detail: "does not apply to the product's category" },
    ]);
    expect(await failure(deleteSku(db, id, before.skus[0]!.id))).toMatchObject({ code: 409 });

    const other = await insertProduct(db, bolt({ slug: 'related-bolt' }));
    expect((await failure(setRelations(db, id, [{ kind: 'alternative', productId: id }]))).errors).toEqual([
      { pointer: '/relations/0/productId', detail: 'is the product itself' },
    ]);
    await setRelations(db, id, [
      { kind: 'alternative', productId: other },
      { kind: 'accessory', productId: other },
    ]);
    expect((await loadProduct(db, id))!.relations.map((r) => [r.kind, r.product.slug])).toEqual([
      ['accessory', 'related-bolt'],
      ['alternative', 'related-bolt'],
    ]);
  });
});

describe('attribute definitions in use', () => {
  it('keep their type and unit and used options, and cannot be deleted', async () => {
    const length = fixture.attributes.find((a) => a.key === 'length')!;
    const material = fixture.attributes.find((a) => a.key === 'material')!;
    expect(
      await failure(db.transaction((tx) => updateAttribute(tx, length.id, { unit: 'cm' }))),
    ).toMatchObject({
      code: 409,
      errors: [{ pointer: '/unit' }],
    });
    expect(
      await failure(
        db.transaction((tx) =>
          updateAttribute(tx, material.id, { options: [{ value: 'a4', nameZh: 'A4', nameEn: 'A4' }] }),
        ),
      ),
    ).toMatchObject({ code: 409, errors: [{ pointer: '/options' }] });
    const renamed = await db.transaction((tx) =>
      updateAttribute(tx, length.id, { nameEn: 'Length (shank)' }),
    );
    expect(renamed.after.nameEn).toBe('Length (shank)');
    expect(await failure(deleteAttribute(db, length.id))).toMatchObject({ code: 409 });
  });
});

describe('visibility rows', () => {
  it('exist only for listed products, per public flag and shared catalog assignment', async () => {
    const id = await insertProduct(db, bolt({ slug: 'visible-bolt', isPublic: true }));
    await refreshVisibility(db, [id]);
    expect(await audiencesOfProduct(db, id)).toEqual([]);
    await changeLifecycle(db, id, 'active');
    await refreshVisibility(db, [id]);
    expect(await audiencesOfProduct(db, id)).toEqual(['public']);

    const { rows } = await db.query(
      `INSERT INTO catalog.shared_catalogs (name) VALUES ('Gold fasteners') RETURNING id`,
    );
    const catalogId = rows[0]!.id;
    await db.query('INSERT INTO catalog.shared_catalog_categories VALUES ($1, $2)', [
      catalogId,
      fixture.fasteners.id,
    ]);
    await db.query(
      `INSERT INTO catalog.shared_catalog_assignments VALUES ($1, 'tier', 'gold'), ($1, 'tag', '华东')`,
      [catalogId],
    );
    await refreshVisibility(db, [id]);
    expect(await audiencesOfProduct(db, id)).toEqual(['public', 'tag:华东', 'tier:gold']);
  });
});
