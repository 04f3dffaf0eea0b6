import type { Context } from 'moleculer';
import type { SpendingViolation } from '../../schemas/generated/types.ts';
import { type AuthContext, originOf, requireBuyerCompany } from '../platform/auth/auth-context.ts';
import type { Database } from '../platform/database/database.ts';
import { Conflict, Forbidden, NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { OutboxMessage } from '../platform/outbox/outbox.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { userContext } from './directory.ts';
import {
  crossedThresholds,
  type Evaluation,
  evaluatePurchase,
  periodView,
  type Requester,
} from './evaluate.ts';
import { appendEntry, type Entry, entriesOf, lockReference, type Reference } from './ledger.ts';
import { amountOf, moneyOf } from './money.ts';

export interface EntryParams {
  reference: Reference;
  amount: { amountMinor: string; currency: string };
  costCentre?: string | undefined;
  at?: string | undefined;
}

/**
 * The buyer user making the purchase, placed where accounts has them now. Limits are per user, so
 * a principal that is not a buyer user of the company (staff, API key) cannot be checked.
 */
async function requesterOf(ctx: Context): Promise<{ auth: AuthContext; requester: Requester }> {
  const { auth, companyId } = requireBuyerCompany(ctx);
  if (auth.kind !== 'buyer') throw new Forbidden('Spending is checked for buyer users');
  const user = await userContext(ctx, auth.principalId);
  if (!user || user.companyId !== companyId)
    throw new Forbidden('Spending is checked for buyer users of the company');
  return { auth, requester: { companyId, userId: user.userId, unitPath: user.unitPath } };
}

export async function checkPurchase(
  ctx: Context,
  db: Database,
  params: {
    amount: { amountMinor: string; currency: string };
    costCentre?: string | undefined;
    at?: string | undefined;
  },
) {
  // Accounts is asked before any transaction opens (on the embedded database a transaction holds the session).
  const { requester } = await requesterOf(ctx);
  const evaluation = await evaluatePurchase(db, requester, {
    amount: amountOf(params.amount),
    costCentre: params.costCentre ?? null,
    at: params.at ? new Date(params.at) : new Date(),
  });
  return { allowed: evaluation.allowed, violations: evaluation.violations, ignored: evaluation.ignored };
}

type Status = 'committed' | 'settled' | 'released';

function statusOf(entries: Partial<Record<'commit' | 'settle' | 'release', Entry>>): Status {
  return entries.release ? 'released' : entries.settle ? 'settled' : 'committed';
}

function answer(commit: Entry, status: Status, replayed: boolean) {
  return {
    reference: commit.reference,
    status,
    amount: moneyOf(commit.amount.minor, commit.amount.currency),
    costCentre: commit.costCentre,
    at: commit.occurredAt.toISOString(),
    violations: commit.warnings as SpendingViolation[],
    replayed,
  };
}

/** A retried commit must describe the same purchase; `at` only counts when the caller sent one. */
function sameCommit(entry: Entry, params: EntryParams): boolean {
  return (
    entry.amount.minor === BigInt(params.amount.amountMinor) &&
    entry.amount.currency === params.amount.currency &&
    entry.costCentre === (params.costCentre ?? null) &&
    (params.at === undefined || entry.occurredAt.getTime() === new Date(params.at).getTime())
  );
}

function replay(entries: Partial<Record<'commit' | 'settle' | 'release', Entry>>, params: EntryParams) {
  const commit = entries.commit!;
  if (!sameCommit(commit, params)) {
    throw new Conflict(`${params.reference.type} ${params.reference.id} was committed with other figures`);
  }
  return answer(commit, statusOf(entries), true);
}

function exceededEvents(
  companyId: string,
  userId: string,
  params: EntryParams,
  evaluation: Evaluation,
): OutboxMessage[] {
  const blocked = !evaluation.allowed;
  return evaluation.violations.map((violation) => ({
    kind: 'event' as const,
    name: 'spending.limit_exceeded',
    companyId,
    payload: {
      companyId,
      userId,
      reference: params.reference,
      blocked,
      amount: params.amount,
      violation,
    },
  }));
}

function thresholdEvents(companyId: string, params: EntryParams, evaluation: Evaluation): OutboxMessage[] {
  const purchase = BigInt(params.amount.amountMinor);
  return evaluation.budgets.flatMap(({ budget, window, before }) =>
    crossedThresholds(before, before + purchase, budget.amount.minor).map((threshold) => ({
      kind: 'event' as const,
      name: 'budget.threshold_reached',
      companyId,
      payload: {
        companyId,
        budgetId: budget.id,
        costCentre: budget.costCentre,
        threshold,
        amount: moneyOf(budget.amount.minor, budget.amount.currency),
        consumed: moneyOf(before + purchase, budget.amount.currency),
        period: periodView(window),
        reference: params.reference,
      },
    })),
  );
}

/**
 * Records a purchase in the ledger. In one transaction: the reference's entries are read (a retry
 * answers the first result), the applicable limits and budgets are locked (`FOR UPDATE`, id order)
 * and re-evaluated against the ledger, then the entry and the events are written. Two purchases
 * sharing a limit or budget are therefore serialised on its row, and the second sees the first's
 * entry: together they can never pass a `block` limit. A blocked purchase writes no entry; its
 * `spending.limit_exceeded` events still commit, then the call fails with 422.
 */
export async function commitPurchase(ctx: Context, db: Database, params: EntryParams) {
  const { auth, requester } = await requesterOf(ctx);
  const { companyId } = requester;
  const origin = originOf(ctx);
  const amount = amountOf(params.amount);
  const at = params.at ? new Date(params.at) : new Date();
  const costCentre = params.costCentre ?? null;

  const outcome = await db.transaction(async (tx) => {
    await lockReference(tx, companyId, params.reference);
    const existing = await entriesOf(tx, companyId, params.reference);
    if (existing.commit) return { result: replay(existing, params) };

    const evaluation = await evaluatePurchase(tx, requester, { amount, costCentre, at }, { lock: true });
    const events = exceededEvents(companyId, requester.userId, params, evaluation);
    if (!evaluation.allowed) {
      await writeOutbox(tx, events, origin);
      return { blocked: evaluation.violations };
    }
    const entry = await appendEntry(tx, {
      companyId,
      kind: 'commit',
      reference: params.reference,
      userId: requester.userId,
      unitPath: requester.unitPath,
      costCentre,
      amount,
      committedDelta: amount.minor,
      spentDelta: 0n,
      occurredAt: at,
      warnings: evaluation.violations,
      actorId: auth.principalId,
      requestId: origin.requestId,
    });
    if (!entry) return { result: replay(await entriesOf(tx, companyId, params.reference), params) };
    await writeOutbox(tx, [...events, ...thresholdEvents(companyId, params, evaluation)], origin);
    return { result: answer(entry, 'committed', false) };
  });
  if (outcome.blocked) {
    throw new UnprocessableRequest(
      'spending-limit-exceeded',
      'The purchase exceeds a spending limit or budget',
      {
        violations: outcome.blocked,
      },
    );
  }
  return outcome.result!;
}

/**
 * Appends the settle or release entry of a committed reference of the caller's company, once:
 * a retry answers the state without writing again. Settling moves the amount from committed to
 * spent; releasing takes it out of whichever of the two holds it.
 */
async function follow(ctx: Context, db: Database, reference: Reference, kind: 'settle' | 'release') {
  const { auth, companyId } = requireBuyerCompany(ctx);
  const origin = originOf(ctx);
  return db.transaction(async (tx) => {
    await lockReference(tx, companyId, reference);
    const entries = await entriesOf(tx, companyId, reference);
    const commit = entries.commit;
    if (!commit) throw new NotFound('Spending reference');
    if (entries[kind]) return answer(commit, statusOf(entries), true);
    if (kind === 'settle' && entries.release) {
      throw new Conflict(`${reference.type} ${reference.id} was released and cannot be settled`);
    }
    const minor = commit.amount.minor;
    const settled = Boolean(entries.settle);
    await appendEntry(tx, {
      companyId,
      kind,
      reference,
      userId: commit.userId,
      unitPath: commit.unitPath,
      costCentre: commit.costCentre,
      amount: commit.amount,
      committedDelta: kind === 'settle' || !settled ? -minor : 0n,
      spentDelta: kind === 'settle' ? minor : settled ? -minor : 0n,
      // The same instant as the purchase: the correction lands in the purchase's period.
      occurredAt: commit.occurredAt,
      warnings: [],
      actorId: auth.principalId,
      requestId: origin.requestId,
    });
    return answer(commit, kind === 'settle' ? 'settled' : 'released', false);
  });
}

export function settlePurchase(ctx: Context, db: Database, reference: Reference) {
  return follow(ctx, db, reference, 'settle');
}

export function releasePurchase(ctx: Context, db: Database, reference: Reference) {
  return follow(ctx, db, reference, 'release');
}
