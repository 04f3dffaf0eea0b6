import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthContext } from '../platform/auth/auth-context.ts';
import {
  type IdempotencyStore,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  requestFingerprint,
} from '../platform/idempotency/idempotency-store.ts';
import { sendProblem, toProblem } from './problem-details.ts';

type Next = (error?: unknown) => void;

export interface GatewayRequest extends IncomingMessage {
  body?: unknown;
  originalUrl?: string;
  $hubAuth?: AuthContext | undefined;
  $requestId?: string;
}

/** Response headers worth replaying; hop-by-hop and per-send headers are not. */
const REPLAYED_HEADERS = ['content-type', 'location'];

/** A body the JSON parser left alone (a file upload). */
function isRawBody(req: GatewayRequest): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type);
}

function problem(res: ServerResponse, req: GatewayRequest, status: number, type: string, message: string) {
  const err = { code: status, type, message };
  sendProblem(res, toProblem(err, req.originalUrl ?? req.url ?? '', req.$requestId));
}

/**
 * Honours `Idempotency-Key` on every POST of an authenticated caller: the first request runs and
 * its answer is stored before it is sent; the same key with the same body replays that answer
 * (marked `Idempotent-Replayed: true`) without running anything; the same key with another body
 * is a 422; a repeat while the first is still running is a 409. Server errors (5xx) release the
 * key so the client's retry can run.
 */
export function idempotencyMiddleware(store: IdempotencyStore) {
  return async function honourIdempotencyKey(req: GatewayRequest, res: ServerResponse, next: Next) {
    const key = req.headers['idempotency-key'];
    const auth = req.$hubAuth;
    if (req.method !== 'POST' || key === undefined || !auth) return next();
    // A file upload's body is streamed, not buffered, so it cannot be fingerprinted: not honoured.
    if (req.body === undefined && isRawBody(req)) return next();
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      return problem(
        res,
        req,
        400,
        'invalid-idempotency-key',
        `Idempotency-Key must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
      );
    }
    const principal = `${auth.kind}:${auth.principalId}`;
    const path = (req.originalUrl ?? req.url ?? '').split('?')[0]!;
    const fingerprint = requestFingerprint('POST', path, req.body);
    try {
      const claim = await store.claim(principal, key, 'POST', path, fingerprint);
      if (claim.outcome === 'mismatch') {
        return problem(
          res,
          req,
          422,
          'idempotency-key-reused',
          'This Idempotency-Key was used with a different request body',
        );
      }
      if (claim.outcome === 'in_progress') {
        return problem(
          res,
          req,
          409,
          'idempotency-request-in-progress',
          'A request with this Idempotency-Key is still running',
        );
      }
      if (claim.outcome === 'replay') {
        const { statusCode, headers, body } = claim.response;
        const payload = typeof body === 'string' ? body : JSON.stringify(body);
        res.statusCode = statusCode;
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
        res.setHeader('Idempotent-Replayed', 'true');
        res.setHeader('Content-Length', Buffer.byteLength(payload));
        res.end(payload);
        return;
      }
    } catch (error) {
      return next(error);
    }

    // First run: capture what is sent, store it, then let it go out.
    const chunks: Buffer[] = [];
    const originalWrite = res.write.bind(res);
    const originalEnd = res.end.bind(res);
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (chunk) chunks.push(Buffer.from(chunk as string));
      return (originalWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as string));
      const finish = () => (originalEnd as (...a: unknown[]) => ServerResponse)(chunk, ...rest);
      const text = Buffer.concat(chunks).toString('utf8');
      const settle =
        res.statusCode >= 500
          ? store.release(principal, key)
          : store.complete(principal, key, {
              statusCode: res.statusCode,
              headers: Object.fromEntries(
                REPLAYED_HEADERS.flatMap((h) => {
                  const v = res.getHeader(h);
                  return v === undefined ? [] : [[h, String(v)]];
                }),
              ),
              body: safeJson(text),
            });
      settle.then(finish, finish);
      return res;
    }) as typeof res.end;
    next();
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
