/**
 * The approval engine: a request per frozen purchase with one chain per matching rule (chains in
 * parallel, steps in sequence), N-of-M decisions, delegation, supersession when the purchase
 * changes, cancellation.
 *
 * Approvers are resolved through the accounts service, which reads its own connection: that call
 * never happens inside a transaction here (on the embedded PGlite one transaction holds the only
 * session). Whatever a transaction may need from accounts is resolved just before it opens.
 * Every state change writes its events to the outbox in the same transaction, and every
 * transaction that changes a request locks the request row first, so two approvers deciding at
 * the same instant are serialised and a step advances once.
 */
import { randomUUID } from 'node:crypto';
import type { ApprovalStep, ApprovalSubject } from '../../schemas/generated/types.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import type { AuthContext, RequestOrigin } from '../platform/auth/auth-context.ts';
import type { Database, Queryable } from '../platform/database/database.ts';
import { Conflict, Forbidden, NotFound } from '../platform/errors/hub-errors.ts';
import type { OutboxEvent } from '../platform/outbox/outbox.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { type ActionCaller, resolveApprovers, userContext } from './accounts-client.ts';
import { matchingRules, type PurchaseSnapshot, purchaseFacts } from './condition.ts';
import { activeDelegators } from './delegations.ts';
import {
  currentRequest,
  type DecisionRow,
  loadDetail,
  REQUEST_COLUMNS,
  type RequestDetail,
  type RequestRow,
  type RequestStatus,
  STEP_COLUMNS,
  toRequestRow,
  toStepRow,
} from './requests.ts';
import type { CompiledRuleCache } from './rule-cache.ts';
import { snapshotHash } from './snapshot-hash.ts';
import { type Viewer, visibleRequests } from './visibility.ts';

export interface Engine {
  db: Database;
  /** Calls accounts' internal actions: the caller's context, or the broker for background work. */
  accounts: ActionCaller;
  rules: CompiledRuleCache;
}

/** The buyer acting, from the auth context. */
export interface Actor {
  auth: AuthContext;
  companyId: string;
  userId: string;
  origin: RequestOrigin;
}

export function event(name: string, companyId: string, payload: Record<string, unknown>): OutboxEvent {
  return { kind: 'event', name, companyId, payload };
}

export function subjectKey(companyId: string, subject: ApprovalSubject): string {
  return `approvals.subject:${companyId}:${subject.type}:${subject.id}`;
}

/**
 * The approvers of a step for a requester, as accounts resolves them now: never the requester.
 * Sorted and unique, so frozen lists compare and read the same everywhere.
 */
export async function stepApprovers(
  accounts: ActionCaller,
  companyId: string,
  requesterId: string,
  approvers: {
    users?: string[] | undefined;
    roles?: string[] | undefined;
    managerLevels?: number | undefined;
  },
): Promise<string[]> {
  const ids = await resolveApprovers(accounts, {
    companyId,
    userIds: approvers.users,
    roles: approvers.roles,
    managerOf: approvers.managerLevels ? { userId: requesterId, levels: approvers.managerLevels } : undefined,
  });
  return [...new Set(ids)].filter((id) => id !== requesterId).sort();
}

const HOUR_MS = 3_600_000;

/** Makes a waiting step active with its frozen approvers; returns its step_activated event. */
async function activateStep(
  tx: Queryable,
  step: { id: string; name: string; definition: ApprovalStep },
  chain: { id: string; ruleId: string; ruleName: string },
  request: {
    id: string;
    companyId: string;
    subject: ApprovalSubject;
    snapshotHash: string;
    requesterId: string;
  },
  approverIds: string[],
  now: Date,
): Promise<OutboxEvent> {
  const { definition } = step;
  // "all" is fixed at activation: escalation may add approvers but does not raise the bar.
  const required = definition.required === 'all' ? Math.max(1, approverIds.length) : definition.required;
  const escalateAt = definition.escalateAfterHours
    ? new Date(now.getTime() + definition.escalateAfterHours * HOUR_MS)
    : null;
  await tx.query(
    `UPDATE approvals.steps
        SET status = 'active', required_count = $2, approver_ids = $3::uuid[], activated_at = $4, escalate_at = $5
      WHERE id = $1`,
    [step.id, required, approverIds, now, escalateAt],
  );
  return event('approval.step_activated', request.companyId, {
    approvalId: request.id,
    companyId: request.companyId,
    subject: request.subject,
    snapshotHash: request.snapshotHash,
    requesterId: request.requesterId,
    chainId: chain.id,
    ruleId: chain.ruleId,
    ruleName: chain.ruleName,
    stepId: step.id,
    stepName: step.name,
    required,
    approverIds,
    escalateAt: escalateAt?.toISOString() ?? null,
  });
}

/** Ends a request (superseded, cancelled, rejected): open chains and steps are cancelled. */
export async function closeRequest(
  tx: Queryable,
  request: RequestRow,
  status: Extract<RequestStatus, 'superseded' | 'cancelled' | 'rejected'>,
  now: Date,
  extra: { supersededBy?: string; cancelledBy?: string; cancelReason?: string | null } = {},
): Promise<void> {
  await tx.query(
    `UPDATE approvals.requests
        SET status = $2, completed_at = COALESCE(completed_at, $3), superseded_by = $4, cancelled_by = $5,
            cancel_reason = $6
      WHERE id = $1`,
    [
      request.id,
      status,
      now,
      extra.supersededBy ?? null,
      extra.cancelledBy ?? null,
      extra.cancelReason ?? null,
    ],
  );
  await tx.query(
    `UPDATE approvals.chains SET status = 'cancelled' WHERE request_id = $1 AND status = 'pending'`,
    [request.id],
  );
  await tx.query(
    `UPDATE approvals.steps SET status = 'cancelled', completed_at = $2
      WHERE request_id = $1 AND status IN ('waiting', 'active')`,
    [request.id, now],
  );
}

export function requireDetail(detail: RequestDetail | undefined): RequestDetail {
  if (!detail) throw new NotFound('Approval request');
  return detail;
}

/**
 * approvals.request: evaluates the company's active rules against the snapshot and records the
 * request, or returns the subject's current request when the snapshot is the same (same hash).
 * A different snapshot supersedes the current request whatever its state, approved included.
 */
export async function requestApproval(
  engine: Engine,
  actor: Actor,
  subject: ApprovalSubject,
  snapshot: PurchaseSnapshot,
  now: Date,
): Promise<RequestDetail> {
  const { db, accounts } = engine;
  const { companyId, userId } = actor;
  const hash = snapshotHash(snapshot);
  const existing = await currentRequest(db, companyId, subject);
  if (existing?.snapshotHash === hash) return requireDetail(await loadDetail(db, companyId, existing.id));

  const requester = await userContext(accounts, userId);
  if (!requester || requester.companyId !== companyId || requester.status !== 'active') {
    throw new Forbidden('Only an active user of the company can request an approval');
  }
  const rules = await engine.rules.activeRules(db, companyId);
  const matched = matchingRules(rules, purchaseFacts(snapshot, requester));
  const firstApprovers = await Promise.all(
    matched.map((rule) => stepApprovers(accounts, companyId, userId, rule.extra.steps[0]!.approvers)),
  );

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
          subject,
          snapshotHash: current.snapshotHash,
          previousStatus: current.status,
          supersededBy: requestId,
        }),
      );
    }
    const status: RequestStatus = matched.length ? 'pending' : 'not_required';
    await tx.query(
      `INSERT INTO approvals.requests
         (id, company_id, subject_type, subject_id, requester_id, requester_unit_id, requester_unit_path,
          requester_roles, status, snapshot, snapshot_hash, created_at, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::uuid[], $8::text[], $9, $10::jsonb, $11, $12, $13)`,
      [
        requestId,
        companyId,
        subject.type,
        subject.id,
        userId,
        requester.unitId,
        requester.unitPath,
        requester.roles,
        status,
        JSON.stringify(snapshot),
        hash,
        now,
        status === 'not_required' ? now : null,
      ],
    );
    messages.push(
      event('approval.requested', companyId, {
        approvalId: requestId,
        companyId,
        subject,
        snapshotHash: hash,
        requesterId: userId,
        status,
        total: snapshot.total,
        rules: matched.map((rule) => ({ ruleId: rule.id, ruleName: rule.extra.name })),
      }),
    );
    const request = { id: requestId, companyId, subject, snapshotHash: hash, requesterId: userId };
    for (const [position, rule] of matched.entries()) {
      const chain = { id: randomUUID(), ruleId: rule.id, ruleName: rule.extra.name };
      await tx.query(
        `INSERT INTO approvals.chains (id, request_id, company_id, position, rule_id, rule_name, rule_version, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')`,
        [chain.id, requestId, companyId, position, rule.id, rule.extra.name, rule.extra.version],
      );
      const steps = rule.extra.steps.map((definition) => ({
        id: randomUUID(),
        name: definition.name,
        definition,
      }));
      await tx.query(
        `INSERT INTO approvals.steps (id, chain_id, request_id, company_id, position, name, definition, status)
         SELECT step.id, $1, $2, $3, step.position - 1, step.name, step.definition, 'waiting'
           FROM unnest($4::uuid[], $5::text[], $6::jsonb[]) WITH ORDINALITY AS step (id, name, definition, position)`,
        [
          chain.id,
          requestId,
          companyId,
          steps.map((step) => step.id),
          steps.map((step) => step.name),
          steps.map((step) => JSON.stringify(step.definition)),
        ],
      );
      messages.push(await activateStep(tx, steps[0]!, chain, request, firstApprovers[position]!, now));
    }
    await writeOutbox(tx, messages, actor.origin);
    return requestId;
  });
  return requireDetail(await loadDetail(db, companyId, id));
}

/** Which approvers' slots a user may fill in a step: their own, then those of their delegators. */
function slotsFor(step: { approverIds: string[] }, userId: string, delegators: string[]): string[] {
  const slots: string[] = [];
  if (step.approverIds.includes(userId)) slots.push(userId);
  for (const delegator of delegators) if (step.approverIds.includes(delegator)) slots.push(delegator);
  return slots;
}

function freeSlot(
  step: { approverIds: string[] },
  decisions: Pick<DecisionRow, 'decidedBy' | 'actingFor'>[],
  userId: string,
  delegators: string[],
): string | undefined {
  if (decisions.some((decision) => decision.decidedBy === userId)) return undefined;
  const taken = new Set(decisions.map((decision) => decision.actingFor));
  return slotsFor(step, userId, delegators).find((slot) => !taken.has(slot));
}

export interface DecisionInput {
  decision: 'approve' | 'reject';
  comment?: string | undefined;
  stepId?: string | undefined;
}

/** A request the viewer may see, or 404: another company's, or one outside their reach. */
export async function visibleDetail(db: Queryable, viewer: Viewer, id: string): Promise<RequestDetail> {
  const visible = visibleRequests(viewer, 2);
  const { rows } = await db.query(
    `SELECT r.id FROM approvals.requests r WHERE r.id = $1 AND ${visible.sql}`,
    [id, ...visible.values],
  );
  if (!rows[0]) throw new NotFound('Approval request');
  return requireDetail(await loadDetail(db, viewer.companyId, id));
}

/**
 * Decide: approve or reject every active step of the request the actor may decide (or only
 * `stepId`), in their own place or in that of an approver who delegated to them, once per step.
 * A rejection ends the request; approvals complete a step at its N, activate the next, and
 * approve the request when every chain is done.
 */
export async function decide(
  engine: Engine,
  actor: Actor,
  requestId: string,
  input: DecisionInput,
  now: Date,
): Promise<RequestDetail> {
  const { db, accounts } = engine;
  const { companyId, userId } = actor;
  const delegators = await activeDelegators(db, companyId, userId, now);
  const detail = await visibleDetail(db, { auth: actor.auth, companyId, userId, delegators }, requestId);
  const { request } = detail;
  if (request.requesterId === userId) throw new Forbidden('You cannot decide on your own approval request');
  if (request.status !== 'pending') throw new Conflict(`The approval request is ${request.status}`);

  let candidates = detail.steps.filter((step) => step.status === 'active');
  if (input.stepId) {
    const step = detail.steps.find((s) => s.id === input.stepId);
    if (!step) throw new NotFound('Approval step');
    if (step.status !== 'active') throw new Conflict(`The approval step is ${step.status}`);
    candidates = [step];
  }
  const eligible = candidates.filter((step) => slotsFor(step, userId, delegators).length > 0);
  if (!eligible.length) {
    // An approver of a step that completed meanwhile (others reached N first) is late, not unauthorised.
    const late = detail.steps.some(
      (step) => step.status === 'approved' && slotsFor(step, userId, delegators).length > 0,
    );
    if (late) throw new Conflict('The step you may decide is already complete');
    throw new Forbidden('You are not an approver of an active step of this request');
  }
  const open = eligible.filter((step) =>
    freeSlot(
      step,
      detail.decisions.filter((d) => d.stepId === step.id),
      userId,
      delegators,
    ),
  );
  if (!open.length) throw new Conflict('You have already decided on this step');

  // Approving may complete a step: resolve who would approve the next one before the transaction.
  const nextApprovers = new Map<string, string[]>();
  if (input.decision === 'approve') {
    for (const step of open) {
      const next = detail.steps.find((s) => s.chainId === step.chainId && s.position === step.position + 1);
      if (next) {
        nextApprovers.set(
          step.id,
          await stepApprovers(accounts, companyId, request.requesterId, next.definition.approvers),
        );
      }
    }
  }

  await db.transaction(async (tx) => {
    const { rows: locked } = await tx.query(
      `SELECT ${REQUEST_COLUMNS} FROM approvals.requests r WHERE r.company_id = $1 AND r.id = $2 FOR UPDATE`,
      [companyId, requestId],
    );
    const current = toRequestRow(locked[0]!);
    if (current.status !== 'pending') throw new Conflict(`The approval request is ${current.status}`);
    const messages: OutboxEvent[] = [];
    const base = {
      approvalId: request.id,
      companyId,
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
      const { rows: taken } = await tx.query<{ decided_by: string; acting_for: string }>(
        `SELECT decided_by, acting_for FROM approvals.decisions WHERE step_id = $1`,
        [step.id],
      );
      const slot = freeSlot(
        step,
        taken.map((row) => ({ decidedBy: row.decided_by, actingFor: row.acting_for })),
        userId,
        delegators,
      );
      if (!slot) continue;
      await tx.query(
        `INSERT INTO approvals.decisions
           (step_id, request_id, company_id, decided_by, acting_for, decision, comment, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [step.id, request.id, companyId, userId, slot, input.decision, input.comment ?? null, now],
      );
      decided++;
      const onBehalfOf = slot === userId ? null : slot;
      await recordAudit(tx, actor.auth, actor.origin, {
        action: input.decision === 'approve' ? 'approval.approved_step' : 'approval.rejected_step',
        entityType: 'approval_request',
        entityId: request.id,
        details: { stepId: step.id, onBehalfOf, comment: input.comment ?? null },
      });

      if (input.decision === 'reject') {
        await tx.query(`UPDATE approvals.steps SET status = 'rejected', completed_at = $2 WHERE id = $1`, [
          step.id,
          now,
        ]);
        await tx.query(`UPDATE approvals.chains SET status = 'rejected' WHERE id = $1`, [step.chainId]);
        await closeRequest(tx, current, 'rejected', now);
        messages.push(
          event('approval.decided', companyId, {
            ...base,
            stepId: step.id,
            stepName: step.name,
            decision: 'reject',
            decidedBy: userId,
            onBehalfOf,
            comment: input.comment ?? null,
            stepCompleted: true,
          }),
          event('approval.rejected', companyId, {
            ...base,
            requesterId: request.requesterId,
            rejectedBy: userId,
            onBehalfOf,
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
      messages.push(
        event('approval.decided', companyId, {
          ...base,
          stepId: step.id,
          stepName: step.name,
          decision: 'approve',
          decidedBy: userId,
          onBehalfOf,
          comment: input.comment ?? null,
          stepCompleted: completed,
        }),
      );
      if (!completed) continue;
      const { rows: nextRows } = await tx.query(
        `SELECT ${STEP_COLUMNS} FROM approvals.steps s WHERE s.chain_id = $1 AND s.position = $2`,
        [step.chainId, step.position + 1],
      );
      if (nextRows[0]) {
        const next = toStepRow(nextRows[0]);
        const chain = detail.chains.find((c) => c.id === step.chainId)!;
        messages.push(
          await activateStep(
            tx,
            next,
            { id: chain.id, ruleId: chain.ruleId, ruleName: chain.ruleName },
            { ...request, companyId },
            nextApprovers.get(step.id) ?? [],
            now,
          ),
        );
      } else {
        await tx.query(`UPDATE approvals.chains SET status = 'approved' WHERE id = $1`, [step.chainId]);
      }
    }

    if (decided === 0) throw new Conflict('You have already decided on this step, or it is complete');
    if (!rejected) {
      const { rows: open } = await tx.query(
        `SELECT 1 FROM approvals.chains WHERE request_id = $1 AND status <> 'approved' LIMIT 1`,
        [request.id],
      );
      if (!open[0]) {
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

/** approvals.cancel: withdraws the subject's current request, whatever its state. */
export async function cancelApproval(
  engine: Engine,
  actor: Actor,
  subject: ApprovalSubject,
  reason: string | undefined,
  now: Date,
): Promise<RequestDetail> {
  const { db } = engine;
  const { companyId } = actor;
  const id = await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [subjectKey(companyId, subject)]);
    const current = await currentRequest(tx, companyId, subject, true);
    if (!current) throw new NotFound('Approval request');
    await closeRequest(tx, current, 'cancelled', now, {
      cancelledBy: actor.userId,
      cancelReason: reason ?? null,
    });
    await writeOutbox(
      tx,
      [
        event('approval.cancelled', companyId, {
          approvalId: current.id,
          companyId,
          subject,
          snapshotHash: current.snapshotHash,
          previousStatus: current.status,
          cancelledBy: actor.userId,
          reason: reason ?? null,
        }),
      ],
      actor.origin,
    );
    await recordAudit(tx, actor.auth, actor.origin, {
      action: 'approval.cancelled',
      entityType: 'approval_request',
      entityId: current.id,
      details: { subject, previousStatus: current.status, reason: reason ?? null },
    });
    return current.id;
  });
  return requireDetail(await loadDetail(db, companyId, id));
}
