import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Context, ServiceSchema } from 'moleculer';
import ApiGateway from 'moleculer-web';
import { schemaRef } from '../../schemas/index.ts';
import { AccessTokens } from '../platform/auth/access-tokens.ts';
import { type AuthContext, type HubMeta, requirePermission } from '../platform/auth/auth-context.ts';
import {
  Forbidden,
  PayloadTooLarge,
  Unauthorized,
  UnsupportedMediaType,
} from '../platform/errors/hub-errors.ts';
import { pickHeaders } from '../platform/http/request-headers.ts';
import type { RouteSpec } from '../platform/http/route-spec.ts';
import { filenameFromHeaders, type UploadMeta } from '../platform/http/uploads.ts';
import type { HubModule } from '../platform/hub-module.ts';
import { IdempotencyStore } from '../platform/idempotency/idempotency-store.ts';
import { checkReadiness } from '../platform/observability/readiness.ts';
import type { Platform } from '../platform/platform.ts';
import { RequestAuthenticator } from './authenticate-request.ts';
import { mountQueueBoard } from './bull-board.ts';
import { FLOWS_PATH, FlowsEditor } from './flows-editor.ts';
import { type GatewayRequest, idempotencyMiddleware } from './idempotency-middleware.ts';
import { rejectDeepJson } from './json-depth-limit.ts';
import { buildOpenApi } from './openapi/build-openapi.ts';
import { sendProblem, toProblem } from './problem-details.ts';

type Next = (error?: unknown) => void;

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The gateway's own operations: health, metrics, the API description and the mesh view. */
const GATEWAY_ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/health/live',
    action: 'gateway.live',
    operationId: 'checkLiveness',
    tag: 'operations',
    summary: 'The process is up',
    audience: 'public',
  },
  {
    method: 'GET',
    path: '/health/ready',
    action: 'gateway.ready',
    operationId: 'checkReadiness',
    tag: 'operations',
    summary: 'Database, queue store and transporter answer (503 otherwise)',
    audience: 'public',
  },
  {
    method: 'GET',
    path: '/metrics',
    action: 'gateway.metrics',
    operationId: 'getMetrics',
    tag: 'operations',
    summary: 'Prometheus metrics of this process',
    audience: 'public',
  },
  {
    method: 'GET',
    path: '/api/openapi.json',
    action: 'gateway.openapi',
    operationId: 'getOpenApiDocument',
    tag: 'operations',
    summary: 'This OpenAPI 3.1 document',
    audience: 'public',
  },
  {
    method: 'GET',
    path: '/api/staff/system/nodes',
    action: 'gateway.nodes',
    operationId: 'listMeshNodes',
    tag: 'operations',
    summary: 'Hub processes in the mesh and the services each runs (staff)',
    audience: 'staff',
  },
];

/** `/api/users/{user.id}` with the answer's `user.id`; undefined if a placeholder has no string value. */
export function fillLocation(template: string, data: unknown): string | undefined {
  let complete = true;
  const filled = template.replace(/\{([A-Za-z0-9_.]+)\}/g, (_, path: string) => {
    const value = path
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | null)?.[key], data);
    if (typeof value !== 'string' || value === '') complete = false;
    return encodeURIComponent(String(value));
  });
  return complete ? filled : undefined;
}

function routeKey(method: string, action: string): string {
  return `${method} ${action}`;
}

/** Who may reach a route, checked before the action runs; the action still checks permissions. */
function enforceAudience(route: RouteSpec, auth: AuthContext | undefined): void {
  if (route.audience === 'public') return;
  if (!auth) throw new Unauthorized();
  if (route.audience === 'buyer' && !auth.companyId)
    throw new Forbidden('This operation is for buyer accounts');
  if (route.audience === 'staff' && auth.companyId) throw new Forbidden('This operation is for staff');
}

/**
 * The media type and size of an upload, checked before the action runs: 415 for a type the route
 * does not take, 413 for a declared length over the bound (a chunked body is bounded as it
 * streams, by `uploadOf`).
 */
function checkUpload(upload: NonNullable<RouteSpec['upload']>, req: GatewayRequest): UploadMeta {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!upload.contentTypes.includes(contentType)) throw new UnsupportedMediaType(upload.contentTypes);
  const declared = req.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > upload.maxBytes) throw new PayloadTooLarge(upload.maxBytes);
  return { contentType, filename: filenameFromHeaders(req.headers), length, maxBytes: upload.maxBytes };
}

function gatewayService(platform: Platform, routes: RouteSpec[]): ServiceSchema {
  const { config, metrics } = platform;
  const tokens = new AccessTokens(config.jwtSecret, config.accessTokenTtlSeconds);
  const idempotency = new IdempotencyStore(platform.db);
  const byAction = new Map(routes.map((r) => [routeKey(r.method, r.action), r]));
  let openApiDocument: object | undefined;
  let authenticator: RequestAuthenticator;
  let flowsEditor: FlowsEditor | undefined;

  // Upload routes hand the raw body to the action as a stream (moleculer-web's `stream:` alias).
  const aliases = Object.fromEntries(
    routes.map((r) => [`${r.method} ${r.path}`, r.upload ? `stream:${r.action}` : r.action]),
  );
  // ... so the JSON parser leaves the bodies of upload routes that take JSON (webhooks sign the raw bytes).
  const rawJsonPaths = routes
    .filter((r) => r.upload?.contentTypes.includes('application/json'))
    .map((r) => new RegExp(`^${r.path.replace(/:[A-Za-z]+/g, '[^/]+')}$`));
  const parsesJson = (req: GatewayRequest) =>
    /^application\/json\b/i.test(String(req.headers['content-type'] ?? '')) &&
    !rawJsonPaths.some((pattern) => pattern.test((req.url ?? '').split('?')[0] ?? ''));

  /** Request id, access log and HTTP metrics for every request. */
  function observeRequest(req: GatewayRequest, res: ServerResponse, next: Next) {
    const inbound = req.headers['x-request-id'];
    const requestId =
      typeof inbound === 'string' && REQUEST_ID_PATTERN.test(inbound) ? inbound : randomUUID();
    req.headers['x-request-id'] = requestId;
    req.$requestId = requestId;
    const started = performance.now();
    res.once('finish', () => {
      const alias = (req as { $alias?: { fullPath?: string } }).$alias;
      // The route pattern, not the URL: label cardinality stays bounded by the route table.
      const route = alias?.fullPath ?? 'unmatched';
      const seconds = (performance.now() - started) / 1000;
      metrics.httpRequests.inc({ method: req.method ?? '', route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: req.method ?? '', route }, seconds);
      platform.logger.info(
        {
          requestId,
          method: req.method,
          path: (req.originalUrl ?? req.url ?? '').split('?')[0],
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
          principal: req.$hubAuth ? `${req.$hubAuth.kind}:${req.$hubAuth.principalId}` : undefined,
        },
        'http',
      );
    });
    next();
  }

  /** Assigns the request id if observeRequest has not run yet (a body-parser error comes first). */
  function requestIdOf(req: GatewayRequest, res: ServerResponse): string {
    if (!req.$requestId) {
      const inbound = req.headers['x-request-id'];
      req.$requestId =
        typeof inbound === 'string' && REQUEST_ID_PATTERN.test(inbound) ? inbound : randomUUID();
      if (!res.headersSent) res.setHeader('X-Request-ID', req.$requestId);
    }
    return req.$requestId;
  }

  function answerWithProblem(req: GatewayRequest, res: ServerResponse, error: unknown) {
    sendProblem(res, toProblem(error, req.originalUrl ?? req.url ?? '', requestIdOf(req, res)));
  }

  async function authenticate(req: GatewayRequest, res: ServerResponse, next: Next) {
    try {
      req.$hubAuth = await authenticator.authenticate(req.headers);
      next();
    } catch (error) {
      sendProblem(res, toProblem(error, req.originalUrl ?? req.url ?? '', req.$requestId));
    }
  }

  return {
    name: 'gateway',
    mixins: [ApiGateway],
    settings: {
      port: config.httpPort,
      ip: config.httpHost,
      // Bounded bodies: 1 MB of JSON, no other body types on the API.
      routes: [
        {
          path: '/admin/queues',
          authorization: false,
          mappingPolicy: 'restrict',
          bodyParsers: { json: { limit: '256kb' } },
          use: [observeRequest, mountQueueBoard(platform, () => authenticator)],
        },
        ...(config.flows.enabled
          ? [
              {
                // Node-RED parses its own bodies (bounded by its apiMaxLength, 5 MB).
                path: FLOWS_PATH,
                authorization: false,
                mappingPolicy: 'restrict',
                bodyParsers: false,
                use: [
                  observeRequest,
                  (req: GatewayRequest, res: ServerResponse, next: Next) =>
                    flowsEditor!.handle(req, res, next),
                ],
              },
            ]
          : []),
        {
          path: '',
          mappingPolicy: 'restrict',
          mergeParams: true,
          bodyParsers: { json: { strict: true, limit: '1mb', type: parsesJson }, urlencoded: false },
          use: [observeRequest, rejectDeepJson, authenticate, idempotencyMiddleware(idempotency)],
          aliases,
          onBeforeCall(ctx: Context, _route: unknown, req: GatewayRequest) {
            const alias = (req as { $alias?: { action?: string; method?: string } }).$alias;
            const spec = alias?.action ? byAction.get(routeKey(req.method ?? '', alias.action)) : undefined;
            if (spec) enforceAudience(spec, req.$hubAuth);
            if (spec?.upload) (ctx.meta as { upload?: UploadMeta }).upload = checkUpload(spec.upload, req);
            if (spec?.forwardHeaders)
              (ctx.meta as { headers?: Record<string, string> }).headers = pickHeaders(
                spec.forwardHeaders,
                req.headers,
              );
            const meta = ctx.meta as HubMeta;
            meta.auth = req.$hubAuth;
            meta.origin = {
              requestId: req.$requestId,
              sourceIp: req.socket.remoteAddress,
              userAgent:
                typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
            };
            if (spec?.successStatus) (ctx.meta as Record<string, unknown>).$statusCode = spec.successStatus;
          },
          onAfterCall(
            ctx: Context,
            _route: unknown,
            req: GatewayRequest,
            _res: ServerResponse,
            data: unknown,
          ) {
            const alias = (req as { $alias?: { action?: string } }).$alias;
            const spec = alias?.action ? byAction.get(routeKey(req.method ?? '', alias.action)) : undefined;
            const location = spec?.location ? fillLocation(spec.location, data) : undefined;
            if (location) (ctx.meta as Record<string, unknown>).$location = location;
            return data;
          },
          onError: answerWithProblem,
        },
      ],
      onError: answerWithProblem,
      log4XXResponses: false,
      logRequest: 'debug',
      logResponse: 'debug',
      logRouteRegistration: 'debug',
    },
    actions: {
      live: {
        params: schemaRef('api/common/empty-params'),
        handler() {
          return { status: 'ok' };
        },
      },
      ready: {
        params: schemaRef('api/common/empty-params'),
        async handler(this: { broker: Context['broker'] }, ctx: Context) {
          const report = await checkReadiness(platform, this.broker);
          if (report.status !== 'ready') (ctx.meta as Record<string, unknown>).$statusCode = 503;
          return report;
        },
      },
      metrics: {
        params: schemaRef('api/common/empty-params'),
        async handler(ctx: Context) {
          (ctx.meta as Record<string, unknown>).$responseType = metrics.contentType;
          return metrics.render();
        },
      },
      openapi: {
        params: schemaRef('api/common/empty-params'),
        handler() {
          openApiDocument ??= buildOpenApi(routes, { title: 'B2B Hub API', version: '0.1.0' });
          return openApiDocument;
        },
      },
      nodes: {
        params: schemaRef('api/common/empty-params'),
        handler(this: { broker: Context['broker'] }, ctx: Context) {
          requirePermission(ctx, 'system.read');
          const nodes = this.broker.registry.getNodeList({
            onlyAvailable: true,
            withServices: true,
          }) as unknown as Array<{
            id: string;
            local: boolean;
            hostname?: string;
            services?: Array<{ name: string }>;
          }>;
          return nodes.map((node) => ({
            id: node.id,
            local: node.local,
            hostname: node.hostname ?? null,
            services: (node.services ?? [])
              .map((s) => s.name)
              .filter((name) => !name.startsWith('$'))
              .sort(),
          }));
        },
      },
    },
    created() {
      authenticator = new RequestAuthenticator(tokens, this.broker);
      if (config.flows.enabled) {
        flowsEditor = new FlowsEditor({
          config: config.flows,
          tokens,
          authenticator: () => authenticator,
          broker: this.broker,
          logger: platform.logger.child({ component: 'node-red' }),
        });
      }
      metrics.onScrape(async () => {
        const pool = platform.db.stats();
        metrics.dbPool.set({ state: 'total' }, pool.total);
        metrics.dbPool.set({ state: 'idle' }, pool.idle);
        metrics.dbPool.set({ state: 'waiting' }, pool.waiting);
        const started = performance.now();
        await platform.db.ping();
        metrics.dbPingSeconds.set((performance.now() - started) / 1000);
      });
      metrics.onScrape(async () => {
        const queues = (await platform.jobs.discoverQueues()) as Array<{ name: string }>;
        for (const { name } of queues) {
          for (const [state, count] of Object.entries(await platform.jobs.counts(name))) {
            metrics.queueJobs.set({ queue: name, state }, count);
          }
        }
      });
    },
    async started() {
      await flowsEditor?.start((this as unknown as { server: import('node:http').Server }).server);
    },
    async stopped() {
      await flowsEditor?.stop();
    },
  } as ServiceSchema;
}

/**
 * The gateway serves every module's routes, whether the module runs in this process or on
 * another node of the mesh, so it is built from the full module list.
 */
export function createGatewayModule(modules: readonly HubModule[]): HubModule {
  const routes = [...GATEWAY_ROUTES, ...modules.flatMap((m) => m.routes ?? [])];
  return {
    name: 'gateway',
    description: 'REST API, OpenAPI, health, metrics, the queue board and the flow editor',
    routes: GATEWAY_ROUTES,
    service: (platform) => gatewayService(platform, routes),
  };
}
