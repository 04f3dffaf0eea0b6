/**
 * Staff-side approval requests: a decision the hub's own staff take about one company's subject
 * (a quote version priced below the margin floor), not one the company's rules and org tree take.
 *
 * The calling domain names the policy (steps in order, each "N staff members holding permission
 * P"); the request, its one chain, steps and decisions live in the same tables as buyer requests
 * (`audience = 'staff'`) and announce the same events (`approval.requested`, `.step_activated`,
 * `.decided`, `.approved`, `.rejected`, `.superseded`, `.cancelled`, each with `audience: staff`).
 * A step's approvers are whoever holds its permission when they decide — staff permissions come
 * with the auth context, and accounts offers no staff directory over the mesh — minus the
 * requester; N distinct staff members complete it. Buyer-side reads never show these requests.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ApprovalSubject, PendingApprovalListResponse } from '../../schemas/generated/types.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { type AuthContext, hasPermission, type RequestOrigin } from '../platform/auth/auth-context.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Conflict, Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import type { OutboxEvent } from '../platform/outbox/outbox.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import type { PurchaseSnapshot } from './condition.ts';
import { closeRequest, type Engine, event, requireDetail, subjectKey } from './engine.ts';
import {
  currentRequest,
  loadDetail,
  REQUEST_COLUMNS,
  type RequestDetail,
  STEP_COLUMNS,
  toRequestRow,
  toStepRow,
} from './requests.ts';
import { snapshotHash } from './snapshot-hash.ts';

/** A staff member acting, from the auth context. */
export interface StaffActor {
  auth: AuthContext;
  userId: string;
  origin: RequestOrigin;
}

export interface StaffPolicy {
  name: string;
  steps: Array<{ name: string; permission: string; required: number }>;
}

/** The id a policy's chains carry as their rule id: stable per policy name, so reports group them. */
export function policyId(name: string): string {
  const hex = createHash('sha256').update(`staff-approval-policy:${name}`).digest('hex');
  // A name-based UUID (version 8 layout: custom), never colliding with the random v4 rule ids.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

async function activateStaffStep(
  tx: Queryable,
  step: { id: string; name: string; required: number; permission: string },
  chain: { id: string; ruleId: string; ruleName: string },
  request: {
    id: string;
    companyId: string;
    subject: ApprovalSubject;
    snapshotHash: string;
    requesterId: string;
  },
  now: Date,
): Promise<OutboxEvent> {
  await tx.query(
    `UPDATE approvals.steps SET status = 'active', required_count = $2, activated_at = $3 WHERE id = $1`,
    [step.id, step.required, now],
  );
  return event('approval.step_activated', request.companyId, {
    approvalId: request.id,
    companyId: request.companyId,
    audience: 'staff',
    subject: request.subject,
    snapshotHash: request.snapshotHash,
    requesterId: request.requesterId,
    chainId: chain.id,
    ruleId: chain.ruleId,
    ruleName: chain.ruleName,
    stepId: step.id,
    stepName: step.name,
    required: step.required,
    approverIds: [],
    approverPermission: step.permission,
    escalateAt: null,
  });
}

/**
 * approvals.staff.request: records a staff-side request for the company's subject, or returns the
 * subject's current one when the snapshot is the same; another snapshot supersedes it.
 */
export async function requestStaffApproval(
  engine: Engine,
  actor: StaffActor,
  input: { companyId: string; subject: ApprovalSubject; snapshot: PurchaseSnapshot; policy: StaffPolicy },
  now: Date,
): Promise<RequestDetail> {
  const { db } = engine;
  const { companyId, subject, snapshot, policy } = input;
  const hash = snapshotHash(snapshot);
  const id = await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [subjectKey(companyId, subject)]);
    const current = await currentRequest(tx, companyId, subject, true);
    if (current?.snapshotHash === hash) return current.id;
    const requestId = randomUUID();
    const messages: OutboxEvent[] = [];
    if (current) {
      await closeRequest(tx, current, 'superseded', now, { supersededBy: requestId });
      messages.push(
        event('approval.superseded', companyId, {
          approvalId: current.id,
          companyId,
          audience: 'staff',
          subject,
          snapshotHash: current.snapshotHash,
          previousStatus: current.status,
          supersededBy: requestId,
        }),
      );
    }
    await tx.query(
      `INSERT INTO approvals.requests
         (id, company_id, subject_type, subject_id, requester_id, status, snapshot, snapshot_hash, created_at, audience)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6::jsonb, $7, $8, 'staff')`,
      [requestId, companyId, subject.type, subject.id, actor.userId, JSON.stringify(snapshot), hash, now],
    );
    const chain = { id: randomUUID(), ruleId: policyId(policy.name), ruleName: policy.name };
    messages.push(
      event('approval.requested', companyId, {
        approvalId: requestId,
        companyId,
        audience: 'staff',
        subject,
        snapshotHash: hash,
        requesterId: actor.userId,
        status: 'pending',
        total: snapshot.total,
        rules: [{ ruleId: chain.ruleId, ruleName: chain.ruleName }],
      }),
    );
    await tx.query(
      `INSERT INTO approvals.chains (id, request_id, company_id, position, rule_id, rule_name, rule_version, status)
       VALUES ($1, $2, $3, 0, $4, $5, 1, 'pending')`,
      [chain.id, requestId, companyId, chain.ruleId, chain.ruleName],
    );
    const steps = policy.steps.map((step) => ({ id: randomUUID(), ...step }));
    await tx.query(
      `INSERT INTO approvals.steps (id, chain_id, request_id, company_id, position, name, definition, status, approver_permission)
       SELECT step.id, $1, $2, $3, step.position - 1, step.name, step.definition, 'waiting', step.permission
         FROM unnest($4::uuid[], $5::text[], $6::jsonb[], $7::text[]) WITH ORDINALITY
              AS step (id, name, definition, permission, position)`,
      [
        chain.id,
        requestId,
        companyId,
        steps.map((step) => step.id),
        steps.map((step) => step.name),
        steps.map((step) =>
          JSON.stringify({ name: step.name, permission: step.permission, required: step.required }),
        ),
        steps.map((step) => step.permission),
      ],
    );
    const request = { id: requestId, companyId, subject, snapshotHash: hash, requesterId: actor.userId };
    messages.push(await activateStaffStep(tx, steps[0]!, chain, request, now));
    await writeOutbox(tx, messages, actor.origin);
    return requestId;
  });
  return requireDetail(await loadDetail(db, companyId, id));
}

/** The permission each step of a staff request asks for, by step id. */
async function stepPermissions(db: Queryable, requestId: string): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; approver_permission: string }>(
    'SELECT id, approver_permission FROM approvals.steps WHERE request_id = $1',
    [requestId],
  );
  return new Map(rows.map((row) => [row.id, row.approver_permission]));
}

/**
 * A staff request a staff member may see: its requester, or anyone holding one of its steps'
 * permissions. 404 otherwise, and for buyer requests.
 */
export async function staffDetail(db: Queryable, actor: StaffActor, id: string): Promise<RequestDetail> {
  const { rows } = await db.query<{ company_id: string }>(
    `SELECT company_id FROM approvals.requests WHERE id = $1 AND audience = 'staff'`,
    [id],
  );
  if (!rows[0]) throw new NotFound('Approval request');
  const detail = requireDetail(await loadDetail(db, rows[0].company_id, id));
  const permissions = await stepPermissions(db, id);
  const mayDecideSome = [...permissions.values()].some((permission) => hasPermission(actor.auth, permission));
  if (detail.request.requesterId !== actor.userId && !mayDecideSome) throw new NotFound('Approval request');
  return detail;
}

/**
 * A staff member approves or rejects (with a comment) the active step they hold the permission
 * for, once per step. A rejection ends the request; `required` approvals by distinct staff
 * complete a step and activate the next; the last step's completion approves the request.
 */
export async function decideAsStaff(
  engine: Engine,
  actor: StaffActor,
  requestId: string,
  input: { decision: 'approve' | 'reject'; comment?: string | undefined; stepId?: string | undefined },
  now: Date,
): Promise<RequestDetail> {
  const { db } = engine;
  const detail = await staffDetail(db, actor, requestId);
  const { request } = detail;
  const { companyId } = request;
  if (request.requesterId === actor.userId)
    throw new Forbidden('You cannot decide on your own approval request');
  if (request.status !== 'pending') throw new Conflict(`The approval request is ${request.status}`);
  const permissions = await stepPermissions(db, requestId);
  const holds = (stepId: string) => hasPermission(actor.auth, permissions.get(stepId) ?? '');
  const active = detail.steps.filter(
    (step) => step.status === 'active' && (!input.stepId || step.id === input.stepId),
  );
  const eligible = active.filter((step) => holds(step.id));
  if (!eligible.length)
    throw new Forbidden('You hold no permission to decide an active step of this request');
  const open = eligible.filter(
    (step) => !detail.decisions.some((d) => d.stepId === step.id && d.decidedBy === actor.userId),
  );
  if (!open.length) throw new Conflict('You have already decided on this step');

  await db.transaction(async (tx) => {
    const { rows: locked } = await tx.query(
      `SELECT ${REQUEST_COLUMNS} FROM approvals.requests r WHERE r.id = $1 FOR UPDATE`,
      [requestId],
    );
    const current = toRequestRow(locked[0]!);
    if (current.status !== 'pending') throw new Conflict(`The approval request is ${current.status}`);
    const messages: OutboxEvent[] = [];
    const base = {
      approvalId: request.id,
      companyId,
      audience: 'staff',
      subject: request.subject,
      snapshotHash: request.snapshotHash,
    };
    let decided = 0;
    let rejected = false;
    for (const candidate of open) {
      const { rows: stepRows } = await tx.query(
        `SELECT ${STEP_COLUMNS} FROM approvals.steps s WHERE s.id = $1 FOR UPDATE`,
        [candidate.id],
      );
      const step = toStepRow(stepRows[0]!);
      if (step.status !== 'active') continue;
      const inserted = await tx.query(
        `INSERT INTO approvals.decisions
           (step_id, request_id, company_id, decided_by, acting_for, decision, comment, decided_at)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [step.id, request.id, companyId, actor.userId, input.decision, input.comment ?? null, now],
      );
      if (inserted.rowCount !== 1) continue;
      decided++;
      await recordAudit(tx, actor.auth, actor.origin, {
        action: input.decision === 'approve' ? 'approval.approved_step' : 'approval.rejected_step',
        entityType: 'approval_request',
        entityId: request.id,
        companyId,
        details: { stepId: step.id, comment: input.comment ?? null },
      });
      const decidedEvent = {
        ...base,
        stepId: step.id,
        stepName: step.name,
        decision: input.decision,
        decidedBy: actor.userId,
        onBehalfOf: null,
        comment: input.comment ?? null,
      };
      if (input.decision === 'reject') {
        await tx.query(`UPDATE approvals.steps SET status = 'rejected', completed_at = $2 WHERE id = $1`, [
          step.id,
          now,
        ]);
        await tx.query(`UPDATE approvals.chains SET status = 'rejected' WHERE id = $1`, [step.chainId]);
        await closeRequest(tx, current, 'rejected', now);
        messages.push(
          event('approval.decided', companyId, { ...decidedEvent, stepCompleted: true }),
          event('approval.rejected', companyId, {
            ...base,
            requesterId: request.requesterId,
            rejectedBy: actor.userId,
            onBehalfOf: null,
            comment: input.comment ?? '',
          }),
        );
        rejected = true;
        break;
      }
      const approvals = step.approvalsCount + 1;
      const completed = approvals >= (step.requiredCount ?? 1);
      await tx.query(
        `UPDATE approvals.steps SET approvals_count = $2, status = $3, completed_at = $4 WHERE id = $1`,
        [step.id, approvals, completed ? 'approved' : 'active', completed ? now : null],
      );
      messages.push(event('approval.decided', companyId, { ...decidedEvent, stepCompleted: completed }));
      if (!completed) continue;
      const { rows: nextRows } = await tx.query(
        `SELECT ${STEP_COLUMNS}, s.approver_permission FROM approvals.steps s WHERE s.chain_id = $1 AND s.position = $2`,
        [step.chainId, step.position + 1],
      );
      const chain = detail.chains.find((c) => c.id === step.chainId)!;
      if (nextRows[0]) {
        const next = toStepRow(nextRows[0]);
        const definition = next.definition as unknown as { required: number };
        messages.push(
          await activateStaffStep(
            tx,
            {
              id: next.id,
              name: next.name,
              required: definition.required,
              permission: nextRows[0].approver_permission as string,
            },
            { id: chain.id, ruleId: chain.ruleId, ruleName: chain.ruleName },
            request,
            now,
          ),
        );
      } else {
        await tx.query(`UPDATE approvals.chains SET status = 'approved' WHERE id = $1`, [step.chainId]);
      }
    }
    if (decided === 0) throw new Conflict('You have already decided on this step, or it is complete');
    if (!rejected) {
      const { rows: pending } = await tx.query(
        `SELECT 1 FROM approvals.chains WHERE request_id = $1 AND status <> 'approved' LIMIT 1`,
        [request.id],
      );
      if (!pending[0]) {
        await tx.query(`UPDATE approvals.requests SET status = 'approved', completed_at = $2 WHERE id = $1`, [
          request.id,
          now,
        ]);
        messages.push(event('approval.approved', companyId, { ...base, requesterId: request.requesterId }));
      }
    }
    await writeOutbox(tx, messages, actor.origin);
  });
  return requireDetail(await loadDetail(db, companyId, requestId));
}

/** approvals.staff.cancel: withdraws the subject's current staff request (the quote moved on). */
export async function cancelStaffApproval(
  engine: Engine,
  actor: StaffActor,
  input: { companyId: string; subject: ApprovalSubject; reason?: string | undefined },
  now: Date,
): Promise<RequestDetail | null> {
  const { db } = engine;
  const { companyId, subject } = input;
  const id = await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [subjectKey(companyId, subject)]);
    const current = await currentRequest(tx, companyId, subject, true);
    if (current?.status !== 'pending') return current?.id ?? null;
    await closeRequest(tx, current, 'cancelled', now, {
      cancelledBy: actor.userId,
      cancelReason: input.reason ?? null,
    });
    await writeOutbox(
      tx,
      [
        event('approval.cancelled', companyId, {
          approvalId: current.id,
          companyId,
          audience: 'staff',
          subject,
          snapshotHash: current.snapshotHash,
          previousStatus: current.status,
          cancelledBy: actor.userId,
          reason: input.reason ?? null,
        }),
      ],
      actor.origin,
    );
    return current.id;
  });
  return id ? requireDetail(await loadDetail(db, companyId, id)) : null;
}

/**
 * Active steps of staff requests the caller may decide and has not: they hold the step's
 * permission (`*` holds every one) and did not request it. Keyset paging by step id, as the
 * buyers' pending list; `actingFor` is always the caller (no delegation on the staff side).
 */
export async function staffPending(
  db: Queryable,
  actor: StaffActor,
  page: { limit: number; cursor?: string | undefined },
): Promise<PendingApprovalListResponse['items']> {
  const permissions = actor.auth.permissions;
  const { rows } = await db.query(
    `SELECT s.id AS step_id, s.name AS step_name, s.required_count, s.approvals_count, s.activated_at,
            r.id AS request_id, r.subject_type, r.subject_id, r.requester_id, r.snapshot -> 'total' AS total,
            r.snapshot_hash, c.rule_name
       FROM approvals.steps s
       JOIN approvals.requests r ON r.id = s.request_id
       JOIN approvals.chains c ON c.id = s.chain_id
      WHERE r.audience = 'staff' AND r.status = 'pending' AND s.status = 'active'
        AND ($2::boolean OR s.approver_permission = ANY ($3::text[]))
        AND r.requester_id <> $1
        AND NOT EXISTS (SELECT 1 FROM approvals.decisions d WHERE d.step_id = s.id AND d.decided_by = $1)
        AND ($4::uuid IS NULL OR s.id > $4::uuid)
      ORDER BY s.id
      LIMIT $5`,
    [actor.userId, permissions.includes('*'), permissions, page.cursor ?? null, page.limit],
  );
  return rows.map((row) => ({
    approvalId: row.request_id,
    subject: { type: row.subject_type, id: row.subject_id },
    requesterId: row.requester_id,
    total: row.total,
    snapshotHash: row.snapshot_hash,
    ruleName: row.rule_name,
    stepId: row.step_id,
    stepName: row.step_name,
    required: row.required_count,
    approvals: row.approvals_count,
    activatedAt: (row.activated_at as Date).toISOString(),
    escalateAt: null,
    actingFor: [actor.userId],
  }));
}
