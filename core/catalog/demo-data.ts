import type { Database, Transaction } from '../platform/database/database.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { type AttributeInput, type AttributeValueInput, insertAttribute } from './attributes.ts';
import { insertBrand } from './brands.ts';
import { insertCategory } from './categories.ts';
import { changeLifecycle, insertProduct, setRelations } from './products.ts';
import { insertSharedCatalog } from './shared-catalogs.ts';
import type { SkuInput } from './skus.ts';
import { refreshVisibility } from './visibility.ts';

/**
 * Demo catalog for `hub seed demo`: a two-level category tree (fasteners, bearings, valves, cables),
 * eight brands, typed attributes, 30 active products with Chinese and English names and 5–8 specs
 * each, a few relations, and the shared catalog 金牌客户目录 (fasteners and bearings) assigned to
 * tier `gold` (and to `companyIds` when given). Valves, cables and a few fasteners are public.
 * Safe to run twice: nothing happens when the category `fasteners` exists.
 */

const CATEGORIES: Array<[slug: string, zh: string, en: string, children: Array<[string, string, string]>]> = [
  [
    'fasteners',
    '紧固件',
    'Fasteners',
    [
      ['bolts', '螺栓', 'Bolts'],
      ['nuts', '螺母', 'Nuts'],
      ['screws', '螺钉', 'Screws'],
      ['washers', '垫圈', 'Washers'],
    ],
  ],
  [
    'bearings',
    '轴承',
    'Bearings',
    [
      ['deep-groove-ball-bearings', '深沟球轴承', 'Deep groove ball bearings'],
      ['tapered-roller-bearings', '圆锥滚子轴承', 'Tapered roller bearings'],
    ],
  ],
  [
    'valves',
    '阀门',
    'Valves',
    [
      ['ball-valves', '球阀', 'Ball valves'],
      ['gate-valves', '闸阀', 'Gate valves'],
    ],
  ],
  [
    'cables',
    '电线电缆',
    'Wires and cables',
    [
      ['power-cables', '电力电缆', 'Power cables'],
      ['control-cables', '控制电缆', 'Control cables'],
    ],
  ],
];

const BRANDS: Array<[slug: string, name: string, zh: string | null]> = [
  ['wurth', 'Würth', '伍尔特'],
  ['bossard', 'Bossard', '博萨德'],
  ['skf', 'SKF', '斯凯孚'],
  ['nsk', 'NSK', '恩斯克'],
  ['cu', 'C&U', '人本'],
  ['neway', 'Neway', '纽威'],
  ['far-east-cable', 'Far East Cable', '远东电缆'],
  ['baosheng', 'Baosheng', '宝胜'],
];

const option = (value: string, zh: string, en = zh) => ({ value, nameZh: zh, nameEn: en });

/** Attribute definitions; `categories` names top-level categories (with their subtrees). */
const ATTRIBUTES: Array<AttributeInput & { categories?: string[] }> = [
  {
    key: 'thread_size',
    nameZh: '螺纹规格',
    nameEn: 'Thread size',
    type: 'enum',
    filterable: true,
    sort: 10,
    categories: ['fasteners'],
    options: ['m4', 'm5', 'm6', 'm8', 'm10', 'm12', 'st4-2'].map((v) =>
      option(v, v.toUpperCase().replace('-', '.')),
    ),
  },
  { key: 'length', nameZh: '长度', nameEn: 'Length', type: 'number', unit: 'mm', filterable: true, sort: 20 },
  {
    key: 'material',
    nameZh: '材质',
    nameEn: 'Material',
    type: 'enum',
    filterable: true,
    sort: 30,
    options: [
      option('a2', '不锈钢A2', 'Stainless steel A2'),
      option('a4', '不锈钢A4', 'Stainless steel A4'),
      option('carbon-steel', '碳钢', 'Carbon steel'),
      option('bearing-steel', '轴承钢 GCr15', 'Bearing steel GCr15'),
      option('brass', '黄铜', 'Brass'),
      option('cf8m', '不锈钢CF8M (316)', 'Stainless steel CF8M (316)'),
      option('wcb', '铸钢WCB', 'Cast steel WCB'),
      option('copper', '铜', 'Copper'),
    ],
  },
  {
    key: 'strength_class',
    nameZh: '性能等级',
    nameEn: 'Property class',
    type: 'enum',
    filterable: true,
    sort: 40,
    categories: ['fasteners'],
    options: ['4.8', '8.8', '10.9', 'a2-70', 'a4-80'].map((v) => option(v, v.toUpperCase())),
  },
  {
    key: 'surface_finish',
    nameZh: '表面处理',
    nameEn: 'Surface finish',
    type: 'enum',
    filterable: true,
    sort: 50,
    categories: ['fasteners'],
    options: [
      option('plain', '本色', 'Plain'),
      option('zinc', '镀锌', 'Zinc plated'),
      option('black-oxide', '发黑', 'Black oxide'),
    ],
  },
  { key: 'standard', nameZh: '执行标准', nameEn: 'Standard', type: 'text', sort: 60 },
  {
    key: 'tightening_torque',
    nameZh: '拧紧扭矩',
    nameEn: 'Tightening torque',
    type: 'number',
    unit: 'N·m',
    sort: 70,
    categories: ['fasteners'],
  },
  {
    key: 'inner_diameter',
    nameZh: '内径',
    nameEn: 'Bore diameter',
    type: 'number',
    unit: 'mm',
    filterable: true,
    sort: 10,
    categories: ['bearings'],
  },
  {
    key: 'outer_diameter',
    nameZh: '外径',
    nameEn: 'Outside diameter',
    type: 'number',
    unit: 'mm',
    filterable: true,
    sort: 11,
    categories: ['bearings'],
  },
  {
    key: 'width',
    nameZh: '宽度',
    nameEn: 'Width',
    type: 'number',
    unit: 'mm',
    sort: 12,
    categories: ['bearings'],
  },
  {
    key: 'dynamic_load',
    nameZh: '额定动载荷',
    nameEn: 'Dynamic load rating',
    type: 'number',
    unit: 'kN',
    sort: 13,
    categories: ['bearings'],
  },
  {
    key: 'limiting_speed',
    nameZh: '极限转速',
    nameEn: 'Limiting speed',
    type: 'number',
    unit: 'r/min',
    sort: 14,
    categories: ['bearings'],
  },
  {
    key: 'seal',
    nameZh: '密封形式',
    nameEn: 'Seal',
    type: 'enum',
    filterable: true,
    sort: 15,
    categories: ['bearings'],
    options: [
      option('open', '开式', 'Open'),
      option('zz', '双面铁盖 ZZ', 'Metal shields ZZ'),
      option('2rs', '双面胶盖 2RS', 'Rubber seals 2RS'),
    ],
  },
  {
    key: 'operating_temperature',
    nameZh: '工作温度',
    nameEn: 'Operating temperature',
    type: 'range',
    unit: '°C',
    filterable: true,
    sort: 80,
  },
  {
    key: 'nominal_diameter',
    nameZh: '公称通径',
    nameEn: 'Nominal diameter',
    type: 'enum',
    filterable: true,
    sort: 10,
    categories: ['valves'],
    options: ['dn15', 'dn20', 'dn25', 'dn50', 'dn80'].map((v) => option(v, v.toUpperCase())),
  },
  {
    key: 'nominal_pressure',
    nameZh: '公称压力',
    nameEn: 'Nominal pressure',
    type: 'number',
    unit: 'MPa',
    filterable: true,
    sort: 11,
    categories: ['valves'],
  },
  {
    key: 'connection',
    nameZh: '连接方式',
    nameEn: 'Connection',
    type: 'enum',
    filterable: true,
    sort: 12,
    categories: ['valves'],
    options: [
      option('thread', '螺纹', 'Threaded'),
      option('flange', '法兰', 'Flanged'),
      option('weld', '焊接', 'Welded'),
    ],
  },
  {
    key: 'cross_section',
    nameZh: '导体截面',
    nameEn: 'Conductor cross-section',
    type: 'number',
    unit: 'mm²',
    filterable: true,
    sort: 10,
    categories: ['cables'],
  },
  {
    key: 'cores',
    nameZh: '芯数',
    nameEn: 'Cores',
    type: 'number',
    filterable: true,
    sort: 11,
    categories: ['cables'],
  },
  {
    key: 'rated_voltage',
    nameZh: '额定电压',
    nameEn: 'Rated voltage',
    type: 'text',
    sort: 12,
    categories: ['cables'],
  },
  {
    key: 'flame_retardant',
    nameZh: '阻燃',
    nameEn: 'Flame retardant',
    type: 'boolean',
    filterable: true,
    sort: 13,
    categories: ['cables'],
  },
  { key: 'rohs', nameZh: 'RoHS合规', nameEn: 'RoHS compliant', type: 'boolean', filterable: true, sort: 90 },
];

interface DemoProduct {
  slug: string;
  zh: string;
  en: string;
  category: string;
  brand: string;
  model: string;
  unit: string;
  packSizes?: number[];
  scenarios: string[];
  isPublic?: boolean;
  descriptionZh?: string;
  descriptionEn?: string;
  attributes: Record<string, AttributeValueInput['value'] | { min: number; max: number }>;
  skus?: SkuInput[];
}

const bolt = (size: string, length: number, material: string, strength: string, finish = 'plain') => ({
  thread_size: size,
  length,
  material,
  strength_class: strength,
  surface_finish: finish,
  operating_temperature: { min: -40, max: material === 'carbon-steel' ? 150 : 300 },
});

const PRODUCTS: DemoProduct[] = [
  {
    slug: 'hex-bolt-din933-m8x30-a2',
    zh: 'M8不锈钢六角螺栓',
    en: 'Hex bolt M8×30 stainless steel A2',
    category: 'bolts',
    brand: 'wurth',
    model: 'DIN933-M8x30-A2',
    unit: 'pcs',
    packSizes: [100, 500],
    scenarios: ['机械装配', '户外设备', 'machine assembly'],
    isPublic: true,
    descriptionZh: 'DIN 933 全螺纹六角头螺栓，A2-70 不锈钢，耐腐蚀，适用于户外和潮湿环境。',
    descriptionEn:
      'DIN 933 fully threaded hex head bolt in A2-70 stainless steel for outdoor and damp environments.',
    attributes: { ...bolt('m8', 30, 'a2', 'a2-70'), standard: 'DIN 933 / ISO 4017', tightening_torque: 18 },
    skus: [
      {
        code: 'DIN933-M8X30-A2-100',
        packSize: 100,
        weightGrams: 1650,
        variant: [{ key: 'length', value: 30 }],
      },
      {
        code: 'DIN933-M8X30-A2-500',
        packSize: 500,
        weightGrams: 8250,
        variant: [{ key: 'length', value: 30 }],
      },
    ],
  },
  {
    slug: 'hex-bolt-din933-m10x40-a4',
    zh: 'M10不锈钢A4六角螺栓',
    en: 'Hex bolt M10×40 stainless steel A4',
    category: 'bolts',
    brand: 'bossard',
    model: 'DIN933-M10x40-A4',
    unit: 'pcs',
    packSizes: [50, 200],
    scenarios: ['化工', '海洋环境', 'marine'],
    attributes: { ...bolt('m10', 40, 'a4', 'a4-80'), standard: 'DIN 933', tightening_torque: 44 },
  },
  {
    slug: 'hex-bolt-din933-m12x50-8-8-zinc',
    zh: 'M12 8.8级镀锌六角螺栓',
    en: 'Hex bolt M12×50 grade 8.8 zinc plated',
    category: 'bolts',
    brand: 'wurth',
    model: 'DIN933-M12x50-8.8-ZN',
    unit: 'pcs',
    packSizes: [50],
    scenarios: ['钢结构', 'steel structures'],
    attributes: {
      ...bolt('m12', 50, 'carbon-steel', '8.8', 'zinc'),
      standard: 'DIN 933',
      tightening_torque: 79,
    },
  },
  {
    slug: 'hex-bolt-iso4017-m6x20-a2',
    zh: 'M6不锈钢全螺纹六角螺栓',
    en: 'Hex bolt M6×20 full thread stainless A2',
    category: 'bolts',
    brand: 'bossard',
    model: 'ISO4017-M6x20-A2',
    unit: 'pcs',
    packSizes: [200],
    scenarios: ['电气柜', 'control cabinets'],
    attributes: { ...bolt('m6', 20, 'a2', 'a2-70'), standard: 'ISO 4017', tightening_torque: 7.5 },
  },
  {
    slug: 'hex-bolt-din931-m10x80-10-9',
    zh: 'M10 10.9级半螺纹六角螺栓',
    en: 'Hex bolt M10×80 grade 10.9 partial thread',
    category: 'bolts',
    brand: 'wurth',
    model: 'DIN931-M10x80-10.9',
    unit: 'pcs',
    packSizes: [50],
    scenarios: ['重型机械', 'heavy machinery'],
    attributes: {
      ...bolt('m10', 80, 'carbon-steel', '10.9', 'black-oxide'),
      standard: 'DIN 931',
      tightening_torque: 65,
    },
  },
  {
    slug: 'hex-nut-din934-m8-a2',
    zh: 'M8不锈钢六角螺母',
    en: 'Hex nut M8 stainless steel A2',
    category: 'nuts',
    brand: 'wurth',
    model: 'DIN934-M8-A2',
    unit: 'pcs',
    packSizes: [100, 1000],
    scenarios: ['机械装配'],
    isPublic: true,
    attributes: {
      thread_size: 'm8',
      material: 'a2',
      strength_class: 'a2-70',
      surface_finish: 'plain',
      standard: 'DIN 934',
      rohs: true,
    },
  },
  {
    slug: 'lock-nut-din985-m10-a4',
    zh: 'M10不锈钢尼龙锁紧螺母',
    en: 'Nylon insert lock nut M10 stainless A4',
    category: 'nuts',
    brand: 'bossard',
    model: 'DIN985-M10-A4',
    unit: 'pcs',
    packSizes: [100],
    scenarios: ['振动工况', 'vibration'],
    attributes: {
      thread_size: 'm10',
      material: 'a4',
      strength_class: 'a4-80',
      surface_finish: 'plain',
      standard: 'DIN 985',
      operating_temperature: { min: -40, max: 120 },
    },
  },
  {
    slug: 'flange-nut-din6923-m12-8',
    zh: 'M12法兰面螺母 8级镀锌',
    en: 'Flange nut M12 grade 8 zinc plated',
    category: 'nuts',
    brand: 'wurth',
    model: 'DIN6923-M12-8-ZN',
    unit: 'pcs',
    packSizes: [100],
    scenarios: ['汽车', 'automotive'],
    attributes: {
      thread_size: 'm12',
      material: 'carbon-steel',
      strength_class: '8.8',
      surface_finish: 'zinc',
      standard: 'DIN 6923',
    },
  },
  {
    slug: 'socket-cap-screw-din912-m8x25-a2',
    zh: 'M8不锈钢内六角圆柱头螺钉',
    en: 'Socket head cap screw M8×25 stainless A2',
    category: 'screws',
    brand: 'bossard',
    model: 'DIN912-M8x25-A2',
    unit: 'pcs',
    packSizes: [100],
    scenarios: ['自动化设备', 'automation'],
    attributes: { ...bolt('m8', 25, 'a2', 'a2-70'), standard: 'DIN 912 / ISO 4762', tightening_torque: 18 },
  },
  {
    slug: 'tapping-screw-din7981-st4-2x16',
    zh: 'ST4.2×16不锈钢十字盘头自攻螺钉',
    en: 'Pan head tapping screw ST4.2×16 stainless A2',
    category: 'screws',
    brand: 'wurth',
    model: 'DIN7981-ST4.2x16-A2',
    unit: 'pcs',
    packSizes: [500],
    scenarios: ['钣金', 'sheet metal'],
    attributes: {
      thread_size: 'st4-2',
      length: 16,
      material: 'a2',
      surface_finish: 'plain',
      standard: 'DIN 7981',
      rohs: true,
    },
  },
  {
    slug: 'pan-head-screw-iso7045-m5x12',
    zh: 'M5十字盘头机螺钉 镀锌',
    en: 'Pan head machine screw M5×12 zinc plated',
    category: 'screws',
    brand: 'bossard',
    model: 'ISO7045-M5x12-4.8-ZN',
    unit: 'pcs',
    packSizes: [1000],
    scenarios: ['电子设备', 'electronics'],
    attributes: {
      thread_size: 'm5',
      length: 12,
      material: 'carbon-steel',
      strength_class: '4.8',
      surface_finish: 'zinc',
      standard: 'ISO 7045',
    },
  },
  {
    slug: 'flat-washer-din125-m8-a2',
    zh: 'M8不锈钢平垫圈',
    en: 'Flat washer M8 stainless A2',
    category: 'washers',
    brand: 'wurth',
    model: 'DIN125-M8-A2',
    unit: 'pcs',
    packSizes: [100, 1000],
    scenarios: ['机械装配'],
    isPublic: true,
    attributes: {
      thread_size: 'm8',
      material: 'a2',
      surface_finish: 'plain',
      standard: 'DIN 125',
      rohs: true,
    },
  },
  {
    slug: 'spring-washer-din127-m10',
    zh: 'M10弹簧垫圈 发黑',
    en: 'Spring lock washer M10 black oxide',
    category: 'washers',
    brand: 'bossard',
    model: 'DIN127-M10-BO',
    unit: 'pcs',
    packSizes: [200],
    scenarios: ['防松', 'anti-loosening'],
    attributes: {
      thread_size: 'm10',
      material: 'carbon-steel',
      surface_finish: 'black-oxide',
      standard: 'DIN 127',
      operating_temperature: { min: -40, max: 150 },
    },
  },
  ...(
    [
      ['6204-2rs', '6204-2RS', 'skf', 20, 47, 14, 13.5, 13000, '2rs'],
      ['6205-zz', '6205-ZZ', 'nsk', 25, 52, 15, 14.8, 18000, 'zz'],
      ['6206', '6206', 'cu', 30, 62, 16, 20.3, 15000, 'open'],
      ['6001-2rs', '6001-2RS', 'skf', 12, 28, 8, 5.4, 22000, '2rs'],
    ] as const
  ).map(
    ([slug, model, brand, d, outer, b, load, speed, seal]): DemoProduct => ({
      slug: `deep-groove-ball-bearing-${slug}`,
      zh: `${model}深沟球轴承`,
      en: `Deep groove ball bearing ${model}`,
      category: 'deep-groove-ball-bearings',
      brand,
      model,
      unit: 'pcs',
      scenarios: ['电机', '泵', 'electric motors'],
      isPublic: brand === 'cu',
      attributes: {
        inner_diameter: d,
        outer_diameter: outer,
        width: b,
        dynamic_load: load,
        limiting_speed: speed,
        seal,
        material: 'bearing-steel',
        operating_temperature: { min: -30, max: 120 },
      },
    }),
  ),
  ...(
    [
      ['30205', 'skf', 25, 52, 16.25, 32.5, 9000],
      ['32008', 'nsk', 40, 68, 19, 52.8, 7500],
      ['30206', 'cu', 30, 62, 17.25, 43.3, 8000],
    ] as const
  ).map(
    ([model, brand, d, outer, b, load, speed]): DemoProduct => ({
      slug: `tapered-roller-bearing-${model}`,
      zh: `${model}圆锥滚子轴承`,
      en: `Tapered roller bearing ${model}`,
      category: 'tapered-roller-bearings',
      brand,
      model,
      unit: 'pcs',
      scenarios: ['减速机', '车辆轮毂', 'gearboxes'],
      attributes: {
        inner_diameter: d,
        outer_diameter: outer,
        width: b,
        dynamic_load: load,
        limiting_speed: speed,
        material: 'bearing-steel',
        operating_temperature: { min: -30, max: 120 },
      },
    }),
  ),
  ...(
    [
      [
        'ball-valves',
        'Q41F-16P-DN25',
        'DN25不锈钢法兰球阀',
        'Flanged ball valve DN25 stainless CF8M',
        'dn25',
        1.6,
        'cf8m',
        'flange',
      ],
      [
        'ball-valves',
        'Q11F-16P-DN15',
        'DN15不锈钢内螺纹球阀',
        'Threaded ball valve DN15 stainless CF8M',
        'dn15',
        1.6,
        'cf8m',
        'thread',
      ],
      [
        'ball-valves',
        'Q41F-16C-DN50',
        'DN50铸钢法兰球阀',
        'Flanged ball valve DN50 cast steel WCB',
        'dn50',
        1.6,
        'wcb',
        'flange',
      ],
      [
        'gate-valves',
        'Z41H-16C-DN80',
        'DN80铸钢法兰闸阀',
        'Flanged gate valve DN80 cast steel WCB',
        'dn80',
        1.6,
        'wcb',
        'flange',
      ],
      [
        'gate-valves',
        'Z15W-16T-DN20',
        'DN20黄铜内螺纹闸阀',
        'Threaded gate valve DN20 brass',
        'dn20',
        1.6,
        'brass',
        'thread',
      ],
    ] as const
  ).map(
    ([category, model, zh, en, dn, pressure, material, connection]): DemoProduct => ({
      slug: model.toLowerCase(),
      zh,
      en,
      category,
      brand: 'neway',
      model,
      unit: 'pcs',
      scenarios: ['给排水', '暖通', 'HVAC'],
      isPublic: true,
      attributes: {
        nominal_diameter: dn,
        nominal_pressure: pressure,
        material,
        connection,
        operating_temperature: { min: -29, max: material === 'brass' ? 120 : 180 },
        standard: category === 'ball-valves' ? 'GB/T 12237' : 'GB/T 12234',
      },
    }),
  ),
  ...(
    [
      [
        'power-cables',
        'YJV-0.6/1kV-3x95+1x50',
        'YJV 3×95+1×50 交联聚乙烯绝缘电力电缆',
        'XLPE power cable YJV 3×95+1×50',
        95,
        4,
        '0.6/1 kV',
        'far-east-cable',
      ],
      [
        'power-cables',
        'ZR-YJV-0.6/1kV-4x25',
        'ZR-YJV 4×25 阻燃电力电缆',
        'Flame-retardant power cable ZR-YJV 4×25',
        25,
        4,
        '0.6/1 kV',
        'baosheng',
      ],
      [
        'control-cables',
        'RVV-300/500V-4x1.5',
        'RVV 4×1.5 护套软电缆',
        'Flexible sheathed cable RVV 4×1.5',
        1.5,
        4,
        '300/500 V',
        'baosheng',
      ],
      [
        'control-cables',
        'KVVP-450/750V-7x1.5',
        'KVVP 7×1.5 屏蔽控制电缆',
        'Shielded control cable KVVP 7×1.5',
        1.5,
        7,
        '450/750 V',
        'far-east-cable',
      ],
      [
        'control-cables',
        'BV-450/750V-2.5',
        'BV 2.5 铜芯聚氯乙烯绝缘电线',
        'PVC insulated copper wire BV 2.5',
        2.5,
        1,
        '450/750 V',
        'baosheng',
      ],
    ] as const
  ).map(
    ([category, model, zh, en, section, cores, voltage, brand]): DemoProduct => ({
      slug: model
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/-+$/, ''),
      zh,
      en,
      category,
      brand,
      model,
      unit: 'm',
      packSizes: [100, 500],
      scenarios: ['配电', '楼宇', 'power distribution'],
      isPublic: true,
      attributes: {
        cross_section: section,
        cores,
        rated_voltage: voltage,
        flame_retardant: model.startsWith('ZR') || category === 'control-cables',
        material: 'copper',
        operating_temperature: { min: -15, max: 90 },
        rohs: true,
      },
    }),
  ),
];

function valueInputs(attributes: DemoProduct['attributes']): AttributeValueInput[] {
  return Object.entries(attributes).map(([key, value]) =>
    typeof value === 'object' && value !== null
      ? { key, min: value.min, max: value.max }
      : { key, value: value! },
  );
}

async function seed(tx: Transaction, companyIds: readonly string[]): Promise<number> {
  const categories = new Map<string, string>();
  for (const [index, [slug, nameZh, nameEn, children]] of CATEGORIES.entries()) {
    const parent = await insertCategory(tx, { slug, nameZh, nameEn, sort: index * 10 });
    categories.set(slug, parent.id);
    for (const [childIndex, [childSlug, childZh, childEn]] of children.entries()) {
      const child = await insertCategory(tx, {
        parentId: parent.id,
        slug: childSlug,
        nameZh: childZh,
        nameEn: childEn,
        sort: childIndex * 10,
      });
      categories.set(childSlug, child.id);
    }
  }
  const brands = new Map<string, string>();
  for (const [slug, name, nameZh] of BRANDS)
    brands.set(slug, (await insertBrand(tx, { slug, name, nameZh })).id);
  for (const { categories: names, ...definition } of ATTRIBUTES) {
    await insertAttribute(tx, {
      ...definition,
      categoryIds: (names ?? []).map((name) => categories.get(name)!),
    });
  }
  const ids = new Map<string, string>();
  for (const product of PRODUCTS) {
    const id = await insertProduct(tx, {
      slug: product.slug,
      nameZh: product.zh,
      nameEn: product.en,
      descriptionZh: product.descriptionZh ?? `${product.zh}，型号 ${product.model}。`,
      descriptionEn: product.descriptionEn ?? `${product.en}, model ${product.model}.`,
      brandId: brands.get(product.brand)!,
      categoryId: categories.get(product.category)!,
      model: product.model,
      scenarios: product.scenarios,
      unitOfMeasure: product.unit,
      packSizes: product.packSizes ?? [],
      isPublic: product.isPublic ?? false,
      metaTitle: `${product.zh} ${product.model}`,
      metaDescription: product.en,
      attributes: valueInputs(product.attributes),
      skus: product.skus ?? [{ code: product.model.toUpperCase(), packSize: product.packSizes?.[0] ?? 1 }],
    });
    await changeLifecycle(tx, id, 'active');
    ids.set(product.slug, id);
  }
  const related = (slug: string) => ids.get(slug)!;
  await setRelations(tx, related('hex-bolt-din933-m8x30-a2'), [
    { kind: 'accessory', productId: related('hex-nut-din934-m8-a2') },
    { kind: 'accessory', productId: related('flat-washer-din125-m8-a2') },
    { kind: 'alternative', productId: related('socket-cap-screw-din912-m8x25-a2') },
  ]);
  await setRelations(tx, related('deep-groove-ball-bearing-6204-2rs'), [
    { kind: 'alternative', productId: related('deep-groove-ball-bearing-6205-zz') },
  ]);
  await setRelations(tx, related('q41f-16p-dn25'), [
    { kind: 'alternative', productId: related('q41f-16c-dn50') },
  ]);
  await insertSharedCatalog(tx, {
    name: '金牌客户目录 Gold customers',
    description: '紧固件与轴承全系列，面向金牌客户 (tier gold)',
    categoryIds: [categories.get('fasteners')!, categories.get('bearings')!],
    assignments: [
      { kind: 'tier', value: 'gold' },
      ...companyIds.map((value) => ({ kind: 'company' as const, value })),
    ],
  });
  await refreshVisibility(tx, [...ids.values()]);
  await writeOutbox(
    tx,
    [...ids.values()].map((productId) => ({
      kind: 'event' as const,
      name: 'product.created',
      companyId: null,
      payload: { productId, lifecycle: 'active' },
    })),
  );
  return ids.size;
}

export async function seedDemoCatalog(
  db: Database,
  options: { companyIds?: readonly string[] } = {},
): Promise<{ created: boolean; products: number }> {
  const { rowCount } = await db.query(`SELECT 1 FROM catalog.categories WHERE slug = 'fasteners'`);
  if (rowCount) return { created: false, products: 0 };
  const products = await db.transaction((tx) => seed(tx, options.companyIds ?? []));
  return { created: true, products };
}
