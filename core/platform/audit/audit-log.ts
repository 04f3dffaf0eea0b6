import type { AuthContext, RequestOrigin } from '../auth/auth-context.ts';
import type { Queryable } from '../database/database.ts';

export interface AuditEntry {
  /** Verb phrase, `<entity>.<action>`: `company.created`, `job.replayed`, `auth.login_failed`. */
  action: string;
  entityType?: string;
  entityId?: string;
  /** Tenant the change belongs to; defaults to the actor's company. */
  companyId?: string | null;
  details?: Record<string, unknown>;
}

/**
 * Appends to the audit log. Pass the transaction of the change being audited, so the record and
 * the change commit or roll back together. The table refuses UPDATE, DELETE and TRUNCATE.
 */
export async function recordAudit(
  db: Queryable,
  actor: AuthContext | undefined,
  origin: RequestOrigin,
  entry: AuditEntry,
): Promise<void> {
  await db.query(
    `INSERT INTO platform.audit_log
       (actor_kind, actor_id, on_behalf_of, company_id, action, entity_type, entity_id, request_id, source_ip, user_agent, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      actor?.kind ?? 'anonymous',
      actor?.principalId ?? null,
      actor?.onBehalfOf?.staffUserId ?? null,
      entry.companyId !== undefined ? entry.companyId : (actor?.companyId ?? null),
      entry.action,
      entry.entityType ?? null,
      entry.entityId ?? null,
      origin.requestId ?? null,
      origin.sourceIp ?? null,
      origin.userAgent?.slice(0, 512) ?? null,
      JSON.stringify(entry.details ?? {}),
    ],
  );
}

export interface AuditRecord {
  id: string;
  occurredAt: string;
  actorKind: string;
  actorId: string | null;
  onBehalfOf: string | null;
  companyId: string | null;
  action: string;
  entityType: string | null;
  entityId: string | null;
  requestId: string | null;
  sourceIp: string | null;
  details: Record<string, unknown>;
}

/** Newest first; `companyId` scopes the read to one tenant (a buyer admin sees only their own). */
export async function readAudit(
  db: Queryable,
  filter: {
    companyId?: string | null;
    entityType?: string;
    entityId?: string;
    beforeId?: string;
    limit: number;
  },
): Promise<AuditRecord[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.companyId) add('company_id = ?', filter.companyId);
  if (filter.entityType) add('entity_type = ?', filter.entityType);
  if (filter.entityId) add('entity_id = ?', filter.entityId);
  if (filter.beforeId) add('id < ?', filter.beforeId);
  values.push(Math.min(filter.limit, 500));
  const { rows } = await db.query(
    `SELECT id::text, occurred_at, actor_kind, actor_id, on_behalf_of, company_id, action, entity_type, entity_id,
            request_id, source_ip, details
       FROM platform.audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT $${values.length}`,
    values,
  );
  return rows.map((r) => ({
    id: r.id,
    occurredAt: new Date(r.occurred_at).toISOString(),
    actorKind: r.actor_kind,
    actorId: r.actor_id,
    onBehalfOf: r.on_behalf_of,
    companyId: r.company_id,
    action: r.action,
    entityType: r.entity_type,
    entityId: r.entity_id,
    requestId: r.request_id,
    sourceIp: r.source_ip,
    details: r.details,
  }));
}
