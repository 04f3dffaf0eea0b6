import type { Database } from '../../../platform/database/database.ts';
import {
  indexProducts,
  type SearchAttribute,
  type SearchDocument,
  type StockState,
} from '../search-index.ts';

/** Deterministic ids, so the same fixture on PostgreSQL and PGlite gives comparable answers. */
export function fixtureId(group: number, n: number): string {
  return `00000000-0000-4000-8${String(group).padStart(3, '0')}-${String(n).padStart(12, '0')}`;
}

export const COMPANY_A = fixtureId(900, 1);
export const COMPANY_B = fixtureId(900, 2);

export const categories = {
  fasteners: { id: fixtureId(1, 1), nameZh: '紧固件', nameEn: 'Fasteners', parent: null },
  bolts: { id: fixtureId(1, 2), nameZh: '螺栓', nameEn: 'Bolts', parent: 'fasteners' },
  nuts: { id: fixtureId(1, 3), nameZh: '螺母', nameEn: 'Nuts', parent: 'fasteners' },
  anchors: { id: fixtureId(1, 4), nameZh: '锚栓', nameEn: 'Anchors', parent: 'fasteners' },
  bearings: { id: fixtureId(1, 5), nameZh: '轴承', nameEn: 'Bearings', parent: null },
  ballBearings: {
    id: fixtureId(1, 6),
    nameZh: '深沟球轴承',
    nameEn: 'Deep groove ball bearings',
    parent: 'bearings',
  },
} as const;
type CategoryName = keyof typeof categories;

export const brands = {
  jinxing: { id: fixtureId(2, 1), name: 'Jinxing', nameZh: '金星' },
  huaxin: { id: fixtureId(2, 2), name: 'Huaxin', nameZh: '华信' },
  secret: { id: fixtureId(2, 3), name: 'Privato', nameZh: null },
} as const;

function pathOf(name: CategoryName): Array<{ id: string; nameZh: string; nameEn: string }> {
  const path = [];
  let at: CategoryName | null = name;
  while (at) {
    const category: (typeof categories)[CategoryName] = categories[at];
    path.unshift({ id: category.id, nameZh: category.nameZh, nameEn: category.nameEn });
    at = category.parent;
  }
  return path;
}

const num = (key: string, value: number, unit = 'mm'): SearchAttribute => ({
  key,
  type: 'number',
  unit,
  filterable: true,
  value,
});
const MATERIALS: Record<string, { zh: string; en: string }> = {
  stainless: { zh: '不锈钢', en: 'Stainless steel' },
  carbon: { zh: '碳钢', en: 'Carbon steel' },
  'chrome steel': { zh: '铬钢', en: 'Chrome steel' },
  resin: { zh: '树脂', en: 'Resin' },
};
const material = (value: string): SearchAttribute => ({
  key: 'material',
  type: 'enum',
  filterable: true,
  value,
  nameZh: '材质',
  nameEn: 'Material',
  label: MATERIALS[value] ?? null,
});
const grade = (value: string): SearchAttribute => ({ key: 'grade', type: 'text', filterable: true, value });
const note = (value: string): SearchAttribute => ({ key: 'note', type: 'text', filterable: false, value });
const rohs = (value: boolean): SearchAttribute => ({ key: 'rohs', type: 'boolean', filterable: true, value });

interface Spec {
  n: number;
  nameZh: string;
  nameEn: string;
  model?: string;
  skus?: string[];
  brand?: keyof typeof brands;
  category: CategoryName;
  attributes?: SearchAttribute[];
  descriptionEn?: string;
  lifecycle?: SearchDocument['lifecycle'];
  audiences?: string[];
  price?: number;
  stock?: StockState;
}

/** The fixture's products by name (id `fixtureId(3, n)`). */
const specs = {
  m8StainlessBolt: {
    n: 1,
    nameZh: 'M8不锈钢六角螺栓',
    nameEn: 'M8 stainless steel hex bolt',
    model: 'DIN933-M8x30-A2',
    skus: ['DIN933-M8X30-A2-100', 'DIN933-M8X30-A2-500'],
    brand: 'jinxing',
    category: 'bolts',
    attributes: [num('diameter', 8), num('length', 30), material('stainless'), grade('A2-70'), rohs(true)],
    price: 1200,
    stock: 'in_stock',
  },
  m10StainlessBolt: {
    n: 2,
    nameZh: 'M10不锈钢六角螺栓',
    nameEn: 'M10 stainless steel hex bolt',
    model: 'DIN933-M10x40-A2',
    skus: ['DIN933-M10X40-A2-100'],
    brand: 'jinxing',
    category: 'bolts',
    attributes: [num('diameter', 10), num('length', 40), material('stainless'), grade('A2-70'), rohs(true)],
    price: 2500,
    stock: 'out_of_stock',
  },
  m8CarbonBolt: {
    n: 3,
    nameZh: 'M8碳钢六角螺栓 8.8级',
    nameEn: 'M8 carbon steel hex bolt grade 8.8',
    model: 'DIN933-M8x30-8.8',
    skus: ['DIN933-M8X30-88-100'],
    brand: 'huaxin',
    category: 'bolts',
    attributes: [num('diameter', 8), num('length', 30), material('carbon'), grade('8.8'), rohs(false)],
    price: 600,
    stock: 'low_stock',
  },
  m8StainlessNut: {
    n: 4,
    nameZh: 'M8不锈钢六角螺母',
    nameEn: 'M8 stainless steel hex nut',
    model: 'DIN934-M8-A2',
    skus: ['DIN934-M8-A2-100'],
    brand: 'huaxin',
    category: 'nuts',
    attributes: [num('diameter', 8), material('stainless'), grade('A2-70')],
    price: 300,
  },
  bearing: {
    n: 5,
    nameZh: '深沟球轴承 双面密封',
    nameEn: 'Deep groove ball bearing, sealed',
    model: '6204-2RS',
    skus: ['6204-2RS-C3'],
    brand: 'huaxin',
    category: 'ballBearings',
    attributes: [num('inner_diameter', 20), num('outer_diameter', 47), material('chrome steel')],
    stock: 'in_stock',
  },
  privateBolt: {
    n: 6,
    nameZh: '不锈钢六角螺栓 M8 定制',
    nameEn: 'Custom M8 stainless hex bolt',
    model: 'PV-M8-CUSTOM',
    skus: ['PV-M8-CUSTOM-1'],
    brand: 'secret',
    category: 'bolts',
    attributes: [num('diameter', 8), num('length', 35), material('stainless'), grade('A4-80')],
    audiences: [`company:${COMPANY_A}`],
    price: 9900,
  },
  draftBolt: {
    n: 7,
    nameZh: 'M8不锈钢螺栓 草稿',
    nameEn: 'M8 stainless bolt draft',
    model: 'DRAFT-M8',
    brand: 'jinxing',
    category: 'bolts',
    attributes: [num('diameter', 8), material('stainless')],
    lifecycle: 'draft',
    audiences: [],
  },
  m12Discontinued: {
    n: 8,
    nameZh: 'M12不锈钢六角螺栓',
    nameEn: 'M12 stainless steel hex bolt',
    model: 'DIN933-M12x50-A2',
    brand: 'jinxing',
    category: 'bolts',
    attributes: [num('diameter', 12), num('length', 50), material('stainless'), grade('A2-70')],
    lifecycle: 'discontinued',
    price: 4000,
  },
  wedgeAnchor: {
    n: 9,
    nameZh: '膨胀螺栓',
    nameEn: 'Wedge anchor',
    model: 'WA-M10',
    brand: 'huaxin',
    category: 'anchors',
    attributes: [num('diameter', 10), material('carbon'), note('for concrete')],
    price: 800,
  },
  capsule: {
    n: 10,
    nameZh: '化学锚栓药剂',
    nameEn: 'Chemical capsule',
    model: 'CC-12',
    brand: 'huaxin',
    category: 'anchors',
    attributes: [material('resin')],
    descriptionEn: 'Resin capsule for anchor rods in cracked concrete',
  },
} satisfies Record<string, Spec>;

export type FixtureProduct = keyof typeof specs;

export const productIds = Object.fromEntries(
  Object.entries(specs).map(([name, spec]) => [name, fixtureId(3, spec.n)]),
) as Record<FixtureProduct, string>;

export function productName(id: string): FixtureProduct | undefined {
  return (Object.keys(productIds) as FixtureProduct[]).find((name) => productIds[name] === id);
}

function documentOf(spec: Spec): SearchDocument {
  const brand = spec.brand ? brands[spec.brand] : null;
  return {
    id: fixtureId(3, spec.n),
    nameZh: spec.nameZh,
    nameEn: spec.nameEn,
    descriptionEn: spec.descriptionEn ?? null,
    model: spec.model ?? null,
    brand,
    categoryPath: pathOf(spec.category),
    skuCodes: spec.skus ?? [],
    attributes: spec.attributes ?? [],
    lifecycle: spec.lifecycle ?? 'active',
    createdAt: new Date(Date.UTC(2026, 0, spec.n, 12)).toISOString(),
    priceMinMinor: spec.price ?? null,
    currency: spec.price === undefined ? null : 'CNY',
    stock: spec.stock ?? null,
  };
}

export const fixtureDocuments: SearchDocument[] = Object.values(specs).map(documentOf);

/**
 * The catalog rows search relies on (categories and products for the foreign keys, the
 * materialised visibility) and the search index of ten products: bolts, nuts, anchors and a
 * bearing; one private to company A, one draft, one discontinued.
 */
export async function seedSearchFixture(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [slug, category] of Object.entries(categories)) {
      const path = pathOf(slug as CategoryName).map((c) => c.id);
      await tx.query(
        `INSERT INTO catalog.categories (id, parent_id, path, slug, name_zh, name_en)
         VALUES ($1, $2, $3::uuid[], $4, $5, $6)`,
        [
          category.id,
          path.length > 1 ? path[path.length - 2] : null,
          path,
          slug.toLowerCase(),
          category.nameZh,
          category.nameEn,
        ],
      );
    }
    for (const brand of Object.values(brands)) {
      await tx.query('INSERT INTO catalog.brands (id, slug, name, name_zh) VALUES ($1, $2, $3, $4)', [
        brand.id,
        brand.name.toLowerCase(),
        brand.name,
        brand.nameZh,
      ]);
    }
    for (const spec of Object.values(specs) as Spec[]) {
      const id = fixtureId(3, spec.n);
      await tx.query(
        `INSERT INTO catalog.products (id, slug, name_zh, name_en, category_id, brand_id, model, lifecycle,
                                       unit_of_measure, is_public)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pcs', $9)`,
        [
          id,
          `p-${spec.n}`,
          spec.nameZh,
          spec.nameEn,
          categories[spec.category].id,
          spec.brand ? brands[spec.brand].id : null,
          spec.model ?? null,
          spec.lifecycle ?? 'active',
          spec.audiences === undefined,
        ],
      );
      for (const audience of spec.audiences ?? ['public']) {
        await tx.query('INSERT INTO catalog.product_visibility (product_id, audience) VALUES ($1, $2)', [
          id,
          audience,
        ]);
      }
    }
  });
  await indexProducts(db, fixtureDocuments);
}
