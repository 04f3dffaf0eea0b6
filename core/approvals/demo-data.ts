import type { ApprovalRule } from '../../schemas/generated/types.ts';
import type { Database } from '../platform/database/database.ts';
import type { ConditionNode } from './condition.ts';
import { checkRuleInput, insertRule, listRules, type RuleInput } from './rules.ts';

const cny = (yuan: number) => ({ amountMinor: String(yuan * 100), currency: 'CNY' });

/**
 * Demo approval rules of a company, in the flow the issue describes (purchaser orders →
 * department manager approves → finance confirms) plus an IT-category rule running in parallel.
 * For `hub seed demo`; a company that already has rules is left alone.
 */
export function demoApprovalRules(): RuleInput[] {
  const overTenThousand: ConditionNode = { field: 'orderTotal', op: 'gt', value: cny(10_000) };
  return [
    {
      name: 'Orders over ¥10,000: manager, then finance',
      priority: 100,
      active: true,
      condition: overTenThousand,
      steps: [
        { name: 'Department manager', approvers: { managerLevels: 1 }, required: 1 },
        {
          name: 'Finance confirms',
          approvers: { roles: ['finance'] },
          required: 1,
          escalateAfterHours: 48,
          escalateTo: { roles: ['buyer-admin'] },
        },
      ],
    },
    {
      name: 'IT hardware over ¥50,000: two managers up',
      priority: 50,
      active: true,
      condition: {
        all: [
          { field: 'orderTotal', op: 'gte', value: cny(50_000) },
          { field: 'categories', op: 'containsAny', value: ['it-hardware', 'laptops', 'servers'] },
        ],
      },
      steps: [{ name: 'Management', approvers: { managerLevels: 2 }, required: 'all' }],
    },
    {
      name: 'Purchases on credit without a cost centre',
      priority: 10,
      active: true,
      condition: {
        all: [
          { field: 'paymentMethod', op: 'eq', value: 'credit' },
          { not: { field: 'costCentre', op: 'in', value: ['CC-OPS', 'CC-RD', 'CC-SALES'] } },
        ],
      },
      steps: [{ name: 'Finance', approvers: { roles: ['finance'] }, required: 1 }],
    },
  ];
}

export async function seedDemoApprovalRules(db: Database, companyId: string): Promise<ApprovalRule[]> {
  const existing = await listRules(db, companyId, { limit: 1 });
  if (existing.length) return [];
  const rules = demoApprovalRules();
  for (const rule of rules) checkRuleInput(rule);
  return db.transaction(async (tx) => {
    const created: ApprovalRule[] = [];
    for (const rule of rules) created.push(await insertRule(tx, companyId, rule));
    return created;
  });
}
