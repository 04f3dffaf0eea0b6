import type { Queryable } from '../platform/database/database.ts';
import { NotFound } from '../platform/errors/hub-errors.ts';
import type { SecretBox } from '../platform/secrets/secret-box.ts';

/** What a connection syncs (schemas/api/integration/connection-sync). */
export interface ConnectionSync {
  outbound?: Array<{ event: string; operation: string; mapping: string }>;
  inbound?: Array<{
    stream: string;
    mapping: string;
    target: string;
    everySeconds?: number;
    pageSize?: number;
  }>;
  maxConcurrent?: number;
  requestsPerSecond?: number;
}

/** A connection as every answer shows it: credential field names, never values. */
export interface ConnectionView {
  id: string;
  connectorId: string;
  name: string;
  config: Record<string, unknown>;
  credentialFields: string[];
  sync: ConnectionSync;
  enabled: boolean;
  lastCheck: { at: string; ok: boolean; category: string | null; message: string } | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A connection with its credentials opened, for calling the connector; never leaves the process. */
export interface OpenConnection extends ConnectionView {
  credentials: Record<string, unknown>;
}

const COLUMNS = `id, connector_id, name, config, credential_fields, sync, enabled, last_check_at, last_check_ok,
  last_check_category, last_check_message, version, created_at, updated_at`;

/** The associated data a connection's sealed credentials are bound to. */
export const credentialContext = (connectionId: string) => `integration.connection:${connectionId}`;

function viewOf(row: Record<string, unknown>): ConnectionView {
  return {
    id: row.id as string,
    connectorId: row.connector_id as string,
    name: row.name as string,
    config: row.config as Record<string, unknown>,
    credentialFields: row.credential_fields as string[],
    sync: row.sync as ConnectionSync,
    enabled: row.enabled as boolean,
    lastCheck: row.last_check_at
      ? {
          at: (row.last_check_at as Date).toISOString(),
          ok: row.last_check_ok as boolean,
          category: (row.last_check_category as string | null) ?? null,
          message: row.last_check_message as string,
        }
      : null,
    version: row.version as number,
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
  };
}

export async function insertConnection(
  db: Queryable,
  box: SecretBox,
  input: {
    id: string;
    connectorId: string;
    name: string;
    config: Record<string, unknown>;
    credentials: Record<string, unknown>;
    sync: ConnectionSync;
  },
): Promise<ConnectionView> {
  const sealed = box.seal(JSON.stringify(input.credentials), credentialContext(input.id));
  const { rows } = await db.query(
    `INSERT INTO integration.connections (id, connector_id, name, config, credentials_sealed, credential_fields, sync)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [
      input.id,
      input.connectorId,
      input.name,
      JSON.stringify(input.config),
      sealed,
      Object.keys(input.credentials).sort(),
      JSON.stringify(input.sync),
    ],
  );
  return viewOf(rows[0]!);
}

export async function listConnections(db: Queryable): Promise<ConnectionView[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM integration.connections ORDER BY name`);
  return rows.map(viewOf);
}

export async function findConnection(
  db: Queryable,
  id: string,
  options: { lock?: boolean } = {},
): Promise<ConnectionView | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM integration.connections WHERE id = $1${options.lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? viewOf(rows[0]) : undefined;
}

export async function requireConnection(
  db: Queryable,
  id: string,
  options: { lock?: boolean } = {},
): Promise<ConnectionView> {
  const connection = await findConnection(db, id, options);
  if (!connection) throw new NotFound('Connection');
  return connection;
}

/** The connection with its credentials decrypted (for a connector call in this process only). */
export async function openConnection(db: Queryable, box: SecretBox, id: string): Promise<OpenConnection> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS}, credentials_sealed FROM integration.connections WHERE id = $1`,
    [id],
  );
  if (!rows[0]) throw new NotFound('Connection');
  const credentials = JSON.parse(box.open(rows[0].credentials_sealed, credentialContext(id)));
  return { ...viewOf(rows[0]), credentials };
}

export async function updateConnection(
  db: Queryable,
  box: SecretBox,
  id: string,
  changes: {
    name?: string;
    config?: Record<string, unknown>;
    credentials?: Record<string, unknown>;
    sync?: ConnectionSync;
    enabled?: boolean;
  },
): Promise<ConnectionView> {
  const sealed =
    changes.credentials === undefined
      ? null
      : box.seal(JSON.stringify(changes.credentials), credentialContext(id));
  const { rows } = await db.query(
    `UPDATE integration.connections
        SET name = coalesce($2, name),
            config = coalesce($3, config),
            credentials_sealed = coalesce($4, credentials_sealed),
            credential_fields = coalesce($5, credential_fields),
            sync = coalesce($6, sync),
            enabled = coalesce($7, enabled),
            version = version + 1,
            updated_at = now()
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [
      id,
      changes.name ?? null,
      changes.config === undefined ? null : JSON.stringify(changes.config),
      sealed,
      changes.credentials === undefined ? null : Object.keys(changes.credentials).sort(),
      changes.sync === undefined ? null : JSON.stringify(changes.sync),
      changes.enabled ?? null,
    ],
  );
  if (!rows[0]) throw new NotFound('Connection');
  return viewOf(rows[0]);
}

export async function recordCheck(
  db: Queryable,
  id: string,
  outcome: { ok: boolean; category: string | null; message: string },
): Promise<void> {
  await db.query(
    `UPDATE integration.connections
        SET last_check_at = now(), last_check_ok = $2, last_check_category = $3, last_check_message = $4
      WHERE id = $1`,
    [id, outcome.ok, outcome.category, outcome.message.slice(0, 2000)],
  );
}

/** Enabled connections that sync something, for the scheduler and the event handlers. */
export async function enabledConnections(db: Queryable): Promise<ConnectionView[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM integration.connections WHERE enabled ORDER BY id`);
  return rows.map(viewOf);
}
