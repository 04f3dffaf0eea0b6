/**
 * Margin-floor approval through the approvals engine. A staff version below the floor moves the
 * quote to `pending_approval` and commits an outbox job (`quotes-approvals`, key
 * `quote:<id>:<version>:approval`); the job — also run at once after the commit, so the answer
 * usually already names the request — asks `approvals.staff.request` for a staff-side request on
 * the subject `quote-margin/<quote id>` with the version's totals as the snapshot and the policy
 * "one staff member holding `quotes.approve`, not the author". The same snapshot returns the same
 * request, so the two runs and any retry converge on one request.
 *
 * The engine's `approval.approved` / `approval.rejected` events move the quote: approved → the
 * version shows and the quote is `quoted`; rejected → `in_review` with the approver's comment as
 * the reason (the author quotes again). An event for a request the quote no longer waits for (it
 * was cancelled, declined, or a newer version superseded it) changes nothing, so redelivery is
 * harmless.
 */
import type { Context, ServiceBroker } from 'moleculer';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import type { Database, Transaction } from '../platform/database/database.ts';
import type { JobQueue } from '../platform/jobs/job-queue.ts';
import type { PublishedOutboxEvent } from '../platform/outbox/outbox-relay.ts';
import { writeOutbox } from '../platform/outbox/outbox-writer.ts';
import { linesOfVersion, move, requireQuote } from './quote-store.ts';
import { APPROVE } from './quotes-area.ts';

export const APPROVAL_QUEUE = 'quotes-approvals';
export const MARGIN_SUBJECT = 'quote-margin';

/** The policy the engine runs: one approver holding `quotes.approve` who is not the author. */
export const MARGIN_POLICY = {
  name: 'Quote below the margin floor',
  steps: [{ name: 'Margin approval', permission: APPROVE, required: 1 }],
};

/** Commits, with the version, the job that asks the engine for the approval. */
export async function enqueueMarginApproval(
  tx: Transaction,
  quoteId: string,
  version: number,
): Promise<void> {
  await writeOutbox(tx, [
    {
      kind: 'job',
      job: {
        queue: APPROVAL_QUEUE,
        name: 'request-approval',
        key: `quote:${quoteId}:${version}:approval`,
        data: { quoteId, version },
      },
    },
  ]);
}

/**
 * A hub-level auth context (no company) for a mesh call in someone's name: the version's author
 * requests (staff), whoever withdrew the quote cancels (the system acting for them).
 */
function hubCaller(kind: 'staff' | 'system', id: string): { meta: { auth: AuthContext } } {
  return { meta: { auth: { kind, principalId: id, companyId: null, permissions: [] } } };
}

/**
 * Asks the engine for the approval of a held version and records its id on the quote; nothing
 * when the quote no longer waits for that version or already names its request.
 */
export async function requestMarginApproval(
  db: Database,
  broker: Pick<ServiceBroker, 'call'>,
  quoteId: string,
  version: number,
): Promise<{ approvalId: string | null }> {
  const quote = await requireQuote(db, quoteId, { companyId: null });
  if (quote.state !== 'pending_approval' || quote.pendingVersion !== version) return { approvalId: null };
  if (quote.approvalId) return { approvalId: quote.approvalId };
  const { rows } = await db.query(
    'SELECT author_id, total_minor, list_total_minor FROM quotes.quote_versions WHERE quote_id = $1 AND number = $2',
    [quoteId, version],
  );
  const held = rows[0]!;
  const lines = await linesOfVersion(db, quoteId, version);
  const money = (minor: bigint) => ({ amountMinor: minor.toString(), currency: quote.currency });
  const request = (await broker.call(
    'approvals.staff.request',
    {
      companyId: quote.companyId,
      subject: { type: MARGIN_SUBJECT, id: quoteId },
      snapshot: {
        total: money(BigInt(held.total_minor)),
        lines: lines.map((line) => ({
          sku: line.skuCode ?? `free-text-line-${line.lineNo}`,
          categoryIds: [],
          quantity: line.quantity,
          lineTotal: money(line.lineTotalMinor!),
        })),
      },
      policy: MARGIN_POLICY,
    },
    hubCaller('staff', held.author_id as string),
  )) as { id: string };
  await db.query(
    `UPDATE quotes.quotes SET approval_id = $3, updated_at = now()
      WHERE id = $1 AND pending_version = $2 AND approval_id IS NULL`,
    [quoteId, version, request.id],
  );
  return { approvalId: request.id };
}

/**
 * Withdraws the engine's pending request of a quote that moved on (declined, cancelled), after
 * the quote's own change committed. A failure is only logged: a decision on a withdrawn quote
 * changes nothing (see `onMarginDecision`), the request merely stays open in the engine.
 */
export async function withdrawMarginApproval(
  ctx: Context,
  quote: { id: string; companyId: string },
  by: string,
  reason: string,
): Promise<void> {
  await ctx.broker
    .call(
      'approvals.staff.cancel',
      { companyId: quote.companyId, subject: { type: MARGIN_SUBJECT, id: quote.id }, reason },
      hubCaller('system', by),
    )
    .catch((error: unknown) => ctx.broker.logger.warn('quote margin approval not withdrawn', error));
}

/** The engine decided: release the held version or return the quote to review with the reason. */
export async function onMarginDecision(
  db: Database,
  ctx: Context<PublishedOutboxEvent>,
  outcome: 'approved' | 'rejected',
): Promise<void> {
  const data = ctx.params.data as {
    approvalId: string;
    subject?: { type: string; id: string };
    rejectedBy?: string;
    comment?: string;
  };
  if (data.subject?.type !== MARGIN_SUBJECT) return;
  await db.transaction(async (tx) => {
    const quote = await requireQuote(tx, data.subject!.id, { companyId: null }, { lock: true }).catch(
      () => null,
    );
    if (quote?.state !== 'pending_approval' || quote.approvalId !== data.approvalId) return;
    const version = quote.pendingVersion!;
    const { rows } = await tx.query(
      'SELECT valid_until, total_minor FROM quotes.quote_versions WHERE quote_id = $1 AND number = $2',
      [quote.id, version],
    );
    const validUntil = rows[0]!.valid_until as Date;
    const expired = validUntil.getTime() <= Date.now();
    const approved = outcome === 'approved' && !expired;
    await tx.query('UPDATE quotes.quote_versions SET approval = $3 WHERE quote_id = $1 AND number = $2', [
      quote.id,
      version,
      approved ? 'approved' : 'rejected',
    ]);
    const system = { kind: 'system' as const, id: null };
    if (approved) {
      await move(
        tx,
        ctx,
        quote,
        'approve',
        system,
        { version, total: BigInt(rows[0]!.total_minor) },
        { quoted_version: version, valid_until: validUntil, pending_version: null },
      );
      return;
    }
    const reason =
      outcome === 'approved'
        ? 'Approved after the version had run out of validity; quote again'
        : `Margin approval rejected: ${data.comment ?? ''}`.slice(0, 1000);
    await move(tx, ctx, quote, 'return', system, { version, reason }, { pending_version: null });
  });
}

export async function startMarginApproval(platform: { db: Database; jobs: JobQueue }, broker: ServiceBroker) {
  await platform.jobs.process<{ quoteId: string; version: number }>(APPROVAL_QUEUE, (job) =>
    requestMarginApproval(platform.db, broker, job.data.quoteId, job.data.version),
  );
}
