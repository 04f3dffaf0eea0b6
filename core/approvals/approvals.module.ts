import path from 'node:path';
import type { Context, Service, ServiceSchema } from 'moleculer';
import type {
  ApprovalListResponse,
  ApprovalSubject,
  CreateApprovalRuleRequest,
  DecideApprovalParams,
  SetDelegationRequest,
  UpdateApprovalRuleParams,
} from '../../schemas/generated/types.ts';
import { schemaRef } from '../../schemas/index.ts';
import { recordAudit } from '../platform/audit/audit-log.ts';
import { authOf, originOf, requireBuyerCompany, requirePermission } from '../platform/auth/auth-context.ts';
import { Forbidden, NotFound, UnprocessableRequest } from '../platform/errors/hub-errors.ts';
import type { HubModule } from '../platform/hub-module.ts';
import type { Platform } from '../platform/platform.ts';
import { type ActionCaller, userContext } from './accounts-client.ts';
import type { PurchaseSnapshot } from './condition.ts';
import {
  activeDelegators,
  deleteDelegation,
  findDelegation,
  toApprovalDelegation,
  upsertDelegation,
} from './delegations.ts';
import { type Actor, cancelApproval, decide, type Engine, requestApproval, visibleDetail } from './engine.ts';
import { sweepEscalations } from './escalation.ts';
import { pendingFor } from './pending.ts';
import { latestRequest, loadDetail, REQUEST_COLUMNS, toApprovalRequest, toRequestRow } from './requests.ts';
import { CompiledRuleCache } from './rule-cache.ts';
import {
  checkRuleInput,
  deleteRule,
  findRule,
  insertRule,
  listRules,
  type RuleInput,
  ruleCursor,
  updateRule,
} from './rules.ts';
import {
  cancelStaffApproval,
  decideAsStaff,
  requestStaffApproval,
  type StaffActor,
  type StaffPolicy,
  staffDetail,
  staffPending,
} from './staff-requests.ts';
import { visibleRequests } from './visibility.ts';

export interface ApprovalsOptions {
  /** How often this process sweeps for steps due to escalate (default 60 s; 0 = never). */
  sweepIntervalMs?: number;
  /** The engine's clock; tests pass a fake one. */
  clock?: () => Date;
}

interface ListParams {
  limit: number;
  cursor?: string;
}

/** Longest delegation window: a year (and a day). */
const MAX_DELEGATION_MS = 366 * 24 * 3_600_000;

/** The buyer acting: every query below is scoped by this company, from the auth context only. */
function buyerActor(ctx: Context): Actor {
  const { auth, companyId } = requireBuyerCompany(ctx);
  if (auth.kind !== 'buyer') throw new Forbidden('This operation is for buyer users');
  return { auth, companyId, userId: auth.principalId, origin: originOf(ctx) };
}

/** A staff member (or a staff-level system caller) acting: no company in the auth context. */
function staffActor(ctx: Context): StaffActor {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer' || auth.companyId) throw new Forbidden('This operation is for staff');
  return { auth, userId: auth.principalId, origin: originOf(ctx) };
}

function rulesManager(ctx: Context): Actor {
  requirePermission(ctx, 'approvals.rules.manage', 'company');
  return buyerActor(ctx);
}

function approvalsService(platform: Platform, options: ApprovalsOptions): ServiceSchema {
  const { db } = platform;
  const now = options.clock ?? (() => new Date());
  const rules = new CompiledRuleCache();
  const engineFor = (accounts: ActionCaller): Engine => ({ db, accounts, rules });
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;

  return {
    name: 'approvals',
    actions: {
      'rules.list': {
        params: schemaRef('api/common/list-query'),
        async handler(ctx: Context<ListParams>) {
          const { companyId } = rulesManager(ctx);
          const items = await listRules(db, companyId, ctx.params);
          const last = items.at(-1);
          return { items, nextCursor: items.length === ctx.params.limit && last ? ruleCursor(last) : null };
        },
      },

      'rules.create': {
        params: schemaRef('api/approvals/create-approval-rule-request'),
        async handler(ctx: Context<CreateApprovalRuleRequest>) {
          const actor = rulesManager(ctx);
          const input = ctx.params as unknown as RuleInput;
          checkRuleInput(input);
          return db.transaction(async (tx) => {
            const rule = await insertRule(tx, actor.companyId, input);
            await recordAudit(tx, actor.auth, actor.origin, {
              action: 'approval_rule.created',
              entityType: 'approval_rule',
              entityId: rule.id,
              details: { rule },
            });
            return rule;
          });
        },
      },

      'rules.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const { companyId } = rulesManager(ctx);
          const rule = await findRule(db, companyId, ctx.params.id);
          if (!rule) throw new NotFound('Approval rule');
          return rule;
        },
      },

      'rules.update': {
        params: schemaRef('api/approvals/update-approval-rule-params'),
        async handler(ctx: Context<UpdateApprovalRuleParams>) {
          const actor = rulesManager(ctx);
          const { id, ...changes } = ctx.params;
          checkRuleInput(changes as Partial<RuleInput>);
          return db.transaction(async (tx) => {
            const updated = await updateRule(tx, actor.companyId, id, changes as Partial<RuleInput>);
            if (!updated) throw new NotFound('Approval rule');
            const keys = Object.keys(changes) as (keyof typeof changes)[];
            await recordAudit(tx, actor.auth, actor.origin, {
              action: 'approval_rule.updated',
              entityType: 'approval_rule',
              entityId: id,
              details: {
                version: updated.after.version,
                previous: Object.fromEntries(keys.map((key) => [key, updated.before[key]])),
                changes,
              },
            });
            return updated.after;
          });
        },
      },

      'rules.remove': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const actor = rulesManager(ctx);
          await db.transaction(async (tx) => {
            const rule = await deleteRule(tx, actor.companyId, ctx.params.id);
            if (!rule) throw new NotFound('Approval rule');
            await recordAudit(tx, actor.auth, actor.origin, {
              action: 'approval_rule.deleted',
              entityType: 'approval_rule',
              entityId: rule.id,
              details: { rule },
            });
          });
          return null;
        },
      },

      'requests.list': {
        params: schemaRef('api/approvals/approval-list-query'),
        async handler(ctx: Context<{ status?: string; limit: number; cursor?: string }>) {
          const actor = buyerActor(ctx);
          const delegators = await activeDelegators(db, actor.companyId, actor.userId, now());
          const visible = visibleRequests({ ...actor, delegators }, 4);
          const { rows } = await db.query(
            `SELECT ${REQUEST_COLUMNS} FROM approvals.requests r
              WHERE ($1::text IS NULL OR r.status = $1) AND ($2::uuid IS NULL OR r.id > $2::uuid)
                AND ${visible.sql}
              ORDER BY r.id LIMIT $3`,
            [ctx.params.status ?? null, ctx.params.cursor ?? null, ctx.params.limit, ...visible.values],
          );
          const items: ApprovalListResponse['items'] = rows.map(toRequestRow).map((request) => ({
            id: request.id,
            subject: request.subject,
            status: request.status,
            snapshotHash: request.snapshotHash,
            total: request.snapshot.total,
            requesterId: request.requesterId,
            createdAt: request.createdAt.toISOString(),
            completedAt: request.completedAt?.toISOString() ?? null,
          }));
          return { items, nextCursor: items.length === ctx.params.limit ? items.at(-1)!.id : null };
        },
      },

      pending: {
        params: schemaRef('api/approvals/pending-approvals-query'),
        async handler(ctx: Context<ListParams>) {
          const actor = buyerActor(ctx);
          const delegators = await activeDelegators(db, actor.companyId, actor.userId, now());
          const items = await pendingFor(db, actor.companyId, actor.userId, delegators, ctx.params);
          return { items, nextCursor: items.length === ctx.params.limit ? items.at(-1)!.stepId : null };
        },
      },

      'requests.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          const actor = buyerActor(ctx);
          const delegators = await activeDelegators(db, actor.companyId, actor.userId, now());
          return toApprovalRequest(await visibleDetail(db, { ...actor, delegators }, ctx.params.id));
        },
      },

      decide: {
        params: schemaRef('api/approvals/decide-approval-params'),
        async handler(ctx: Context<DecideApprovalParams>) {
          const actor = buyerActor(ctx);
          const { id, ...input } = ctx.params;
          return toApprovalRequest(await decide(engineFor(ctx), actor, id, input, now()));
        },
      },

      'delegation.get': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          requirePermission(ctx, 'approvals.delegate');
          const actor = buyerActor(ctx);
          const delegation = await findDelegation(db, actor.companyId, actor.userId);
          if (!delegation) throw new NotFound('Delegation');
          return toApprovalDelegation(delegation, now());
        },
      },

      'delegation.set': {
        params: schemaRef('api/approvals/set-delegation-request'),
        async handler(ctx: Context<SetDelegationRequest>) {
          requirePermission(ctx, 'approvals.delegate');
          const actor = buyerActor(ctx);
          const at = now();
          const validFrom = ctx.params.validFrom ? new Date(ctx.params.validFrom) : at;
          const validUntil = new Date(ctx.params.validUntil);
          if (ctx.params.delegateId === actor.userId) {
            throw new UnprocessableRequest('invalid-delegation', 'You cannot delegate to yourself');
          }
          if (validUntil <= validFrom || validUntil <= at) {
            throw new UnprocessableRequest(
              'invalid-delegation',
              'validUntil must be after validFrom and in the future',
            );
          }
          if (validUntil.getTime() - validFrom.getTime() > MAX_DELEGATION_MS) {
            throw new UnprocessableRequest('invalid-delegation', 'A delegation lasts at most 366 days');
          }
          // Another company's user is "not found", exactly like an id that exists nowhere.
          const delegate = await userContext(ctx, ctx.params.delegateId);
          if (!delegate || delegate.companyId !== actor.companyId) throw new NotFound('User');
          if (delegate.status !== 'active') {
            throw new UnprocessableRequest('invalid-delegation', 'The delegate is not an active user');
          }
          return db.transaction(async (tx) => {
            const { previous, current } = await upsertDelegation(tx, actor.companyId, {
              delegatorId: actor.userId,
              delegateId: delegate.userId,
              validFrom,
              validUntil,
            });
            await recordAudit(tx, actor.auth, actor.origin, {
              action: 'approval_delegation.set',
              entityType: 'approval_delegation',
              entityId: actor.userId,
              details: {
                delegateId: current.delegateId,
                validFrom: current.validFrom.toISOString(),
                validUntil: current.validUntil.toISOString(),
                previousDelegateId: previous?.delegateId ?? null,
              },
            });
            return toApprovalDelegation(current, at);
          });
        },
      },

      'delegation.remove': {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          requirePermission(ctx, 'approvals.delegate');
          const actor = buyerActor(ctx);
          await db.transaction(async (tx) => {
            const removed = await deleteDelegation(tx, actor.companyId, actor.userId);
            if (!removed) throw new NotFound('Delegation');
            await recordAudit(tx, actor.auth, actor.origin, {
              action: 'approval_delegation.removed',
              entityType: 'approval_delegation',
              entityId: actor.userId,
              details: { delegateId: removed.delegateId },
            });
          });
          return null;
        },
      },

      /**
       * Internal, for orders and quotes, called with the buyer's context (the requester): the
       * approval of a frozen purchase. Same snapshot again: the same request; another: a new one.
       */
      request: {
        visibility: 'public' as const,
        params: schemaRef('api/approvals/request-approval-params'),
        async handler(ctx: Context<{ subject: ApprovalSubject; snapshot: PurchaseSnapshot }>) {
          const actor = buyerActor(ctx);
          const detail = await requestApproval(
            engineFor(ctx),
            actor,
            ctx.params.subject,
            ctx.params.snapshot,
            now(),
          );
          return toApprovalRequest(detail);
        },
      },

      /** Internal: the subject's latest request, to check status and snapshot hash before placing. */
      status: {
        visibility: 'public' as const,
        params: schemaRef('api/approvals/approval-subject-params'),
        async handler(ctx: Context<{ subject: ApprovalSubject }>) {
          const { companyId } = requireBuyerCompany(ctx);
          const latest = await latestRequest(db, companyId, ctx.params.subject);
          const detail = latest ? await loadDetail(db, companyId, latest.id) : undefined;
          if (!detail) throw new NotFound('Approval request');
          return toApprovalRequest(detail);
        },
      },

      /** Internal: the order or quote was withdrawn; its current approval request is cancelled. */
      cancel: {
        visibility: 'public' as const,
        params: schemaRef('api/approvals/cancel-approval-params'),
        async handler(ctx: Context<{ subject: ApprovalSubject; reason?: string }>) {
          const actor = buyerActor(ctx);
          const detail = await cancelApproval(
            engineFor(ctx),
            actor,
            ctx.params.subject,
            ctx.params.reason,
            now(),
          );
          return toApprovalRequest(detail);
        },
      },

      /**
       * Internal, for hub domains, called with the requesting staff member's context: a staff-side
       * approval of one company's subject (see staff-requests.ts).
       */
      'staff.request': {
        visibility: 'public' as const,
        params: schemaRef('api/approvals/staff-approval-request-params'),
        async handler(
          ctx: Context<{
            companyId: string;
            subject: ApprovalSubject;
            snapshot: PurchaseSnapshot;
            policy: StaffPolicy;
          }>,
        ) {
          const actor = staffActor(ctx);
          return toApprovalRequest(await requestStaffApproval(engineFor(ctx), actor, ctx.params, now()));
        },
      },

      /** Internal: the subject moved on; its pending staff request is cancelled (null when none). */
      'staff.cancel': {
        visibility: 'public' as const,
        params: schemaRef('api/approvals/staff-cancel-approval-params'),
        async handler(ctx: Context<{ companyId: string; subject: ApprovalSubject; reason?: string }>) {
          const actor = staffActor(ctx);
          const detail = await cancelStaffApproval(engineFor(ctx), actor, ctx.params, now());
          return detail ? toApprovalRequest(detail) : null;
        },
      },

      'staff.pending': {
        params: schemaRef('api/approvals/pending-approvals-query'),
        async handler(ctx: Context<ListParams>) {
          const items = await staffPending(db, staffActor(ctx), ctx.params);
          return { items, nextCursor: items.length === ctx.params.limit ? items.at(-1)!.stepId : null };
        },
      },

      'staff.get': {
        params: schemaRef('api/common/id-params'),
        async handler(ctx: Context<{ id: string }>) {
          return toApprovalRequest(await staffDetail(db, staffActor(ctx), ctx.params.id));
        },
      },

      'staff.decide': {
        params: schemaRef('api/approvals/decide-approval-params'),
        async handler(ctx: Context<DecideApprovalParams>) {
          const { id, ...input } = ctx.params;
          return toApprovalRequest(await decideAsStaff(engineFor(ctx), staffActor(ctx), id, input, now()));
        },
      },
    },

    started(this: Service) {
      const interval = options.sweepIntervalMs ?? 60_000;
      if (interval <= 0) return;
      const broker = this.broker;
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = sweepEscalations(db, broker, now())
          .catch((error: unknown) => this.logger.warn('approval escalation sweep failed', error))
          .finally(() => {
            sweeping = undefined;
          });
      }, interval);
      timer.unref();
    },

    async stopped() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sweeping;
    },
  };
}

/** The approvals module; `options` tune the escalation sweep and the clock (tests). */
export function createApprovalsModule(options: ApprovalsOptions = {}): HubModule {
  return {
    name: 'approvals',
    description:
      'Purchase approval rules, approval requests with N-of-M steps, delegation and escalation; staff-side requests decided by permission holders',
    migrations: { domain: 'approvals', directory: path.join(import.meta.dirname, 'migrations') },
    routes: [
      {
        method: 'GET',
        path: '/api/approval-rules',
        action: 'approvals.rules.list',
        operationId: 'listApprovalRules',
        tag: 'approvals',
        summary: "The company's approval rules, highest priority first (buyer admin)",
        audience: 'buyer',
        querySchema: 'api/common/list-query',
        responseSchema: 'api/approvals/approval-rule-list-response',
      },
      {
        method: 'POST',
        path: '/api/approval-rules',
        action: 'approvals.rules.create',
        operationId: 'createApprovalRule',
        tag: 'approvals',
        summary: 'Add an approval rule: a condition over the purchase and a chain of approver steps',
        audience: 'buyer',
        requestSchema: 'api/approvals/create-approval-rule-request',
        responseSchema: 'entities/approval-rule',
        successStatus: 201,
        location: '/api/approval-rules/{id}',
      },
      {
        method: 'GET',
        path: '/api/approval-rules/:id',
        action: 'approvals.rules.get',
        operationId: 'getApprovalRule',
        tag: 'approvals',
        summary: 'One approval rule of the company (buyer admin)',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/approval-rule',
      },
      {
        method: 'PATCH',
        path: '/api/approval-rules/:id',
        action: 'approvals.rules.update',
        operationId: 'updateApprovalRule',
        tag: 'approvals',
        summary: 'Change an approval rule; requests already made keep their steps',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        requestSchema: 'api/approvals/update-approval-rule-request',
        responseSchema: 'entities/approval-rule',
      },
      {
        method: 'DELETE',
        path: '/api/approval-rules/:id',
        action: 'approvals.rules.remove',
        operationId: 'deleteApprovalRule',
        tag: 'approvals',
        summary: 'Delete an approval rule; requests already made keep their steps',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        successStatus: 204,
      },
      {
        method: 'GET',
        path: '/api/approvals',
        action: 'approvals.requests.list',
        operationId: 'listApprovalRequests',
        tag: 'approvals',
        summary:
          'Approval requests the caller may see: their own, those they approve, and their approvals.read scope',
        audience: 'buyer',
        querySchema: 'api/approvals/approval-list-query',
        responseSchema: 'api/approvals/approval-list-response',
      },
      {
        method: 'GET',
        path: '/api/approvals/pending',
        action: 'approvals.pending',
        operationId: 'listPendingApprovals',
        tag: 'approvals',
        summary: 'Active steps waiting for the caller: as an approver or as the delegate of one',
        audience: 'buyer',
        querySchema: 'api/approvals/pending-approvals-query',
        responseSchema: 'api/approvals/pending-approval-list-response',
      },
      {
        method: 'GET',
        path: '/api/approvals/delegation',
        action: 'approvals.delegation.get',
        operationId: 'getApprovalDelegation',
        tag: 'approvals',
        summary: "The caller's delegation of their approvals",
        audience: 'buyer',
        responseSchema: 'entities/approval-delegation',
      },
      {
        method: 'PUT',
        path: '/api/approvals/delegation',
        action: 'approvals.delegation.set',
        operationId: 'setApprovalDelegation',
        tag: 'approvals',
        summary: 'Let another user of the company decide in the caller’s place for a while',
        audience: 'buyer',
        requestSchema: 'api/approvals/set-delegation-request',
        responseSchema: 'entities/approval-delegation',
      },
      {
        method: 'DELETE',
        path: '/api/approvals/delegation',
        action: 'approvals.delegation.remove',
        operationId: 'removeApprovalDelegation',
        tag: 'approvals',
        summary: "End the caller's delegation",
        audience: 'buyer',
        successStatus: 204,
      },
      {
        method: 'GET',
        path: '/api/approvals/:id',
        action: 'approvals.requests.get',
        operationId: 'getApprovalRequest',
        tag: 'approvals',
        summary: 'An approval request with its history: chains, steps, decisions and escalations',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/approval-request',
      },
      {
        method: 'POST',
        path: '/api/approvals/:id/decisions',
        action: 'approvals.decide',
        operationId: 'decideApproval',
        tag: 'approvals',
        summary: 'Approve or reject (with a comment) the active steps the caller may decide',
        audience: 'buyer',
        paramsSchema: 'api/common/id-params',
        requestSchema: 'api/approvals/decide-approval-request',
        responseSchema: 'entities/approval-request',
      },
      {
        method: 'GET',
        path: '/api/staff/approvals/pending',
        action: 'approvals.staff.pending',
        operationId: 'listStaffPendingApprovals',
        tag: 'approvals',
        summary:
          'Active steps of staff-side requests (quotes below the margin floor) the caller holds the permission for and has not decided',
        audience: 'staff',
        querySchema: 'api/approvals/pending-approvals-query',
        responseSchema: 'api/approvals/pending-approval-list-response',
      },
      {
        method: 'GET',
        path: '/api/staff/approvals/:id',
        action: 'approvals.staff.get',
        operationId: 'getStaffApprovalRequest',
        tag: 'approvals',
        summary:
          'A staff-side approval request (a quote below the margin floor): for its requester and staff holding a permission of its steps',
        audience: 'staff',
        paramsSchema: 'api/common/id-params',
        responseSchema: 'entities/approval-request',
      },
      {
        method: 'POST',
        path: '/api/staff/approvals/:id/decisions',
        action: 'approvals.staff.decide',
        operationId: 'decideStaffApproval',
        tag: 'approvals',
        summary:
          'Approve or reject (with a comment) the active step of a staff-side request whose permission the caller holds; never one’s own request',
        audience: 'staff',
        paramsSchema: 'api/common/id-params',
        requestSchema: 'api/approvals/decide-approval-request',
        responseSchema: 'entities/approval-request',
      },
    ],
    service: (platform) => approvalsService(platform, options),
  };
}

export const approvalsModule: HubModule = createApprovalsModule();
