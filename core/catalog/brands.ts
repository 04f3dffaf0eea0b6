import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound } from '../platform/errors/hub-errors.ts';
import { conflictOnDuplicate } from './catalog-area.ts';

/** A manufacturer's brand (品牌): `name` as printed on the product, `nameZh` its Chinese name if any. */
export interface Brand {
  id: string;
  slug: string;
  name: string;
  nameZh: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface BrandInput {
  slug: string;
  name: string;
  nameZh?: string | null;
}

const COLUMNS = 'id, slug, name, name_zh, created_at, updated_at';

function toBrand(row: Record<string, unknown>): Brand {
  return {
    id: row.id as string,
    slug: row.slug as string,
    name: row.name as string,
    nameZh: (row.name_zh as string | null) ?? null,
    createdAt: new Date(row.created_at as string).toISOString(),
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

export async function findBrand(db: Queryable, id: string): Promise<Brand | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM catalog.brands WHERE id = $1`, [id]);
  return rows[0] ? toBrand(rows[0]) : undefined;
}

/** A page of brands by name. */
export async function listBrands(db: Queryable, filter: { limit: number; after?: string }): Promise<Brand[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM catalog.brands
      WHERE $1::uuid IS NULL OR id > $1::uuid ORDER BY id LIMIT $2`,
    [filter.after ?? null, filter.limit],
  );
  return rows.map(toBrand);
}

export async function insertBrand(db: Queryable, input: BrandInput): Promise<Brand> {
  try {
    const { rows } = await db.query(
      `INSERT INTO catalog.brands (slug, name, name_zh) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
      [input.slug, input.name, input.nameZh ?? null],
    );
    return toBrand(rows[0]!);
  } catch (error) {
    conflictOnDuplicate(error, 'Another brand has this slug', '/slug');
  }
}

export async function updateBrand(db: Queryable, id: string, changes: Partial<BrandInput>): Promise<Brand> {
  const brand = await findBrand(db, id);
  if (!brand) throw new NotFound('Brand');
  try {
    const { rows } = await db.query(
      `UPDATE catalog.brands SET slug = $2, name = $3, name_zh = $4, updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        id,
        changes.slug ?? brand.slug,
        changes.name ?? brand.name,
        changes.nameZh !== undefined ? changes.nameZh : brand.nameZh,
      ],
    );
    return toBrand(rows[0]!);
  } catch (error) {
    conflictOnDuplicate(error, 'Another brand has this slug', '/slug');
  }
}

/** Deletes a brand no product carries. */
export async function deleteBrand(db: Queryable, id: string): Promise<Brand> {
  const brand = await findBrand(db, id);
  if (!brand) throw new NotFound('Brand');
  const { rows } = await db.query('SELECT count(*)::int AS n FROM catalog.products WHERE brand_id = $1', [
    id,
  ]);
  if (rows[0]!.n > 0) throw new Conflict(`${rows[0]!.n} products carry this brand`);
  await db.query('DELETE FROM catalog.brands WHERE id = $1', [id]);
  return brand;
}

export async function productsOfBrand(db: Queryable, id: string): Promise<string[]> {
  const { rows } = await db.query('SELECT id FROM catalog.products WHERE brand_id = $1', [id]);
  return rows.map((row) => row.id as string);
}
