import type { PricingVatRate } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import type { VatRate } from './pricing-config.ts';

export interface VatRateInput {
  productId?: string | undefined;
  skuId?: string | undefined;
  rate: VatRate;
}

const COLUMNS = 'id, product_id, sku_id, rate, updated_at';

function toVatRate(row: Record<string, unknown>): PricingVatRate {
  return {
    id: row.id as string,
    productId: (row.product_id as string | null) ?? null,
    skuId: (row.sku_id as string | null) ?? null,
    rate: row.rate as VatRate,
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

/** Sets (or replaces) each product's or SKU's rate in one statement. */
export async function setVatRates(tx: Queryable, items: readonly VatRateInput[]): Promise<PricingVatRate[]> {
  const { rows } = await tx.query(
    `INSERT INTO pricing.vat_rates (product_id, sku_id, rate)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::smallint[])
     ON CONFLICT (product_id, sku_id) DO UPDATE SET rate = EXCLUDED.rate, updated_at = now()
     RETURNING ${COLUMNS}`,
    [items.map((i) => i.productId ?? null), items.map((i) => i.skuId ?? null), items.map((i) => i.rate)],
  );
  return rows.map(toVatRate);
}

export async function deleteVatRate(tx: Queryable, id: string): Promise<PricingVatRate> {
  const { rows } = await tx.query(`DELETE FROM pricing.vat_rates WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  if (!rows[0]) throw new NotFound('VAT rate');
  return toVatRate(rows[0]);
}

export async function listVatRates(
  db: Queryable,
  filter: {
    productId?: string | undefined;
    skuId?: string | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<PricingVatRate[]> {
  const values: unknown[] = [];
  const where: string[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.productId) add('product_id = ?', filter.productId);
  if (filter.skuId) add('sku_id = ?', filter.skuId);
  if (filter.after) add('id > ?', filter.after);
  values.push(filter.limit);
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM pricing.vat_rates ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id LIMIT $${values.length}`,
    values,
  );
  return rows.map(toVatRate);
}
