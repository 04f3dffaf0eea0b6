import type { AttributeDefinition, AttributeValueInput } from '../attributes.ts';
import { LIFECYCLES, type Lifecycle } from '../products.ts';
import { type FieldRule, fieldRule, ruleViolation } from './canonical-field-rules.ts';
import { ImportFileError } from './import-limits.ts';

/**
 * The columns of an import file and what a cell may say. Header names are English (any case,
 * spaces, `_` or `-` ignored: `nameZh`, `Name ZH`, `name_zh`) or Chinese aliases (`名称`, `型号`,
 * `品牌`, `类目`, `单位`, `SKU编码`, ...). Attribute columns are `attr:<key>` (or `属性:<key>`), SKU
 * variant columns `variant:<key>` (or `规格:<key>`); the key may also be the attribute's Chinese or
 * English name. Columns whose header starts with `#` are notes and ignored; any other unknown
 * header refuses the file, so a misspelt column never silently drops its data.
 */
export const PRODUCT_FIELDS = [
  'slug',
  'nameZh',
  'nameEn',
  'descriptionZh',
  'descriptionEn',
  'brand',
  'category',
  'model',
  'lifecycle',
  'scenarios',
  'unitOfMeasure',
  'packSizes',
  'isPublic',
  'metaTitle',
  'metaDescription',
] as const;
export type ProductField = (typeof PRODUCT_FIELDS)[number];

export const SKU_FIELDS = ['skuCode', 'skuUnit', 'skuPackSize', 'skuWeightGrams'] as const;
export type SkuField = (typeof SKU_FIELDS)[number];

/** Accepted header names per field (compared after `normalizeHeader`). */
const ALIASES: Record<ProductField | SkuField, string[]> = {
  slug: ['slug', 'url slug', 'seo slug', '链接名', 'URL别名', 'SEO别名'],
  nameZh: ['nameZh', 'name zh', 'chinese name', '名称', '中文名称', '产品名称', '商品名称'],
  nameEn: ['nameEn', 'name en', 'english name', 'name', '英文名称'],
  descriptionZh: ['descriptionZh', 'chinese description', '描述', '中文描述', '产品描述'],
  descriptionEn: ['descriptionEn', 'english description', 'description', '英文描述'],
  brand: ['brand', '品牌'],
  category: ['category', '类目', '分类', '产品分类'],
  model: ['model', '型号'],
  lifecycle: ['lifecycle', 'status', '状态', '生命周期'],
  scenarios: ['scenarios', '应用场景', '场景'],
  unitOfMeasure: ['unitOfMeasure', 'unit', 'uom', '单位', '计量单位'],
  packSizes: ['packSizes', '包装规格'],
  isPublic: ['isPublic', 'public', '公开'],
  metaTitle: ['metaTitle', 'seo title', 'SEO标题'],
  metaDescription: ['metaDescription', 'seo description', 'SEO描述'],
  skuCode: ['skuCode', 'sku', 'SKU编码', 'SKU代码', '货号'],
  skuUnit: ['skuUnit', 'SKU单位'],
  skuPackSize: ['skuPackSize', 'packSize', 'SKU包装数量', '包装数量'],
  skuWeightGrams: ['skuWeightGrams', 'weightGrams', 'SKU重量(克)', '重量(克)', '重量g'],
};

/** Names as the report shows the field a problem is about. */
export const FIELD_NAMES: Record<ProductField | SkuField, string> = {
  ...(Object.fromEntries(PRODUCT_FIELDS.map((field) => [field, field])) as Record<ProductField, string>),
  skuCode: 'sku.code',
  skuUnit: 'sku.unitOfMeasure',
  skuPackSize: 'sku.packSize',
  skuWeightGrams: 'sku.weightGrams',
};

/** Header text compared loosely: full-width forms folded, case, spaces, `_`, `-` and brackets ignored. */
export function normalizeHeader(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-()[\]]/g, '');
}

const FIELD_BY_ALIAS = new Map<string, ProductField | SkuField>(
  (Object.entries(ALIASES) as Array<[ProductField | SkuField, string[]]>).flatMap(([field, names]) =>
    names.map((name) => [normalizeHeader(name), field] as const),
  ),
);

const VALUE_COLUMN = /^(attr|attribute|属性|variant|规格|变体)\s*[:.]\s*(.+)$/i;

export type Column =
  | { kind: 'product'; field: ProductField; header: string }
  | { kind: 'sku'; field: SkuField; header: string }
  | { kind: 'attribute'; definition: AttributeDefinition; header: string }
  | { kind: 'variant'; definition: AttributeDefinition; header: string }
  | { kind: 'ignored'; header: string };

/** Where each field is in a row (cell index). */
export interface ColumnMap {
  columns: Column[];
  product: Partial<Record<ProductField, number>>;
  sku: Partial<Record<SkuField, number>>;
  attributes: Array<{ index: number; definition: AttributeDefinition }>;
  variants: Array<{ index: number; definition: AttributeDefinition }>;
}

/** The definition a value column names: its key, else its unique Chinese or English name. */
function definitionNamed(
  name: string,
  definitions: ReadonlyMap<string, AttributeDefinition>,
): AttributeDefinition | undefined {
  const byKey = definitions.get(name) ?? definitions.get(name.toLowerCase());
  if (byKey) return byKey;
  const wanted = normalizeHeader(name);
  const matches = [...definitions.values()].filter(
    (d) => normalizeHeader(d.nameZh) === wanted || normalizeHeader(d.nameEn) === wanted,
  );
  return matches.length === 1 ? matches[0] : undefined;
}

/** Maps the header row; refuses the file for unknown, repeated or missing key columns. */
export function mapHeader(
  cells: readonly string[],
  definitions: ReadonlyMap<string, AttributeDefinition>,
  row: number,
): ColumnMap {
  const map: ColumnMap = { columns: [], product: {}, sku: {}, attributes: [], variants: [] };
  const problems: string[] = [];
  const seen = new Map<string, string>();
  cells.forEach((raw, index) => {
    const header = raw.trim();
    if (header === '' || header.startsWith('#')) {
      map.columns.push({ kind: 'ignored', header });
      return;
    }
    const valueColumn = VALUE_COLUMN.exec(header.normalize('NFKC'));
    if (valueColumn) {
      const definition = definitionNamed(valueColumn[2]!.trim(), definitions);
      if (!definition) {
        problems.push(`"${header}" names no attribute`);
        map.columns.push({ kind: 'ignored', header });
        return;
      }
      const kind = /^(variant|规格|变体)$/i.test(valueColumn[1]!) ? 'variant' : 'attribute';
      const id = `${kind}:${definition.key}`;
      if (seen.has(id)) problems.push(`"${header}" repeats "${seen.get(id)}"`);
      seen.set(id, header);
      map.columns.push({ kind, definition, header });
      (kind === 'variant' ? map.variants : map.attributes).push({ index, definition });
      return;
    }
    const field = FIELD_BY_ALIAS.get(normalizeHeader(header));
    if (!field) {
      problems.push(`"${header}" is not a known column`);
      map.columns.push({ kind: 'ignored', header });
      return;
    }
    if (seen.has(field)) problems.push(`"${header}" repeats "${seen.get(field)}"`);
    seen.set(field, header);
    if ((SKU_FIELDS as readonly string[]).includes(field)) {
      map.sku[field as SkuField] = index;
      map.columns.push({ kind: 'sku', field: field as SkuField, header });
    } else {
      map.product[field as ProductField] = index;
      map.columns.push({ kind: 'product', field: field as ProductField, header });
    }
  });
  if (map.sku.skuCode === undefined)
    problems.push('a skuCode (SKU编码) column is required: every row is one SKU');
  if (map.product.slug === undefined && map.product.nameEn === undefined) {
    problems.push('a slug or nameEn column is required: it identifies the product');
  }
  if (problems.length) {
    throw new ImportFileError('invalid-header', `The header row is not usable: ${problems.join('; ')}`, row);
  }
  return map;
}

/** A cell's text, trimmed (ASCII and ideographic spaces); empty means "not given". */
export function cellText(cells: readonly string[], index: number | undefined): string | undefined {
  if (index === undefined) return undefined;
  // trim() removes every Unicode space, the ideographic U+3000 included.
  const text = cells[index]?.trim();
  return text ? text : undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (message: string): Parsed<never> => ({ ok: false, message });

const TRUE = new Set(['true', 'yes', 'y', '1', '是', '对', 'on']);
const FALSE = new Set(['false', 'no', 'n', '0', '否', '不', 'off']);

export function parseBoolean(text: string): boolean | undefined {
  const folded = text.toLowerCase();
  if (TRUE.has(folded)) return true;
  if (FALSE.has(folded)) return false;
  return undefined;
}

const LIFECYCLE_WORDS: Record<string, Lifecycle> = {
  草稿: 'draft',
  在售: 'active',
  上架: 'active',
  启用: 'active',
  停产: 'discontinued',
  停售: 'discontinued',
  下架: 'discontinued',
};

/** Lists in one cell: `1|10|100`. */
const LIST_SEPARATOR = /\s*[|｜]\s*/;

const rules = {
  slug: fieldRule('entities/product', 'slug'),
  nameZh: fieldRule('entities/product', 'nameZh'),
  nameEn: fieldRule('entities/product', 'nameEn'),
  descriptionZh: fieldRule('entities/product', 'descriptionZh'),
  descriptionEn: fieldRule('entities/product', 'descriptionEn'),
  model: fieldRule('entities/product', 'model'),
  scenarios: fieldRule('entities/product', 'scenarios'),
  unitOfMeasure: fieldRule('entities/product', 'unitOfMeasure'),
  packSizes: fieldRule('entities/product', 'packSizes'),
  metaTitle: fieldRule('entities/product', 'metaTitle'),
  metaDescription: fieldRule('entities/product', 'metaDescription'),
  skuCode: fieldRule('entities/product-sku', 'code'),
  skuUnit: fieldRule('entities/product-sku', 'unitOfMeasure'),
  skuPackSize: fieldRule('entities/product-sku', 'packSize'),
  skuWeightGrams: fieldRule('entities/product-sku', 'weightGrams'),
};

function checked<T>(rule: FieldRule, value: T): Parsed<T> {
  const problem = ruleViolation(rule, value);
  return problem ? fail(problem) : ok(value);
}

const INTEGER = /^[-+]?\d+(?:\.0+)?$/;

function integer(rule: FieldRule, text: string): Parsed<number> {
  if (!INTEGER.test(text)) return fail('must be a whole number');
  return checked(rule, Number.parseInt(text, 10));
}

/** The product field values as stored (brand and category stay names until resolved). */
export interface ProductValues {
  slug: string;
  nameZh: string;
  nameEn: string;
  descriptionZh: string;
  descriptionEn: string;
  brand: string;
  category: string;
  model: string;
  lifecycle: Lifecycle;
  scenarios: string[];
  unitOfMeasure: string;
  packSizes: number[];
  isPublic: boolean;
  metaTitle: string;
  metaDescription: string;
}

/** One product cell, checked against the field's canonical rule. */
export function parseProductCell<F extends ProductField>(field: F, text: string): Parsed<ProductValues[F]> {
  const result = ((): Parsed<unknown> => {
    switch (field) {
      case 'brand':
      case 'category':
        return ok(text);
      case 'lifecycle': {
        const lifecycle = LIFECYCLE_WORDS[text] ?? text.toLowerCase();
        return (LIFECYCLES as readonly string[]).includes(lifecycle)
          ? ok(lifecycle)
          : fail(`must be one of ${LIFECYCLES.join(', ')} (草稿, 在售, 停产)`);
      }
      case 'isPublic': {
        const value = parseBoolean(text);
        return value === undefined ? fail('must be true or false (是/否, 1/0)') : ok(value);
      }
      case 'scenarios':
        return checked(rules.scenarios, text.split(LIST_SEPARATOR).filter(Boolean));
      case 'packSizes': {
        const parts = text.split(LIST_SEPARATOR).filter(Boolean);
        if (!parts.every((part) => INTEGER.test(part))) return fail('must be whole numbers separated by |');
        return checked(
          rules.packSizes,
          parts.map((part) => Number.parseInt(part, 10)),
        );
      }
      default:
        return checked(rules[field as keyof typeof rules], text);
    }
  })();
  return result as Parsed<ProductValues[F]>;
}

export interface SkuValues {
  skuCode: string;
  skuUnit: string;
  skuPackSize: number;
  skuWeightGrams: number;
}

export function parseSkuCell<F extends SkuField>(field: F, text: string): Parsed<SkuValues[F]> {
  const result =
    field === 'skuPackSize' || field === 'skuWeightGrams'
      ? integer(rules[field], text)
      : checked(rules[field], text);
  return result as Parsed<SkuValues[F]>;
}

const NUMBER = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?`;
const NUMBER_WITH_UNIT = new RegExp(`^(${NUMBER})\\s*(.*)$`);
const RANGE = new RegExp(`^(${NUMBER})\\s*(?:~|～|-|–|—|至|到)\\s*(${NUMBER})\\s*(.*)$`);

/**
 * A value cell as the attribute value a request would carry: number `12.5` or `12.5 mm`; range
 * `1-5`, `1~5`, `-20~80 °C`; enum by option value (or its Chinese/English name); boolean
 * `true/false/是/否/1/0`; text as is. What it cannot read is passed on as text, so the catalog's
 * own check (`checkAttributeValues`) words the problem.
 */
export function attributeInputOf(definition: AttributeDefinition, text: string): AttributeValueInput {
  const key = definition.key;
  switch (definition.type) {
    case 'number': {
      const match = NUMBER_WITH_UNIT.exec(text);
      if (!match) return { key, value: text };
      const unit = match[2]!.trim();
      return { key, value: Number(match[1]), ...(unit ? { unit } : {}) };
    }
    case 'range': {
      const match = RANGE.exec(text);
      if (!match) return { key, value: text };
      const unit = match[3]!.trim();
      return { key, min: Number(match[1]), max: Number(match[2]), ...(unit ? { unit } : {}) };
    }
    case 'boolean': {
      const value = parseBoolean(text);
      return { key, value: value ?? text };
    }
    case 'enum': {
      if (definition.options.some((option) => option.value === text)) return { key, value: text };
      const folded = text.toLowerCase();
      const option = definition.options.find(
        (o) => o.value.toLowerCase() === folded || o.nameZh === text || o.nameEn.toLowerCase() === folded,
      );
      return { key, value: option?.value ?? text };
    }
    default:
      return { key, value: text };
  }
}
