import path from 'node:path';
import type { Context } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { authOf, originOf, requireBuyerCompany } from '../platform/auth/auth-context.ts';
import { Forbidden, NotFound, ValidationFailed } from '../platform/errors/hub-errors.ts';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import {
  type Caller,
  callerOf,
  canManageBudget,
  canManageLimit,
  canReadBudget,
  canReadLimit,
  type Placement,
  placementOf,
  readsBeyondOwn,
  requireSomeManage,
  requireSomeRead,
  requireStaffReader,
  unitPlacement,
} from './access.ts';
import {
  type Budget,
  budgetView,
  budgetWindow,
  deleteBudget,
  findBudget,
  insertBudget,
  listBudgets,
  updateBudget,
} from './budgets.ts';
import { periodView } from './evaluate.ts';
import { consumption } from './ledger.ts';
import {
  deleteLimit,
  findLimit,
  insertLimit,
  type Limit,
  type LimitWindow,
  limitView,
  listLimits,
  type SpendMode,
  type Subject,
  updateLimit,
} from './limits.ts';
import { amountOf, moneyOf } from './money.ts';
import {
  calendarPeriod,
  DEFAULT_TIME_ZONE,
  isKnownTimeZone,
  type PeriodKind,
  parseLocalDate,
} from './periods.ts';
import {
  checkPurchase,
  commitPurchase,
  type EntryParams,
  releasePurchase,
  settlePurchase,
} from './purchases.ts';
import { spendingRoutes } from './spending.routes.ts';

interface Money {
  amountMinor: string;
  currency: string;
}

interface PageParams {
  limit: number;
  cursor?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The keyset cursor of these lists is the last id of the previous page. */
function cursorOf(params: PageParams): string | undefined {
  if (params.cursor === undefined) return undefined;
  if (!UUID.test(params.cursor)) {
    throw new ValidationFailed([{ pointer: '/cursor', detail: 'is not a cursor of this list' }]);
  }
  return params.cursor;
}

function checkTimeZone(timeZone: string | undefined): void {
  if (timeZone !== undefined && !isKnownTimeZone(timeZone)) {
    throw new ValidationFailed([{ pointer: '/timeZone', detail: 'is not a known IANA time zone' }]);
  }
}

/** Cost centres compare case-insensitively: stored and matched in upper case. */
function costCentreOf(code: string | undefined): string | undefined {
  return code?.toUpperCase();
}

/** A keyset page; `scanned` decides whether another page may follow, `items` is what the caller sees. */
function page<T>(items: T[], scanned: Array<{ id: string }>, limit: number) {
  return { items, nextCursor: scanned.length === limit ? scanned[scanned.length - 1]!.id : null };
}

async function buyerCaller(ctx: Context): Promise<Caller> {
  const { auth, companyId } = requireBuyerCompany(ctx);
  return callerOf(ctx, auth, companyId);
}

/** The subject's placement, or undefined when accounts no longer knows it in this company. */
async function tryPlacement(
  ctx: Context,
  companyId: string,
  subject: Subject,
  cache: Map<string, Promise<Placement | undefined>>,
): Promise<Placement | undefined> {
  const key = `${subject.type}:${subject.id}`;
  let found = cache.get(key);
  if (!found) {
    found = placementOf(ctx, companyId, subject).catch((error) => {
      if (error instanceof NotFound) return undefined;
      throw error;
    });
    cache.set(key, found);
  }
  return found;
}

/** Whether a narrow-scope caller may see the limit; company scope needs no lookup. */
async function limitVisible(
  ctx: Context,
  caller: Caller,
  limit: Limit,
  cache = new Map<string, Promise<Placement | undefined>>(),
): Promise<boolean> {
  if (canReadLimit(caller, limit.subject, undefined)) return true;
  if (!readsBeyondOwn(caller)) return false;
  return canReadLimit(caller, limit.subject, await tryPlacement(ctx, caller.companyId, limit.subject, cache));
}

async function budgetPlacement(
  ctx: Context,
  caller: Caller,
  budget: Budget,
): Promise<Placement | null | undefined> {
  if (!budget.unitId) return null;
  return unitPlacement(ctx, caller.companyId, budget.unitId).catch((error) => {
    if (error instanceof NotFound) return undefined;
    throw error;
  });
}

async function budgetVisible(ctx: Context, caller: Caller, budget: Budget): Promise<boolean> {
  if (canReadBudget(caller, null)) return true;
  const placement = await budgetPlacement(ctx, caller, budget);
  return placement !== undefined && canReadBudget(caller, placement);
}

function spendingService(platform: Platform) {
  const { db } = platform;

  /** A limit with its current period's consumption (period limits only). */
  async function limitDetail(limit: Limit) {
    const view = limitView(limit);
    if (limit.per === 'order') return view;
    const window = calendarPeriod(new Date(), limit.per, limit.timeZone);
    const scope = limit.subject.type === 'user' ? { user: limit.subject.id } : { unit: limit.subject.id };
    const used = await consumption(
      db,
      limit.companyId,
      scope,
      limit.amount.currency,
      window.start,
      window.end,
    );
    const consumed = used.committed + used.spent;
    return {
      ...view,
      currentPeriod: {
        period: periodView(window),
        consumed: moneyOf(consumed, limit.amount.currency),
        remaining: moneyOf(limit.amount.minor - consumed, limit.amount.currency),
      },
    };
  }

  /** A budget with its consumption: spent (settled), committed (open) and remaining. */
  async function budgetDetail(budget: Budget) {
    const window = budgetWindow(budget);
    const { currency, minor } = budget.amount;
    const used = await consumption(
      db,
      budget.companyId,
      { costCentre: budget.costCentre },
      currency,
      window.start,
      window.end,
    );
    const consumed = used.committed + used.spent;
    return {
      ...budgetView(budget),
      consumption: {
        spent: moneyOf(used.spent, currency),
        committed: moneyOf(used.committed, currency),
        remaining: moneyOf(minor - consumed, currency),
        consumedPercent: minor > 0n ? Number((consumed * 100n) / minor) : null,
      },
    };
  }

  /** The limit if the caller may see it; 404 otherwise, whether it is another company's or out of scope. */
  async function visibleLimit(ctx: Context, caller: Caller, id: string): Promise<Limit> {
    const limit = await findLimit(db, caller.companyId, id);
    if (!limit || !(await limitVisible(ctx, caller, limit))) throw new NotFound('Spending limit');
    return limit;
  }

  async function visibleBudget(ctx: Context, caller: Caller, id: string): Promise<Budget> {
    const budget = await findBudget(db, caller.companyId, id);
    if (!budget || !(await budgetVisible(ctx, caller, budget))) throw new NotFound('Budget');
    return budget;
  }

  /** A visible limit the caller may also change: 403 when seen but out of their management scope. */
  async function manageableLimit(ctx: Context, caller: Caller, id: string): Promise<Limit> {
    const limit = await visibleLimit(ctx, caller, id);
    requireSomeManage(caller);
    const placement =
      caller.manage === 'company'
        ? { path: [], unitId: null }
        : await placementOf(ctx, caller.companyId, limit.subject);
    if (!canManageLimit(caller, limit.subject, placement)) {
      throw new Forbidden('This limit is outside your spending.manage scope');
    }
    return limit;
  }

  async function manageableBudget(ctx: Context, caller: Caller, id: string): Promise<Budget> {
    const budget = await visibleBudget(ctx, caller, id);
    requireSomeManage(caller);
    const placement = caller.manage === 'company' ? null : await budgetPlacement(ctx, caller, budget);
    if (placement === undefined || !canManageBudget(caller, placement)) {
      throw new Forbidden('This budget is outside your spending.manage scope');
    }
    return budget;
  }

  async function limitsPage(
    ctx: Context,
    caller: Caller,
    params: PageParams & { subjectType?: string; subjectId?: string },
  ) {
    const scanned = await listLimits(db, caller.companyId, {
      limit: params.limit,
      after: cursorOf(params),
      subjectType: params.subjectType,
      subjectId: params.subjectId,
    });
    const cache = new Map<string, Promise<Placement | undefined>>();
    const visible = await Promise.all(scanned.map((limit) => limitVisible(ctx, caller, limit, cache)));
    return page(scanned.filter((_, index) => visible[index]).map(limitView), scanned, params.limit);
  }

  async function budgetsPage(
    ctx: Context,
    caller: Caller,
    params: PageParams & { costCentre?: string; activeAt?: string },
  ) {
    const scanned = await listBudgets(db, caller.companyId, {
      limit: params.limit,
      after: cursorOf(params),
      costCentre: costCentreOf(params.costCentre),
      activeAt: params.activeAt ? new Date(params.activeAt) : undefined,
    });
    const visible = await Promise.all(scanned.map((budget) => budgetVisible(ctx, caller, budget)));
    return page(scanned.filter((_, index) => visible[index]).map(budgetView), scanned, params.limit);
  }

  /** Staff see a company's limits and budgets as its company-scope readers do. */
  function staffCaller(ctx: Context, companyId: string): Caller {
    const auth = authOf(ctx);
    requireStaffReader(auth);
    return { auth, companyId, read: 'company', manage: undefined, user: null };
  }

  return {
    name: 'spending',
    actions: {
      'limits.list': {
        params: schemaRef('api/spending/spending-limit-list-query'),
        async handler(ctx: Context<PageParams & { subjectType?: string; subjectId?: string }>) {
          const caller = await buyerCaller(ctx);
          requireSomeRead(caller);
          return limitsPage(ctx, caller, ctx.params);
        },
      },

      'limits.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const caller = await buyerCaller(ctx);
          return limitDetail(await visibleLimit(ctx, caller, ctx.params.id));
        },
      },

      'limits.create': {
        params: schemaRef('api/spending/create-spending-limit-request'),
        async handler(
          ctx: Context<{
            subject: Subject;
            per: LimitWindow;
            amount: Money;
            mode: SpendMode;
            timeZone: string;
          }>,
        ) {
          const caller = await buyerCaller(ctx);
          requireSomeManage(caller);
          checkTimeZone(ctx.params.timeZone);
          const { subject } = ctx.params;
          // Resolving the subject also proves it belongs to the caller's company (404 otherwise).
          const placement = await placementOf(ctx, caller.companyId, subject);
          if (!canManageLimit(caller, subject, placement)) {
            throw new Forbidden(`This ${subject.type} is outside your spending.manage scope`);
          }
          const origin = originOf(ctx);
          return db.transaction(async (tx) => {
            const limit = await insertLimit(tx, {
              companyId: caller.companyId,
              subject,
              per: ctx.params.per,
              amount: amountOf(ctx.params.amount),
              mode: ctx.params.mode,
              timeZone: ctx.params.timeZone ?? DEFAULT_TIME_ZONE,
              createdBy: caller.auth.principalId,
            });
            const view = limitView(limit);
            await recordAudit(tx, caller.auth, origin, {
              action: 'spending_limit.created',
              entityType: 'spending_limit',
              entityId: limit.id,
              details: {
                subject: view.subject,
                per: view.per,
                amount: view.amount,
                mode: view.mode,
                timeZone: view.timeZone,
              },
            });
            return view;
          });
        },
      },

      'limits.update': {
        params: schemaRef('api/spending/update-spending-limit-params'),
        async handler(ctx: Context<{ id: string; amount?: Money; mode?: SpendMode; timeZone?: string }>) {
          const caller = await buyerCaller(ctx);
          checkTimeZone(ctx.params.timeZone);
          await manageableLimit(ctx, caller, ctx.params.id);
          const origin = originOf(ctx);
          return db.transaction(async (tx) => {
            const before = await findLimit(tx, caller.companyId, ctx.params.id, { lock: true });
            if (!before) throw new NotFound('Spending limit');
            const after = await updateLimit(tx, caller.companyId, ctx.params.id, {
              amount: ctx.params.amount ? amountOf(ctx.params.amount) : undefined,
              mode: ctx.params.mode,
              timeZone: ctx.params.timeZone,
            });
            const [was, is] = [limitView(before), limitView(after)];
            await recordAudit(tx, caller.auth, origin, {
              action: 'spending_limit.updated',
              entityType: 'spending_limit',
              entityId: after.id,
              details: {
                before: { amount: was.amount, mode: was.mode, timeZone: was.timeZone },
                after: { amount: is.amount, mode: is.mode, timeZone: is.timeZone },
              },
            });
            return is;
          });
        },
      },

      'limits.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const caller = await buyerCaller(ctx);
          await manageableLimit(ctx, caller, ctx.params.id);
          const origin = originOf(ctx);
          await db.transaction(async (tx) => {
            const limit = await findLimit(tx, caller.companyId, ctx.params.id, { lock: true });
            if (!limit) throw new NotFound('Spending limit');
            await deleteLimit(tx, caller.companyId, limit.id);
            const view = limitView(limit);
            await recordAudit(tx, caller.auth, origin, {
              action: 'spending_limit.deleted',
              entityType: 'spending_limit',
              entityId: limit.id,
              details: { subject: view.subject, per: view.per, amount: view.amount, mode: view.mode },
            });
          });
          return null;
        },
      },

      'budgets.list': {
        params: schemaRef('api/spending/budget-list-query'),
        async handler(ctx: Context<PageParams & { costCentre?: string; activeAt?: string }>) {
          const caller = await buyerCaller(ctx);
          requireSomeRead(caller);
          return budgetsPage(ctx, caller, ctx.params);
        },
      },

      'budgets.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const caller = await buyerCaller(ctx);
          return budgetDetail(await visibleBudget(ctx, caller, ctx.params.id));
        },
      },

      'budgets.create': {
        params: schemaRef('api/spending/create-budget-request'),
        async handler(
          ctx: Context<{
            costCentre: string;
            period: PeriodKind;
            periodStart: string;
            amount: Money;
            mode: SpendMode;
            timeZone: string;
            unitId?: string;
          }>,
        ) {
          const caller = await buyerCaller(ctx);
          requireSomeManage(caller);
          checkTimeZone(ctx.params.timeZone);
          const unitId = ctx.params.unitId ?? null;
          const placement = unitId ? await unitPlacement(ctx, caller.companyId, unitId) : null;
          if (!canManageBudget(caller, placement)) {
            throw new Forbidden(
              unitId
                ? 'This unit is outside your spending.manage scope'
                : 'Company-wide budgets need spending.manage at company scope',
            );
          }
          const origin = originOf(ctx);
          return db.transaction(async (tx) => {
            const budget = await insertBudget(tx, {
              companyId: caller.companyId,
              costCentre: costCentreOf(ctx.params.costCentre)!,
              period: ctx.params.period,
              periodStart: parseLocalDate(ctx.params.periodStart),
              timeZone: ctx.params.timeZone ?? DEFAULT_TIME_ZONE,
              amount: amountOf(ctx.params.amount),
              mode: ctx.params.mode,
              unitId,
              createdBy: caller.auth.principalId,
            });
            const view = budgetView(budget);
            await recordAudit(tx, caller.auth, origin, {
              action: 'budget.created',
              entityType: 'budget',
              entityId: budget.id,
              details: {
                costCentre: view.costCentre,
                period: view.period,
                periodStart: view.periodStart,
                amount: view.amount,
                mode: view.mode,
                unitId: view.unitId,
              },
            });
            return view;
          });
        },
      },

      'budgets.update': {
        params: schemaRef('api/spending/update-budget-params'),
        async handler(ctx: Context<{ id: string; amount?: Money; mode?: SpendMode }>) {
          const caller = await buyerCaller(ctx);
          await manageableBudget(ctx, caller, ctx.params.id);
          const origin = originOf(ctx);
          return db.transaction(async (tx) => {
            const before = await findBudget(tx, caller.companyId, ctx.params.id, { lock: true });
            if (!before) throw new NotFound('Budget');
            const after = await updateBudget(tx, caller.companyId, ctx.params.id, {
              amount: ctx.params.amount ? amountOf(ctx.params.amount) : undefined,
              mode: ctx.params.mode,
            });
            const [was, is] = [budgetView(before), budgetView(after)];
            await recordAudit(tx, caller.auth, origin, {
              action: 'budget.updated',
              entityType: 'budget',
              entityId: after.id,
              details: {
                before: { amount: was.amount, mode: was.mode },
                after: { amount: is.amount, mode: is.mode },
              },
            });
            return is;
          });
        },
      },

      'budgets.delete': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const caller = await buyerCaller(ctx);
          await manageableBudget(ctx, caller, ctx.params.id);
          const origin = originOf(ctx);
          await db.transaction(async (tx) => {
            const budget = await findBudget(tx, caller.companyId, ctx.params.id, { lock: true });
            if (!budget) throw new NotFound('Budget');
            await deleteBudget(tx, caller.companyId, budget.id);
            const view = budgetView(budget);
            await recordAudit(tx, caller.auth, origin, {
              action: 'budget.deleted',
              entityType: 'budget',
              entityId: budget.id,
              details: {
                costCentre: view.costCentre,
                period: view.period,
                periodStart: view.periodStart,
                amount: view.amount,
              },
            });
          });
          return null;
        },
      },

      'staff.limits.list': {
        params: schemaRef('api/spending/staff-spending-limit-list-query'),
        async handler(
          ctx: Context<PageParams & { companyId: string; subjectType?: string; subjectId?: string }>,
        ) {
          return limitsPage(ctx, staffCaller(ctx, ctx.params.companyId), ctx.params);
        },
      },

      'staff.limits.get': {
        params: schemaRef('api/spending/staff-company-item-params'),
        async handler(ctx: Context<{ companyId: string; id: string }>) {
          const caller = staffCaller(ctx, ctx.params.companyId);
          return limitDetail(await visibleLimit(ctx, caller, ctx.params.id));
        },
      },

      'staff.budgets.list': {
        params: schemaRef('api/spending/staff-budget-list-query'),
        async handler(
          ctx: Context<PageParams & { companyId: string; costCentre?: string; activeAt?: string }>,
        ) {
          return budgetsPage(ctx, staffCaller(ctx, ctx.params.companyId), ctx.params);
        },
      },

      'staff.budgets.get': {
        params: schemaRef('api/spending/staff-company-item-params'),
        async handler(ctx: Context<{ companyId: string; id: string }>) {
          const caller = staffCaller(ctx, ctx.params.companyId);
          return budgetDetail(await visibleBudget(ctx, caller, ctx.params.id));
        },
      },

      /** Internal (orders, quotes): would this purchase by the caller stay within limits and budgets? */
      check: {
        visibility: 'public' as const,
        params: schemaRef('api/spending/spending-check-params'),
        async handler(ctx: Context<{ amount: Money; costCentre?: string; at?: string }>) {
          return checkPurchase(ctx, db, {
            amount: ctx.params.amount,
            costCentre: costCentreOf(ctx.params.costCentre),
            at: ctx.params.at,
          });
        },
      },

      /** Internal: record the purchase after a re-check under row locks; idempotent per reference. */
      commit: {
        visibility: 'public' as const,
        params: schemaRef('api/spending/spending-commit-params'),
        async handler(ctx: Context<EntryParams>) {
          return commitPurchase(ctx, db, { ...ctx.params, costCentre: costCentreOf(ctx.params.costCentre) });
        },
      },

      /** Internal: the purchase was fulfilled or invoiced; its committed amount becomes spent. */
      settle: {
        visibility: 'public' as const,
        params: schemaRef('api/spending/spending-reference-params'),
        async handler(ctx: Context<{ reference: { type: string; id: string } }>) {
          return settlePurchase(ctx, db, ctx.params.reference);
        },
      },

      /** Internal: the purchase was cancelled; a negative ledger entry reverses it. */
      release: {
        visibility: 'public' as const,
        params: schemaRef('api/spending/spending-reference-params'),
        async handler(ctx: Context<{ reference: { type: string; id: string } }>) {
          return releasePurchase(ctx, db, ctx.params.reference);
        },
      },
    },
  };
}

export const spendingModule: HubModule = {
  name: 'spending',
  description: 'Spending limits per user and unit, budgets per cost centre, and the spend ledger',
  migrations: { domain: 'spending', directory: path.join(import.meta.dirname, 'migrations') },
  routes: spendingRoutes,
  service: spendingService,
};
