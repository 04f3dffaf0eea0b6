import type { Context, Middleware } from 'moleculer';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus figures of one process: HTTP (gateway), Moleculer action calls (every service it
 * runs), database pool and job queues. Gauges that need I/O are filled at scrape time by
 * collectors registered with `onScrape`.
 */
export class HubMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly actionCalls: Counter<'action' | 'outcome'>;
  readonly actionDuration: Histogram<'action'>;
  readonly dbPool: Gauge<'state'>;
  readonly dbPingSeconds: Gauge;
  readonly queueJobs: Gauge<'queue' | 'state'>;
  readonly #collectors: Array<() => Promise<void>> = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'hub_' });
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'hub_http_requests_total',
      help: 'HTTP requests answered by the gateway',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'hub_http_request_duration_seconds',
      help: 'Gateway HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.actionCalls = new Counter({
      name: 'hub_action_calls_total',
      help: 'Moleculer action calls handled by this process',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.actionDuration = new Histogram({
      name: 'hub_action_duration_seconds',
      help: 'Moleculer action handling duration in this process',
      labelNames: ['action'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.dbPool = new Gauge({
      name: 'hub_db_pool_connections',
      help: 'PostgreSQL pool connections by state',
      labelNames: ['state'],
      registers,
    });
    this.dbPingSeconds = new Gauge({
      name: 'hub_db_ping_seconds',
      help: 'Round trip of SELECT 1 at scrape',
      registers,
    });
    this.queueJobs = new Gauge({
      name: 'hub_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers,
    });
  }

  onScrape(collector: () => Promise<void>): void {
    this.#collectors.push(collector);
  }

  async render(): Promise<string> {
    // A collector that fails (a store briefly down) must not take the whole scrape with it.
    await Promise.allSettled(this.#collectors.map((collect) => collect()));
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts and times every local action call, and logs it with the request id of the call chain. */
  actionMiddleware(): Middleware {
    const metrics = this;
    return {
      name: 'HubActionMetrics',
      localAction(next: (ctx: Context) => Promise<unknown>, action: { name: string }) {
        return async function measured(ctx: Context) {
          const stop = metrics.actionDuration.startTimer({ action: action.name });
          try {
            const result = await next(ctx);
            metrics.actionCalls.inc({ action: action.name, outcome: 'ok' });
            return result;
          } catch (error) {
            metrics.actionCalls.inc({ action: action.name, outcome: 'error' });
            throw error;
          } finally {
            const seconds = stop();
            ctx.service?.logger.debug(
              {
                requestId: ctx.requestID,
                action: action.name,
                caller: ctx.nodeID,
                ms: Math.round(seconds * 1000),
              },
              'action',
            );
          }
        };
      },
    } as Middleware;
  }
}
