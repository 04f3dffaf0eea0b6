import type { PriceEntry, PriceList, PriceTier } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';
import { type FieldError, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { TierRow } from './price-engine.ts';
import { findPriceListsByIds } from './price-lists.ts';

/** One SKU and unit of a list with its new tiers (empty = remove the entry). SKU ids are resolved. */
export interface PriceEntryInput {
  skuId: string;
  unit: string;
  tiers: readonly PriceTier[];
}

/** Checks every entry (pointers into `/prices/<i>/tiers/<j>`): unique min quantities, valid base lists. */
export async function checkEntries(
  db: Queryable,
  list: PriceList,
  entries: readonly PriceEntryInput[],
): Promise<void> {
  const problems: FieldError[] = [];
  const seen = new Set<string>();
  const baseIds = new Set<string>();
  entries.forEach((entry, i) => {
    const key = `${entry.skuId}\u0000${entry.unit}`;
    if (seen.has(key))
      problems.push({ pointer: `/prices/${i}`, detail: 'the same SKU and unit appear twice' });
    seen.add(key);
    const quantities = new Set<number>();
    entry.tiers.forEach((tier, j) => {
      if (quantities.has(tier.minQty)) {
        problems.push({
          pointer: `/prices/${i}/tiers/${j}/minQty`,
          detail: 'two tiers start at this quantity',
        });
      }
      quantities.add(tier.minQty);
      if (tier.baseListId) baseIds.add(tier.baseListId);
    });
  });
  const bases = await findPriceListsByIds(db, [...baseIds]);
  entries.forEach((entry, i) => {
    entry.tiers.forEach((tier, j) => {
      if (!tier.baseListId) return;
      const pointer = `/prices/${i}/tiers/${j}/baseListId`;
      const base = bases.get(tier.baseListId);
      if (tier.baseListId === list.id) problems.push({ pointer, detail: 'a list cannot be its own base' });
      else if (!base) problems.push({ pointer, detail: 'no such price list' });
      else if (base.currency !== list.currency) {
        problems.push({
          pointer,
          detail: `the base list is in ${base.currency}, this list in ${list.currency}`,
        });
      } else if (base.pricesIncludeTax !== list.pricesIncludeTax) {
        problems.push({
          pointer,
          detail: 'the base list and this list differ in whether prices include tax',
        });
      }
    });
  });
  if (problems.length) throw new ValidationFailed(problems.slice(0, 20), 'Some prices cannot be stored');
}

/**
 * Replaces the tiers of each entry's SKU and unit in the list, in the caller's transaction (the
 * list row is locked by the caller). A few set-based statements whatever the number of entries.
 */
export async function replaceEntries(
  tx: Queryable,
  listId: string,
  entries: readonly PriceEntryInput[],
): Promise<{ entries: number; tiers: number; removed: number }> {
  await tx.query(
    `DELETE FROM pricing.prices p
      USING unnest($2::uuid[], $3::text[]) AS e(sku_id, unit)
      WHERE p.price_list_id = $1 AND p.sku_id = e.sku_id AND p.unit = e.unit`,
    [listId, entries.map((e) => e.skuId), entries.map((e) => e.unit)],
  );
  const skuIds: string[] = [];
  const units: string[] = [];
  const minQty: number[] = [];
  const amounts: Array<string | null> = [];
  const percents: Array<number | null> = [];
  const bases: Array<string | null> = [];
  for (const entry of entries) {
    for (const tier of entry.tiers) {
      skuIds.push(entry.skuId);
      units.push(entry.unit);
      minQty.push(tier.minQty);
      amounts.push(tier.amountMinor ?? null);
      percents.push(tier.percentOffBasisPoints ?? null);
      bases.push(tier.baseListId ?? null);
    }
  }
  if (skuIds.length) {
    await tx.query(
      `INSERT INTO pricing.prices (price_list_id, sku_id, unit, min_qty, amount_minor, percent_off_bp, base_list_id)
       SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::bigint[], $6::integer[], $7::uuid[])`,
      [listId, skuIds, units, minQty, amounts, percents, bases],
    );
  }
  await refreshBaseLists(tx, listId);
  const removed = entries.filter((e) => e.tiers.length === 0).length;
  return { entries: entries.length, tiers: skuIds.length, removed };
}

/** A list's entries (SKU and unit with their tiers), keyset-paged by SKU id then unit. */
export async function listEntries(
  db: Queryable,
  listId: string,
  filter: { skuId?: string | undefined; after?: { skuId: string; unit: string } | undefined; limit: number },
): Promise<PriceEntry[]> {
  const values: unknown[] = [listId];
  const where = ['price_list_id = $1'];
  if (filter.skuId) {
    values.push(filter.skuId);
    where.push(`sku_id = $${values.length}`);
  }
  if (filter.after) {
    values.push(filter.after.skuId, filter.after.unit);
    where.push(`(sku_id, unit) > ($${values.length - 1}::uuid, $${values.length}::text)`);
  }
  values.push(filter.limit);
  const { rows } = await db.query(
    `SELECT sku_id, unit,
            json_agg(json_build_object('minQty', min_qty, 'amountMinor', amount_minor::text,
                     'percentOffBasisPoints', percent_off_bp, 'baseListId', base_list_id) ORDER BY min_qty) AS tiers
       FROM pricing.prices WHERE ${where.join(' AND ')}
      GROUP BY sku_id, unit ORDER BY sku_id, unit LIMIT $${values.length}`,
    values,
  );
  return rows.map((row) => ({
    skuId: row.sku_id,
    unit: row.unit,
    tiers: (row.tiers as Array<Record<string, unknown>>).map((t) =>
      t.amountMinor !== null
        ? { minQty: Number(t.minQty), amountMinor: t.amountMinor as string }
        : {
            minQty: Number(t.minQty),
            percentOffBasisPoints: t.percentOffBasisPoints as number,
            baseListId: t.baseListId as string,
          },
    ),
  }));
}

/** Records which lists `listId`'s percentage tiers take their base prices from (after its prices changed). */
export async function refreshBaseLists(tx: Queryable, listId: string): Promise<void> {
  await tx.query(
    `UPDATE pricing.price_lists
        SET base_list_ids = ARRAY(SELECT DISTINCT base_list_id FROM pricing.prices
                                   WHERE price_list_id = $1 AND base_list_id IS NOT NULL ORDER BY 1)
      WHERE id = $1`,
    [listId],
  );
}

/**
 * Every tier of these SKUs in these lists, in one simple query: the hot path of pricing, one short
 * index range per SKU (`prices_sku_idx`). The caller names the base lists of percentage tiers
 * among `listIds` (a candidate list's `base_list_ids`).
 */
export async function tiersFor(
  db: Queryable,
  listIds: readonly string[],
  skuIds: readonly string[],
): Promise<TierRow[]> {
  if (!listIds.length || !skuIds.length) return [];
  const { rows } = await db.query(
    `SELECT price_list_id, sku_id, unit, min_qty, amount_minor, percent_off_bp, base_list_id
       FROM pricing.prices WHERE sku_id = ANY($2::uuid[]) AND price_list_id = ANY($1::uuid[])`,
    [listIds, skuIds],
  );
  return rows.map(toTier);
}

/**
 * `tiersFor` and, in the same statement, the version of the quantity rules and VAT rates
 * (`pricing.rules_version`, bumped by every change of either table): what tells a process whether
 * the rules and rates it keeps are current, without a round trip of its own. The version is null
 * when there is nothing to look up (no query at all).
 */
export async function tiersWithRulesVersion(
  db: Queryable,
  listIds: readonly string[],
  skuIds: readonly string[],
): Promise<{ tiers: TierRow[]; rulesVersion: bigint | null }> {
  if (!listIds.length || !skuIds.length) return { tiers: [], rulesVersion: null };
  // The version rides in a row of its own, not in a column every tier row would repeat.
  const { rows } = await db.query(
    `SELECT version AS rules_version, NULL::uuid AS price_list_id, NULL::uuid AS sku_id, NULL AS unit,
            NULL::bigint AS min_qty, NULL::bigint AS amount_minor, NULL::integer AS percent_off_bp,
            NULL::uuid AS base_list_id
       FROM pricing.rules_version
     UNION ALL
     SELECT NULL, price_list_id, sku_id, unit, min_qty, amount_minor, percent_off_bp, base_list_id
       FROM pricing.prices WHERE sku_id = ANY($2::uuid[]) AND price_list_id = ANY($1::uuid[])`,
    [listIds, skuIds],
  );
  const tiers: TierRow[] = [];
  let rulesVersion: bigint | null = null;
  for (const row of rows) {
    if (row.rules_version !== null) rulesVersion = BigInt(row.rules_version);
    else tiers.push(toTier(row));
  }
  return { tiers, rulesVersion };
}

function toTier(row: Record<string, unknown>): TierRow {
  return {
    priceListId: row.price_list_id as string,
    skuId: row.sku_id as string,
    unit: row.unit as string,
    minQty: row.min_qty as bigint,
    amountMinor: (row.amount_minor as bigint | null) ?? null,
    percentOffBp: (row.percent_off_bp as number | null) ?? null,
    baseListId: (row.base_list_id as string | null) ?? null,
  };
}
