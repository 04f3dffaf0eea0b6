import type { PriceList } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Conflict, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { ListMeta } from './price-engine.ts';
import { isKnownCurrency } from './pricing-config.ts';

export interface PriceListInput {
  code: string;
  name: string;
  currency: string;
  pricesIncludeTax: boolean;
  priority: number;
  validFrom?: string | null | undefined;
  validTo?: string | null | undefined;
  active: boolean;
}

export type PriceListChanges = Partial<Omit<PriceListInput, 'currency' | 'pricesIncludeTax'>>;

const COLUMNS = `id, code, name, currency, prices_include_tax, priority, valid_from, valid_to, active, version,
  created_at, updated_at`;

const iso = (value: unknown) => (value ? new Date(value as string).toISOString() : null);

function toPriceList(row: Record<string, unknown>): PriceList {
  return {
    id: row.id as string,
    code: row.code as string,
    name: row.name as string,
    currency: row.currency as string,
    pricesIncludeTax: row.prices_include_tax as boolean,
    priority: row.priority as number,
    validFrom: iso(row.valid_from),
    validTo: iso(row.valid_to),
    active: row.active as boolean,
    version: Number(row.version),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

/** The engine's view of a list (dates as dates). */
export function metaOf(list: PriceList): ListMeta {
  return {
    id: list.id,
    code: list.code,
    currency: list.currency,
    pricesIncludeTax: list.pricesIncludeTax,
    priority: list.priority,
    validFrom: list.validFrom ? new Date(list.validFrom) : null,
    validTo: list.validTo ? new Date(list.validTo) : null,
    active: list.active,
  };
}

function checkWindow(validFrom: string | null | undefined, validTo: string | null | undefined): void {
  if (validFrom && validTo && new Date(validFrom).getTime() >= new Date(validTo).getTime()) {
    throw new ValidationFailed([{ pointer: '/validTo', detail: 'must be later than validFrom' }]);
  }
}

function conflictOnCode(error: unknown): never {
  if ((error as { code?: string }).code === '23505') {
    throw new Conflict('A price list with this code exists', {
      errors: [{ pointer: '/code', detail: 'is taken by another price list' }],
    });
  }
  throw error;
}

export async function insertPriceList(db: Queryable, input: PriceListInput): Promise<PriceList> {
  if (!isKnownCurrency(input.currency)) {
    throw new ValidationFailed([{ pointer: '/currency', detail: 'is not an ISO 4217 currency code' }]);
  }
  checkWindow(input.validFrom, input.validTo);
  const { rows } = await db
    .query(
      `INSERT INTO pricing.price_lists (code, name, currency, prices_include_tax, priority, valid_from, valid_to, active)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [
        input.code,
        input.name,
        input.currency,
        input.pricesIncludeTax,
        input.priority,
        input.validFrom ?? null,
        input.validTo ?? null,
        input.active,
      ],
    )
    .catch(conflictOnCode);
  return toPriceList(rows[0]!);
}

export async function findPriceList(db: Queryable, id: string): Promise<PriceList | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM pricing.price_lists WHERE id = $1`, [id]);
  return rows[0] ? toPriceList(rows[0]) : undefined;
}

/** The list, locked for the rest of the transaction (price upserts on one list run one at a time). */
export async function lockPriceList(tx: Queryable, id: string): Promise<PriceList> {
  const { rows } = await tx.query(`SELECT ${COLUMNS} FROM pricing.price_lists WHERE id = $1 FOR UPDATE`, [
    id,
  ]);
  if (!rows[0]) throw new NotFound('Price list');
  return toPriceList(rows[0]);
}

export async function findPriceListsByIds(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, PriceList>> {
  if (!ids.length) return new Map();
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM pricing.price_lists WHERE id = ANY($1::uuid[])`, [
    [...new Set(ids)],
  ]);
  return new Map(rows.map((row) => [row.id as string, toPriceList(row)]));
}

export async function updatePriceList(
  tx: Queryable,
  id: string,
  changes: PriceListChanges,
): Promise<PriceList> {
  const before = await lockPriceList(tx, id);
  const validFrom = changes.validFrom !== undefined ? changes.validFrom : before.validFrom;
  const validTo = changes.validTo !== undefined ? changes.validTo : before.validTo;
  checkWindow(validFrom, validTo);
  const { rows } = await tx
    .query(
      `UPDATE pricing.price_lists
          SET code = $2, name = $3, priority = $4, valid_from = $5, valid_to = $6, active = $7,
              version = version + 1, updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        id,
        changes.code ?? before.code,
        changes.name ?? before.name,
        changes.priority ?? before.priority,
        validFrom,
        validTo,
        changes.active ?? before.active,
      ],
    )
    .catch(conflictOnCode);
  return toPriceList(rows[0]!);
}

/** The list's prices and assignments go with it; a list other lists' percentage tiers use as base stays (409). */
export async function deletePriceList(tx: Queryable, id: string): Promise<PriceList> {
  const list = await lockPriceList(tx, id);
  const { rows } = await tx.query(
    `SELECT DISTINCT l.code FROM pricing.prices p JOIN pricing.price_lists l ON l.id = p.price_list_id
      WHERE p.base_list_id = $1 AND p.price_list_id <> $1 ORDER BY l.code LIMIT 10`,
    [id],
  );
  if (rows.length) {
    throw new Conflict(
      `Price list ${list.code} is the base of percentage prices in ${rows.map((r) => r.code).join(', ')}`,
    );
  }
  await tx.query('DELETE FROM pricing.price_lists WHERE id = $1', [id]);
  return list;
}

export async function bumpVersion(tx: Queryable, id: string): Promise<number> {
  const { rows } = await tx.query(
    'UPDATE pricing.price_lists SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING version',
    [id],
  );
  return Number(rows[0]!.version);
}

export async function listPriceLists(
  db: Queryable,
  filter: {
    limit: number;
    after?: string | undefined;
    currency?: string | undefined;
    active?: boolean | undefined;
  },
): Promise<PriceList[]> {
  const values: unknown[] = [];
  const where: string[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.after) add('id > ?', filter.after);
  if (filter.currency) add('currency = ?', filter.currency);
  if (filter.active !== undefined) add('active = ?', filter.active);
  values.push(filter.limit);
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM pricing.price_lists ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id LIMIT $${values.length}`,
    values,
  );
  return rows.map(toPriceList);
}
