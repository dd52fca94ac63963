/**
 * The stall watchdog: a timer that measures its own lateness. A late tick means the event loop
 * was blocked, and so were renewals and health results: Consul may already have handed the
 * lock to another instance. A stall longer than the threshold is reported once it ends (no
 * JavaScript runs during one), and `monitorEventLoopDelay` keeps the figures for status.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

const TICK_MS = 100;

export class StallWatchdog {
  #timer: NodeJS.Timeout | undefined;
  #expected = 0;
  #histogram: IntervalHistogram | undefined;
  #worstMs = 0;
  #stalls = 0;

  constructor(
    private readonly thresholdMs: number,
    private readonly onStall: (stalledMs: number) => void,
  ) {}

  start(): void {
    this.#histogram = monitorEventLoopDelay({ resolution: 20 });
    this.#histogram.enable();
    this.#expected = performance.now() + TICK_MS;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram?.disable();
  }

  status(): Record<string, unknown> {
    const h = this.#histogram;
    return {
      thresholdMs: this.thresholdMs,
      stalls: this.#stalls,
      worstStallMs: Math.round(this.#worstMs),
      loopDelayP99Ms: h ? Math.round(h.percentile(99) / 1e6) : null,
      loopDelayMaxMs: h ? Math.round(h.max / 1e6) : null,
    };
  }

  #tick(): void {
    const now = performance.now();
    const late = now - this.#expected;
    this.#expected = now + TICK_MS;
    if (late > this.#worstMs) this.#worstMs = late;
    if (late > this.thresholdMs) {
      this.#stalls++;
      this.onStall(Math.round(late));
    }
  }
}
