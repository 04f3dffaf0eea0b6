import path from 'node:path';
import type { Context, ServiceSchema } from 'moleculer';
import { schemaRef } from '../../schemas/index.ts';
import { type AuthContext, authOf } from '../platform/auth/auth-context.ts';
import { Forbidden, PayloadTooLarge } from '../platform/errors/hub-errors.ts';
import type { HubModule } from '../platform/hub-module.ts';
import type { PublishedOutboxEvent } from '../platform/outbox/outbox-relay.ts';
import type { Platform } from '../platform/platform.ts';

/** The largest message a waiting flow may leave in the hub (JSON bytes). */
export const APPROVAL_WAIT_MESSAGE_MAX_BYTES = 256 * 1024;

type WaitState = 'waiting' | 'approved' | 'rejected' | 'withdrawn';

interface ApprovalSubject {
  type: string;
  id: string;
}

interface ApprovalDecision {
  id: string;
  status: string;
  chains?: Array<{
    steps?: Array<{ decisions?: Array<{ decision: string; decidedBy: string; comment: string | null }> }>;
  }>;
}

/** Flows act through a staff or system identity of their hub connection; a buyer never reaches these. */
function requireFlowCaller(ctx: Context): AuthContext {
  const auth = authOf(ctx);
  if (auth.kind === 'buyer') throw new Forbidden('This operation is for flows');
  return auth;
}

/** The rejection in a request's decisions, for its comment and who made it. */
function rejectionOf(request: ApprovalDecision) {
  for (const chain of request.chains ?? []) {
    for (const step of chain.steps ?? []) {
      const rejection = step.decisions?.find((d) => d.decision === 'reject');
      if (rejection) return rejection;
    }
  }
  return undefined;
}

function flowsService(platform: Platform): ServiceSchema {
  const { db } = platform;

  async function decide(
    approvalId: string,
    state: WaitState,
    comment: string | null,
    decidedBy: string | null,
  ) {
    await db.query(
      `UPDATE flows.approval_waits
          SET state = $2, comment = $3, decided_by = $4, decided_at = now()
        WHERE approval_id = $1 AND state = 'waiting'`,
      [approvalId, state, comment, decidedBy],
    );
  }

  /** Asks the approvals engine, as the requester, about waits whose decision event no one heard. */
  async function reconcile(ctx: Context, nodeId: string) {
    const { rows } = await db.query(
      `SELECT approval_id, company_id, requester_id, subject FROM flows.approval_waits
        WHERE node_id = $1 AND state = 'waiting' ORDER BY created_at LIMIT 500`,
      [nodeId],
    );
    for (const row of rows) {
      const requester: AuthContext = {
        kind: 'buyer',
        principalId: row.requester_id,
        companyId: row.company_id,
        permissions: [],
      };
      let latest: ApprovalDecision | undefined;
      try {
        latest = (await ctx.call(
          'approvals.status',
          { subject: row.subject as ApprovalSubject },
          { meta: { auth: requester } },
        )) as ApprovalDecision;
      } catch (error) {
        if ((error as { code?: number }).code !== 404) throw error;
      }
      if (!latest || latest.id !== row.approval_id || latest.status === 'cancelled') {
        await decide(row.approval_id, 'withdrawn', null, null);
      } else if (latest.status === 'approved' || latest.status === 'not_required') {
        await decide(row.approval_id, 'approved', null, null);
      } else if (latest.status === 'rejected') {
        const rejection = rejectionOf(latest);
        await decide(row.approval_id, 'rejected', rejection?.comment ?? null, rejection?.decidedBy ?? null);
      }
    }
  }

  return {
    name: 'flows',
    actions: {
      /** Internal, for the hub-approval node: the flow waits for this approval request's decision. */
      'approvalWaits.put': {
        visibility: 'public' as const,
        params: schemaRef('api/flows/put-approval-wait-params'),
        async handler(
          ctx: Context<{
            approvalId: string;
            nodeId: string;
            companyId: string;
            requesterId: string;
            subject: ApprovalSubject;
            message: object;
          }>,
        ) {
          requireFlowCaller(ctx);
          const { approvalId, nodeId, companyId, requesterId, subject, message } = ctx.params;
          const json = JSON.stringify(message);
          if (Buffer.byteLength(json) > APPROVAL_WAIT_MESSAGE_MAX_BYTES)
            throw new PayloadTooLarge(APPROVAL_WAIT_MESSAGE_MAX_BYTES);
          await db.query(
            `INSERT INTO flows.approval_waits (approval_id, node_id, company_id, requester_id, subject, message)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (approval_id) DO NOTHING`,
            [approvalId, nodeId, companyId, requesterId, JSON.stringify(subject), json],
          );
          return { approvalId };
        },
      },

      /** Internal: the node's decided waits, oldest first (and, with `reconcile`, missed decisions). */
      'approvalWaits.decided': {
        visibility: 'public' as const,
        params: schemaRef('api/flows/approval-waits-params'),
        async handler(ctx: Context<{ nodeId: string; reconcile?: boolean; limit?: number }>) {
          requireFlowCaller(ctx);
          const { nodeId, reconcile: check = false, limit = 50 } = ctx.params;
          if (check) await reconcile(ctx, nodeId);
          const { rows } = await db.query(
            `SELECT approval_id, company_id, subject, state, comment, decided_by, message
               FROM flows.approval_waits
              WHERE node_id = $1 AND state <> 'waiting'
              ORDER BY decided_at, approval_id LIMIT $2`,
            [nodeId, limit],
          );
          return {
            items: rows.map((row) => ({
              approvalId: row.approval_id,
              companyId: row.company_id,
              subject: row.subject,
              state: row.state,
              comment: row.comment,
              decidedBy: row.decided_by,
              message: row.message,
            })),
          };
        },
      },

      /** Internal: the node resumed its flow with the decision; the wait is gone. */
      'approvalWaits.settle': {
        visibility: 'public' as const,
        params: schemaRef('api/flows/settle-approval-wait-params'),
        async handler(ctx: Context<{ approvalId: string; nodeId: string }>) {
          requireFlowCaller(ctx);
          const { rowCount } = await db.query(
            `DELETE FROM flows.approval_waits WHERE approval_id = $1 AND node_id = $2 AND state <> 'waiting'`,
            [ctx.params.approvalId, ctx.params.nodeId],
          );
          return { settled: rowCount === 1 };
        },
      },
    },
    events: {
      'approval.approved': {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          await decide(String(ctx.params.data.approvalId), 'approved', null, null);
        },
      },
      'approval.rejected': {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          const { approvalId, comment, rejectedBy } = ctx.params.data as {
            approvalId: string;
            comment?: string;
            rejectedBy?: string;
          };
          await decide(approvalId, 'rejected', comment ?? null, rejectedBy ?? null);
        },
      },
      'approval.cancelled': {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          await decide(String(ctx.params.data.approvalId), 'withdrawn', null, null);
        },
      },
      'approval.superseded': {
        async handler(ctx: Context<PublishedOutboxEvent>) {
          await decide(String(ctx.params.data.approvalId), 'withdrawn', null, null);
        },
      },
    },
  } as ServiceSchema;
}

/**
 * The hub side of Node-RED flows: the durable waiting state of flows that wait for an approval.
 * Node-RED itself runs in the gateway (`core/gateway/flows-editor.ts`).
 */
export const flowsModule: HubModule = {
  name: 'flows',
  description: 'Durable state of Node-RED flows (approval waits)',
  migrations: { domain: 'flows', directory: path.join(import.meta.dirname, 'migrations') },
  service: flowsService,
};
