import type { Queryable } from '../../platform/database/database.ts';
import type { SheetRow } from '../../platform/files/csv-rows.ts';
import {
  type AttributeDefinition,
  type AttributeValueInput,
  checkAttributeValues,
  type ResolvedValue,
} from '../attributes.ts';
import type { Lifecycle } from '../products.ts';
import { slugify } from '../products.ts';
import type { ImportCatalog } from './import-catalog.ts';
import {
  attributeInputOf,
  type ColumnMap,
  cellText,
  FIELD_NAMES,
  PRODUCT_FIELDS,
  type ProductField,
  type ProductValues,
  parseProductCell,
  parseSkuCell,
  SKU_FIELDS,
  type SkuField,
  type SkuValues,
} from './import-columns.ts';
import { timeOrderedUuid } from './time-ordered-uuid.ts';

/**
 * Turns the rows of one product into a plan of writes, or into report entries: every rule the
 * catalog applies to a product created or edited through the API is applied here, in memory,
 * against the catalog read at the start of the batch — so a rejected product never reaches the
 * database.
 */
export type ImportMode = 'upsert' | 'create-only' | 'update-only';

/** One line of the validation report. */
export interface ReportEntry {
  row: number;
  column: string | null;
  field: string | null;
  code: string;
  message: string;
}

/** Consecutive rows of one product (same key), with problems pass 1 already found in them. */
export interface ProductRows {
  key: string;
  rows: SheetRow[];
  problems: ReportEntry[];
}

/** The product key of a row: its slug, else the slug derived from nameEn (as the API derives it). */
export function productKeyOf(cells: readonly string[], columns: ColumnMap): string {
  const slug = cellText(cells, columns.product.slug);
  if (slug) return slug;
  const nameEn = cellText(cells, columns.product.nameEn);
  return nameEn ? slugify(nameEn) : '';
}

/** The product as it is now, for updates. */
export interface ExistingProduct {
  id: string;
  slug: string;
  lifecycle: Lifecycle;
  categoryId: string;
  unitOfMeasure: string;
  isPublic: boolean;
}

export interface BatchLookups {
  products: Map<string, ExistingProduct>;
  /** Owner of each SKU code of the batch that exists. */
  skus: Map<string, { skuId: string; productId: string }>;
  /** Attribute ids of the stored values (product and SKU variant) of products whose category may change. */
  valueAttributes: Map<string, string[]>;
}

/**
 * Reads what the batch's products and SKU codes are now; `lock` takes the product rows FOR UPDATE,
 * so nobody edits them between this check and the batch's commit.
 */
export async function lookUpBatch(
  db: Queryable,
  batch: readonly ProductRows[],
  columns: ColumnMap,
  lock: boolean,
): Promise<BatchLookups> {
  const slugs = batch.map((group) => group.key).filter(Boolean);
  const codes = [
    ...new Set(
      batch.flatMap((group) =>
        group.rows
          .map((row) => cellText(row.cells, columns.sku.skuCode))
          .filter((code) => code !== undefined),
      ),
    ),
  ];
  const [products, skus] = await Promise.all([
    db.query(
      `SELECT id, slug, lifecycle, category_id, unit_of_measure, is_public FROM catalog.products
        WHERE slug = ANY($1::text[]) ORDER BY id ${lock ? 'FOR UPDATE' : ''}`,
      [slugs],
    ),
    db.query('SELECT id, product_id, code FROM catalog.skus WHERE code = ANY($1::text[])', [codes]),
  ]);
  const existing = new Map<string, ExistingProduct>(
    products.rows.map((row) => [
      row.slug as string,
      {
        id: row.id,
        slug: row.slug,
        lifecycle: row.lifecycle,
        categoryId: row.category_id,
        unitOfMeasure: row.unit_of_measure,
        isPublic: row.is_public,
      },
    ]),
  );
  const valueAttributes = new Map<string, string[]>();
  if (columns.product.category !== undefined && existing.size > 0) {
    const { rows } = await db.query(
      `SELECT product_id, array_agg(attribute_id::text) AS ids FROM (
         SELECT product_id, attribute_id FROM catalog.product_attribute_values WHERE product_id = ANY($1::uuid[])
         UNION ALL
         SELECT s.product_id, v.attribute_id FROM catalog.sku_attribute_values v
           JOIN catalog.skus s ON s.id = v.sku_id WHERE s.product_id = ANY($1::uuid[])) v
       GROUP BY product_id`,
      [[...existing.values()].map((product) => product.id)],
    );
    for (const row of rows) valueAttributes.set(row.product_id as string, row.ids as string[]);
  }
  return {
    products: existing,
    skus: new Map(skus.rows.map((row) => [row.code as string, { skuId: row.id, productId: row.product_id }])),
    valueAttributes,
  };
}

/** Stored columns of a product; `undefined` = not given (left as it is on update). */
export interface ProductFields {
  slug: string;
  nameZh?: string;
  nameEn?: string;
  descriptionZh?: string;
  descriptionEn?: string;
  brandId?: string;
  categoryId?: string;
  model?: string;
  lifecycle?: Lifecycle;
  scenarios?: string[];
  unitOfMeasure?: string;
  packSizes?: number[];
  isPublic?: boolean;
  metaTitle?: string;
  metaDescription?: string;
}

export interface SkuWrite {
  id: string;
  code: string;
  unitOfMeasure?: string;
  packSize?: number;
  weightGrams?: number;
  sort: number;
  variant: ResolvedValue[];
}

export interface ProductPlan {
  kind: 'create' | 'update';
  id: string;
  slug: string;
  firstRow: number;
  lastRow: number;
  rowCount: number;
  fields: ProductFields;
  /** Set when the lifecycle moves (on create: when it is not draft). */
  lifecycle?: { from: Lifecycle | null; to: Lifecycle };
  values: ResolvedValue[];
  newSkus: SkuWrite[];
  changedSkus: SkuWrite[];
  /** What `product.updated` names: product fields given, `attributes`, `skus`. */
  changes: string[];
  /** Lifecycle, public flag or category may have changed who sees it. */
  visibility: boolean;
}

export type PlanResult = { ok: true; plan: ProductPlan } | { ok: false; problems: ReportEntry[] };

/** Product field → the stored field it fills and names in `changes`. */
const STORED: Record<ProductField, keyof ProductFields> = {
  slug: 'slug',
  nameZh: 'nameZh',
  nameEn: 'nameEn',
  descriptionZh: 'descriptionZh',
  descriptionEn: 'descriptionEn',
  brand: 'brandId',
  category: 'categoryId',
  model: 'model',
  lifecycle: 'lifecycle',
  scenarios: 'scenarios',
  unitOfMeasure: 'unitOfMeasure',
  packSizes: 'packSizes',
  isPublic: 'isPublic',
  metaTitle: 'metaTitle',
  metaDescription: 'metaDescription',
};

const REQUIRED_ON_CREATE: ProductField[] = ['nameZh', 'nameEn', 'category', 'unitOfMeasure'];

const TRANSITIONS: Record<Lifecycle, readonly Lifecycle[]> = {
  draft: ['active'],
  active: ['discontinued'],
  discontinued: ['active'],
};

/** The most SKUs one product may have in a request (create-product-request's maxItems). */
const MAX_SKUS = 500;

/** A column's first non-empty cell over the product's rows; a different one later is a problem. */
function productCell(
  group: ProductRows,
  index: number | undefined,
  header: string,
  field: string,
  problems: ReportEntry[],
): { text: string; row: number } | undefined {
  if (index === undefined) return undefined;
  let first: { text: string; row: number } | undefined;
  for (const row of group.rows) {
    const text = cellText(row.cells, index);
    if (text === undefined) continue;
    if (!first) first = { text, row: row.row };
    else if (text !== first.text) {
      problems.push({
        row: row.row,
        column: header,
        field,
        code: 'inconsistent-value',
        message: `differs from row ${first.row}: a product's columns repeat one value on each of its rows (or stay empty)`,
      });
    }
  }
  return first;
}

/** Attribute values of a set of value columns, with the column and row each came from. */
function valueInputs(
  cells: ReadonlyArray<{ text: string; row: number; header: string; definition: AttributeDefinition }>,
): { inputs: AttributeValueInput[]; origins: Array<{ row: number; header: string; key: string }> } {
  return {
    inputs: cells.map((cell) => attributeInputOf(cell.definition, cell.text)),
    origins: cells.map((cell) => ({ row: cell.row, header: cell.header, key: cell.definition.key })),
  };
}

/** `checkAttributeValues` problems (pointers `/<index>/<field>`) as report entries of their cells. */
function valueProblems(
  errors: ReadonlyArray<{ pointer: string; detail: string }>,
  origins: ReadonlyArray<{ row: number; header: string; key: string }>,
  prefix: string,
): ReportEntry[] {
  return errors.map((error) => {
    const [, index, part] = error.pointer.split('/');
    const origin = origins[Number(index)];
    return {
      row: origin?.row ?? 0,
      column: origin?.header ?? null,
      field: origin ? `${prefix}.${origin.key}` : prefix,
      code: 'invalid-value',
      message: part && part !== 'value' && part !== 'key' ? `${part} ${error.detail}` : error.detail,
    };
  });
}

/**
 * Plans the writes of one product, or says everything wrong with it (every problem, not the first).
 * `lookups` are the batch's existing products and SKU codes; `mode` decides whether an existing
 * product may be updated and a new one created.
 */
export function planProduct(
  group: ProductRows,
  columns: ColumnMap,
  catalog: ImportCatalog,
  lookups: BatchLookups,
  mode: ImportMode,
): PlanResult {
  const problems: ReportEntry[] = [...group.problems];
  const firstRow = group.rows[0]!.row;
  const header = (index: number | undefined) =>
    index === undefined ? null : (columns.columns[index]?.header ?? null);
  const problem = (row: number, field: ProductField | SkuField, code: string, message: string) => {
    const index =
      field in columns.product ? columns.product[field as ProductField] : columns.sku[field as SkuField];
    problems.push({ row, column: header(index), field: FIELD_NAMES[field], code, message });
  };

  // Product columns: the first non-empty cell of each, checked against the canonical rules.
  const given: Partial<ProductValues> = {};
  const givenAt: Partial<Record<ProductField, number>> = {};
  for (const field of PRODUCT_FIELDS) {
    const index = columns.product[field];
    const cell = productCell(group, index, header(index) ?? field, field, problems);
    if (!cell) continue;
    const parsed = parseProductCell(field, cell.text);
    if (!parsed.ok) problem(cell.row, field, 'invalid-value', parsed.message);
    else {
      (given as Record<string, unknown>)[field] = parsed.value;
      givenAt[field] = cell.row;
    }
  }

  const slug = group.key;
  if (!slug) {
    problem(firstRow, 'slug', 'required', 'is required: give a slug, or a nameEn to derive one from');
  } else if (given.slug === undefined) {
    const derived = parseProductCell('slug', slug);
    if (!derived.ok) problem(firstRow, 'slug', 'invalid-value', `derived from nameEn, ${derived.message}`);
  }
  const existing = slug ? lookups.products.get(slug) : undefined;
  if (existing && mode === 'create-only') {
    problem(firstRow, 'slug', 'product-exists', 'names a product that exists (mode create-only)');
  } else if (!existing && mode === 'update-only' && slug) {
    problem(firstRow, 'slug', 'product-not-found', 'names no product (mode update-only)');
  }
  if (!existing) {
    for (const field of REQUIRED_ON_CREATE) {
      if (
        given[field] === undefined &&
        givenAt[field] === undefined &&
        !problems.some((p) => p.field === field)
      ) {
        problem(firstRow, field, 'required', 'is required to create a product');
      }
    }
  }

  const fields: ProductFields = { slug };
  for (const field of PRODUCT_FIELDS) {
    if (field === 'brand' || field === 'category' || field === 'slug') continue;
    const value = given[field];
    if (value !== undefined) (fields as unknown as Record<string, unknown>)[STORED[field]] = value;
  }
  if (given.brand !== undefined) {
    const brand = catalog.resolveBrand(given.brand);
    if (brand.ok) fields.brandId = brand.value;
    else problem(givenAt.brand!, 'brand', brand.code, brand.message);
  }
  let categoryPath: readonly string[] = existing ? (catalog.category(existing.categoryId)?.path ?? []) : [];
  if (given.category !== undefined) {
    const category = catalog.resolveCategory(given.category);
    if (category.ok) {
      fields.categoryId = category.value.id;
      categoryPath = category.value.path;
    } else problem(givenAt.category!, 'category', category.code, category.message);
  }

  // Lifecycle: a new product is a draft unless the file says otherwise; an existing one moves only
  // as the lifecycle allows (never back to draft).
  let lifecycle: ProductPlan['lifecycle'];
  if (given.lifecycle !== undefined) {
    if (!existing) {
      if (given.lifecycle !== 'draft') lifecycle = { from: null, to: given.lifecycle };
    } else if (given.lifecycle !== existing.lifecycle) {
      if (TRANSITIONS[existing.lifecycle].includes(given.lifecycle)) {
        lifecycle = { from: existing.lifecycle, to: given.lifecycle };
      } else {
        problem(
          givenAt.lifecycle!,
          'lifecycle',
          'lifecycle-transition',
          `a ${existing.lifecycle} product cannot become ${given.lifecycle}`,
        );
      }
    }
  }

  // Attribute values: one per attr: column, checked by the catalog's own rules.
  const attributeCells = columns.attributes.flatMap(({ index, definition }) => {
    const cell = productCell(group, index, header(index)!, `attributes.${definition.key}`, problems);
    return cell ? [{ ...cell, header: header(index)!, definition }] : [];
  });
  const attributes = valueInputs(attributeCells);
  const checkedValues = checkAttributeValues(catalog.definitions, attributes.inputs, categoryPath, '');
  problems.push(...valueProblems(checkedValues.errors, attributes.origins, 'attributes'));

  // A new category must still suit the values the product keeps.
  if (existing && fields.categoryId && fields.categoryId !== existing.categoryId) {
    const replaced = new Set(checkedValues.values.map((value) => value.definition.id));
    const byId = new Map([...catalog.definitions.values()].map((definition) => [definition.id, definition]));
    for (const attributeId of new Set(lookups.valueAttributes.get(existing.id) ?? [])) {
      const definition = byId.get(attributeId);
      if (!definition || replaced.has(attributeId) || definition.categoryIds.length === 0) continue;
      if (!definition.categoryIds.some((id) => categoryPath.includes(id))) {
        problem(
          givenAt.category!,
          'category',
          'not-applicable',
          `the product's ${definition.key} value does not apply to this category`,
        );
      }
    }
  }

  // SKUs: one per row, matched by code.
  const newSkus: SkuWrite[] = [];
  const changedSkus: SkuWrite[] = [];
  const codes = new Map<string, number>();
  group.rows.forEach((row, position) => {
    const code = cellText(row.cells, columns.sku.skuCode);
    if (code === undefined) {
      problem(row.row, 'skuCode', 'required', 'is required: every row is one SKU');
      return;
    }
    const parsedCode = parseSkuCell('skuCode', code);
    if (!parsedCode.ok) {
      problem(row.row, 'skuCode', 'invalid-value', parsedCode.message);
      return;
    }
    if (codes.has(code)) {
      problem(
        row.row,
        'skuCode',
        'duplicate-sku-code',
        `appears twice in this product (row ${codes.get(code)})`,
      );
      return;
    }
    codes.set(code, row.row);
    const owner = lookups.skus.get(code);
    if (owner && owner.productId !== existing?.id) {
      problem(row.row, 'skuCode', 'sku-code-taken', 'belongs to another product');
      return;
    }
    const sku: SkuWrite = { id: owner?.skuId ?? timeOrderedUuid(), code, sort: position, variant: [] };
    const skuValues: Partial<SkuValues> = {};
    for (const field of SKU_FIELDS) {
      if (field === 'skuCode') continue;
      const text = cellText(row.cells, columns.sku[field]);
      if (text === undefined) continue;
      const parsed = parseSkuCell(field, text);
      if (parsed.ok) (skuValues as Record<string, unknown>)[field] = parsed.value;
      else problem(row.row, field, 'invalid-value', parsed.message);
    }
    sku.unitOfMeasure = skuValues.skuUnit;
    sku.packSize = skuValues.skuPackSize;
    sku.weightGrams = skuValues.skuWeightGrams;
    const variantCells = columns.variants.flatMap(({ index, definition }) => {
      const text = cellText(row.cells, index);
      return text ? [{ text, row: row.row, header: header(index)!, definition }] : [];
    });
    const variant = valueInputs(variantCells);
    const checkedVariant = checkAttributeValues(catalog.definitions, variant.inputs, categoryPath, '');
    problems.push(...valueProblems(checkedVariant.errors, variant.origins, 'sku.variant'));
    sku.variant = checkedVariant.values;
    if (!owner) {
      sku.unitOfMeasure ??= fields.unitOfMeasure ?? existing?.unitOfMeasure;
      newSkus.push(sku);
    } else if (
      sku.unitOfMeasure !== undefined ||
      sku.packSize !== undefined ||
      sku.weightGrams !== undefined ||
      sku.variant.length
    ) {
      changedSkus.push(sku);
    }
  });
  if (!existing && newSkus.length > MAX_SKUS) {
    problem(firstRow, 'skuCode', 'too-many-skus', `a product has at most ${MAX_SKUS} SKUs`);
  }

  if (problems.length) {
    const lastRow = group.rows[group.rows.length - 1]!.row;
    problems.sort((a, b) => a.row - b.row);
    problems.push({
      row: firstRow,
      column: null,
      field: null,
      code: 'product-rejected',
      message: `product ${slug || '(no slug)'} not imported: ${problems.length} problem${problems.length === 1 ? '' : 's'} in rows ${firstRow}–${lastRow}`,
    });
    return { ok: false, problems };
  }

  const changes = (Object.keys(fields) as Array<keyof ProductFields>).filter(
    (field) => field !== 'slug' && field !== 'lifecycle',
  ) as string[];
  if (checkedValues.values.length) changes.push('attributes');
  if (newSkus.length || changedSkus.length) changes.push('skus');
  const plan: ProductPlan = {
    kind: existing ? 'update' : 'create',
    id: existing?.id ?? timeOrderedUuid(),
    slug,
    firstRow,
    lastRow: group.rows[group.rows.length - 1]!.row,
    rowCount: group.rows.length,
    fields,
    ...(lifecycle ? { lifecycle } : {}),
    values: checkedValues.values,
    newSkus,
    changedSkus,
    changes,
    visibility: existing
      ? lifecycle !== undefined ||
        (fields.isPublic !== undefined && fields.isPublic !== existing.isPublic) ||
        (fields.categoryId !== undefined && fields.categoryId !== existing.categoryId)
      : (fields.lifecycle ?? 'draft') !== 'draft',
  };
  return { ok: true, plan };
}
