import type { Queryable } from '../platform/database/database.ts';
import { Conflict, type FieldError, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import {
  type AttributeDefinition,
  type AttributeValueInput,
  attributesByKey,
  checkAttributeValues,
  type ResolvedValue,
} from './attributes.ts';

/** A SKU (the orderable variant of a product), as requests carry it. */
export interface SkuInput {
  code: string;
  /** Defaults to the product's unit of measure. */
  unitOfMeasure?: string;
  /** How many units of measure one SKU holds (a box of 100). */
  packSize?: number;
  weightGrams?: number | null;
  /** Variant axes (size, material, ...): values of attribute definitions. */
  variant?: AttributeValueInput[];
  sort?: number;
}

export type SkuChanges = Partial<SkuInput>;

export interface SkuRow {
  id: string;
  productId: string;
  code: string;
  unitOfMeasure: string;
  packSize: number;
  weightGrams: number | null;
  sort: number;
  createdAt: string;
  updatedAt: string;
}

export const SKU_COLUMNS =
  'id, product_id, code, unit_of_measure, pack_size, weight_grams, sort, created_at, updated_at';

export function toSkuRow(row: Record<string, unknown>): SkuRow {
  return {
    id: row.id as string,
    productId: row.product_id as string,
    code: row.code as string,
    unitOfMeasure: row.unit_of_measure as string,
    packSize: row.pack_size as number,
    weightGrams: (row.weight_grams as number | null) ?? null,
    sort: row.sort as number,
    createdAt: new Date(row.created_at as string).toISOString(),
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

/** The definitions every variant of these SKUs names. */
export async function variantDefinitions(
  db: Queryable,
  skus: ReadonlyArray<{ variant?: AttributeValueInput[] | undefined }>,
): Promise<Map<string, AttributeDefinition>> {
  return attributesByKey(
    db,
    skus.flatMap((sku) => (sku.variant ?? []).map((value) => value.key)),
  );
}

/** Problems with SKUs of one request: variant values and codes repeated within the request. */
export function checkSkus(
  definitions: ReadonlyMap<string, AttributeDefinition>,
  skus: readonly SkuInput[],
  categoryPath: readonly string[],
  pointer: string,
): { variants: ResolvedValue[][]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const codes = new Set<string>();
  const variants = skus.map((sku, index) => {
    if (codes.has(sku.code)) errors.push({ pointer: `${pointer}/${index}/code`, detail: 'appears twice' });
    codes.add(sku.code);
    const checked = checkAttributeValues(
      definitions,
      sku.variant ?? [],
      categoryPath,
      `${pointer}/${index}/variant`,
    );
    errors.push(...checked.errors);
    return checked.values;
  });
  return { variants, errors };
}

export async function writeValues(
  db: Queryable,
  table: 'product_attribute_values' | 'sku_attribute_values',
  ownerId: string,
  values: readonly ResolvedValue[],
): Promise<void> {
  const owner = table === 'product_attribute_values' ? 'product_id' : 'sku_id';
  await db.query(`DELETE FROM catalog.${table} WHERE ${owner} = $1`, [ownerId]);
  if (values.length === 0) return;
  await db.query(
    `INSERT INTO catalog.${table} (${owner}, attribute_id, num, min, max, text, bool)
     SELECT $1, * FROM unnest($2::uuid[], $3::numeric[], $4::numeric[], $5::numeric[], $6::text[], $7::boolean[])`,
    [
      ownerId,
      values.map((v) => v.definition.id),
      values.map((v) => v.num),
      values.map((v) => v.min),
      values.map((v) => v.max),
      values.map((v) => v.text),
      values.map((v) => v.bool),
    ],
  );
}

function duplicateCode(error: unknown, pointer: string): never {
  if ((error as { code?: string; constraint?: string }).code === '23505') {
    throw new Conflict('Another SKU has this code', { errors: [{ pointer, detail: 'is taken' }] });
  }
  throw error;
}

/** Inserts checked SKUs of a product (`variants[i]` are the checked values of `skus[i]`). */
export async function insertSkus(
  db: Queryable,
  productId: string,
  productUnit: string,
  skus: readonly SkuInput[],
  variants: readonly ResolvedValue[][],
  pointer: string,
): Promise<SkuRow[]> {
  const inserted: SkuRow[] = [];
  for (const [index, sku] of skus.entries()) {
    try {
      const { rows } = await db.query(
        `INSERT INTO catalog.skus (product_id, code, unit_of_measure, pack_size, weight_grams, sort)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${SKU_COLUMNS}`,
        [
          productId,
          sku.code,
          sku.unitOfMeasure ?? productUnit,
          sku.packSize ?? 1,
          sku.weightGrams ?? null,
          sku.sort ?? index,
        ],
      );
      const row = toSkuRow(rows[0]!);
      await writeValues(db, 'sku_attribute_values', row.id, variants[index] ?? []);
      inserted.push(row);
    } catch (error) {
      duplicateCode(error, `${pointer}/${index}/code`);
    }
  }
  return inserted;
}

export async function findSku(db: Queryable, productId: string, id: string): Promise<SkuRow | undefined> {
  const { rows } = await db.query(
    `SELECT ${SKU_COLUMNS} FROM catalog.skus WHERE product_id = $1 AND id = $2`,
    [productId, id],
  );
  return rows[0] ? toSkuRow(rows[0]) : undefined;
}

/** Changes one SKU; a new `variant` replaces its values. */
export async function updateSku(
  db: Queryable,
  productId: string,
  id: string,
  changes: SkuChanges,
  categoryPath: readonly string[],
): Promise<{ before: SkuRow; after: SkuRow }> {
  const before = await findSku(db, productId, id);
  if (!before) throw new NotFound('SKU');
  let variant: ResolvedValue[] | undefined;
  if (changes.variant) {
    const definitions = await variantDefinitions(db, [changes]);
    const checked = checkAttributeValues(definitions, changes.variant, categoryPath, '/variant');
    if (checked.errors.length) throw new ValidationFailed(checked.errors, 'Invalid variant values');
    variant = checked.values;
  }
  let after: SkuRow;
  try {
    const { rows } = await db.query(
      `UPDATE catalog.skus
          SET code = $3, unit_of_measure = $4, pack_size = $5, weight_grams = $6, sort = $7, updated_at = now()
        WHERE product_id = $1 AND id = $2 RETURNING ${SKU_COLUMNS}`,
      [
        productId,
        id,
        changes.code ?? before.code,
        changes.unitOfMeasure ?? before.unitOfMeasure,
        changes.packSize ?? before.packSize,
        changes.weightGrams !== undefined ? changes.weightGrams : before.weightGrams,
        changes.sort ?? before.sort,
      ],
    );
    after = toSkuRow(rows[0]!);
  } catch (error) {
    duplicateCode(error, '/code');
  }
  if (variant) await writeValues(db, 'sku_attribute_values', id, variant);
  return { before, after };
}

/** Deletes a SKU; a product keeps at least one. */
export async function deleteSku(db: Queryable, productId: string, id: string): Promise<SkuRow> {
  const sku = await findSku(db, productId, id);
  if (!sku) throw new NotFound('SKU');
  const { rows } = await db.query('SELECT count(*)::int AS n FROM catalog.skus WHERE product_id = $1', [
    productId,
  ]);
  if (rows[0]!.n <= 1) throw new Conflict('A product keeps at least one SKU');
  await db.query('DELETE FROM catalog.skus WHERE id = $1', [id]);
  return sku;
}
