import type { Queryable, Transaction } from '../platform/database/database.ts';
import { Conflict, NotFound } from '../platform/errors/hub-errors.ts';

export interface Warehouse {
  id: string;
  code: string;
  name: string;
  region: string | null;
  address: string | null;
  active: boolean;
  priority: number;
  visibleToBuyers: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface WarehouseInput {
  code: string;
  name: string;
  region?: string | null;
  address?: string | null;
  active?: boolean;
  priority?: number;
  visibleToBuyers?: boolean;
}

export type WarehouseChanges = Partial<WarehouseInput>;

const COLUMNS =
  'id, code, name, region, address, active, priority, visible_to_buyers, created_at, updated_at';

export function toWarehouse(row: Record<string, unknown>): Warehouse {
  return {
    id: row.id as string,
    code: row.code as string,
    name: row.name as string,
    region: (row.region as string | null) ?? null,
    address: (row.address as string | null) ?? null,
    active: row.active as boolean,
    priority: row.priority as number,
    visibleToBuyers: row.visible_to_buyers as boolean,
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
  };
}

function duplicateCode(error: unknown, code: string | undefined): never {
  if ((error as { code?: string }).code === '23505') {
    throw new Conflict(`A warehouse with code ${code} exists`, { pointer: '/code' });
  }
  throw error;
}

export async function insertWarehouse(tx: Queryable, input: WarehouseInput): Promise<Warehouse> {
  try {
    const { rows } = await tx.query(
      `INSERT INTO inventory.warehouses (code, name, region, address, active, priority, visible_to_buyers)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        input.code,
        input.name,
        input.region ?? null,
        input.address ?? null,
        input.active ?? true,
        input.priority ?? 0,
        input.visibleToBuyers ?? true,
      ],
    );
    return toWarehouse(rows[0]!);
  } catch (error) {
    duplicateCode(error, input.code);
  }
}

export async function findWarehouse(db: Queryable, id: string): Promise<Warehouse | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM inventory.warehouses WHERE id = $1`, [id]);
  return rows[0] ? toWarehouse(rows[0]) : undefined;
}

export async function lockWarehouse(tx: Transaction, id: string): Promise<Warehouse> {
  const { rows } = await tx.query(`SELECT ${COLUMNS} FROM inventory.warehouses WHERE id = $1 FOR UPDATE`, [
    id,
  ]);
  if (!rows[0]) throw new NotFound('Warehouse');
  return toWarehouse(rows[0]);
}

export async function listWarehouses(
  db: Queryable,
  options: { limit: number; after?: string | undefined; active?: boolean | undefined },
): Promise<Warehouse[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM inventory.warehouses
      WHERE ($1::uuid IS NULL OR id > $1) AND ($2::boolean IS NULL OR active = $2)
      ORDER BY id LIMIT $3`,
    [options.after ?? null, options.active ?? null, options.limit],
  );
  return rows.map(toWarehouse);
}

/** Every warehouse by id (there are few): allocation order, names for answers. */
export async function allWarehouses(db: Queryable): Promise<Warehouse[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM inventory.warehouses ORDER BY code LIMIT 10000`);
  return rows.map(toWarehouse);
}

export async function updateWarehouse(
  tx: Transaction,
  id: string,
  changes: WarehouseChanges,
): Promise<Warehouse> {
  const columns: Record<keyof WarehouseInput, string> = {
    code: 'code',
    name: 'name',
    region: 'region',
    address: 'address',
    active: 'active',
    priority: 'priority',
    visibleToBuyers: 'visible_to_buyers',
  };
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [field, column] of Object.entries(columns) as Array<[keyof WarehouseInput, string]>) {
    if (changes[field] === undefined) continue;
    values.push(changes[field]);
    sets.push(`${column} = $${values.length}`);
  }
  try {
    const { rows } = await tx.query(
      `UPDATE inventory.warehouses SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
      values,
    );
    if (!rows[0]) throw new NotFound('Warehouse');
    return toWarehouse(rows[0]);
  } catch (error) {
    duplicateCode(error, changes.code);
  }
}

/**
 * Deletes a warehouse that never held stock. One with any movement keeps its history: it can be
 * deactivated, not deleted (409).
 */
export async function deleteWarehouse(tx: Transaction, id: string): Promise<Warehouse> {
  const warehouse = await lockWarehouse(tx, id);
  const { rowCount } = await tx.query('SELECT 1 FROM inventory.movements WHERE warehouse_id = $1 LIMIT 1', [
    id,
  ]);
  if (rowCount) {
    throw new Conflict('The warehouse has stock history; deactivate it instead (active: false)');
  }
  await tx.query('DELETE FROM inventory.company_preferences WHERE warehouse_id = $1', [id]);
  await tx.query('DELETE FROM inventory.stock_levels WHERE warehouse_id = $1', [id]);
  await tx.query('DELETE FROM inventory.warehouses WHERE id = $1', [id]);
  return warehouse;
}
