import path from 'node:path';
import type { Database } from '../../platform/database/database.ts';
import { applyMigrations } from '../../platform/database/migrations.ts';
import { platformMigrations } from '../../platform/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/test-servers.ts';
import type { AttributeInput } from '../attributes.ts';
import { insertAttribute } from '../attributes.ts';
import { insertBrand } from '../brands.ts';
import { insertCategory } from '../categories.ts';

export const catalogMigrations = {
  domain: 'catalog',
  directory: path.join(import.meta.dirname, '..', 'migrations'),
};

/** A fresh database of the real PostgreSQL server with the platform's and the catalog's tables. */
export async function createCatalogDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  await applyMigrations(database.db, [platformMigrations, catalogMigrations]);
  return database;
}

/** A small catalog to test against: two-level categories, a brand and one attribute of each type. */
export async function seedFixture(db: Database) {
  return db.transaction(async (tx) => {
    const fasteners = await insertCategory(tx, { slug: 'fasteners', nameZh: '紧固件', nameEn: 'Fasteners' });
    const bolts = await insertCategory(tx, {
      parentId: fasteners.id,
      slug: 'bolts',
      nameZh: '螺栓',
      nameEn: 'Bolts',
    });
    const bearings = await insertCategory(tx, { slug: 'bearings', nameZh: '轴承', nameEn: 'Bearings' });
    const brand = await insertBrand(tx, { slug: 'wurth', name: 'Würth', nameZh: '伍尔特' });
    const definitions: AttributeInput[] = [
      { key: 'length', nameZh: '长度', nameEn: 'Length', type: 'number', unit: 'mm', filterable: true },
      {
        key: 'material',
        nameZh: '材质',
        nameEn: 'Material',
        type: 'enum',
        options: [
          { value: 'a2', nameZh: '不锈钢A2', nameEn: 'Stainless A2' },
          { value: 'a4', nameZh: '不锈钢A4', nameEn: 'Stainless A4' },
        ],
        filterable: true,
      },
      { key: 'note', nameZh: '备注', nameEn: 'Note', type: 'text' },
      { key: 'rohs', nameZh: 'RoHS', nameEn: 'RoHS compliant', type: 'boolean' },
      { key: 'temperature', nameZh: '工作温度', nameEn: 'Operating temperature', type: 'range', unit: '°C' },
      {
        key: 'thread',
        nameZh: '螺纹',
        nameEn: 'Thread',
        type: 'enum',
        options: [{ value: 'm8', nameZh: 'M8', nameEn: 'M8' }],
        categoryIds: [fasteners.id],
      },
    ];
    const attributes = [];
    for (const definition of definitions) attributes.push(await insertAttribute(tx, definition));
    return { fasteners, bolts, bearings, brand, attributes };
  });
}
