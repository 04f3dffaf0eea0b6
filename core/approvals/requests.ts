/**
 * Rows of approval requests, chains, steps and decisions, and their API shape. Every read is
 * scoped by the company id; callers take it from the auth context.
 */
import type {
  ApprovalRequest,
  ApprovalSnapshot,
  ApprovalStep,
  ApprovalSubject,
} from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';

export type RequestStatus = ApprovalRequest['status'];
export type StepStatus = 'waiting' | 'active' | 'approved' | 'rejected' | 'cancelled';

export interface RequestRow {
  id: string;
  companyId: string;
  subject: ApprovalSubject;
  requesterId: string;
  requesterUnitId: string | null;
  requesterUnitPath: string[];
  requesterRoles: string[];
  status: RequestStatus;
  snapshot: ApprovalSnapshot;
  snapshotHash: string;
  supersededBy: string | null;
  cancelledBy: string | null;
  cancelReason: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export interface ChainRow {
  id: string;
  requestId: string;
  position: number;
  ruleId: string;
  ruleName: string;
  ruleVersion: number;
  status: 'pending' | 'approved' | 'rejected' | 'cancelled';
}

export interface StepRow {
  id: string;
  chainId: string;
  requestId: string;
  position: number;
  name: string;
  definition: ApprovalStep;
  status: StepStatus;
  requiredCount: number | null;
  approvalsCount: number;
  approverIds: string[];
  escalatedApproverIds: string[];
  activatedAt: Date | null;
  escalateAt: Date | null;
  escalatedAt: Date | null;
  completedAt: Date | null;
}

export interface DecisionRow {
  stepId: string;
  decidedBy: string;
  actingFor: string;
  decision: 'approve' | 'reject';
  comment: string | null;
  decidedAt: Date;
}

export interface RequestDetail {
  request: RequestRow;
  chains: ChainRow[];
  steps: StepRow[];
  decisions: DecisionRow[];
}

export const REQUEST_COLUMNS = `r.id, r.company_id, r.subject_type, r.subject_id, r.requester_id, r.requester_unit_id,
  r.requester_unit_path, r.requester_roles, r.status, r.snapshot, r.snapshot_hash, r.superseded_by, r.cancelled_by,
  r.cancel_reason, r.created_at, r.completed_at`;

export const STEP_COLUMNS = `s.id, s.chain_id, s.request_id, s.position, s.name, s.definition, s.status, s.required_count,
  s.approvals_count, s.approver_ids, s.escalated_approver_ids, s.activated_at, s.escalate_at, s.escalated_at,
  s.completed_at`;

export function toRequestRow(row: Record<string, unknown>): RequestRow {
  return {
    id: row.id as string,
    companyId: row.company_id as string,
    subject: { type: row.subject_type as string, id: row.subject_id as string },
    requesterId: row.requester_id as string,
    requesterUnitId: (row.requester_unit_id as string | null) ?? null,
    requesterUnitPath: row.requester_unit_path as string[],
    requesterRoles: row.requester_roles as string[],
    status: row.status as RequestStatus,
    snapshot: row.snapshot as ApprovalSnapshot,
    snapshotHash: row.snapshot_hash as string,
    supersededBy: (row.superseded_by as string | null) ?? null,
    cancelledBy: (row.cancelled_by as string | null) ?? null,
    cancelReason: (row.cancel_reason as string | null) ?? null,
    createdAt: row.created_at as Date,
    completedAt: (row.completed_at as Date | null) ?? null,
  };
}

export function toStepRow(row: Record<string, unknown>): StepRow {
  return {
    id: row.id as string,
    chainId: row.chain_id as string,
    requestId: row.request_id as string,
    position: row.position as number,
    name: row.name as string,
    definition: row.definition as ApprovalStep,
    status: row.status as StepStatus,
    requiredCount: (row.required_count as number | null) ?? null,
    approvalsCount: row.approvals_count as number,
    approverIds: row.approver_ids as string[],
    escalatedApproverIds: row.escalated_approver_ids as string[],
    activatedAt: (row.activated_at as Date | null) ?? null,
    escalateAt: (row.escalate_at as Date | null) ?? null,
    escalatedAt: (row.escalated_at as Date | null) ?? null,
    completedAt: (row.completed_at as Date | null) ?? null,
  };
}

/** The subject's current request (neither superseded nor cancelled); `lock` takes its row lock. */
export async function currentRequest(
  db: Queryable,
  companyId: string,
  subject: ApprovalSubject,
  lock = false,
): Promise<RequestRow | undefined> {
  const { rows } = await db.query(
    `SELECT ${REQUEST_COLUMNS} FROM approvals.requests r
      WHERE r.company_id = $1 AND r.subject_type = $2 AND r.subject_id = $3
        AND r.status NOT IN ('superseded', 'cancelled')
      ${lock ? 'FOR UPDATE' : ''}`,
    [companyId, subject.type, subject.id],
  );
  return rows[0] ? toRequestRow(rows[0]) : undefined;
}

/** The subject's latest buyer-side request, whatever its status. */
export async function latestRequest(
  db: Queryable,
  companyId: string,
  subject: ApprovalSubject,
): Promise<RequestRow | undefined> {
  const { rows } = await db.query(
    `SELECT ${REQUEST_COLUMNS} FROM approvals.requests r
      WHERE r.company_id = $1 AND r.subject_type = $2 AND r.subject_id = $3 AND r.audience = 'buyer'
      ORDER BY r.created_at DESC, (r.status NOT IN ('superseded', 'cancelled')) DESC
      LIMIT 1`,
    [companyId, subject.type, subject.id],
  );
  return rows[0] ? toRequestRow(rows[0]) : undefined;
}

export async function loadDetail(
  db: Queryable,
  companyId: string,
  id: string,
): Promise<RequestDetail | undefined> {
  const { rows } = await db.query(
    `SELECT ${REQUEST_COLUMNS} FROM approvals.requests r WHERE r.company_id = $1 AND r.id = $2`,
    [companyId, id],
  );
  if (!rows[0]) return undefined;
  const request = toRequestRow(rows[0]);
  const [chains, steps, decisions] = await Promise.all([
    db.query(
      `SELECT id, request_id, position, rule_id, rule_name, rule_version, status
         FROM approvals.chains WHERE company_id = $1 AND request_id = $2 ORDER BY position`,
      [companyId, id],
    ),
    db.query(
      `SELECT ${STEP_COLUMNS} FROM approvals.steps s
        WHERE s.company_id = $1 AND s.request_id = $2 ORDER BY s.chain_id, s.position`,
      [companyId, id],
    ),
    db.query(
      `SELECT step_id, decided_by, acting_for, decision, comment, decided_at
         FROM approvals.decisions WHERE company_id = $1 AND request_id = $2 ORDER BY decided_at, id`,
      [companyId, id],
    ),
  ]);
  return {
    request,
    chains: chains.rows.map((row) => ({
      id: row.id,
      requestId: row.request_id,
      position: row.position,
      ruleId: row.rule_id,
      ruleName: row.rule_name,
      ruleVersion: row.rule_version,
      status: row.status,
    })),
    steps: steps.rows.map(toStepRow),
    decisions: decisions.rows.map((row) => ({
      stepId: row.step_id,
      decidedBy: row.decided_by,
      actingFor: row.acting_for,
      decision: row.decision,
      comment: row.comment,
      decidedAt: row.decided_at,
    })),
  };
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** The API shape (`entities/approval-request`): every chain, step and decision. */
export function toApprovalRequest(detail: RequestDetail): ApprovalRequest {
  const { request } = detail;
  return {
    id: request.id,
    subject: request.subject,
    status: request.status,
    snapshotHash: request.snapshotHash,
    snapshot: request.snapshot,
    requesterId: request.requesterId,
    createdAt: request.createdAt.toISOString(),
    completedAt: iso(request.completedAt),
    supersededBy: request.supersededBy,
    cancelledBy: request.cancelledBy,
    cancelReason: request.cancelReason,
    chains: detail.chains.map((chain) => ({
      id: chain.id,
      ruleId: chain.ruleId,
      ruleName: chain.ruleName,
      ruleVersion: chain.ruleVersion,
      status: chain.status,
      steps: detail.steps
        .filter((step) => step.chainId === chain.id)
        .map((step) => ({
          id: step.id,
          position: step.position,
          name: step.name,
          status: step.status,
          required: step.requiredCount,
          approvals: step.approvalsCount,
          approverIds: step.approverIds,
          activatedAt: iso(step.activatedAt),
          escalateAt: iso(step.escalateAt),
          escalatedAt: iso(step.escalatedAt),
          escalatedApproverIds: step.escalatedApproverIds,
          completedAt: iso(step.completedAt),
          decisions: detail.decisions
            .filter((decision) => decision.stepId === step.id)
            .map((decision) => ({
              decidedBy: decision.decidedBy,
              onBehalfOf: decision.actingFor === decision.decidedBy ? null : decision.actingFor,
              decision: decision.decision,
              comment: decision.comment,
              decidedAt: decision.decidedAt.toISOString(),
            })),
        })),
    })),
  };
}
