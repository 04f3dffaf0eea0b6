import type { ApprovalRule, ApprovalStep } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';
import { Conflict, ValidationFailed } from '../platform/errors/hub-errors.ts';
import { type ConditionNode, compileCondition, InvalidCondition } from './condition.ts';

/** A company may keep this many rules; each purchase is evaluated against all active ones. */
export const MAX_RULES_PER_COMPANY = 200;

export interface RuleInput {
  name: string;
  priority: number;
  active: boolean;
  condition: ConditionNode;
  steps: ApprovalStep[];
}

const COLUMNS = `id, name, priority, active, condition, steps, version, created_at, updated_at`;

function toRule(row: Record<string, unknown>): ApprovalRule {
  return {
    id: row.id as string,
    name: row.name as string,
    priority: row.priority as number,
    active: row.active as boolean,
    condition: row.condition as ApprovalRule['condition'],
    steps: row.steps as ApprovalStep[],
    version: row.version as number,
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
  };
}

/**
 * What the schema cannot say: the condition's node count (and, again, its depth), and steps that
 * could never complete because they require more approvals than the users they name.
 * Field errors point into the request body, as schema errors do.
 */
export function checkRuleInput(input: Partial<RuleInput>): void {
  const errors: { pointer: string; detail: string }[] = [];
  if (input.condition !== undefined) {
    try {
      compileCondition(input.condition);
    } catch (error) {
      if (!(error instanceof InvalidCondition)) throw error;
      errors.push({ pointer: `/condition${error.pointer}`, detail: error.message });
    }
  }
  input.steps?.forEach((step, index) => {
    const { users, roles, managerLevels } = step.approvers;
    const onlyNamedUsers = !roles?.length && !managerLevels;
    if (typeof step.required === 'number' && onlyNamedUsers && step.required > (users?.length ?? 0)) {
      errors.push({
        pointer: `/steps/${index}/required`,
        detail: `requires ${step.required} approvals but names ${users?.length ?? 0} approvers`,
      });
    }
  });
  if (errors.length) throw new ValidationFailed(errors);
}

function uniqueName(error: unknown): never {
  if ((error as { code?: string }).code === '23505') {
    throw new Conflict('An approval rule with this name already exists');
  }
  throw error;
}

export async function insertRule(tx: Queryable, companyId: string, input: RuleInput): Promise<ApprovalRule> {
  // Serialises rule creation per company, so the cap holds under concurrent requests.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('approvals.rules:' || $1, 0))`, [companyId]);
  const { rows: counted } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM approvals.rules WHERE company_id = $1`,
    [companyId],
  );
  if (counted[0]!.n >= MAX_RULES_PER_COMPANY) {
    throw new Conflict(`A company keeps at most ${MAX_RULES_PER_COMPANY} approval rules`);
  }
  const { rows } = await tx
    .query(
      `INSERT INTO approvals.rules (company_id, name, priority, active, condition, steps)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb) RETURNING ${COLUMNS}`,
      [
        companyId,
        input.name,
        input.priority,
        input.active,
        JSON.stringify(input.condition),
        JSON.stringify(input.steps),
      ],
    )
    .catch(uniqueName);
  return toRule(rows[0]!);
}

export async function findRule(
  db: Queryable,
  companyId: string,
  id: string,
): Promise<ApprovalRule | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM approvals.rules WHERE company_id = $1 AND id = $2`,
    [companyId, id],
  );
  return rows[0] ? toRule(rows[0]) : undefined;
}

export async function updateRule(
  tx: Queryable,
  companyId: string,
  id: string,
  changes: Partial<RuleInput>,
): Promise<{ before: ApprovalRule; after: ApprovalRule } | undefined> {
  const { rows: locked } = await tx.query(
    `SELECT ${COLUMNS} FROM approvals.rules WHERE company_id = $1 AND id = $2 FOR UPDATE`,
    [companyId, id],
  );
  if (!locked[0]) return undefined;
  const before = toRule(locked[0]);
  const { rows } = await tx
    .query(
      `UPDATE approvals.rules
          SET name = COALESCE($3, name),
              priority = COALESCE($4, priority),
              active = COALESCE($5, active),
              condition = COALESCE($6::jsonb, condition),
              steps = COALESCE($7::jsonb, steps),
              version = version + 1,
              updated_at = now()
        WHERE company_id = $1 AND id = $2
        RETURNING ${COLUMNS}`,
      [
        companyId,
        id,
        changes.name ?? null,
        changes.priority ?? null,
        changes.active ?? null,
        changes.condition === undefined ? null : JSON.stringify(changes.condition),
        changes.steps === undefined ? null : JSON.stringify(changes.steps),
      ],
    )
    .catch(uniqueName);
  return { before, after: toRule(rows[0]!) };
}

export async function deleteRule(
  tx: Queryable,
  companyId: string,
  id: string,
): Promise<ApprovalRule | undefined> {
  const { rows } = await tx.query(
    `DELETE FROM approvals.rules WHERE company_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [companyId, id],
  );
  return rows[0] ? toRule(rows[0]) : undefined;
}

/** Keyset cursor of the priority order: `<priority>_<id>`. */
export function ruleCursor(rule: { priority: number; id: string }): string {
  return `${rule.priority}_${rule.id}`;
}

function parseRuleCursor(cursor: string): { priority: number; id: string } | undefined {
  const match = /^(-?\d{1,7})_([0-9a-f-]{36})$/.exec(cursor);
  return match ? { priority: Number(match[1]), id: match[2]! } : undefined;
}

/** Highest priority first, then by id. */
export async function listRules(
  db: Queryable,
  companyId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<ApprovalRule[]> {
  const after = page.cursor === undefined ? undefined : parseRuleCursor(page.cursor);
  if (page.cursor !== undefined && !after) {
    throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  }
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM approvals.rules
      WHERE company_id = $1
        AND ($2::int IS NULL OR priority < $2 OR (priority = $2 AND id > $3::uuid))
      ORDER BY priority DESC, id
      LIMIT $4`,
    [companyId, after?.priority ?? null, after?.id ?? null, page.limit],
  );
  return rows.map(toRule);
}

/** The active rules' identities and versions: enough to tell which cached compilations are current. */
export async function activeRuleVersions(
  db: Queryable,
  companyId: string,
): Promise<{ id: string; version: number; priority: number }[]> {
  const { rows } = await db.query<{ id: string; version: number; priority: number }>(
    `SELECT id, version, priority FROM approvals.rules
      WHERE company_id = $1 AND active ORDER BY priority DESC, id`,
    [companyId],
  );
  return rows;
}

export async function rulesByIds(db: Queryable, companyId: string, ids: string[]): Promise<ApprovalRule[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM approvals.rules WHERE company_id = $1 AND id = ANY($2::uuid[])`,
    [companyId, ids],
  );
  return rows.map(toRule);
}
