import { type AuthContext, permissionScope } from '../platform/auth/auth-context.ts';

/** Who is looking at approval requests: the tenant and user from the auth context. */
export interface Viewer {
  auth: AuthContext;
  companyId: string;
  userId: string;
  /** Users the viewer currently stands in for (active delegations to them). */
  delegators: string[];
}

/**
 * SQL condition (on `approvals.requests r`) for the requests a viewer may see, with its values
 * numbered from `$<first>`: always within their company and never a staff-side request; their own requests; those where they,
 * or someone they currently stand in for, are an approver of any step or decided; and, with
 * `approvals.read`, those of requesters in their unit (`unit`), in their unit or below
 * (`unit_tree`), or anywhere in the company (`company`).
 */
export function visibleRequests(viewer: Viewer, first: number): { sql: string; values: unknown[] } {
  const scope = permissionScope(viewer.auth, 'approvals.read');
  const unitId = viewer.auth.unitId ?? null;
  const p = (offset: number) => `$${first + offset}`;
  const sql = `r.company_id = ${p(0)} AND r.audience = 'buyer' AND (
      r.requester_id = ${p(1)}
      OR ${p(2)}::boolean
      OR (${p(3)}::uuid IS NOT NULL AND r.requester_unit_id = ${p(3)}::uuid)
      OR (${p(4)}::uuid IS NOT NULL AND ${p(4)}::uuid = ANY (r.requester_unit_path))
      OR EXISTS (SELECT 1 FROM approvals.steps vs
                  WHERE vs.request_id = r.id AND vs.company_id = r.company_id AND vs.approver_ids && ${p(5)}::uuid[])
      OR EXISTS (SELECT 1 FROM approvals.decisions vd
                  WHERE vd.request_id = r.id AND vd.company_id = r.company_id AND vd.decided_by = ${p(1)}))`;
  return {
    sql,
    values: [
      viewer.companyId,
      viewer.userId,
      scope === 'company',
      scope === 'unit' ? unitId : null,
      scope === 'unit_tree' ? unitId : null,
      [viewer.userId, ...viewer.delegators],
    ],
  };
}
