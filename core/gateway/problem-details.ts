import type { ServerResponse } from 'node:http';

/** RFC 9457 problem details, plus the request id and, for validation, the failing fields. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: Array<{ pointer: string; detail: string }>;
  [extension: string]: unknown;
}

const TYPE_BASE = 'https://hub.local/problems/';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

interface ErrorLike {
  name?: string;
  message?: string;
  code?: unknown;
  type?: unknown;
  data?: unknown;
  status?: unknown;
  statusCode?: unknown;
}

function slug(value: string): string {
  return value
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .toLowerCase()
    .replace(/^-|-$/g, '');
}

/**
 * Turns anything thrown on the way (a HubError from any node of the mesh, a Moleculer or
 * moleculer-web error, a body-parser error, a bug) into a problem document. Only client errors
 * keep their message; a 5xx never leaks internals.
 */
export function toProblem(error: unknown, instance: string, requestId: string | undefined): ProblemDetails {
  const err = (error ?? {}) as ErrorLike;
  let status = Number(err.code ?? err.status ?? err.statusCode);
  let type = typeof err.type === 'string' && err.type ? slug(err.type) : '';
  let detail = err.message;
  let errors: ProblemDetails['errors'];
  const data = (err.data ?? {}) as Record<string, unknown>;

  if (
    ['ServiceNotFoundError', 'ServiceNotAvailableError', 'ServiceUnavailableError'].includes(err.name ?? '')
  ) {
    status = 503;
    type = 'service-unavailable';
    detail = 'The service for this request is not running on any node; try again shortly';
  } else if (err.name === 'RequestTimeoutError') {
    status = 504;
    type = 'timeout';
    detail = 'The service did not answer in time';
  } else if (err.name === 'ValidationError' && Array.isArray(err.data)) {
    // Moleculer's own validator shape (should not happen with the schema validator, kept as a net).
    status = 400;
    type = 'validation-failed';
    errors = (err.data as Array<{ field?: string; message?: string }>).map((e) => ({
      pointer: `/${(e.field ?? '').replace(/\./g, '/')}`,
      detail: e.message ?? 'invalid',
    }));
  } else if (err.type === 'entity.parse.failed') {
    status = 400;
    type = 'malformed-json';
    detail = 'The request body is not valid JSON';
  } else if (err.type === 'entity.too.large') {
    status = 413;
    type = 'body-too-large';
    detail = 'The request body is too large';
  }

  if (!Number.isInteger(status) || status < 400 || status > 599) status = 500;
  if (status >= 500 && type !== 'service-unavailable' && type !== 'timeout') {
    type = 'internal-error';
    detail = 'An unexpected error occurred; quote the request id when reporting it';
  }
  if (!type) type = slug(TITLES[status] ?? 'error');
  if (!errors && Array.isArray(data.errors)) errors = data.errors as ProblemDetails['errors'];

  const problem: ProblemDetails = {
    type: `${TYPE_BASE}${type}`,
    title: TITLES[status] ?? 'Error',
    status,
    instance,
  };
  if (detail) problem.detail = detail;
  if (requestId) problem.requestId = requestId;
  if (errors) problem.errors = errors;
  if (status < 500 && data.retryAfterSeconds !== undefined)
    problem.retryAfterSeconds = data.retryAfterSeconds;
  return problem;
}

export function sendProblem(
  res: ServerResponse,
  problem: ProblemDetails,
  challenge = 'Bearer realm="hub"',
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(problem);
  res.statusCode = problem.status;
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (problem.status === 401) res.setHeader('WWW-Authenticate', challenge);
  res.end(body);
}
