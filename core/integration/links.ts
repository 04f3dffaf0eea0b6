import type { Queryable } from '../platform/database/database.ts';
import { Conflict } from '../platform/errors/hub-errors.ts';
import type { LinkResolver } from '../platform/mapping/link-resolver.ts';

export interface Link {
  connectionId: string;
  entity: string;
  externalId: string;
  canonicalId: string;
  fingerprint?: string | null;
}

/**
 * Records `(connection, entity, external id) ↔ canonical id`. Linking the same pair again is a
 * no-op (the fingerprint is refreshed); linking either side to something else is a 409: a remote
 * record is never silently re-pointed at another hub record.
 */
export async function link(db: Queryable, input: Link): Promise<{ created: boolean }> {
  const { rows } = await db.query(
    `INSERT INTO integration.links (connection_id, entity, external_id, canonical_id, fingerprint)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING
     RETURNING 1`,
    [input.connectionId, input.entity, input.externalId, input.canonicalId, input.fingerprint ?? null],
  );
  if (rows.length === 1) return { created: true };
  const { rows: existing } = await db.query(
    `SELECT external_id, canonical_id FROM integration.links
      WHERE connection_id = $1 AND entity = $2 AND (external_id = $3 OR canonical_id = $4)`,
    [input.connectionId, input.entity, input.externalId, input.canonicalId],
  );
  const [row] = existing;
  const same =
    existing.length === 1 && row?.external_id === input.externalId && row?.canonical_id === input.canonicalId;
  if (!same) {
    throw new Conflict(
      `${input.entity} ${input.externalId} or ${input.canonicalId} is already linked to another record on this connection`,
    );
  }
  if (input.fingerprint !== undefined) {
    await db.query(
      `UPDATE integration.links SET fingerprint = $4, updated_at = now()
        WHERE connection_id = $1 AND entity = $2 AND external_id = $3`,
      [input.connectionId, input.entity, input.externalId, input.fingerprint],
    );
  }
  return { created: false };
}

export async function resolveLink(
  db: Queryable,
  query: { connectionId: string; entity: string; externalId?: string; canonicalId?: string },
): Promise<{ externalId: string; canonicalId: string; fingerprint: string | null } | null> {
  const byExternal = query.externalId !== undefined;
  const { rows } = await db.query(
    `SELECT external_id, canonical_id, fingerprint FROM integration.links
      WHERE connection_id = $1 AND entity = $2 AND ${byExternal ? 'external_id' : 'canonical_id'} = $3`,
    [query.connectionId, query.entity, byExternal ? query.externalId : query.canonicalId],
  );
  if (!rows[0]) return null;
  return {
    externalId: rows[0].external_id,
    canonicalId: rows[0].canonical_id,
    fingerprint: rows[0].fingerprint,
  };
}

/** The links of one connection as the mapping engine's lookup resolver. */
export function linkResolver(db: Queryable, connectionId: string): LinkResolver {
  return {
    async toExternal(entity, canonicalId) {
      return (await resolveLink(db, { connectionId, entity, canonicalId }))?.externalId;
    },
    async toCanonical(entity, externalId) {
      return (await resolveLink(db, { connectionId, entity, externalId }))?.canonicalId;
    },
  };
}
