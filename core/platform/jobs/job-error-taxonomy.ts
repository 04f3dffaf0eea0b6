/**
 * The closed taxonomy every job handler and connector reports failures in. The platform, not the
 * handler, decides what happens next:
 *
 * - `retryable`: try again with exponential backoff (network blip, 5xx, timeout, lock).
 * - `rate_limited`: the remote said slow down; retry no sooner than `retryAfterMs`.
 * - `permanent`: retrying cannot help (rejected payload, unknown record); fail now, keep the job
 *   for inspection and replay after a fix.
 *
 * Anything thrown that is not one of these is treated as retryable: an unexpected bug should not
 * silently drop work, and the attempt limit bounds the cost.
 */
export type JobFailureKind = 'retryable' | 'rate_limited' | 'permanent';

export abstract class JobFailure extends Error {
  abstract readonly kind: JobFailureKind;
}

export class RetryableFailure extends JobFailure {
  readonly kind = 'retryable' as const;
}

export class RateLimitedFailure extends JobFailure {
  readonly kind = 'rate_limited' as const;
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

export class PermanentFailure extends JobFailure {
  readonly kind = 'permanent' as const;
}

export function classifyFailure(error: unknown): { kind: JobFailureKind; retryAfterMs?: number } {
  if (error instanceof RateLimitedFailure) return { kind: 'rate_limited', retryAfterMs: error.retryAfterMs };
  if (error instanceof JobFailure) return { kind: error.kind };
  return { kind: 'retryable' };
}
