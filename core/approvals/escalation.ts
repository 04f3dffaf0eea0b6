/**
 * Escalation: an active step whose `escalateAt` has passed gets its `escalateTo` approvers added
 * (resolved through accounts at that moment) and an `approval.escalated` event. Several processes
 * may sweep at once: a step is claimed with FOR UPDATE SKIP LOCKED and a lease, resolved outside
 * any transaction, then applied under the request's row lock only if it is still due.
 */
import type { ApprovalSubject } from '../../schemas/generated/types.ts';
import type { Database } from '../platform/database/database.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import type { ActionCaller } from './accounts-client.ts';
import { stepApprovers } from './engine.ts';
import { STEP_COLUMNS, toStepRow } from './requests.ts';

export interface SweepOptions {
  /** Steps claimed per round (default 100). */
  batchSize?: number;
  /** How long a claim keeps other sweepers off a step (default 60 s). */
  leaseMs?: number;
}

export interface SweepResult {
  /** Steps escalated by this call. */
  escalated: number;
  /** Claimed steps that could not be escalated now (accounts unreachable, ...); retried after the lease. */
  failed: number;
}

interface Claim {
  stepId: string;
  requestId: string;
  companyId: string;
  requesterId: string;
}

/**
 * One sweep at `now` (pass a fake one in tests). Loops until no due step is left to claim, so a
 * backlog is worked off in one call.
 */
export async function sweepEscalations(
  db: Database,
  accounts: ActionCaller,
  now: Date,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const batchSize = options.batchSize ?? 100;
  const leaseMs = options.leaseMs ?? 60_000;
  const result: SweepResult = { escalated: 0, failed: 0 };
  for (;;) {
    const { rows } = await db.query(
      `UPDATE approvals.steps s SET escalation_claimed_until = $2
         FROM approvals.requests r
        WHERE s.id IN (
                SELECT id FROM approvals.steps
                 WHERE status = 'active' AND escalated_at IS NULL AND escalate_at <= $1
                   AND (escalation_claimed_until IS NULL OR escalation_claimed_until <= $1)
                 ORDER BY escalate_at
                 LIMIT $3
                 FOR UPDATE SKIP LOCKED)
          AND r.id = s.request_id
      RETURNING s.id, s.request_id, s.company_id, r.requester_id`,
      [now, new Date(now.getTime() + leaseMs), batchSize],
    );
    const claims: Claim[] = rows.map((row) => ({
      stepId: row.id,
      requestId: row.request_id,
      companyId: row.company_id,
      requesterId: row.requester_id,
    }));
    for (const claim of claims) {
      try {
        if (await escalateStep(db, accounts, claim, now)) result.escalated++;
      } catch {
        result.failed++;
      }
    }
    if (claims.length < batchSize) return result;
  }
}

async function escalateStep(db: Database, accounts: ActionCaller, claim: Claim, now: Date): Promise<boolean> {
  const { rows: before } = await db.query(`SELECT ${STEP_COLUMNS} FROM approvals.steps s WHERE s.id = $1`, [
    claim.stepId,
  ]);
  const target = before[0] ? toStepRow(before[0]) : undefined;
  const escalateTo = target?.definition.escalateTo;
  const resolved = escalateTo
    ? await stepApprovers(accounts, claim.companyId, claim.requesterId, escalateTo)
    : [];

  return db.transaction(async (tx) => {
    const { rows: requests } = await tx.query(
      `SELECT id, status, subject_type, subject_id, snapshot_hash FROM approvals.requests WHERE id = $1 FOR UPDATE`,
      [claim.requestId],
    );
    const { rows: steps } = await tx.query(
      `SELECT ${STEP_COLUMNS} FROM approvals.steps s WHERE s.id = $1 FOR UPDATE`,
      [claim.stepId],
    );
    const request = requests[0];
    const step = steps[0] ? toStepRow(steps[0]) : undefined;
    if (request?.status !== 'pending' || !step || step.status !== 'active' || step.escalatedAt) {
      await tx.query(`UPDATE approvals.steps SET escalation_claimed_until = NULL WHERE id = $1`, [
        claim.stepId,
      ]);
      return false;
    }
    const added = resolved.filter((id) => !step.approverIds.includes(id));
    const approverIds = [...step.approverIds, ...added];
    await tx.query(
      `UPDATE approvals.steps
          SET approver_ids = $2::uuid[], escalated_approver_ids = $3::uuid[], escalated_at = $4,
              escalation_claimed_until = NULL
        WHERE id = $1`,
      [step.id, approverIds, added, now],
    );
    const subject: ApprovalSubject = { type: request.subject_type, id: request.subject_id };
    await writeOutbox(tx, [
      {
        kind: 'event',
        name: 'approval.escalated',
        companyId: claim.companyId,
        payload: {
          approvalId: claim.requestId,
          companyId: claim.companyId,
          subject,
          snapshotHash: request.snapshot_hash,
          stepId: step.id,
          stepName: step.name,
          addedApproverIds: added,
          approverIds,
        },
      },
    ]);
    return true;
  });
}
