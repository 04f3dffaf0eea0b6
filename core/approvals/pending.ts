import type { PendingApprovalListResponse } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';

type PendingItem = PendingApprovalListResponse['items'][number];

/**
 * Active steps a user may decide and has not: they are an approver, or the current delegate of
 * an approver whose place is still free. Never their own requests. Keyset paging by step id.
 */
export async function pendingFor(
  db: Queryable,
  companyId: string,
  userId: string,
  delegators: string[],
  page: { limit: number; cursor?: string | undefined },
): Promise<PendingItem[]> {
  const { rows } = await db.query(
    `SELECT s.id AS step_id, s.name AS step_name, s.required_count, s.approvals_count, s.activated_at, s.escalate_at,
            r.id AS request_id, r.subject_type, r.subject_id, r.requester_id, r.snapshot -> 'total' AS total,
            r.snapshot_hash, c.rule_name,
            ARRAY(SELECT a FROM unnest(s.approver_ids) AS a
                   WHERE a = ANY ($3::uuid[])
                     AND NOT EXISTS (SELECT 1 FROM approvals.decisions t WHERE t.step_id = s.id AND t.acting_for = a)
                   ORDER BY a <> $2::uuid, a) AS acting_for
       FROM approvals.steps s
       JOIN approvals.requests r ON r.id = s.request_id AND r.company_id = s.company_id
       JOIN approvals.chains c ON c.id = s.chain_id
      WHERE s.company_id = $1 AND s.status = 'active' AND r.status = 'pending'
        AND s.approver_ids && $3::uuid[]
        AND EXISTS (SELECT 1 FROM unnest(s.approver_ids) AS a
                     WHERE a = ANY ($3::uuid[])
                       AND NOT EXISTS (SELECT 1 FROM approvals.decisions t WHERE t.step_id = s.id AND t.acting_for = a))
        AND r.requester_id <> $2
        AND NOT EXISTS (SELECT 1 FROM approvals.decisions d WHERE d.step_id = s.id AND d.decided_by = $2)
        AND ($4::uuid IS NULL OR s.id > $4::uuid)
      ORDER BY s.id
      LIMIT $5`,
    [companyId, userId, [userId, ...delegators], page.cursor ?? null, page.limit],
  );
  return rows.map(
    (row): PendingItem => ({
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
      escalateAt: row.escalate_at ? (row.escalate_at as Date).toISOString() : null,
      actingFor: row.acting_for,
    }),
  );
}
