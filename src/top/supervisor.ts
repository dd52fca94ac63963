/**
 * The supervisor: config → bus → jobs, with subsystems around them, and the one shutdown path
 * every ending takes (a signal, the main job ending, a fatal error).
 */
import type { Config } from './schema.js';
import { SIGNALS } from '../config/types.js';
import { planReload } from './reload.js';
import { ControlRoutes } from '../subsystem/routes.js';
import { buildStatus } from './status.js';
import type { JobConfig } from '../jobs/config.js';
import { Job, type JobStatus } from '../jobs/job.js';
import type { Exit } from '../jobs/process.js';
import type { Logger } from '../kernel/logger.js';
import type { Signals } from '../pid1/signals.js';
import { errorMessage, PilotfishError } from '../kernel/errors.js';
import { EventBus, GLOBAL_SOURCE } from '../kernel/events.js';
import type { PreparedReload, ReloadResult, Subsystem, SubsystemContext, SupervisorControl, SupervisorStatus } from '../subsystem/contract.js';

export interface SupervisorOptions {
  config: Config;
  log: Logger;
  signals?: Signals;
  subsystems?: Subsystem[];
  /** The environment children inherit; defaults to Pilotfish's own. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Re-reads and validates the config for `reload` (the `run` command knows the file). */
  reloadConfig?: () => Promise<Config>;
}

/** Exit code when Pilotfish itself fails (EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

export class Supervisor {
  readonly bus: EventBus;
  readonly log: Logger;
  readonly jobs = new Map<string, Job>();
  #config: Config;
  readonly #signals: Signals | undefined;
  readonly #subsystems: Subsystem[];
  readonly #baseEnv: NodeJS.ProcessEnv;
  /** Set by `putenv`: the environment of future children. */
  readonly environ = new Map<string, string>();
  /** Control-plane endpoints, added to by any subsystem. */
  readonly routes = new ControlRoutes();
  readonly #reloadConfig: (() => Promise<Config>) | undefined;
  readonly #startedAt = Date.now();
  #maintenance = false;
  #reloads = 0;
  /** Runs and restarts of job instances replaced by a reload or restart, by job name. */
  readonly #retired = new Map<string, { runs: number; restarts: number }>();
  /** Reloads and job restarts/stops run one at a time, in order. */
  #serial: Promise<unknown> = Promise.resolve();
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
    this.#reloadConfig = options.reloadConfig;
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
    const config = (): Config => this.#config;
    const ctx: SubsystemContext = {
      bus: this.bus,
      log: this.log,
      get config() {
        return config();
      },
      jobs: () => this.status(),
      requestShutdown: (reason, code) => void this.shutdown(reason, code),
      routes: this.routes,
      control: this.control,
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
        // A stop that came during start cancels what was starting: a clean stop, not a failure.
        if (this.#stopping) return this.#finished;
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
    await this.#settled(this.#config.stopTimeout); // a reload or job restart in flight finishes first
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

  /** The facade the control plane uses. */
  readonly control: SupervisorControl = {
    reload: () => this.#exclusive(() => this.#reload()),
    signalJob: (name, signal) => {
      const job = this.#job(name);
      if (!(SIGNALS as readonly string[]).includes(signal))
        throw new PilotfishError('PF_CONTROL_REFUSED', `unknown signal "${signal}"; use one of ${SIGNALS.join(', ')}`);
      if (!job.signal(signal as NodeJS.Signals)) throw new PilotfishError('PF_JOB_NOT_RUNNING', `job ${name} is not running (state ${job.state})`);
    },
    restartJob: (name) => this.#exclusive(() => this.#replace(this.#job(name).config, true)),
    stopJob: (name) => this.#exclusive(() => this.#job(name).stop()),
    putenv: (key, value) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new PilotfishError('PF_CONTROL_REFUSED', `"${key}" is not a variable name (letters, digits and _)`);
      if (value === undefined) this.environ.delete(key);
      else this.environ.set(key, value);
    },
    maintenance: (on) => {
      if (on !== this.#maintenance) {
        this.#maintenance = on;
        this.log.info({ maintenance: on }, on ? 'entering maintenance' : 'leaving maintenance');
        this.bus.publish({ code: on ? 'enterMaintenance' : 'exitMaintenance', source: GLOBAL_SOURCE });
      }
      return this.#maintenance;
    },
    status: () => this.#fullStatus(),
  };

  #job(name: string): Job {
    const job = this.jobs.get(name);
    if (!job) throw new PilotfishError('PF_JOB_NOT_FOUND', `no job named "${name}"; jobs: ${[...this.jobs.keys()].join(', ')}`);
    return job;
  }

  /** Run after the reloads/restarts/stops queued before; refused once Pilotfish is stopping. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const fn = (): Promise<T> => (this.#stopping ? Promise.reject(new PilotfishError('PF_CONTROL_REFUSED', 'Pilotfish is stopping; request refused')) : work());
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  async #settled(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#serial, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Stop a job (if any) and put a fresh one from `config` in its place; start it if asked. */
  async #replace(config: JobConfig, start: boolean): Promise<void> {
    const old = this.jobs.get(config.name);
    if (old) {
      old.detach();
      await old.stop();
      this.#remember(old);
    }
    const job = this.#makeJob(config);
    this.jobs.set(config.name, job);
    job.attach();
    if (start && !this.#stopping) job.startNow();
  }

  async #reload(): Promise<ReloadResult> {
    if (!this.#reloadConfig) throw new PilotfishError('PF_CONTROL_REFUSED', 'this Pilotfish has no config file to reload');
    if (this.#stopping) throw new PilotfishError('PF_CONTROL_REFUSED', 'Pilotfish is stopping; reload refused');
    const next = await this.#reloadConfig(); // an invalid config throws here and nothing changes
    if (this.#stopping) throw new PilotfishError('PF_CONTROL_REFUSED', 'Pilotfish is stopping; reload refused');
    const plan = planReload(this.#config, next);
    // Subsystems first (a template a new job reads is rendered by then), in two phases: every
    // one gets ready, and only when all are does any apply, so a refusal changes nothing.
    const applied: string[] = [];
    const prepared: PreparedReload[] = [];
    const changed = new Set(plan.needsRestart);
    if (plan.changed.length + plan.added.length + plan.removed.length > 0) changed.add('jobs');
    for (const sub of this.#subsystems) {
      if (!sub.prepareReload || !(sub.sections ?? []).some((s) => changed.has(s))) continue;
      const owned = (sub.sections ?? []).filter((s) => plan.needsRestart.includes(s));
      try {
        prepared.push(await sub.prepareReload(next));
      } catch (error) {
        for (const p of prepared) p.discard();
        const what = owned.length ? `its new ${owned.join(', ')}` : 'the new jobs';
        throw new PilotfishError('PF_CONTROL_FAILED', `reload refused: ${sub.name} cannot apply ${what}: ${errorMessage(error)} (nothing changed)`, {
          cause: error,
        });
      }
      applied.push(...owned);
    }
    for (const p of prepared) await p.apply();
    plan.needsRestart = plan.needsRestart.filter((s) => !applied.includes(s));
    this.#config = next;
    this.log.level = next.logging.level;
    const active = new Set([...this.jobs.values()].filter((j) => j.isActive()).map((j) => j.name));
    const retire = async (name: string): Promise<void> => {
      const job = this.jobs.get(name);
      if (!job) return;
      job.detach();
      await job.stop();
      this.#remember(job);
    };
    await Promise.allSettled([...plan.removed, ...plan.changed.map((j) => j.name)].map(retire));
    const kept = new Map(this.jobs);
    this.jobs.clear(); // rebuilt in the new config's order
    for (const jc of next.jobs) {
      const fresh = plan.changed.includes(jc) || plan.added.includes(jc);
      const job = fresh ? this.#makeJob(jc) : (kept.get(jc.name) as Job);
      this.jobs.set(jc.name, job);
      if (!fresh) continue;
      job.attach();
      const onStartup = !jc.when || (jc.when.source === GLOBAL_SOURCE && (jc.when.once ?? jc.when.each ?? 'startup') === 'startup');
      if (!this.#stopping && (active.has(jc.name) || (onStartup && !kept.has(jc.name)))) job.startNow();
    }
    this.#signals?.reconfigure(next.signals, this.mainJob()?.name);
    this.#reloads++;
    const result: ReloadResult = {
      restarted: plan.changed.map((j) => j.name),
      added: plan.added.map((j) => j.name),
      removed: plan.removed,
      unchanged: plan.unchanged,
      applied,
      needsRestart: plan.needsRestart,
    };
    this.log.info(result, 'config reloaded');
    this.bus.publish({ code: 'reloaded', source: GLOBAL_SOURCE, data: { ...result } });
    return result;
  }

  #remember(job: Job): void {
    const { runs, restarts } = job.status();
    const r = this.#retired.get(job.name) ?? { runs: 0, restarts: 0 };
    this.#retired.set(job.name, { runs: r.runs + runs, restarts: r.restarts + restarts });
  }

  #fullStatus(): SupervisorStatus {
    return buildStatus({
      startedAt: this.#startedAt,
      stopping: this.#stopping,
      maintenance: this.#maintenance,
      mainJob: this.mainJob()?.name,
      jobs: this.status(),
      environ: this.environ.keys(),
      reloads: this.#reloads,
      retired: this.#retired,
      bus: this.bus,
      subsystems: this.#subsystems,
    });
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
