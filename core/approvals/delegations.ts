import type { ApprovalDelegation } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';

export interface DelegationRow {
  delegatorId: string;
  delegateId: string;
  validFrom: Date;
  validUntil: Date;
}

function toRow(row: Record<string, unknown>): DelegationRow {
  return {
    delegatorId: row.delegator_id as string,
    delegateId: row.delegate_id as string,
    validFrom: row.valid_from as Date,
    validUntil: row.valid_until as Date,
  };
}

export function toApprovalDelegation(row: DelegationRow, now: Date): ApprovalDelegation {
  return {
    delegatorId: row.delegatorId,
    delegateId: row.delegateId,
    validFrom: row.validFrom.toISOString(),
    validUntil: row.validUntil.toISOString(),
    active: row.validFrom <= now && now < row.validUntil,
  };
}

export async function findDelegation(
  db: Queryable,
  companyId: string,
  delegatorId: string,
): Promise<DelegationRow | undefined> {
  const { rows } = await db.query(
    `SELECT delegator_id, delegate_id, valid_from, valid_until FROM approvals.delegations
      WHERE company_id = $1 AND delegator_id = $2`,
    [companyId, delegatorId],
  );
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** One delegation per delegator: a new one replaces the old. */
export async function upsertDelegation(
  tx: Queryable,
  companyId: string,
  delegation: DelegationRow,
): Promise<{ previous: DelegationRow | undefined; current: DelegationRow }> {
  const { rows: before } = await tx.query(
    `SELECT delegator_id, delegate_id, valid_from, valid_until FROM approvals.delegations
      WHERE company_id = $1 AND delegator_id = $2 FOR UPDATE`,
    [companyId, delegation.delegatorId],
  );
  const { rows } = await tx.query(
    `INSERT INTO approvals.delegations (company_id, delegator_id, delegate_id, valid_from, valid_until)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (company_id, delegator_id) DO UPDATE
       SET delegate_id = EXCLUDED.delegate_id, valid_from = EXCLUDED.valid_from,
           valid_until = EXCLUDED.valid_until, created_at = now()
     RETURNING delegator_id, delegate_id, valid_from, valid_until`,
    [companyId, delegation.delegatorId, delegation.delegateId, delegation.validFrom, delegation.validUntil],
  );
  return { previous: before[0] ? toRow(before[0]) : undefined, current: toRow(rows[0]!) };
}

export async function deleteDelegation(
  tx: Queryable,
  companyId: string,
  delegatorId: string,
): Promise<DelegationRow | undefined> {
  const { rows } = await tx.query(
    `DELETE FROM approvals.delegations WHERE company_id = $1 AND delegator_id = $2
     RETURNING delegator_id, delegate_id, valid_from, valid_until`,
    [companyId, delegatorId],
  );
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Users who have delegated to `delegateId` with a window that includes `now`. */
export async function activeDelegators(
  db: Queryable,
  companyId: string,
  delegateId: string,
  now: Date,
): Promise<string[]> {
  const { rows } = await db.query<{ delegator_id: string }>(
    `SELECT delegator_id FROM approvals.delegations
      WHERE company_id = $1 AND delegate_id = $2 AND valid_from <= $3 AND valid_until > $3
      ORDER BY delegator_id`,
    [companyId, delegateId, now],
  );
  return rows.map((row) => row.delegator_id);
}
