/**
 * A token bucket: `capacity` calls at once, refilled at `max` per `perSeconds`. `take()` waits
 * for a token (FIFO), so a burst is smoothed instead of refused; the remote's own refusal
 * (`ConnectorRateLimitedError`) is still possible and left to the job queue.
 *
 * One bucket per connection and process: several processes sharing one connection each keep
 * their own; the manifest's limits are then split by the deployment (queue concurrency).
 */
export interface TokenBucketOptions {
  max: number;
  perSeconds: number;
  /** Tokens available in a burst; defaults to `max`. */
  capacity?: number;
  now?: () => number;
}

export class TokenBucket {
  private readonly capacity: number;
  private readonly max: number;
  private readonly periodMs: number;
  private readonly now: () => number;
  private tokens: number;
  private updatedAt: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: TokenBucketOptions) {
    if (!(options.max > 0 && options.perSeconds > 0))
      throw new Error('A token bucket needs max > 0 and perSeconds > 0');
    this.capacity = options.capacity ?? options.max;
    this.max = options.max;
    this.periodMs = options.perSeconds * 1000;
    this.now = options.now ?? (() => performance.now());
    this.tokens = this.capacity;
    this.updatedAt = this.now();
  }

  /** Takes a token without waiting; `false` when none is left. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token will be available (0 when one is). */
  waitTimeMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * this.periodMs) / this.max);
  }

  /** Waits (in arrival order) until a token is available, then takes it. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(async () => {
      for (;;) {
        signal?.throwIfAborted();
        if (this.tryTake()) return;
        await delay(this.waitTimeMs(), signal);
      }
    });
    // A rejected turn (aborted) must not block the callers behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const now = this.now();
    // Multiply before dividing, and absorb rounding: a full period must yield whole tokens.
    const refilled = this.tokens + ((now - this.updatedAt) * this.max) / this.periodMs;
    this.tokens = Math.min(this.capacity, refilled + 1e-9);
    this.updatedAt = now;
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
