/**
 * The supervisor: config → bus → jobs, with subsystems around them, and the one shutdown path
 * every ending takes (a signal, the main job ending, a fatal error).
 */
import type { Config } from '../config/schema.js';
import type { JobConfig } from '../jobs/config.js';
import { Job, type JobStatus } from '../jobs/job.js';
import type { Exit } from '../jobs/process.js';
import type { Logger } from '../log/logger.js';
import type { Signals } from '../pid1/signals.js';
import { errorMessage } from './errors.js';
import { EventBus, GLOBAL_SOURCE } from './events.js';
import type { Subsystem, SubsystemContext } from './subsystem.js';

export interface SupervisorOptions {
  config: Config;
  log: Logger;
  signals?: Signals;
  subsystems?: Subsystem[];
  /** The environment children inherit; defaults to Pilotfish's own. */
  baseEnv?: NodeJS.ProcessEnv;
}

/** Exit code when Pilotfish itself fails (EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

export class Supervisor {
  readonly bus: EventBus;
  readonly log: Logger;
  readonly jobs = new Map<string, Job>();
  readonly #config: Config;
  readonly #signals: Signals | undefined;
  readonly #subsystems: Subsystem[];
  readonly #baseEnv: NodeJS.ProcessEnv;
  /** Set by `putenv`: the environment of future children. */
  readonly environ = new Map<string, string>();
  #stopping = false;
  #exitCode: number | undefined;
  #done!: (code: number) => void;
  readonly #finished = new Promise<number>((resolve) => (this.#done = resolve));

  constructor(options: SupervisorOptions) {
    this.#config = options.config;
    this.log = options.log;
    this.#signals = options.signals;
    this.#subsystems = options.subsystems ?? [];
    this.#baseEnv = options.baseEnv ?? process.env;
    this.bus = new EventBus({
      onProblem: (p) => {
        if (p.kind === 'dropped') this.log.warn({ subscriber: p.subscriber, dropped: p.dropped }, 'a slow subscriber lost events');
        else this.log.error({ subscriber: p.subscriber, event: p.event.code, err: p.error }, 'an event handler failed');
      },
    });
    for (const jc of this.#config.jobs) this.jobs.set(jc.name, this.#makeJob(jc));
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get config(): Config {
    return this.#config;
  }

  /** Start everything; resolves with the exit code once Pilotfish has stopped. */
  async run(): Promise<number> {
    const ctx: SubsystemContext = {
      bus: this.bus,
      log: this.log,
      config: this.#config,
      jobs: () => this.status(),
      requestShutdown: (reason, code) => void this.shutdown(reason, code),
    };
    this.#signals?.attach(
      {
        onStop: (signal) => void this.shutdown(`received ${signal}`),
        onSignal: (signal, route) => {
          this.log.info({ signal, to: route.to, as: route.as }, `received ${signal}`);
          if (route.event) this.bus.publish({ code: 'signal', source: signal });
          for (const name of route.to) this.jobs.get(name)?.signal(route.as ?? signal);
        },
      },
      this.mainJob()?.name,
    );
    for (const sub of this.#subsystems) {
      try {
        await sub.start(ctx);
      } catch (error) {
        this.log.fatal({ subsystem: sub.name, err: error }, `cannot start ${sub.name}: ${errorMessage(error)}`);
        void this.shutdown(`${sub.name} failed to start`, 1);
        return this.#finished;
      }
      if (this.#stopping) return this.#finished;
    }
    for (const job of this.jobs.values()) job.attach();
    this.bus.publish({ code: 'startup', source: GLOBAL_SOURCE });
    return this.#finished;
  }

  mainJob(): Job | undefined {
    for (const job of this.jobs.values()) if (job.config.main) return job;
    return undefined;
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((j) => j.status());
  }

  /** The environment of a job's next process: ours, then putenv, then subsystems, then the job's own. */
  environment(job: JobConfig): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.#baseEnv)) if (v !== undefined) env[k] = v;
    for (const [k, v] of this.environ) env[k] = v;
    for (const sub of this.#subsystems) Object.assign(env, sub.env?.(job));
    Object.assign(env, job.env);
    env.PILOTFISH_JOB = job.name;
    return env;
  }

  /**
   * The one way out: shutdown → each active job's stop sequence (in parallel) → subsystems →
   * exit code. Idempotent; the first caller's exit code wins unless the main job ended.
   */
  async shutdown(reason: string, exitCode?: number): Promise<void> {
    if (exitCode !== undefined && this.#exitCode === undefined) this.#exitCode = exitCode;
    if (this.#stopping) return;
    this.#stopping = true;
    this.log.info(`stopping: ${reason}`);
    await this.bus.request({ code: 'shutdown', source: GLOBAL_SOURCE }, this.#config.stopTimeout);
    const main = this.mainJob();
    const stops: Promise<void>[] = [];
    for (const job of this.jobs.values()) {
      if (job.isActive()) stops.push(job.stop());
      else if (job === main && job.status().runs > 0) stops.push(job.announceStopped());
    }
    await Promise.allSettled(stops);
    for (const job of this.jobs.values()) job.detach();
    for (const sub of [...this.#subsystems].reverse()) {
      try {
        await sub.stop();
      } catch (error) {
        this.log.warn({ subsystem: sub.name, err: error }, `${sub.name} did not stop cleanly`);
      }
    }
    const code = this.#exitCode ?? main?.status().lastExit?.code ?? 0;
    this.log.info({ exitCode: code }, 'stopped');
    this.#done(code);
  }

  #makeJob(config: JobConfig): Job {
    const job = new Job(config, {
      bus: this.bus,
      log: this.log,
      stopTimeout: this.#config.stopTimeout,
      environment: (jc) => this.environment(jc),
      shuttingDown: () => this.#stopping,
    });
    if (config.main) job.onMainExit = (exit: Exit) => void this.#mainEnded(exit);
    return job;
  }

  #mainEnded(exit: Exit): void {
    if (this.#stopping) return;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
    void this.shutdown(`main job ${this.mainJob()?.name} ${how}`, exit.code);
  }
}

