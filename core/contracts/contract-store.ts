import type { Queryable, Transaction } from '../platform/database/database.ts';
import { Conflict, NotFound } from '../platform/errors/hub-errors.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';

/**
 * The contracts' tables: templates, contracts with their files and signature task, the
 * append-only history, the callbacks seen. Buyer reads are scoped by the auth context's company;
 * another company's contract reads as not found.
 */
export type ContractStatus = 'draft' | 'sent' | 'signed' | 'rejected' | 'expired' | 'cancelled';
export type ActorKind = 'staff' | 'buyer' | 'system' | 'provider';

export interface Actor {
  kind: ActorKind;
  id: string;
}

/** The transitions as data: from → to and who may make it. Anything else is 409. */
export const TRANSITIONS: ReadonlyArray<{
  from: ContractStatus;
  to: ContractStatus;
  by: readonly ActorKind[];
}> = [
  { from: 'draft', to: 'sent', by: ['staff'] },
  { from: 'draft', to: 'cancelled', by: ['staff'] },
  { from: 'sent', to: 'signed', by: ['provider', 'staff'] },
  { from: 'sent', to: 'rejected', by: ['provider', 'staff'] },
  { from: 'sent', to: 'expired', by: ['provider', 'staff', 'system'] },
  { from: 'sent', to: 'cancelled', by: ['staff'] },
];

export function checkTransition(from: ContractStatus, to: ContractStatus, actor: ActorKind): void {
  const allowed = TRANSITIONS.filter((t) => t.from === from);
  const transition = allowed.find((t) => t.to === to);
  if (!transition?.by.includes(actor)) {
    throw new Conflict(
      `A ${from} contract cannot become ${to}${allowed.length ? ` (it may become ${allowed.map((t) => t.to).join(', ')})` : ''}`,
    );
  }
}

export interface TemplateRow {
  id: string;
  code: string;
  name: string;
  title: string;
  body: string;
  version: number;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
const toTemplate = (row: any): TemplateRow => ({
  id: row.id,
  code: row.code,
  name: row.name,
  title: row.title,
  body: row.body,
  version: row.version,
  active: row.active,
  createdAt: new Date(row.created_at).toISOString(),
  updatedAt: new Date(row.updated_at).toISOString(),
});

export async function insertTemplate(
  tx: Queryable,
  input: { code: string; name: string; title: string; body: string },
  by: string,
): Promise<TemplateRow> {
  const { rows } = await tx.query(
    `INSERT INTO contracts.templates (code, name, title, body, created_by, updated_by)
     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (code) DO NOTHING RETURNING *`,
    [input.code, input.name, input.title, input.body, by],
  );
  if (!rows[0]) throw new Conflict(`A template with code ${input.code} exists`);
  return toTemplate(rows[0]);
}

export async function updateTemplate(
  tx: Queryable,
  id: string,
  changes: { name?: string; title?: string; body?: string; active?: boolean },
  by: string,
): Promise<TemplateRow> {
  const { rows } = await tx.query(
    `UPDATE contracts.templates SET name = coalesce($2, name), title = coalesce($3, title), body = coalesce($4, body),
       active = coalesce($5, active), version = version + 1, updated_by = $6, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, changes.name ?? null, changes.title ?? null, changes.body ?? null, changes.active ?? null, by],
  );
  if (!rows[0]) throw new NotFound('Template');
  return toTemplate(rows[0]);
}

export async function findTemplate(db: Queryable, id: string): Promise<TemplateRow | undefined> {
  const { rows } = await db.query('SELECT * FROM contracts.templates WHERE id = $1', [id]);
  return rows[0] ? toTemplate(rows[0]) : undefined;
}

export async function listTemplates(db: Queryable): Promise<TemplateRow[]> {
  const { rows } = await db.query('SELECT * FROM contracts.templates ORDER BY code LIMIT 1000');
  return rows.map(toTemplate);
}

export interface ContractRow {
  id: string;
  number: string;
  companyId: string;
  templateId: string;
  templateVersion: number;
  subjectType: 'order' | 'quote';
  subjectId: string;
  subjectNumber: string;
  title: string;
  currency: string;
  totalMinor: string;
  status: ContractStatus;
  signerName: string;
  signerMobile: string | null;
  signDeadline: Date;
  draftKey: string;
  draftSha256: string;
  draftSize: number;
  signedKey: string | null;
  signedSha256: string | null;
  signedSize: number | null;
  signedAt: Date | null;
  provider: string | null;
  signTaskId: string | null;
  signUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

// biome-ignore lint/suspicious/noExplicitAny: a row straight from pg
const toContract = (row: any): ContractRow => ({
  id: row.id,
  number: row.number,
  companyId: row.company_id,
  templateId: row.template_id,
  templateVersion: row.template_version,
  subjectType: row.subject_type,
  subjectId: row.subject_id,
  subjectNumber: row.subject_number,
  title: row.title,
  currency: row.currency,
  totalMinor: String(row.total_minor),
  status: row.status,
  signerName: row.signer_name,
  signerMobile: row.signer_mobile,
  signDeadline: new Date(row.sign_deadline),
  draftKey: row.draft_key,
  draftSha256: row.draft_sha256,
  draftSize: row.draft_size,
  signedKey: row.signed_key,
  signedSha256: row.signed_sha256,
  signedSize: row.signed_size,
  signedAt: row.signed_at ? new Date(row.signed_at) : null,
  provider: row.provider,
  signTaskId: row.sign_task_id,
  signUrl: row.sign_url,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

export async function nextContractNumber(db: Queryable): Promise<string> {
  const { rows } = await db.query(
    `SELECT 'HT' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' ||
            lpad(nextval('contracts.contract_number_seq')::text, 6, '0') AS number`,
  );
  return rows[0]!.number;
}

export interface NewContract {
  id: string;
  number: string;
  companyId: string;
  templateId: string;
  templateVersion: number;
  subjectType: 'order' | 'quote';
  subjectId: string;
  subjectNumber: string;
  title: string;
  currency: string;
  totalMinor: string;
  signerName: string;
  signerMobile: string | null;
  signDeadline: Date;
  draftKey: string;
  draftSha256: string;
  draftSize: number;
  createdBy: string;
}

/** A new draft contract with its first history row; 409 while the subject has a live contract. */
export async function insertContract(tx: Transaction, input: NewContract, actor: Actor): Promise<void> {
  const { rows } = await tx.query(
    `INSERT INTO contracts.contracts (id, number, company_id, template_id, template_version, subject_type, subject_id,
       subject_number, title, currency, total_minor, status, signer_name, signer_mobile, sign_deadline,
       draft_key, draft_sha256, draft_size, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft', $12, $13, $14, $15, $16, $17, $18)
     ON CONFLICT (subject_type, subject_id) WHERE status IN ('draft', 'sent', 'signed') DO NOTHING
     RETURNING id`,
    [
      input.id,
      input.number,
      input.companyId,
      input.templateId,
      input.templateVersion,
      input.subjectType,
      input.subjectId,
      input.subjectNumber,
      input.title,
      input.currency,
      input.totalMinor,
      input.signerName,
      input.signerMobile,
      input.signDeadline,
      input.draftKey,
      input.draftSha256,
      input.draftSize,
      input.createdBy,
    ],
  );
  if (!rows[0]) {
    throw new Conflict(
      `This ${input.subjectType} already has a contract that is not cancelled, rejected or expired`,
    );
  }
  await tx.query(
    `INSERT INTO contracts.contract_history (contract_id, from_status, to_status, actor_kind, actor_id, reason)
     VALUES ($1, NULL, 'draft', $2, $3, 'generated')`,
    [input.id, actor.kind, actor.id],
  );
}

export async function findContract(
  db: Queryable,
  id: string,
  companyId: string | null,
  options: { lock?: boolean } = {},
): Promise<ContractRow | undefined> {
  const { rows } = await db.query(
    `SELECT * FROM contracts.contracts WHERE id = $1 AND ($2::uuid IS NULL OR company_id = $2)
     ${options.lock ? 'FOR UPDATE' : ''}`,
    [id, companyId],
  );
  return rows[0] ? toContract(rows[0]) : undefined;
}

export async function requireContract(
  db: Queryable,
  id: string,
  companyId: string | null,
  options: { lock?: boolean } = {},
): Promise<ContractRow> {
  const contract = await findContract(db, id, companyId, options);
  if (!contract) throw new NotFound('Contract');
  return contract;
}

export async function findByTask(
  db: Queryable,
  provider: string,
  taskId: string,
  options: { lock?: boolean } = {},
): Promise<ContractRow | undefined> {
  const { rows } = await db.query(
    `SELECT * FROM contracts.contracts WHERE provider = $1 AND sign_task_id = $2 ${options.lock ? 'FOR UPDATE' : ''}`,
    [provider, taskId],
  );
  return rows[0] ? toContract(rows[0]) : undefined;
}

/** Newest first, keyset-paged by (created_at, id); the cursor is the last row's `createdAt|id`. */
export async function listContracts(
  db: Queryable,
  filter: { companyId?: string | null; status?: ContractStatus; limit: number; cursor?: string },
): Promise<{ items: ContractRow[]; nextCursor: string | null }> {
  const [at, id] = filter.cursor ? filter.cursor.split('|') : [];
  const after =
    at && id && !Number.isNaN(Date.parse(at)) && /^[0-9a-f-]{36}$/.test(id) ? { at, id } : undefined;
  const { rows } = await db.query(
    `SELECT * FROM contracts.contracts
      WHERE ($1::uuid IS NULL OR company_id = $1) AND ($2::text IS NULL OR status = $2)
        AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $5`,
    [filter.companyId ?? null, filter.status ?? null, after?.at ?? null, after?.id ?? null, filter.limit + 1],
  );
  const items = rows.slice(0, filter.limit).map(toContract);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > filter.limit && last ? `${last.createdAt.toISOString()}|${last.id}` : null,
  };
}

export async function historyOf(db: Queryable, contractId: string) {
  const { rows } = await db.query(
    `SELECT from_status, to_status, actor_kind, actor_id, reason, at FROM contracts.contract_history
      WHERE contract_id = $1 ORDER BY id`,
    [contractId],
  );
  return rows.map((row) => ({
    from: row.from_status,
    to: row.to_status,
    actor: { kind: row.actor_kind, id: row.actor_id },
    reason: row.reason,
    at: new Date(row.at).toISOString(),
  }));
}

/**
 * Moves a locked contract to `to` (checked against `TRANSITIONS`), with its history row and the
 * `contract.<to>` event in the same transaction; `patch` sets the columns that go with it.
 */
export async function transition(
  tx: Transaction,
  contract: ContractRow,
  to: ContractStatus,
  actor: Actor,
  reason: string | null,
  patch: Record<string, unknown> = {},
  origin?: { requestId?: string | undefined },
): Promise<void> {
  checkTransition(contract.status, to, actor.kind);
  const columns = Object.keys(patch);
  const sets = columns.map((column, i) => `${column} = $${i + 3}`);
  await tx.query(
    `UPDATE contracts.contracts SET status = $2, updated_at = now()${sets.length ? `, ${sets.join(', ')}` : ''}
      WHERE id = $1`,
    [contract.id, to, ...columns.map((column) => patch[column])],
  );
  await tx.query(
    `INSERT INTO contracts.contract_history (contract_id, from_status, to_status, actor_kind, actor_id, reason)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [contract.id, contract.status, to, actor.kind, actor.id, reason],
  );
  await writeOutbox(
    tx,
    [
      {
        kind: 'event',
        name: `contract.${to}`,
        companyId: contract.companyId,
        payload: {
          contractId: contract.id,
          number: contract.number,
          companyId: contract.companyId,
          subject: { type: contract.subjectType, id: contract.subjectId },
          from: contract.status,
          to,
          reason,
          ...(to === 'signed' ? { sha256: patch.signed_sha256 } : {}),
        },
      },
    ],
    origin,
  );
}

/** Remembers a callback by the provider's nonce; false when it was seen before (a repeat). */
export async function rememberCallback(
  tx: Queryable,
  callback: { provider: string; nonce: string; event: string; taskId: string },
): Promise<boolean> {
  const { rows } = await tx.query(
    `INSERT INTO contracts.esign_callbacks (provider, nonce, event, task_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING nonce`,
    [callback.provider, callback.nonce, callback.event.slice(0, 100), callback.taskId.slice(0, 100)],
  );
  return rows.length > 0;
}
