import type { Queryable } from '../platform/database/database.ts';
import { Conflict, type FieldError, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import {
  type AttributeDefinition,
  type AttributeValue,
  type AttributeValueInput,
  attributesById,
  attributesByKey,
  attributeValueOf,
  checkAttributeValues,
  type ResolvedValue,
} from './attributes.ts';
import { conflictOnDuplicate } from './catalog-area.ts';
import { type Category, categoriesById, findCategory } from './categories.ts';
import {
  checkSkus,
  insertSkus,
  SKU_COLUMNS,
  type SkuInput,
  type SkuRow,
  toSkuRow,
  writeValues,
} from './skus.ts';

/**
 * Products (SPU, 产品) with their SKUs, typed attribute values and relations. A product is born a
 * draft, becomes active (visible, orderable) and may be discontinued (still shown, no longer
 * orderable) and reactivated; it never returns to draft, so only drafts can be deleted.
 */
export const LIFECYCLES = ['draft', 'active', 'discontinued'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

const TRANSITIONS: Record<Lifecycle, readonly Lifecycle[]> = {
  draft: ['active'],
  active: ['discontinued'],
  discontinued: ['active'],
};

export const RELATION_KINDS = ['alternative', 'accessory', 'related'] as const;
export type RelationKind = (typeof RELATION_KINDS)[number];

export interface ProductInput {
  slug?: string;
  nameZh: string;
  nameEn: string;
  descriptionZh?: string | null;
  descriptionEn?: string | null;
  brandId?: string | null;
  categoryId: string;
  model?: string | null;
  scenarios?: string[];
  unitOfMeasure: string;
  packSizes?: number[];
  isPublic?: boolean;
  metaTitle?: string | null;
  metaDescription?: string | null;
  attributes?: AttributeValueInput[];
  skus: SkuInput[];
}

export type ProductChanges = Partial<Omit<ProductInput, 'skus'>>;

export interface CategoryRef {
  id: string;
  slug: string;
  nameZh: string;
  nameEn: string;
}

export interface ProductSummary {
  id: string;
  slug: string;
  nameZh: string;
  nameEn: string;
  model: string | null;
  brandName: string | null;
  lifecycle: Lifecycle;
  orderable: boolean;
}

export interface Sku {
  id: string;
  code: string;
  unitOfMeasure: string;
  packSize: number;
  weightGrams: number | null;
  variant: AttributeValue[];
  createdAt: string;
  updatedAt: string;
}

export interface Relation {
  kind: RelationKind;
  product: ProductSummary;
}

/** A product with everything about it, as staff see it (buyers get it with relations filtered). */
export interface Product {
  id: string;
  slug: string;
  nameZh: string;
  nameEn: string;
  descriptionZh: string | null;
  descriptionEn: string | null;
  brand: { id: string; slug: string; name: string; nameZh: string | null } | null;
  category: CategoryRef & { path: CategoryRef[] };
  model: string | null;
  lifecycle: Lifecycle;
  /** Only active products can be ordered; discontinued ones are shown for reference. */
  orderable: boolean;
  scenarios: string[];
  unitOfMeasure: string;
  packSizes: number[];
  isPublic: boolean;
  metaTitle: string | null;
  metaDescription: string | null;
  attributes: AttributeValue[];
  skus: Sku[];
  relations: Relation[];
  createdAt: string;
  updatedAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A URL slug from a name: lower-case ASCII words joined by dashes (empty when nothing is left). */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120)
    .replace(/-+$/g, '');
}

const SUMMARY_COLUMNS = `p.id, p.slug, p.name_zh, p.name_en, p.model, p.lifecycle, b.name AS brand_name`;

export function toSummary(row: Record<string, unknown>): ProductSummary {
  return {
    id: row.id as string,
    slug: row.slug as string,
    nameZh: row.name_zh as string,
    nameEn: row.name_en as string,
    model: (row.model as string | null) ?? null,
    brandName: (row.brand_name as string | null) ?? null,
    lifecycle: row.lifecycle as Lifecycle,
    orderable: row.lifecycle === 'active',
  };
}

function categoryRef(category: Category): CategoryRef {
  return { id: category.id, slug: category.slug, nameZh: category.nameZh, nameEn: category.nameEn };
}

/** Products by id, complete (relations unfiltered: callers filter them by visibility). */
export async function loadProducts(db: Queryable, ids: readonly string[]): Promise<Map<string, Product>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const { rows } = await db.query(
    `SELECT p.*, b.slug AS brand_slug, b.name AS brand_name, b.name_zh AS brand_name_zh,
            c.path::text[] AS category_path
       FROM catalog.products p
       JOIN catalog.categories c ON c.id = p.category_id
       LEFT JOIN catalog.brands b ON b.id = p.brand_id
      WHERE p.id = ANY($1::uuid[])`,
    [unique],
  );
  if (rows.length === 0) return new Map();
  const found = rows.map((row) => row.id as string);
  const [categories, values, skuRows, skuValues, relations] = await Promise.all([
    categoriesById(
      db,
      rows.flatMap((row) => row.category_path as string[]),
    ),
    db.query(
      `SELECT v.product_id, v.attribute_id, v.num, v.min, v.max, v.text, v.bool
         FROM catalog.product_attribute_values v
         JOIN catalog.attribute_definitions d ON d.id = v.attribute_id
        WHERE v.product_id = ANY($1::uuid[]) ORDER BY d.sort, d.key`,
      [found],
    ),
    db.query(
      `SELECT ${SKU_COLUMNS} FROM catalog.skus WHERE product_id = ANY($1::uuid[]) ORDER BY sort, code`,
      [found],
    ),
    db.query(
      `SELECT v.sku_id, v.attribute_id, v.num, v.min, v.max, v.text, v.bool
         FROM catalog.sku_attribute_values v
         JOIN catalog.skus s ON s.id = v.sku_id
         JOIN catalog.attribute_definitions d ON d.id = v.attribute_id
        WHERE s.product_id = ANY($1::uuid[]) ORDER BY d.sort, d.key`,
      [found],
    ),
    db.query(
      `SELECT r.product_id AS owner_id, r.kind, ${SUMMARY_COLUMNS}
         FROM catalog.product_relations r
         JOIN catalog.products p ON p.id = r.related_id
         LEFT JOIN catalog.brands b ON b.id = p.brand_id
        WHERE r.product_id = ANY($1::uuid[]) ORDER BY r.kind, r.sort, p.slug`,
      [found],
    ),
  ]);
  const definitions = await attributesById(db, [
    ...values.rows.map((row) => row.attribute_id as string),
    ...skuValues.rows.map((row) => row.attribute_id as string),
  ]);
  const group = <T>(list: T[], key: (item: T) => string) => {
    const map = new Map<string, T[]>();
    for (const item of list) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
    return map;
  };
  const typedValue = (row: Record<string, unknown>) =>
    attributeValueOf(definitions.get(row.attribute_id as string)!, row as never);
  const valuesByProduct = group(values.rows, (row) => row.product_id as string);
  const valuesBySku = group(skuValues.rows, (row) => row.sku_id as string);
  const skusByProduct = group(skuRows.rows.map(toSkuRow), (sku) => sku.productId);
  const relationsByProduct = group(relations.rows, (row) => row.owner_id as string);

  const products = new Map<string, Product>();
  for (const row of rows) {
    const path = (row.category_path as string[]).map((id) => categoryRef(categories.get(id)!));
    const product: Product = {
      id: row.id,
      slug: row.slug,
      nameZh: row.name_zh,
      nameEn: row.name_en,
      descriptionZh: row.description_zh ?? null,
      descriptionEn: row.description_en ?? null,
      brand: row.brand_id
        ? { id: row.brand_id, slug: row.brand_slug, name: row.brand_name, nameZh: row.brand_name_zh ?? null }
        : null,
      category: { ...path[path.length - 1]!, path },
      model: row.model ?? null,
      lifecycle: row.lifecycle,
      orderable: row.lifecycle === 'active',
      scenarios: row.scenarios,
      unitOfMeasure: row.unit_of_measure,
      packSizes: row.pack_sizes,
      isPublic: row.is_public,
      metaTitle: row.meta_title ?? null,
      metaDescription: row.meta_description ?? null,
      attributes: (valuesByProduct.get(row.id) ?? []).map(typedValue),
      skus: (skusByProduct.get(row.id) ?? []).map((sku: SkuRow) => ({
        id: sku.id,
        code: sku.code,
        unitOfMeasure: sku.unitOfMeasure,
        packSize: sku.packSize,
        weightGrams: sku.weightGrams,
        variant: (valuesBySku.get(sku.id) ?? []).map(typedValue),
        createdAt: sku.createdAt,
        updatedAt: sku.updatedAt,
      })),
      relations: (relationsByProduct.get(row.id) ?? []).map((relation) => ({
        kind: relation.kind as RelationKind,
        product: toSummary(relation),
      })),
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
    products.set(product.id, product);
  }
  return products;
}

export async function loadProduct(db: Queryable, id: string): Promise<Product | undefined> {
  return (await loadProducts(db, [id])).get(id);
}

/** The id of the product with this id or slug, if any. */
export async function productIdOf(db: Queryable, idOrSlug: string): Promise<string | undefined> {
  const { rows } = await db.query(
    UUID.test(idOrSlug)
      ? 'SELECT id FROM catalog.products WHERE id = $1'
      : 'SELECT id FROM catalog.products WHERE slug = $1',
    [idOrSlug],
  );
  return rows[0]?.id as string | undefined;
}

/** Locks a product row for the rest of the transaction; 404 when there is none. */
export async function lockProduct(
  db: Queryable,
  id: string,
): Promise<{ lifecycle: Lifecycle; categoryId: string; unitOfMeasure: string }> {
  const { rows } = await db.query(
    'SELECT lifecycle, category_id, unit_of_measure FROM catalog.products WHERE id = $1 FOR UPDATE',
    [id],
  );
  if (!rows[0]) throw new NotFound('Product');
  return {
    lifecycle: rows[0].lifecycle,
    categoryId: rows[0].category_id,
    unitOfMeasure: rows[0].unit_of_measure,
  };
}

async function requireBrand(db: Queryable, brandId: string | null | undefined, errors: FieldError[]) {
  if (!brandId) return;
  const { rowCount } = await db.query('SELECT 1 FROM catalog.brands WHERE id = $1', [brandId]);
  if (!rowCount) errors.push({ pointer: '/brandId', detail: 'is not a brand' });
}

async function categoryPathOf(db: Queryable, categoryId: string, errors: FieldError[]): Promise<string[]> {
  const category = await findCategory(db, categoryId);
  if (!category) errors.push({ pointer: '/categoryId', detail: 'is not a category' });
  return category?.path ?? [];
}

function checkValues(
  definitions: Map<string, AttributeDefinition>,
  inputs: readonly AttributeValueInput[] | undefined,
  categoryPath: string[],
  errors: FieldError[],
): ResolvedValue[] {
  const checked = checkAttributeValues(definitions, inputs ?? [], categoryPath, '/attributes');
  errors.push(...checked.errors);
  return checked.values;
}

/** Creates a draft product with its SKUs and attribute values, after checking all of it. */
export async function insertProduct(db: Queryable, input: ProductInput): Promise<string> {
  const errors: FieldError[] = [];
  const slug = input.slug ?? slugify(input.nameEn);
  if (!slug) errors.push({ pointer: '/slug', detail: 'cannot be derived from nameEn: give one' });
  await requireBrand(db, input.brandId, errors);
  const categoryPath = await categoryPathOf(db, input.categoryId, errors);
  const definitions = await attributesByKey(db, [
    ...(input.attributes ?? []).map((value) => value.key),
    ...input.skus.flatMap((sku) => (sku.variant ?? []).map((value) => value.key)),
  ]);
  const values = checkValues(definitions, input.attributes, categoryPath, errors);
  const skus = checkSkus(definitions, input.skus, categoryPath, '/skus');
  errors.push(...skus.errors);
  if (errors.length) throw new ValidationFailed(errors, 'The product is not valid');
  let id: string;
  try {
    const { rows } = await db.query(
      `INSERT INTO catalog.products
         (slug, name_zh, name_en, description_zh, description_en, brand_id, category_id, model, scenarios,
          unit_of_measure, pack_sizes, is_public, meta_title, meta_description)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
      [
        slug,
        input.nameZh,
        input.nameEn,
        input.descriptionZh ?? null,
        input.descriptionEn ?? null,
        input.brandId ?? null,
        input.categoryId,
        input.model ?? null,
        input.scenarios ?? [],
        input.unitOfMeasure,
        input.packSizes ?? [],
        input.isPublic ?? false,
        input.metaTitle ?? null,
        input.metaDescription ?? null,
      ],
    );
    id = rows[0]!.id as string;
  } catch (error) {
    conflictOnDuplicate(error, 'Another product has this slug', '/slug');
  }
  await writeValues(db, 'product_attribute_values', id, values);
  await insertSkus(db, id, input.unitOfMeasure, input.skus, skus.variants, '/skus');
  return id;
}

/** The stored values of a product as inputs again (to re-check them against a new category). */
function inputsOf(values: readonly AttributeValue[]): AttributeValueInput[] {
  return values.map((value) =>
    value.type === 'range'
      ? { key: value.key, min: value.min!, max: value.max! }
      : { key: value.key, value: value.value! },
  );
}

/** Changes a product's fields; new `attributes` replace its values. Lock it first (`lockProduct`). */
export async function updateProduct(db: Queryable, before: Product, changes: ProductChanges): Promise<void> {
  const errors: FieldError[] = [];
  if (changes.brandId !== undefined) await requireBrand(db, changes.brandId, errors);
  const categoryId = changes.categoryId ?? before.category.id;
  const categoryPath = await categoryPathOf(db, categoryId, errors);
  let values: ResolvedValue[] | undefined;
  if (changes.attributes || categoryId !== before.category.id) {
    const inputs = changes.attributes ?? inputsOf(before.attributes);
    const definitions = await attributesByKey(
      db,
      inputs.map((value) => value.key),
    );
    values = checkValues(definitions, inputs, categoryPath, errors);
    const skuInputs = before.skus.map((sku) => ({
      code: sku.code,
      variant: inputsOf(sku.variant),
    }));
    if (categoryId !== before.category.id) {
      const skuDefinitions = await attributesByKey(
        db,
        skuInputs.flatMap((sku) => sku.variant.map((value) => value.key)),
      );
      errors.push(...checkSkus(skuDefinitions, skuInputs, categoryPath, '/skus').errors);
    }
  }
  if (errors.length) throw new ValidationFailed(errors, 'The product is not valid');
  const pick = <K extends keyof ProductChanges>(key: K, current: unknown) =>
    changes[key] !== undefined ? changes[key] : current;
  try {
    await db.query(
      `UPDATE catalog.products
          SET slug = $2, name_zh = $3, name_en = $4, description_zh = $5, description_en = $6, brand_id = $7,
              category_id = $8, model = $9, scenarios = $10, unit_of_measure = $11, pack_sizes = $12,
              is_public = $13, meta_title = $14, meta_description = $15, updated_at = now()
        WHERE id = $1`,
      [
        before.id,
        pick('slug', before.slug),
        pick('nameZh', before.nameZh),
        pick('nameEn', before.nameEn),
        pick('descriptionZh', before.descriptionZh),
        pick('descriptionEn', before.descriptionEn),
        pick('brandId', before.brand?.id ?? null),
        categoryId,
        pick('model', before.model),
        pick('scenarios', before.scenarios),
        pick('unitOfMeasure', before.unitOfMeasure),
        pick('packSizes', before.packSizes),
        pick('isPublic', before.isPublic),
        pick('metaTitle', before.metaTitle),
        pick('metaDescription', before.metaDescription),
      ],
    );
  } catch (error) {
    conflictOnDuplicate(error, 'Another product has this slug', '/slug');
  }
  if (values) await writeValues(db, 'product_attribute_values', before.id, values);
}

/** Marks a product changed (its SKUs, relations or variant values changed). */
export async function touchProduct(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE catalog.products SET updated_at = now() WHERE id = $1', [id]);
}

/** Moves a product along its lifecycle; 409 for a move the lifecycle does not allow. */
export async function changeLifecycle(db: Queryable, id: string, to: Lifecycle): Promise<Lifecycle> {
  const { lifecycle: from } = await lockProduct(db, id);
  if (!TRANSITIONS[from].includes(to)) {
    throw new Conflict(`A ${from} product cannot become ${to}`, {
      errors: [{ pointer: '/lifecycle', detail: `from ${from} only to ${TRANSITIONS[from].join(' or ')}` }],
    });
  }
  await db.query(
    `UPDATE catalog.products SET lifecycle = $2, lifecycle_changed_at = now(), updated_at = now() WHERE id = $1`,
    [id, to],
  );
  return from;
}

/** Deletes a draft (a product that was never active); others can only be discontinued. */
export async function deleteProduct(db: Queryable, id: string): Promise<void> {
  const { lifecycle } = await lockProduct(db, id);
  if (lifecycle !== 'draft') {
    throw new Conflict('Only a draft can be deleted: discontinue the product instead');
  }
  await db.query('DELETE FROM catalog.products WHERE id = $1', [id]);
}

/** Replaces a product's relations (alternatives, accessories, related). */
export async function setRelations(
  db: Queryable,
  productId: string,
  relations: ReadonlyArray<{ kind: RelationKind; productId: string }>,
): Promise<void> {
  const errors: FieldError[] = [];
  const targets = [...new Set(relations.map((relation) => relation.productId))];
  const { rows } = await db.query('SELECT id FROM catalog.products WHERE id = ANY($1::uuid[])', [targets]);
  const known = new Set(rows.map((row) => row.id as string));
  const seen = new Set<string>();
  relations.forEach((relation, index) => {
    const key = `${relation.kind}:${relation.productId}`;
    if (relation.productId === productId) {
      errors.push({ pointer: `/relations/${index}/productId`, detail: 'is the product itself' });
    } else if (!known.has(relation.productId)) {
      errors.push({ pointer: `/relations/${index}/productId`, detail: 'is not a product' });
    } else if (seen.has(key)) {
      errors.push({ pointer: `/relations/${index}`, detail: 'appears twice' });
    }
    seen.add(key);
  });
  if (errors.length) throw new ValidationFailed(errors, 'Invalid relations');
  await db.query('DELETE FROM catalog.product_relations WHERE product_id = $1', [productId]);
  if (relations.length) {
    await db.query(
      `INSERT INTO catalog.product_relations (product_id, kind, related_id, sort)
       SELECT $1, kind, related_id, ord::int - 1
         FROM unnest($2::text[], $3::uuid[]) WITH ORDINALITY AS r(kind, related_id, ord)`,
      [
        productId,
        relations.map((relation) => relation.kind),
        relations.map((relation) => relation.productId),
      ],
    );
  }
}

export interface ProductFilter {
  lifecycle?: Lifecycle;
  categoryId?: string;
  brandId?: string;
  limit: number;
  after?: string | undefined;
}

/** A page of product summaries for staff, by id (keyset). `categoryId` covers its subtree. */
export async function listProducts(db: Queryable, filter: ProductFilter): Promise<ProductSummary[]> {
  const { rows } = await db.query(
    `SELECT ${SUMMARY_COLUMNS}
       FROM catalog.products p
       JOIN catalog.categories c ON c.id = p.category_id
       LEFT JOIN catalog.brands b ON b.id = p.brand_id
      WHERE ($1::text IS NULL OR p.lifecycle = $1)
        AND ($2::uuid IS NULL OR c.path @> ARRAY[$2::uuid])
        AND ($3::uuid IS NULL OR p.brand_id = $3)
        AND ($4::uuid IS NULL OR p.id > $4)
      ORDER BY p.id LIMIT $5`,
    [
      filter.lifecycle ?? null,
      filter.categoryId ?? null,
      filter.brandId ?? null,
      filter.after ?? null,
      filter.limit,
    ],
  );
  return rows.map(toSummary);
}

/** Summaries of these products (in no particular order). */
export async function summariesOf(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, ProductSummary>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query(
    `SELECT ${SUMMARY_COLUMNS} FROM catalog.products p LEFT JOIN catalog.brands b ON b.id = p.brand_id
      WHERE p.id = ANY($1::uuid[])`,
    [[...new Set(ids)]],
  );
  return new Map(rows.map((row) => [row.id as string, toSummary(row)]));
}
