import type { AttributeDefinition, AttributeValue } from '../attributes.ts';
import type { Lifecycle, Product, Sku } from '../products.ts';

/**
 * What an export shows: rows (a product, or a list item: one SKU of a product with a quantity) and
 * the columns of the spreadsheet, the same for XLSX and (in a compact layout) PDF.
 */
export type Lang = 'zh' | 'en';

export interface ExportRow {
  product: Product;
  /** A list item: the SKU on the list and its quantity. Absent for product rows (search, staff). */
  item?: { sku: Sku; quantity: number };
}

export type CellValue = string | number | null;

export interface ExportColumn {
  key: string;
  header: string;
  /** Excel column width in characters. */
  width: number;
  /** number: written as a number where the value is one; link: a hyperlink. */
  kind: 'text' | 'number' | 'link';
  value(row: ExportRow): CellValue;
}

const LABELS = {
  zh: {
    nameZh: '中文名称',
    nameEn: '英文名称',
    model: '型号',
    brand: '品牌',
    category: '分类',
    skuCodes: 'SKU 编码',
    skuCode: 'SKU 编码',
    quantity: '数量',
    unit: '单位',
    packSizes: '包装规格',
    lifecycle: '状态',
    url: '商品链接',
    min: '最小',
    max: '最大',
    yes: '是',
    no: '否',
  },
  en: {
    nameZh: 'Name (Chinese)',
    nameEn: 'Name (English)',
    model: 'Model',
    brand: 'Brand',
    category: 'Category',
    skuCodes: 'SKU codes',
    skuCode: 'SKU code',
    quantity: 'Quantity',
    unit: 'Unit',
    packSizes: 'Pack sizes',
    lifecycle: 'Status',
    url: 'Product URL',
    min: 'min',
    max: 'max',
    yes: 'Yes',
    no: 'No',
  },
} as const;

export function labels(lang: Lang) {
  return LABELS[lang];
}

const LIFECYCLE_LABELS: Record<Lang, Record<Lifecycle, string>> = {
  zh: { draft: '草稿', active: '在售', discontinued: '停产' },
  en: { draft: 'Draft', active: 'Active', discontinued: 'Discontinued' },
};

export function lifecycleLabel(lifecycle: Lifecycle, lang: Lang): string {
  return LIFECYCLE_LABELS[lang][lifecycle];
}

/** At most this many spec attribute columns (a range takes two): wider than any real catalog. */
export const MAX_ATTRIBUTE_COLUMNS = 300;

export function brandOf(product: Product, lang: Lang): string | null {
  if (!product.brand) return null;
  return lang === 'zh' ? (product.brand.nameZh ?? product.brand.name) : product.brand.name;
}

export function categoryPathOf(product: Product, lang: Lang): string {
  return product.category.path.map((c) => (lang === 'zh' ? c.nameZh : c.nameEn)).join(' / ');
}

export function skuCodesOf(row: ExportRow): string {
  return row.item ? row.item.sku.code : row.product.skus.map((sku) => sku.code).join('; ');
}

export function unitOf(row: ExportRow): string {
  return row.item ? row.item.sku.unitOfMeasure : row.product.unitOfMeasure;
}

/** One number stays a number; several are listed. */
function numbersCell(numbers: readonly number[]): CellValue {
  const distinct = [...new Set(numbers)];
  if (distinct.length === 0) return null;
  if (distinct.length === 1) return distinct[0]!;
  return distinct.join('; ');
}

export function packSizesOf(row: ExportRow): CellValue {
  if (row.item) return row.item.sku.packSize;
  const { packSizes, skus } = row.product;
  return numbersCell(packSizes.length > 0 ? packSizes : skus.map((sku) => sku.packSize));
}

/**
 * The values of one attribute on a row: a list item has its product's value or its SKU's variant
 * value; a product row has its own value or the variant values of all its SKUs.
 */
export function valuesOf(row: ExportRow, key: string): AttributeValue[] {
  const own = row.product.attributes.filter((value) => value.key === key);
  const skus = row.item ? [row.item.sku] : row.product.skus;
  const variants = skus.flatMap((sku) => sku.variant.filter((value) => value.key === key));
  return variants.length > 0 ? variants : own;
}

function textOf(value: AttributeValue, lang: Lang): string {
  if (value.type === 'enum')
    return (lang === 'zh' ? value.label?.zh : value.label?.en) ?? String(value.value);
  if (value.type === 'boolean') return value.value ? LABELS[lang].yes : LABELS[lang].no;
  if (value.type === 'range') return `${value.min}–${value.max}`;
  return String(value.value);
}

/** A value as a reader sees it, with its unit (`30 mm`, `−20–80 °C`, `不锈钢A2`). */
export function displayValue(value: AttributeValue, lang: Lang): string {
  const text = textOf(value, lang);
  return value.unit && (value.type === 'number' || value.type === 'range') ? `${text} ${value.unit}` : text;
}

function distinctText(values: AttributeValue[], lang: Lang): CellValue {
  const texts = [...new Set(values.map((value) => textOf(value, lang)))];
  return texts.length === 0 ? null : texts.join('; ');
}

function withUnit(name: string, unit: string | null): string {
  return unit ? `${name} (${unit})` : name;
}

/** The columns of one attribute: one, or min and max for a range; numbers stay numbers. */
function attributeColumns(definition: AttributeDefinition, lang: Lang): ExportColumn[] {
  const name = lang === 'zh' ? definition.nameZh : definition.nameEn;
  const key = `attr.${definition.key}`;
  const width = Math.min(Math.max(name.length * (lang === 'zh' ? 2 : 1) + 6, 10), 30);
  if (definition.type === 'range') {
    return (['min', 'max'] as const).map((bound) => ({
      key: `${key}.${bound}`,
      header: withUnit(`${name} ${LABELS[lang][bound]}`, definition.unit),
      width,
      kind: 'number' as const,
      value: (row: ExportRow) =>
        numbersCell(
          valuesOf(row, definition.key)
            .map((value) => value[bound])
            .filter((n): n is number => n !== null),
        ),
    }));
  }
  if (definition.type === 'number') {
    return [
      {
        key,
        header: withUnit(name, definition.unit),
        width,
        kind: 'number',
        value: (row) => numbersCell(valuesOf(row, definition.key).map((value) => value.value as number)),
      },
    ];
  }
  return [
    {
      key,
      header: name,
      width: definition.type === 'text' ? Math.max(width, 20) : width,
      kind: 'text',
      value: (row) => distinctText(valuesOf(row, definition.key), lang),
    },
  ];
}

export interface ColumnPlanOptions {
  lang: Lang;
  /** List exports: one row per item with a quantity column. */
  listItems: boolean;
  /** The spec attributes the rows carry, in definition order (`sort`, then key). */
  attributes: readonly AttributeDefinition[];
  /** The storefront page of a product. */
  productUrl(product: Product): string;
  /**
   * Columns of other domains, placed after the status. This is where price and stock go once
   * pricing and inventory exist (README, "Price and stock"); today nothing provides any, and the
   * catalog never invents a price.
   */
  commercialColumns?: readonly ExportColumn[];
}

/** Every column of an export, left to right. */
export function columnPlan(options: ColumnPlanOptions): ExportColumn[] {
  const { lang } = options;
  const l = LABELS[lang];
  const fixed: ExportColumn[] = [
    { key: 'nameZh', header: l.nameZh, width: 30, kind: 'text', value: (row) => row.product.nameZh },
    { key: 'nameEn', header: l.nameEn, width: 36, kind: 'text', value: (row) => row.product.nameEn },
    { key: 'model', header: l.model, width: 20, kind: 'text', value: (row) => row.product.model },
    { key: 'brand', header: l.brand, width: 16, kind: 'text', value: (row) => brandOf(row.product, lang) },
    {
      key: 'category',
      header: l.category,
      width: 24,
      kind: 'text',
      value: (row) => categoryPathOf(row.product, lang),
    },
    {
      key: 'sku',
      header: options.listItems ? l.skuCode : l.skuCodes,
      width: 24,
      kind: 'text',
      value: skuCodesOf,
    },
    ...(options.listItems
      ? [
          {
            key: 'quantity',
            header: l.quantity,
            width: 10,
            kind: 'number' as const,
            value: (row: ExportRow) => row.item?.quantity ?? null,
          },
        ]
      : []),
    { key: 'unit', header: l.unit, width: 8, kind: 'text', value: unitOf },
    { key: 'packSizes', header: l.packSizes, width: 12, kind: 'number', value: packSizesOf },
    {
      key: 'lifecycle',
      header: l.lifecycle,
      width: 10,
      kind: 'text',
      value: (row) => lifecycleLabel(row.product.lifecycle, lang),
    },
  ];
  const specs = options.attributes
    .flatMap((definition) => attributeColumns(definition, lang))
    .slice(0, MAX_ATTRIBUTE_COLUMNS);
  const url: ExportColumn = {
    key: 'url',
    header: l.url,
    width: 48,
    kind: 'link',
    value: (row) => options.productUrl(row.product),
  };
  return [...fixed, ...(options.commercialColumns ?? []), ...specs, url];
}

/** The specs of a row as `name value unit` pairs, for the PDF's spec line. */
export function specsOf(
  row: ExportRow,
  attributes: readonly AttributeDefinition[],
  lang: Lang,
): Array<{ name: string; value: string }> {
  const specs: Array<{ name: string; value: string }> = [];
  for (const definition of attributes) {
    const values = valuesOf(row, definition.key);
    if (values.length === 0) continue;
    specs.push({
      name: lang === 'zh' ? definition.nameZh : definition.nameEn,
      value: [...new Set(values.map((value) => displayValue(value, lang)))].join('; '),
    });
  }
  return specs;
}
