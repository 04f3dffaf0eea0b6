import type { PricingQuantityRule } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { QuantityRule } from './price-engine.ts';

export interface QuantityRuleInput {
  productId?: string | undefined;
  skuId?: string | undefined;
  companyId?: string | undefined;
  unit?: string | undefined;
  minQty?: number | undefined;
  maxQty?: number | undefined;
  increment?: number | undefined;
}

export type QuantityLimits = { minQty?: number | null; maxQty?: number | null; increment?: number | null };

const COLUMNS =
  'id, product_id, sku_id, company_id, unit, min_qty, max_qty, increment, created_at, updated_at';

const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

function toRule(row: Record<string, unknown>): PricingQuantityRule {
  return {
    id: row.id as string,
    productId: (row.product_id as string | null) ?? null,
    skuId: (row.sku_id as string | null) ?? null,
    companyId: (row.company_id as string | null) ?? null,
    unit: (row.unit as string | null) ?? null,
    minQty: num(row.min_qty),
    maxQty: num(row.max_qty),
    increment: num(row.increment),
    createdAt: new Date(row.created_at as string).toISOString(),
    updatedAt: new Date(row.updated_at as string).toISOString(),
  };
}

function checkLimits(limits: QuantityLimits): void {
  if (limits.minQty == null && limits.maxQty == null && limits.increment == null) {
    throw new ValidationFailed([
      { pointer: '/minQty', detail: 'a rule needs at least one of minQty, maxQty, increment' },
    ]);
  }
  if (limits.minQty != null && limits.maxQty != null && limits.minQty > limits.maxQty) {
    throw new ValidationFailed([{ pointer: '/maxQty', detail: 'must not be below minQty' }]);
  }
}

export async function insertRule(tx: Queryable, input: QuantityRuleInput): Promise<PricingQuantityRule> {
  checkLimits(input);
  const { rows } = await tx
    .query(
      `INSERT INTO pricing.quantity_rules (product_id, sku_id, company_id, unit, min_qty, max_qty, increment)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        input.productId ?? null,
        input.skuId ?? null,
        input.companyId ?? null,
        input.unit ?? null,
        input.minQty ?? null,
        input.maxQty ?? null,
        input.increment ?? null,
      ],
    )
    .catch((error: { code?: string }) => {
      if (error.code === '23505') {
        throw new Conflict(
          'A quantity rule for this product or SKU, company and unit exists; change that one',
        );
      }
      throw error;
    });
  return toRule(rows[0]!);
}

export async function findRule(db: Queryable, id: string): Promise<PricingQuantityRule | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM pricing.quantity_rules WHERE id = $1`, [id]);
  return rows[0] ? toRule(rows[0]) : undefined;
}

export async function updateRule(
  tx: Queryable,
  id: string,
  changes: QuantityLimits,
): Promise<PricingQuantityRule> {
  const { rows: found } = await tx.query(
    `SELECT ${COLUMNS} FROM pricing.quantity_rules WHERE id = $1 FOR UPDATE`,
    [id],
  );
  if (!found[0]) throw new NotFound('Quantity rule');
  const before = toRule(found[0]);
  const after = {
    minQty: changes.minQty !== undefined ? changes.minQty : before.minQty,
    maxQty: changes.maxQty !== undefined ? changes.maxQty : before.maxQty,
    increment: changes.increment !== undefined ? changes.increment : before.increment,
  };
  checkLimits(after);
  const { rows } = await tx.query(
    `UPDATE pricing.quantity_rules SET min_qty = $2, max_qty = $3, increment = $4, updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, after.minQty, after.maxQty, after.increment],
  );
  return toRule(rows[0]!);
}

export async function deleteRule(tx: Queryable, id: string): Promise<PricingQuantityRule> {
  const { rows } = await tx.query(`DELETE FROM pricing.quantity_rules WHERE id = $1 RETURNING ${COLUMNS}`, [
    id,
  ]);
  if (!rows[0]) throw new NotFound('Quantity rule');
  return toRule(rows[0]);
}

export async function listRules(
  db: Queryable,
  filter: {
    productId?: string | undefined;
    skuId?: string | undefined;
    companyId?: string | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<PricingQuantityRule[]> {
  const values: unknown[] = [];
  const where: string[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.productId) add('product_id = ?', filter.productId);
  if (filter.skuId) add('sku_id = ?', filter.skuId);
  if (filter.companyId) add('company_id = ?', filter.companyId);
  if (filter.after) add('id > ?', filter.after);
  values.push(filter.limit);
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM pricing.quantity_rules ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id LIMIT $${values.length}`,
    values,
  );
  return rows.map(toRule);
}

/** The engine's rules for these SKUs and products: everyone's, and the one company's (never another's). */
export function engineRule(row: Record<string, unknown>): QuantityRule {
  return {
    id: row.id as string,
    productId: (row.product_id as string | null) ?? null,
    skuId: (row.sku_id as string | null) ?? null,
    companyId: (row.company_id as string | null) ?? null,
    unit: (row.unit as string | null) ?? null,
    minQty: row.min_qty === null ? null : BigInt(row.min_qty as string),
    maxQty: row.max_qty === null ? null : BigInt(row.max_qty as string),
    increment: row.increment === null ? null : BigInt(row.increment as string),
  };
}
