import type { Queryable } from '../platform/database/database.ts';

export interface FailedItem {
  id: string;
  connectionId: string;
  direction: 'inbound' | 'outbound';
  entity: string;
  itemKey: string;
  payload: Record<string, unknown>;
  errorCategory: string;
  errorMessage: string;
  attempts: number;
  mappingVersion: string | null;
  status: 'failed' | 'replayed' | 'resolved';
  failedAt: string;
  replayedAt: string | null;
}

function itemOf(row: Record<string, unknown>): FailedItem {
  return {
    id: row.id as string,
    connectionId: row.connection_id as string,
    direction: row.direction as FailedItem['direction'],
    entity: row.entity as string,
    itemKey: row.item_key as string,
    payload: row.payload as Record<string, unknown>,
    errorCategory: row.error_category as string,
    errorMessage: row.error_message as string,
    attempts: row.attempts as number,
    mappingVersion: (row.mapping_version as string | null) ?? null,
    status: row.status as FailedItem['status'],
    failedAt: (row.failed_at as Date).toISOString(),
    replayedAt: row.replayed_at ? (row.replayed_at as Date).toISOString() : null,
  };
}

/**
 * Keeps an item that failed for good. The payload is what replaying needs (the event's ids, the
 * remote record), never a credential. One row per item: failing again after a replay updates it.
 */
export async function recordFailure(
  db: Queryable,
  item: Omit<FailedItem, 'id' | 'status' | 'failedAt' | 'replayedAt'>,
): Promise<void> {
  await db.query(
    `INSERT INTO integration.failed_items
       (connection_id, direction, entity, item_key, payload, error_category, error_message, attempts, mapping_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (connection_id, direction, item_key) DO UPDATE
       SET payload = EXCLUDED.payload, error_category = EXCLUDED.error_category,
           error_message = EXCLUDED.error_message, attempts = failed_items.attempts + EXCLUDED.attempts,
           mapping_version = EXCLUDED.mapping_version, status = 'failed', failed_at = now()`,
    [
      item.connectionId,
      item.direction,
      item.entity,
      item.itemKey,
      JSON.stringify(item.payload),
      item.errorCategory,
      item.errorMessage.slice(0, 4000),
      item.attempts,
      item.mappingVersion,
    ],
  );
}

/** A replayed item that then succeeded is resolved. */
export async function resolveFailure(
  db: Queryable,
  key: { connectionId: string; direction: string; itemKey: string },
): Promise<void> {
  await db.query(
    `UPDATE integration.failed_items SET status = 'resolved'
      WHERE connection_id = $1 AND direction = $2 AND item_key = $3 AND status <> 'resolved'`,
    [key.connectionId, key.direction, key.itemKey],
  );
}

export async function listFailures(
  db: Queryable,
  query: { limit: number; connectionId?: string; entity?: string; status: string },
): Promise<FailedItem[]> {
  const { rows } = await db.query(
    `SELECT * FROM integration.failed_items
      WHERE status = $1 AND ($2::uuid IS NULL OR connection_id = $2) AND ($3::text IS NULL OR entity = $3)
      ORDER BY failed_at DESC, id LIMIT $4`,
    [query.status, query.connectionId ?? null, query.entity ?? null, query.limit],
  );
  return rows.map(itemOf);
}

/** Marks failed items replayed and answers them (locked, so two replays do not both take one). */
export async function takeForReplay(
  db: Queryable,
  where: { id?: string; connectionId?: string; entity?: string },
): Promise<FailedItem[]> {
  const { rows } = await db.query(
    `UPDATE integration.failed_items SET status = 'replayed', replayed_at = now()
      WHERE id IN (
        SELECT id FROM integration.failed_items
         WHERE status = 'failed'
           AND ($1::uuid IS NULL OR id = $1)
           AND ($2::uuid IS NULL OR connection_id = $2)
           AND ($3::text IS NULL OR entity = $3)
         ORDER BY failed_at LIMIT 10000 FOR UPDATE SKIP LOCKED)
      RETURNING *`,
    [where.id ?? null, where.connectionId ?? null, where.entity ?? null],
  );
  return rows.map(itemOf);
}

export async function findFailure(db: Queryable, id: string): Promise<FailedItem | undefined> {
  const { rows } = await db.query('SELECT * FROM integration.failed_items WHERE id = $1', [id]);
  return rows[0] ? itemOf(rows[0]) : undefined;
}
