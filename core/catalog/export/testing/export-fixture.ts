import type { AttributeDefinition, AttributeValue } from '../../attributes.ts';
import type { Product } from '../../products.ts';
import type { ExportRow } from '../export-columns.ts';

/** Products built in memory for the writers' tests and the bench: bolts with a range, text, boolean and a SKU variant. */
export const AT = '2025-03-01T06:05:00.000Z';

export function definition(
  key: string,
  type: AttributeDefinition['type'],
  extra: Partial<AttributeDefinition> = {},
): AttributeDefinition {
  return {
    id: key,
    key,
    nameZh: key,
    nameEn: key,
    type,
    unit: null,
    options: [],
    filterable: false,
    sort: 0,
    categoryIds: [],
    createdAt: AT,
    updatedAt: AT,
    ...extra,
  };
}

const LENGTH = definition('length', 'number', { nameZh: '长度', nameEn: 'Length', unit: 'mm', sort: 1 });
const TEMPERATURE = definition('temp', 'range', {
  nameZh: '工作温度',
  nameEn: 'Temperature',
  unit: '°C',
  sort: 2,
});
const NOTE = definition('note', 'text', { nameZh: '备注', nameEn: 'Note', sort: 3 });
const ROHS = definition('rohs', 'boolean', { nameZh: '环保', nameEn: 'RoHS', sort: 4 });
export const ATTRIBUTES = [LENGTH, TEMPERATURE, NOTE, ROHS];

export function value(def: AttributeDefinition, v: Partial<AttributeValue>): AttributeValue {
  return {
    key: def.key,
    nameZh: def.nameZh,
    nameEn: def.nameEn,
    type: def.type,
    unit: def.unit,
    value: null,
    min: null,
    max: null,
    label: null,
    ...v,
  };
}

export function product(n: number, overrides: Partial<Product> = {}): Product {
  const category = { id: 'c1', slug: 'bolts', nameZh: '螺栓', nameEn: 'Bolts' };
  return {
    id: `p${n}`,
    slug: `bolt-${n}`,
    nameZh: `第${n}号不锈钢螺栓`,
    nameEn: `Stainless bolt no. ${n}`,
    descriptionZh: null,
    descriptionEn: null,
    brand: { id: 'b1', slug: 'wurth', name: 'Würth', nameZh: '伍尔特' },
    category: {
      ...category,
      path: [{ id: 'c0', slug: 'fasteners', nameZh: '紧固件', nameEn: 'Fasteners' }, category],
    },
    model: `M8-${n}`,
    lifecycle: 'active',
    orderable: true,
    scenarios: [],
    unitOfMeasure: 'pcs',
    packSizes: [100],
    isPublic: true,
    metaTitle: null,
    metaDescription: null,
    attributes: [
      value(TEMPERATURE, { min: -40, max: 150 }),
      value(NOTE, { value: '户外使用 outdoor use, corrosion resistant' }),
      value(ROHS, { value: true }),
    ],
    skus: [30, 40].map((length) => ({
      id: `s${n}-${length}`,
      code: `BOLT-${n}-${length}`,
      unitOfMeasure: 'pcs',
      packSize: 100,
      weightGrams: null,
      variant: [value(LENGTH, { value: length })],
      createdAt: AT,
      updatedAt: AT,
    })),
    relations: [],
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

export async function* rowsOf(count: number, make = (n: number): ExportRow => ({ product: product(n) })) {
  for (let n = 1; n <= count; n += 1) yield make(n);
}
