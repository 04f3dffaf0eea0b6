import type { PriceListAssignment } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound } from '../platform/errors/hub-errors.ts';
import type { CandidateList, PriceLevel } from './price-engine.ts';

export interface AssignmentInput {
  level: PriceLevel;
  tier?: string | undefined;
  tag?: string | undefined;
  companyId?: string | undefined;
}

const COLUMNS = 'id, price_list_id, level, tier, tag, company_id, created_at';

function toAssignment(row: Record<string, unknown>): PriceListAssignment {
  return {
    id: row.id as string,
    priceListId: row.price_list_id as string,
    level: row.level as PriceLevel,
    tier: (row.tier as string | null) ?? null,
    tag: (row.tag as string | null) ?? null,
    companyId: (row.company_id as string | null) ?? null,
    createdAt: new Date(row.created_at as string).toISOString(),
  };
}

export async function insertAssignment(
  tx: Queryable,
  priceListId: string,
  input: AssignmentInput,
): Promise<PriceListAssignment> {
  const { rows } = await tx
    .query(
      `INSERT INTO pricing.price_list_assignments (price_list_id, level, tier, tag, company_id)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [priceListId, input.level, input.tier ?? null, input.tag ?? null, input.companyId ?? null],
    )
    .catch((error: { code?: string }) => {
      if (error.code === '23505') throw new Conflict('The price list is already assigned so');
      throw error;
    });
  return toAssignment(rows[0]!);
}

export async function deleteAssignment(
  tx: Queryable,
  priceListId: string,
  assignmentId: string,
): Promise<PriceListAssignment> {
  const { rows } = await tx.query(
    `DELETE FROM pricing.price_list_assignments WHERE id = $1 AND price_list_id = $2 RETURNING ${COLUMNS}`,
    [assignmentId, priceListId],
  );
  if (!rows[0]) throw new NotFound('Assignment');
  return toAssignment(rows[0]);
}

export async function findAssignment(
  db: Queryable,
  priceListId: string,
  assignmentId: string,
): Promise<PriceListAssignment | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM pricing.price_list_assignments WHERE id = $1 AND price_list_id = $2`,
    [assignmentId, priceListId],
  );
  return rows[0] ? toAssignment(rows[0]) : undefined;
}

/** Bounded by the schema of the answer: a list assigned to more audiences is better split. */
const MAX_ASSIGNMENTS = 10_000;

export async function assignmentsOf(db: Queryable, priceListId: string): Promise<PriceListAssignment[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM pricing.price_list_assignments WHERE price_list_id = $1
      ORDER BY level, tier NULLS FIRST, tag NULLS FIRST, company_id NULLS FIRST LIMIT ${MAX_ASSIGNMENTS}`,
    [priceListId],
  );
  return rows.map(toAssignment);
}

/** Who is asking for prices: a buyer's company with its tier and tags, or nobody in particular. */
export interface Audience {
  companyId: string | null;
  tier: string | null;
  tags: readonly string[];
  /** Only the default level (guests who may see prices, staff). */
  defaultOnly: boolean;
}

/**
 * The active lists in `currency` assigned to this audience, each at the most specific level that
 * reaches it. Validity windows are left to the engine (a cached answer stays right as time passes).
 * Tenant scoping: a company-level assignment matches only the audience's own company id, which
 * comes from the auth context.
 */
export async function assignedLists(
  db: Queryable,
  audience: Audience,
  currency: string,
): Promise<Array<CandidateList & { baseListIds: string[] }>> {
  const { rows } = await db.query(
    `SELECT DISTINCT ON (l.id)
            l.id, l.code, l.currency, l.prices_include_tax, l.priority, l.valid_from, l.valid_to, l.active,
            l.base_list_ids, a.level
       FROM pricing.price_list_assignments a
       JOIN pricing.price_lists l ON l.id = a.price_list_id
      WHERE l.active AND l.currency = $1
        AND (a.level = 'default'
             OR (NOT $5 AND a.level = 'tier' AND a.tier = $2)
             OR (NOT $5 AND a.level = 'group' AND a.tag = ANY($3::text[]))
             OR (NOT $5 AND a.level = 'company' AND a.company_id = $4))
      ORDER BY l.id, CASE a.level WHEN 'company' THEN 0 WHEN 'group' THEN 1 WHEN 'tier' THEN 2 ELSE 3 END`,
    [currency, audience.tier, [...audience.tags], audience.companyId, audience.defaultOnly],
  );
  return rows.map((row) => ({
    id: row.id,
    code: row.code,
    currency: row.currency,
    pricesIncludeTax: row.prices_include_tax,
    priority: row.priority,
    validFrom: row.valid_from ? new Date(row.valid_from) : null,
    validTo: row.valid_to ? new Date(row.valid_to) : null,
    active: row.active,
    level: row.level,
    baseListIds: row.base_list_ids,
  }));
}
