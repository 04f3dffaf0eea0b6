/**
 * Per-connection pacing inside one worker process: at most `maxConcurrent` calls at once and
 * `requestsPerSecond` started per second (a token bucket of one second's burst). Jobs wait for
 * a slot rather than fail: the wait is bounded by the job's own lock renewal.
 */
export class ConnectionLimits {
  readonly #limiters = new Map<string, Limiter>();

  run<T>(
    connectionId: string,
    limits: { maxConcurrent?: number; requestsPerSecond?: number },
    work: () => Promise<T>,
  ): Promise<T> {
    const maxConcurrent = limits.maxConcurrent ?? 2;
    const requestsPerSecond = limits.requestsPerSecond ?? 5;
    let limiter = this.#limiters.get(connectionId);
    if (
      !limiter ||
      limiter.maxConcurrent !== maxConcurrent ||
      limiter.requestsPerSecond !== requestsPerSecond
    ) {
      limiter = new Limiter(maxConcurrent, requestsPerSecond);
      this.#limiters.set(connectionId, limiter);
    }
    return limiter.run(work);
  }
}

class Limiter {
  readonly maxConcurrent: number;
  readonly requestsPerSecond: number;
  #running = 0;
  #tokens: number;
  #refilledAt = Date.now();
  readonly #waiting: Array<() => void> = [];

  constructor(maxConcurrent: number, requestsPerSecond: number) {
    this.maxConcurrent = maxConcurrent;
    this.requestsPerSecond = requestsPerSecond;
    this.#tokens = Math.max(1, requestsPerSecond);
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.#slot();
    await this.#token();
    try {
      return await work();
    } finally {
      this.#running -= 1;
      this.#waiting.shift()?.();
    }
  }

  async #slot(): Promise<void> {
    while (this.#running >= this.maxConcurrent) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running += 1;
  }

  async #token(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const burst = Math.max(1, this.requestsPerSecond);
      this.#tokens = Math.min(
        burst,
        this.#tokens + ((now - this.#refilledAt) / 1000) * this.requestsPerSecond,
      );
      this.#refilledAt = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - this.#tokens) / this.requestsPerSecond) * 1000);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
