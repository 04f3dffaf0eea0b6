import {
  ConnectorRateLimitedError,
  ConnectorRetryableError,
  MaybeCommittedError,
} from './connector-errors.ts';

/**
 * HTTP for connectors: every call has a deadline and a ceiling on the bytes it will read, and
 * transport failures come back as taxonomy errors. Business meaning of a status or body is the
 * connector's to decide; this layer only classifies what no connector could read.
 */
export interface BoundedRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Whole-exchange deadline (connect, send, wait, read). */
  timeoutMs: number;
  /** The answer is refused (retryable error) once it grows past this many bytes. */
  maxResponseBytes: number;
  /**
   * Whether repeating the request is harmless. A request that is not idempotent and times out
   * after it was sent fails with `MaybeCommittedError`, so the operation looks its effect up
   * before trying again.
   */
  idempotent: boolean;
  signal?: AbortSignal;
}

export interface BoundedResponse {
  status: number;
  headers: Headers;
  /** The body decoded as UTF-8. */
  text: string;
}

const DEFAULT_RETRY_AFTER_MS = 1000;
const MAX_RETRY_AFTER_MS = 3_600_000;

/** `Retry-After` (seconds or an HTTP date) in milliseconds, bounded to an hour. */
export function parseRetryAfter(value: string | null, now = Date.now()): number {
  if (!value) return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms) || ms < 0) return DEFAULT_RETRY_AFTER_MS;
  return Math.min(Math.ceil(ms), MAX_RETRY_AFTER_MS);
}

/** Reads a body stream up to `maxBytes`; a longer body is cancelled and refused. */
async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  url: string,
): Promise<string> {
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ConnectorRetryableError(`The answer of ${new URL(url).pathname} exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * Sends one request. HTTP 429 and 503 with `Retry-After` → `ConnectorRateLimitedError`; other
 * statuses are returned as they are (the caller decides). A deadline reached or a connection
 * lost → `MaybeCommittedError` for a non-idempotent request, `ConnectorRetryableError` otherwise.
 * The URL's query string is never put into an error message (it may carry a token).
 */
export async function boundedFetch(request: BoundedRequest): Promise<BoundedResponse> {
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([deadline, request.signal]) : deadline;
  const where = `${request.method ?? 'POST'} ${new URL(request.url).pathname}`;
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method ?? 'POST',
      headers: request.headers,
      body: request.body,
      signal,
      redirect: 'error',
    });
  } catch (error) {
    if (request.signal?.aborted) throw error;
    throw failureAfterSend(error, where, request.idempotent);
  }
  let text: string;
  try {
    text = await readBounded(response.body, request.maxResponseBytes, request.url);
  } catch (error) {
    if (error instanceof ConnectorRetryableError) throw error;
    if (request.signal?.aborted) throw error;
    throw failureAfterSend(error, where, request.idempotent);
  }
  if (response.status === 429 || (response.status === 503 && response.headers.has('retry-after'))) {
    throw new ConnectorRateLimitedError(
      `${where} was refused: too many requests`,
      parseRetryAfter(response.headers.get('retry-after')),
      { code: String(response.status) },
    );
  }
  return { status: response.status, headers: response.headers, text };
}

function failureAfterSend(error: unknown, where: string, idempotent: boolean): Error {
  const cause = (error as { cause?: { code?: string } }).cause;
  // Refused or unresolvable: the request never reached the remote, so repeating it is safe.
  if (cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') {
    return new ConnectorRetryableError(`${where}: the remote is unreachable (${cause.code})`, undefined, {
      cause: error,
    });
  }
  const reason = isTimeout(error) ? 'no answer before the deadline' : 'the connection broke';
  return idempotent
    ? new ConnectorRetryableError(`${where}: ${reason}`, undefined, { cause: error })
    : new MaybeCommittedError(`${where}: ${reason}; the remote may have acted`, undefined, { cause: error });
}
