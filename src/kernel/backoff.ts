/** Backoff delays, abortable waits and rate-limited warnings: shared by every subsystem that retries. */

export interface Backoff {
  initial: number;
  max: number;
  factor: number;
}

/**
 * The one backoff formula: attempt 0 → `initial`, growing by `factor` up to `max`, then spread
 * by ±`jitter` (a fraction; 0.2 by default, so many instances retrying one server spread out;
 * 0 for a delay users read in the log, like a job's restart).
 */
export function nextDelay(attempt: number, b: Backoff, jitter = 0.2): number {
  const base = Math.min(b.max, b.initial * b.factor ** Math.min(Math.max(attempt, 0), 60));
  return Math.max(1, Math.round(base * (1 - jitter + Math.random() * 2 * jitter)));
}

/** Wait `ms`, or less if `signal` aborts. Never rejects. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Says a repeated problem once per `everyMs` per key, with the count of those it kept quiet.
 * An outage that lasts an hour yields a warning a minute, not one per retry.
 */
export class RateLimiter {
  readonly #last = new Map<string, { at: number; quiet: number }>();

  constructor(private readonly everyMs: number) {}

  /** Returns the number of suppressed repeats to report, or undefined to stay quiet now. */
  allow(key: string, now = Date.now()): number | undefined {
    const seen = this.#last.get(key);
    if (seen && now - seen.at < this.everyMs) {
      seen.quiet++;
      return undefined;
    }
    this.#last.set(key, { at: now, quiet: 0 });
    return seen?.quiet ?? 0;
  }

  /** Forget a key (the problem is over), so its next occurrence is said at once. */
  clear(key: string): void {
    this.#last.delete(key);
  }
}
