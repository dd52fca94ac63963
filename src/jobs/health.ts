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
    if (this.#status === 'healthy') this.#transition('unhealthy', 'the job is no longer running');
    this.#status = 'unknown';
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => void this.#check(), this.config.interval);
  }

  async #check(): Promise<void> {
    const timeout = this.config.timeout ?? this.config.interval;
    let ok: boolean;
    let output: string;
    try {
      const { exit } = await runOneShot({
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
        started: (proc) => (this.#proc = proc),
      });
      this.#proc = undefined;
      ok = exit.code === 0;
      output = exit.spawnError ?? exit.output ?? '';
      if (!ok && exit.signal === 'SIGKILL' && !exit.spawnError) output = `health check timed out after ${timeout}ms\n${output}`;
    } catch (error) {
      ok = false;
      output = (error as Error).message;
    }
    if (!this.#running) return;
    this.#checks++;
    this.#lastOutput = output.trim();
    this.ctx.bus.publish({ code: ok ? 'healthPassed' : 'healthFailed', source: this.job, data: { output: this.#lastOutput } });
    const next: HealthStatus = ok ? 'healthy' : 'unhealthy';
    if (next !== this.#status) this.#transition(next, this.#lastOutput);
    this.#schedule();
  }

  #transition(next: HealthStatus, output: string): void {
    this.#status = next;
    this.ctx.log.info({ job: this.job, status: next }, `job ${this.job} is ${next}`);
    this.ctx.bus.publish({ code: next === 'healthy' ? 'healthy' : 'unhealthy', source: this.job, data: { output } });
  }
}
