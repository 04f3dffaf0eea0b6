import type { Transaction } from '../../platform/database/database.ts';
import type { ResolvedValue } from '../attributes.ts';
import type { ProductPlan, SkuWrite } from './import-plan.ts';

/**
 * The writes of a batch of planned products: a handful of multi-row statements whatever the batch
 * size (rows travel as one JSON document per statement and are unpacked by `jsonb_to_recordset`),
 * never one statement per row. Updates change only the columns the file gave (`COALESCE` with
 * the stored value); attribute values and SKU variants given replace the stored ones of the same
 * attribute, others are kept; SKUs are matched by code, new codes added, SKUs the file does not
 * name kept.
 */
export async function writePlans(tx: Transaction, plans: readonly ProductPlan[]): Promise<void> {
  const creates = plans.filter((plan) => plan.kind === 'create');
  const updates = plans.filter((plan) => plan.kind === 'update');
  if (creates.length) {
    await tx.query(
      `INSERT INTO catalog.products
         (id, slug, name_zh, name_en, description_zh, description_en, brand_id, category_id, model, lifecycle,
          scenarios, unit_of_measure, pack_sizes, is_public, meta_title, meta_description)
       SELECT r.id, r.slug, r.name_zh, r.name_en, r.description_zh, r.description_en, r.brand_id, r.category_id,
              r.model, COALESCE(r.lifecycle, 'draft'), COALESCE(r.scenarios, '{}'), r.unit_of_measure,
              COALESCE(r.pack_sizes, '{}'), COALESCE(r.is_public, false), r.meta_title, r.meta_description
         FROM jsonb_to_recordset($1::jsonb) AS r(${PRODUCT_RECORD})`,
      [JSON.stringify(creates.map(productRecord))],
    );
  }
  if (updates.length) {
    await tx.query(
      `UPDATE catalog.products p
          SET name_zh = COALESCE(r.name_zh, p.name_zh), name_en = COALESCE(r.name_en, p.name_en),
              description_zh = COALESCE(r.description_zh, p.description_zh),
              description_en = COALESCE(r.description_en, p.description_en),
              brand_id = COALESCE(r.brand_id, p.brand_id), category_id = COALESCE(r.category_id, p.category_id),
              model = COALESCE(r.model, p.model), lifecycle = COALESCE(r.lifecycle, p.lifecycle),
              scenarios = COALESCE(r.scenarios, p.scenarios),
              unit_of_measure = COALESCE(r.unit_of_measure, p.unit_of_measure),
              pack_sizes = COALESCE(r.pack_sizes, p.pack_sizes), is_public = COALESCE(r.is_public, p.is_public),
              meta_title = COALESCE(r.meta_title, p.meta_title),
              meta_description = COALESCE(r.meta_description, p.meta_description),
              lifecycle_changed_at = CASE WHEN r.lifecycle IS DISTINCT FROM NULL AND r.lifecycle <> p.lifecycle
                                          THEN now() ELSE p.lifecycle_changed_at END,
              updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS r(${PRODUCT_RECORD})
        WHERE p.id = r.id`,
      [JSON.stringify(updates.map(productRecord))],
    );
  }
  // New products' values cannot collide: a plain insert skips the speculative-insertion work of ON CONFLICT.
  await insertValues(
    tx,
    'product_attribute_values',
    creates.flatMap((plan) => plan.values.map((value) => valueRecord(plan.id, value))),
    false,
  );
  await insertValues(
    tx,
    'product_attribute_values',
    updates.flatMap((plan) => plan.values.map((value) => valueRecord(plan.id, value))),
    true,
  );
  const newSkus = plans.flatMap((plan) => plan.newSkus.map((sku) => skuRecord(plan.id, sku)));
  if (newSkus.length) {
    await tx.query(
      `INSERT INTO catalog.skus (id, product_id, code, unit_of_measure, pack_size, weight_grams, sort)
       SELECT r.id, r.product_id, r.code, r.unit, COALESCE(r.pack_size, 1), r.weight_grams, r.sort
         FROM jsonb_to_recordset($1::jsonb) AS r(${SKU_RECORD})`,
      [JSON.stringify(newSkus)],
    );
  }
  const changedSkus = plans.flatMap((plan) => plan.changedSkus.map((sku) => skuRecord(plan.id, sku)));
  if (changedSkus.length) {
    await tx.query(
      `UPDATE catalog.skus s
          SET unit_of_measure = COALESCE(r.unit, s.unit_of_measure), pack_size = COALESCE(r.pack_size, s.pack_size),
              weight_grams = COALESCE(r.weight_grams, s.weight_grams), updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS r(${SKU_RECORD})
        WHERE s.id = r.id AND s.product_id = r.product_id`,
      [JSON.stringify(changedSkus)],
    );
  }
  await insertValues(
    tx,
    'sku_attribute_values',
    plans.flatMap((plan) =>
      plan.newSkus.flatMap((sku) => sku.variant.map((value) => valueRecord(sku.id, value))),
    ),
    false,
  );
  await insertValues(
    tx,
    'sku_attribute_values',
    plans.flatMap((plan) =>
      plan.changedSkus.flatMap((sku) => sku.variant.map((value) => valueRecord(sku.id, value))),
    ),
    true,
  );
}

/** Typed values of products or SKUs; `replace` overwrites a stored value of the same attribute. */
async function insertValues(
  tx: Transaction,
  table: 'product_attribute_values' | 'sku_attribute_values',
  records: readonly ReturnType<typeof valueRecord>[],
  replace: boolean,
): Promise<void> {
  if (records.length === 0) return;
  const owner = table === 'product_attribute_values' ? 'product_id' : 'sku_id';
  await tx.query(
    `INSERT INTO catalog.${table} (${owner}, attribute_id, num, min, max, text, bool)
     SELECT r.o, r.a, r.n, r.lo, r.hi, r.t, r.b FROM jsonb_to_recordset($1::jsonb) AS r(${VALUE_RECORD})
     ${
       replace
         ? `ON CONFLICT (${owner}, attribute_id) DO UPDATE
              SET num = EXCLUDED.num, min = EXCLUDED.min, max = EXCLUDED.max, text = EXCLUDED.text, bool = EXCLUDED.bool`
         : ''
     }`,
    [JSON.stringify(records)],
  );
}

const PRODUCT_RECORD = `id uuid, slug text, name_zh text, name_en text, description_zh text, description_en text,
  brand_id uuid, category_id uuid, model text, lifecycle text, scenarios text[], unit_of_measure text,
  pack_sizes integer[], is_public boolean, meta_title text, meta_description text`;

/** Short keys: a batch carries tens of thousands of values. */
const VALUE_RECORD = 'o uuid, a uuid, n numeric, lo numeric, hi numeric, t text, b boolean';

const SKU_RECORD =
  'id uuid, product_id uuid, code text, unit text, pack_size integer, weight_grams integer, sort integer';

/** Absent keys are NULL in the record: "not given" for updates. */
function productRecord(plan: ProductPlan) {
  const f = plan.fields;
  return {
    id: plan.id,
    slug: f.slug,
    name_zh: f.nameZh,
    name_en: f.nameEn,
    description_zh: f.descriptionZh,
    description_en: f.descriptionEn,
    brand_id: f.brandId,
    category_id: f.categoryId,
    model: f.model,
    lifecycle: f.lifecycle,
    scenarios: f.scenarios,
    unit_of_measure: f.unitOfMeasure,
    pack_sizes: f.packSizes,
    is_public: f.isPublic,
    meta_title: f.metaTitle,
    meta_description: f.metaDescription,
  };
}

function valueRecord(owner: string, value: ResolvedValue) {
  // Absent keys are NULL; nulls are left out to keep the batch's JSON small.
  const record: { o: string; a: string; n?: number; lo?: number; hi?: number; t?: string; b?: boolean } = {
    o: owner,
    a: value.definition.id,
  };
  if (value.num !== null) record.n = value.num;
  if (value.min !== null) record.lo = value.min;
  if (value.max !== null) record.hi = value.max;
  if (value.text !== null) record.t = value.text;
  if (value.bool !== null) record.b = value.bool;
  return record;
}

function skuRecord(productId: string, sku: SkuWrite) {
  return {
    id: sku.id,
    product_id: productId,
    code: sku.code,
    unit: sku.unitOfMeasure,
    pack_size: sku.packSize,
    weight_grams: sku.weightGrams,
    sort: sku.sort,
  };
}
