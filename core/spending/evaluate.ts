import type { SpendingViolation } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';
import { applicableBudgets, type Budget, budgetWindow } from './budgets.ts';
import { consumption } from './ledger.ts';
import { applicableLimits, type Limit } from './limits.ts';
import { type Amount, moneyOf } from './money.ts';
import { calendarPeriod, type PeriodWindow } from './periods.ts';

/** Who buys: the user and their place in the org tree (root first), as accounts knows it now. */
export interface Requester {
  companyId: string;
  userId: string;
  unitPath: string[];
}

export interface Purchase {
  amount: Amount;
  costCentre: string | null;
  at: Date;
}

export interface Ignored {
  limitId?: string;
  budgetId?: string;
  reason: 'currency_mismatch';
  currency: string;
}

/** A budget the purchase consumes, with its consumption before the purchase. */
export interface BudgetUse {
  budget: Budget;
  window: PeriodWindow;
  before: bigint;
}

export interface Evaluation {
  allowed: boolean;
  violations: SpendingViolation[];
  ignored: Ignored[];
  budgets: BudgetUse[];
}

export function periodView(window: PeriodWindow) {
  return {
    kind: window.kind,
    label: window.label,
    start: window.start.toISOString(),
    end: window.end.toISOString(),
    timeZone: window.timeZone,
  };
}

/**
 * Evaluates every limit and budget applicable to the purchase: the requester's own limits, the
 * limits of every unit on their path (ancestors included), and the budgets of the cost centre whose
 * period contains `at`. A limit or budget in another currency is never summed with this one: it is
 * listed in `ignored` and neither counts nor blocks the purchase. Amounts equal to a limit are
 * within it. With `lock`, the rows of the applicable limits and budgets stay locked until the
 * caller's transaction ends, so the consumption read here cannot change under a concurrent commit.
 */
export async function evaluatePurchase(
  db: Queryable,
  requester: Requester,
  purchase: Purchase,
  options: { lock?: boolean } = {},
): Promise<Evaluation> {
  const lock = options.lock ?? false;
  const { companyId } = requester;
  const limits = await applicableLimits(db, companyId, requester.userId, requester.unitPath, { lock });
  const budgets = purchase.costCentre
    ? await applicableBudgets(db, companyId, purchase.costCentre, purchase.at, { lock })
    : [];
  const { currency, minor } = purchase.amount;
  const violations: SpendingViolation[] = [];
  const ignored: Ignored[] = [];
  const uses: BudgetUse[] = [];

  for (const limit of limits) {
    if (limit.amount.currency !== currency) {
      ignored.push({ limitId: limit.id, reason: 'currency_mismatch', currency: limit.amount.currency });
      continue;
    }
    const violation = await checkLimit(db, companyId, limit, purchase);
    if (violation) violations.push(violation);
  }
  for (const budget of budgets) {
    if (budget.amount.currency !== currency) {
      ignored.push({ budgetId: budget.id, reason: 'currency_mismatch', currency: budget.amount.currency });
      continue;
    }
    const window = budgetWindow(budget);
    const used = await consumption(
      db,
      companyId,
      { costCentre: budget.costCentre },
      currency,
      window.start,
      window.end,
    );
    const before = used.committed + used.spent;
    uses.push({ budget, window, before });
    if (before + minor > budget.amount.minor) {
      violations.push({
        kind: 'budget',
        budgetId: budget.id,
        costCentre: budget.costCentre,
        mode: budget.mode,
        limit: moneyOf(budget.amount.minor, currency),
        wouldBe: moneyOf(before + minor, currency),
        period: periodView(window),
      });
    }
  }
  return {
    allowed: !violations.some((violation) => violation.mode === 'block'),
    violations,
    ignored,
    budgets: uses,
  };
}

async function checkLimit(
  db: Queryable,
  companyId: string,
  limit: Limit,
  purchase: Purchase,
): Promise<SpendingViolation | undefined> {
  const { currency, minor } = purchase.amount;
  const base = {
    limitId: limit.id,
    subjectId: limit.subject.id,
    mode: limit.mode,
    limit: moneyOf(limit.amount.minor, currency),
  };
  if (limit.per === 'order') {
    if (minor <= limit.amount.minor) return undefined;
    return { kind: `${limit.subject.type}_order`, ...base, wouldBe: moneyOf(minor, currency) };
  }
  const window = calendarPeriod(purchase.at, limit.per, limit.timeZone);
  const scope = limit.subject.type === 'user' ? { user: limit.subject.id } : { unit: limit.subject.id };
  const used = await consumption(db, companyId, scope, currency, window.start, window.end);
  const wouldBe = used.committed + used.spent + minor;
  if (wouldBe <= limit.amount.minor) return undefined;
  return {
    kind: `${limit.subject.type}_period`,
    ...base,
    wouldBe: moneyOf(wouldBe, currency),
    period: periodView(window),
  };
}

/** Thresholds of a budget's amount, in percent, announced when a purchase crosses them. */
export const BUDGET_THRESHOLDS = [80, 100] as const;

/** The thresholds crossed going from `before` to `after` consumption of `amount`. */
export function crossedThresholds(before: bigint, after: bigint, amount: bigint): number[] {
  if (amount <= 0n) return [];
  return BUDGET_THRESHOLDS.filter((percent) => {
    const mark = BigInt(percent) * amount;
    return before * 100n < mark && after * 100n >= mark;
  });
}
