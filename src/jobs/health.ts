/**
 * A job's health check: a command run every interval under a timeout. Every result is published
 * (healthPassed/healthFailed, the heartbeats Consul's TTL check needs); only changes of status
 * are published as healthy/unhealthy, so reactions fire once per transition.
 */
import type { EventBus } from '../kernel/events.js';
import type { Logger } from '../kernel/logger.js';
import { toArgv } from './command.js';
import type { HealthConfig } from './config.js';
import { runOneShot } from './oneshot.js';
import type { Proc } from './process.js';
import type { UserIds } from './user.js';

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export interface HealthContext {
  bus: EventBus;
  log: Logger;
  env: () => Record<string, string>;
  cwd?: string;
  user?: UserIds;
}

const OUTPUT_TAIL = 4096;

export class HealthCheck {
  #status: HealthStatus = 'unknown';
  #timer: NodeJS.Timeout | undefined;
  #proc: Proc | undefined;
  #running = false;
  #lastOutput = '';
  #checks = 0;
  #reason = '';
  #timedOutBefore = false;

  constructor(
    readonly job: string,
    readonly config: HealthConfig,
    private readonly ctx: HealthContext,
  ) {}

  get status(): HealthStatus {
    return this.#status;
  }

  get lastOutput(): string {
    return this.#lastOutput;
  }

  get checks(): number {
    return this.#checks;
  }

  start(): void {
    this.#running = true;
    this.#schedule();
  }

  /** Stop checking; publishes `unhealthy` if the job was healthy, since it no longer is. */
  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#proc?.signalGroup('SIGKILL');
    if (this.#status === 'healthy') this.#transition('unhealthy', 'the job is no longer running', 'the job is no longer running');
    this.#status = 'unknown';
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => void this.#check(), this.config.interval);
  }

  /** Why the job is unhealthy (exit code and output tail, a timeout, a missing binary); '' otherwise. */
  get reason(): string {
    return this.#status === 'unhealthy' ? this.#reason : '';
  }

  async #check(): Promise<void> {
    const timeout = this.config.timeout ?? this.config.interval;
    let ok: boolean;
    let output: string;
    let reason = '';
    let timedOut = false;
    try {
      const shot = await runOneShot({
        job: `${this.job}.health`,
        argv: toArgv(this.config.exec, this.config.shell),
        env: this.ctx.env(),
        ...(this.ctx.cwd !== undefined ? { cwd: this.ctx.cwd } : {}),
        ...(this.ctx.user ? { user: this.ctx.user } : {}),
        logging: 'wrapped',
        lineLevel: 'debug',
        log: this.ctx.log,
        captureTail: OUTPUT_TAIL,
        timeout,
        fromSpawn: true,
        started: (proc) => (this.#proc = proc),
      });
      const { exit } = shot;
      this.#proc = undefined;
      ok = exit.code === 0 && !shot.timedOut;
      output = exit.spawnError ?? exit.output ?? '';
      timedOut = shot.timedOut && !exit.spawnError;
      if (exit.spawnError) reason = exit.spawnError;
      else if (timedOut) reason = `timed out after ${timeout}ms`;
      else if (!ok) reason = `${exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`}${tailOf(output)}`;
      if (timedOut) output = `health check timed out after ${timeout}ms\n${output}`;
    } catch (error) {
      ok = false;
      output = (error as Error).message;
      reason = output;
    }
    if (!this.#running) return;
    // One timeout alone is not a verdict: on a busy host a check that starts a runtime (a Node
    // or Python process) can miss its timeout once. Two in a row are a failure.
    if (timedOut && !this.#timedOutBefore) {
      this.#timedOutBefore = true;
      this.ctx.log.debug({ job: this.job, timeoutMs: timeout }, `health check of ${this.job} timed out once; not counted unless the next one does too`);
      this.#schedule();
      return;
    }
    if (timedOut) reason = `timed out after ${timeout}ms, twice in a row`;
    this.#timedOutBefore = timedOut;
    this.#checks++;
    this.#lastOutput = output.trim();
    this.ctx.bus.publish({ code: ok ? 'healthPassed' : 'healthFailed', source: this.job, data: { output: this.#lastOutput } });
    const next: HealthStatus = ok ? 'healthy' : 'unhealthy';
    if (next !== this.#status) this.#transition(next, this.#lastOutput, reason);
    else if (!ok) this.#reason = reason;
    this.#schedule();
  }

  #transition(next: HealthStatus, output: string, reason: string): void {
    this.#status = next;
    this.#reason = reason;
    if (next === 'unhealthy') this.ctx.log.warn({ job: this.job, status: next, reason }, `job ${this.job} is unhealthy: ${reason}`);
    else this.ctx.log.info({ job: this.job, status: next }, `job ${this.job} is ${next}`);
    this.ctx.bus.publish({ code: next === 'healthy' ? 'healthy' : 'unhealthy', source: this.job, data: { output, ...(reason ? { reason } : {}) } });
  }
}

/** The last lines of a check's output, for the reason: `: <tail>`, or nothing. */
function tailOf(output: string): string {
  const lines = output.trim().split('\n').slice(-3).join(' | ');
  if (lines === '') return '';
  return `: ${lines.length > 300 ? `…${lines.slice(-300)}` : lines}`;
}
