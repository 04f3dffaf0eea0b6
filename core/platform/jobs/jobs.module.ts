import type { Context, ServiceSchema } from 'moleculer';
import { schemaRef } from '../../../schemas/index.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { originOf, requirePermission } from '../auth/auth-context.ts';
import { NotFound } from '../errors/hub-errors.ts';
import type { RouteSpec } from '../http/route-spec.ts';
import type { HubModule } from '../hub-module.ts';
import type { Platform } from '../platform.ts';
import type { JobQueue } from './job-queue.ts';

/** As api/common/list-query. */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
const MAX_OFFSET = 100_000;
/** Queue counts are fetched this many at a time, so a store with many queues is not hammered. */
const COUNT_CONCURRENCY = 10;

/** Route and query values arrive as strings until the schema validator coerces them. */
function integerParam(value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(number)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(number)));
}

function queueNameOf(queue: unknown): string | undefined {
  const name = (queue as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** Every queue of the store (opened by any process of the mesh) plus those opened here. */
async function queueNames(jobs: JobQueue): Promise<string[]> {
  const discovered = (await jobs.discoverQueues()).map(queueNameOf).filter((name) => name !== undefined);
  return [...new Set([...discovered, ...jobs.knownQueues()])].sort();
}

/**
 * Refuses queue names the store does not know, so request input never makes the port open (and
 * keep) a queue object per name an attacker invents.
 */
async function requireQueue(jobs: JobQueue, queue: unknown): Promise<string> {
  if (
    typeof queue === 'string' &&
    (jobs.knownQueues().includes(queue) || (await queueNames(jobs)).includes(queue))
  ) {
    return queue;
  }
  throw new NotFound(`Queue ${typeof queue === 'string' ? queue : ''}`.trim());
}

export function jobsService(platform: Pick<Platform, 'jobs' | 'db'>): ServiceSchema {
  const { jobs, db } = platform;
  return {
    name: 'jobs',
    actions: {
      queues: {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          requirePermission(ctx, 'jobs.read');
          const names = await queueNames(jobs);
          const items: Array<{ name: string; counts: Record<string, number> }> = [];
          for (let start = 0; start < names.length; start += COUNT_CONCURRENCY) {
            const slice = names.slice(start, start + COUNT_CONCURRENCY);
            items.push(
              ...(await Promise.all(slice.map(async (name) => ({ name, counts: await jobs.counts(name) })))),
            );
          }
          return { items };
        },
      },

      failed: {
        params: schemaRef('api/jobs/failed-jobs-query'),
        async handler(ctx: Context<{ queue?: unknown; limit?: unknown; cursor?: unknown }>) {
          requirePermission(ctx, 'jobs.read');
          const queue = await requireQueue(jobs, ctx.params.queue);
          const limit = integerParam(ctx.params.limit, DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
          // BullMQ pages failed jobs by position (newest first); the cursor is the next position.
          // A failure arriving between two pages shifts the list: a job may show on both pages.
          const offset = integerParam(ctx.params.cursor, 0, 0, MAX_OFFSET);
          const [items, counts] = await Promise.all([
            jobs.failed(queue, { start: offset, end: offset + limit - 1 }),
            jobs.counts(queue),
          ]);
          const total = counts.failed ?? 0;
          const nextCursor = items.length === limit && offset + limit < total ? String(offset + limit) : null;
          return { queue, items, nextCursor, total };
        },
      },

      replay: {
        params: schemaRef('api/jobs/job-params'),
        async handler(ctx: Context<{ queue?: unknown; id?: unknown }>) {
          const auth = requirePermission(ctx, 'jobs.replay');
          const queue = await requireQueue(jobs, ctx.params.queue);
          const id = typeof ctx.params.id === 'string' ? ctx.params.id : '';
          if (!id) throw new NotFound('Job');
          // NotFound for an unknown job, Conflict for one that is not failed: both from the port.
          await jobs.replay(queue, id);
          await recordAudit(db, auth, originOf(ctx), {
            action: 'job.replayed',
            entityType: 'job',
            entityId: `${queue}/${id}`,
            companyId: null,
          });
          return (await jobs.get(queue, id)) ?? { queue, id, state: 'unknown' };
        },
      },
    },
  };
}

const routes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/staff/jobs/queues',
    action: 'jobs.queues',
    operationId: 'listJobQueues',
    tag: 'jobs',
    summary: 'Job queues of the whole mesh with their job counts per state',
    audience: 'staff',
  },
  {
    method: 'GET',
    path: '/api/staff/jobs/queues/:queue/failed',
    action: 'jobs.failed',
    operationId: 'listFailedJobs',
    tag: 'jobs',
    summary: 'Failed jobs of a queue, newest first, with their failure kind (limit/cursor paging)',
    audience: 'staff',
    querySchema: 'api/jobs/failed-jobs-query',
  },
  {
    method: 'POST',
    path: '/api/staff/jobs/queues/:queue/jobs/:id/replay',
    action: 'jobs.replay',
    operationId: 'replayFailedJob',
    tag: 'jobs',
    summary: 'Run a failed job again with a fresh attempt budget',
    audience: 'staff',
    paramsSchema: 'api/jobs/job-params',
    successStatus: 202,
  },
];

/** Staff administration of the job queues: what is queued, what failed and why, replay. */
export const jobsModule: HubModule = {
  name: 'jobs',
  description: 'Job queue administration: queue counts, failed jobs with their failure kind, replay',
  routes,
  service: (platform: Platform) => jobsService(platform),
};
