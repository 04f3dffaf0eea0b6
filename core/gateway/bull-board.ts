import type { ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { hasPermission } from '../platform/auth/auth-context.ts';
import { Forbidden, Unauthorized } from '../platform/errors/hub-errors.ts';
import type { Platform } from '../platform/platform.ts';
import type { RequestAuthenticator } from './authenticate-request.ts';
import type { GatewayRequest } from './idempotency-middleware.ts';
import { sendProblem, toProblem } from './problem-details.ts';

type Next = (error?: unknown) => void;

const BASE_PATH = '/admin/queues';
const QUEUE_REFRESH_MS = 5000;

/**
 * bull-board at /admin/queues, for staff holding `jobs.admin`. Browsers reach it with HTTP Basic
 * (staff email + password, checked through the accounts service) or the admin token cookie;
 * scripts with a Bearer token. The queue list is refreshed from the job store, so queues opened by
 * other processes of the mesh show up too.
 */
export function mountQueueBoard(platform: Platform, authenticator: () => RequestAuthenticator) {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BASE_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Hub jobs' } },
  });
  const router = serverAdapter.getRouter() as (req: unknown, res: unknown, next: Next) => void;
  let refreshedAt = 0;

  async function refreshQueues() {
    if (Date.now() - refreshedAt < QUEUE_REFRESH_MS) return;
    refreshedAt = Date.now();
    const queues = await platform.jobs.discoverQueues();
    board.replaceQueues(queues.map((queue) => new BullMQAdapter(queue as never)));
  }

  return async function queueBoard(req: GatewayRequest, res: ServerResponse, next: Next) {
    try {
      const auth = await authenticator().authenticateAdmin(req.headers);
      if (!auth) throw new Unauthorized('Staff login required');
      if (auth.kind !== 'staff' || !hasPermission(auth, 'jobs.admin'))
        throw new Forbidden('Missing permission jobs.admin');
      req.$hubAuth = auth;
      await refreshQueues();
    } catch (error) {
      const problem = toProblem(error, req.originalUrl ?? req.url ?? '', req.$requestId);
      sendProblem(res, problem, 'Basic realm="hub admin", charset="UTF-8"');
      return;
    }
    router(req, res, next);
  };
}
