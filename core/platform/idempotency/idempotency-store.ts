import { createHash } from 'node:crypto';
import type { Queryable } from '../database/database.ts';

export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}

export type IdempotencyClaim =
  | { outcome: 'proceed' }
  | { outcome: 'replay'; response: StoredResponse }
  | { outcome: 'in_progress' }
  | { outcome: 'mismatch' };

/** Keys are opaque client strings; bounded so a hostile client cannot store megabytes per key. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Stable JSON: object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body ?? null)}`)
    .digest('hex');
}

/**
 * `Idempotency-Key` semantics (draft-ietf-httpapi-idempotency-key-header): per caller, the first
 * request with a key runs; a repeat with the same fingerprint gets the stored response without a
 * second effect; a repeat with a different body is refused (422); a repeat while the first is
 * still running is refused (409) instead of running twice.
 */
export class IdempotencyStore {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async claim(
    principal: string,
    key: string,
    method: string,
    path: string,
    fingerprint: string,
  ): Promise<IdempotencyClaim> {
    const inserted = await this.#db.query(
      `INSERT INTO platform.idempotency_keys (principal, key, method, path, request_hash)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (principal, key) DO NOTHING`,
      [principal, key, method, path, fingerprint],
    );
    if (inserted.rowCount === 1) return { outcome: 'proceed' };
    const { rows } = await this.#db.query(
      `SELECT request_hash, state, status_code, response_body, response_headers
         FROM platform.idempotency_keys WHERE principal = $1 AND key = $2`,
      [principal, key],
    );
    const row = rows[0];
    // Released between our insert and select (the first attempt failed): try to take it again.
    if (!row) return this.claim(principal, key, method, path, fingerprint);
    if (row.request_hash !== fingerprint) return { outcome: 'mismatch' };
    if (row.state !== 'completed') return { outcome: 'in_progress' };
    return {
      outcome: 'replay',
      response: { statusCode: row.status_code, headers: row.response_headers ?? {}, body: row.response_body },
    };
  }

  async complete(principal: string, key: string, response: StoredResponse): Promise<void> {
    await this.#db.query(
      `UPDATE platform.idempotency_keys
          SET state = 'completed', status_code = $3, response_body = $4, response_headers = $5, completed_at = now()
        WHERE principal = $1 AND key = $2`,
      [
        principal,
        key,
        response.statusCode,
        JSON.stringify(response.body ?? null),
        JSON.stringify(response.headers),
      ],
    );
  }

  /** Forget a key whose request failed on the server side, so the client's retry can run. */
  async release(principal: string, key: string): Promise<void> {
    await this.#db.query(
      `DELETE FROM platform.idempotency_keys WHERE principal = $1 AND key = $2 AND state = 'in_progress'`,
      [principal, key],
    );
  }

  /** Keys are kept for `days` (clients retry within minutes; a day is generous). */
  async purgeOlderThan(days: number): Promise<number> {
    const result = await this.#db.query(
      `DELETE FROM platform.idempotency_keys WHERE created_at < now() - make_interval(days => $1)`,
      [days],
    );
    return result.rowCount ?? 0;
  }
}
