/**
 * A job's runtime: when it starts (its `when`), how it runs (one process group at a time),
 * how it restarts (bounded, with backoff), and how it stops (stopping → stop signal → grace →
 * SIGKILL → stopped), all told to the rest of Pilotfish through the bus.
 */
import { GLOBAL_SOURCE, type BusEvent, type EventBus, type EventCode } from '../kernel/events.js';
import { errorMessage } from '../kernel/errors.js';
import { nextDelay } from '../kernel/backoff.js';
import { isoTime } from '../kernel/time.js';
import type { Logger } from '../kernel/logger.js';
import { toArgv } from './command.js';
import type { JobConfig } from './config.js';
import { HealthCheck, type HealthStatus } from './health.js';
import { spawnProcess, type Exit, type Proc } from './process.js';
import { terminate } from './terminate.js';
import { resolveUser, type UserIds } from './user.js';

export type JobState = 'waiting' | 'running' | 'restarting' | 'exited' | 'failed' | 'stopping' | 'stopped' | 'expired';

export interface JobContext {
  bus: EventBus;
  log: Logger;
  /** Default grace period between the stop signal and SIGKILL. */
  stopTimeout: number;
  /** The environment for this job's next process. */
  environment: (job: JobConfig) => Record<string, string>;
  /** True once Pilotfish is stopping: only stop hooks may still start. */
  shuttingDown: () => boolean;
}

export interface JobStatus {
  name: string;
  state: JobState;
  pid: number | null;
  main: boolean;
  runs: number;
  restarts: number;
  health: HealthStatus | null;
  /** Why the health check fails (exit code and output, a timeout, a missing binary); only when unhealthy. */
  healthReason?: string;
  lastExit: { code: number; signal: string | null; at: string; error?: string } | null;
}

/** The most a stop phase waits for its hooks when they set no timeout of their own. */
const HOOK_WAIT_MIN_MS = 30_000;

interface Trigger {
  source: string;
  code: EventCode;
  each: boolean;
}

/**
 * A `when` clause as a trigger. With neither once nor each, a signal source means each
 * `signal`, `pilotfish` means once `startup`, and anything else once `exitSuccess`.
 */
function trigger(source: string, once: EventCode | undefined, each: EventCode | undefined): Trigger {
  if (each) return { source, code: each, each: true };
  if (once) return { source, code: once, each: false };
  if (source.startsWith('SIG')) return { source, code: 'signal', each: true };
  return { source, code: source === GLOBAL_SOURCE ? 'startup' : 'exitSuccess', each: false };
}

export class Job {
  readonly name: string;
  #state: JobState = 'waiting';
  #proc: Proc | undefined;
  #health: HealthCheck | undefined;
  #user: UserIds | undefined;
  #runs = 0;
  #restarts = 0;
  #attempt = 0;
  #startedAt = 0;
  #lastExit: JobStatus['lastExit'] = null;
  #armed = true;
  #queued = false;
  #stopRequested = false;
  #pendingAll: Map<string, Trigger> | undefined;
  #timers = new Set<NodeJS.Timeout>();
  #runDone: Promise<void> = Promise.resolve();
  #resolveRun: () => void = () => {};
  #unsubscribe: () => void = () => {};
  readonly #triggers: Trigger[];

  constructor(
    readonly config: JobConfig,
    private readonly ctx: JobContext,
  ) {
    this.name = config.name;
    const w = config.when;
    if (!w) this.#triggers = [{ source: GLOBAL_SOURCE, code: 'startup', each: false }];
    else if (w.source !== undefined) this.#triggers = [trigger(w.source, w.once, w.each)];
    else if (w.all) this.#triggers = w.all.map((t) => trigger(t.source, t.once, t.each));
    else this.#triggers = [];
    if (w?.all) this.#resetAll();
    if (config.user !== undefined) this.#user = resolveUser(config.user);
  }

  get state(): JobState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  get health(): HealthCheck | undefined {
    return this.#health;
  }

  /** Is this job waiting for `code` from `source`? (Stop hooks are found this way.) */
  listensFor(source: string, code: EventCode): boolean {
    return this.#triggers.some((t) => t.source === source && t.code === code);
  }

  isActive(): boolean {
    return this.#state === 'running' || this.#state === 'restarting' || this.#state === 'stopping';
  }

  /** Subscribe to the bus and arm timers. Call before `startup` is published. */
  attach(): void {
    if (this.#triggers.length > 0) {
      this.#unsubscribe = this.ctx.bus.subscribe(
        `job:${this.name}`,
        (ev) => this.#onEvent(ev),
        (ev) => this.#triggers.some((t) => t.source === ev.source && t.code === ev.code),
      );
    }
    const w = this.config.when;
    if (w?.interval !== undefined) {
      const interval = w.interval;
      const tick = setInterval(() => {
        if (this.ctx.shuttingDown()) return;
        if (this.#proc) {
          this.ctx.log.warn({ job: this.name }, `job ${this.name} is still running at its next interval; skipped`);
          return;
        }
        this.#start();
      }, interval);
      this.#timers.add(tick);
    }
    if (w?.timeout !== undefined) {
      this.#timer(w.timeout, () => {
        if (!this.#armed || this.#runs > 0) return;
        this.#armed = false;
        this.#state = 'expired';
        this.ctx.log.warn({ job: this.name }, `job ${this.name} gave up waiting after ${w.timeout}ms`);
        this.ctx.bus.publish({ code: 'timerExpired', source: this.name });
      });
    }
  }

  detach(): void {
    this.#unsubscribe();
    this.#clearTimers();
  }

  status(): JobStatus {
    return {
      name: this.name,
      state: this.#state,
      pid: this.#proc?.pid ?? null,
      main: this.config.main,
      runs: this.#runs,
      restarts: this.#restarts,
      health: this.#health?.status ?? null,
      ...(this.#health?.reason ? { healthReason: this.#health.reason } : {}),
      lastExit: this.#lastExit,
    };
  }

  /** Send a signal to the job's process group (for routed signals and the control plane). */
  signal(signal: NodeJS.Signals): boolean {
    return this.#proc?.signalGroup(signal) ?? false;
  }

  /** Start now (the control plane's `restart` uses stop + start). */
  startNow(): void {
    this.#stopRequested = false;
    if (!this.#proc) this.#start();
  }

  /** The stop sequence. Resolves when the group is gone and the postStop hooks have run. */
  async stop(): Promise<void> {
    this.#armed = false;
    this.#queued = false;
    this.#clearTimers();
    const wasRunning = this.#proc !== undefined;
    const stopTimeout = this.config.stopTimeout ?? this.ctx.stopTimeout;
    const hookWait = Math.max(stopTimeout, HOOK_WAIT_MIN_MS);
    this.#stopRequested = true;
    if (!wasRunning) {
      if (this.#state === 'restarting') this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    await this.ctx.bus.request({ code: 'stopping', source: this.name }, hookWait);
    const proc = this.#proc;
    if (proc) {
      this.ctx.log.info({ job: this.name, pid: proc.pid, signal: this.config.stopSignal }, `stopping job ${this.name}`);
      await terminate(proc, this.config.stopSignal, stopTimeout);
      await this.#runDone;
    }
    this.#state = 'stopped';
    await this.announceStopped();
  }

  /** Publish `stopped` and wait for the postStop hooks it starts. */
  async announceStopped(): Promise<void> {
    const stopTimeout = this.config.stopTimeout ?? this.ctx.stopTimeout;
    await this.ctx.bus.request({ code: 'stopped', source: this.name }, Math.max(stopTimeout, HOOK_WAIT_MIN_MS));
  }

  #onEvent(ev: BusEvent): void {
    if (!this.#armed) return;
    // While stopping, only events whose publisher waits for their hooks start jobs: the stop
    // phases (shutdown, stopping, stopped) and anything else sent with bus.request, such as
    // the election's `demoted`. Everything else would start work nobody will wait for.
    if (this.ctx.shuttingDown() && !ev.waitUntil) return;
    const trigger = this.#triggers.find((t) => t.source === ev.source && t.code === ev.code);
    if (!trigger) return;
    if (this.#pendingAll) {
      this.#pendingAll.delete(`${trigger.source}\0${trigger.code}`);
      if (this.#pendingAll.size > 0) return;
      if (this.#triggers.some((t) => t.each)) this.#resetAll();
      else this.#armed = false;
    } else if (!trigger.each) {
      this.#armed = false;
    }
    if (this.#proc || this.#state === 'restarting') {
      this.#queued = true; // run once more when this run ends: a burst gives one extra run
    } else {
      this.#start();
    }
    ev.waitUntil?.(this.#runDone);
  }

  #resetAll(): void {
    this.#pendingAll = new Map(this.#triggers.map((t) => [`${t.source}\0${t.code}`, t]));
  }

  #start(): void {
    let argv: string[];
    this.#runDone = new Promise((resolve) => (this.#resolveRun = resolve));
    try {
      argv = toArgv(this.config.exec, this.config.shell);
    } catch (error) {
      this.#onExit({ code: 127, signal: null, spawnError: errorMessage(error) }, undefined);
      return;
    }
    const env = this.ctx.environment(this.config);
    const proc = spawnProcess({
      job: this.name,
      argv,
      env,
      ...(this.config.cwd !== undefined ? { cwd: this.config.cwd } : {}),
      ...(this.#user ? { user: this.#user } : {}),
      logging: this.config.logging,
      stdin: this.config.main && this.config.logging === 'raw',
      log: this.ctx.log,
      groupStop: { signal: this.config.stopSignal, graceMs: this.config.stopTimeout ?? this.ctx.stopTimeout },
    });
    this.#proc = proc;
    this.#state = 'running';
    this.#runs++;
    this.#startedAt = Date.now();
    this.#stopRequested = false;
    if (proc.pid !== undefined) {
      this.ctx.log.debug({ job: this.name, pid: proc.pid }, `job ${this.name} started`);
      this.ctx.bus.publish({ code: 'started', source: this.name, data: { pid: proc.pid, run: this.#runs } });
    }
    const timeout = this.config.timeout ?? this.config.when?.interval;
    let timedOut = false;
    const killer =
      timeout !== undefined
        ? this.#timer(timeout, () => {
            timedOut = true;
            this.ctx.log.warn({ job: this.name, pid: proc.pid }, `job ${this.name} ran past its timeout of ${timeout}ms; killing its process group`);
            void terminate(proc, this.config.stopSignal, this.config.stopTimeout ?? this.ctx.stopTimeout);
          })
        : undefined;
    if (this.config.health && proc.pid !== undefined) {
      this.#health = new HealthCheck(this.name, this.config.health, {
        bus: this.ctx.bus,
        log: this.ctx.log,
        env: () => this.ctx.environment(this.config),
        ...(this.config.cwd !== undefined ? { cwd: this.config.cwd } : {}),
        ...(this.#user ? { user: this.#user } : {}),
      });
      this.#health.start();
    }
    void proc.exited.then((exit) => {
      if (killer) {
        clearTimeout(killer);
        this.#timers.delete(killer);
      }
      // A timed-out run also loses whatever is left of its group.
      if (timedOut) proc.signalGroup('SIGKILL');
      this.#onExit(timedOut ? { ...exit, code: exit.code || 124 } : exit, proc);
    });
  }

  #onExit(exit: Exit, proc: Proc | undefined): void {
    this.#health?.stop();
    this.#proc = undefined;
    this.#lastExit = {
      code: exit.code,
      signal: exit.signal,
      at: isoTime(Date.now()),
      ...(exit.spawnError ? { error: exit.spawnError } : {}),
    };
    const fields = { job: this.name, pid: proc?.pid, code: exit.code, signal: exit.signal ?? undefined };
    if (exit.spawnError) this.ctx.log.error(fields, exit.spawnError);
    else if (exit.code === 0) this.ctx.log.info(fields, `job ${this.name} exited`);
    else this.ctx.log.warn(fields, `job ${this.name} exited with ${exit.code}`);

    const resolveRun = this.#resolveRun;
    if (this.#stopRequested) {
      resolveRun();
      return;
    }
    this.ctx.bus.publish({
      code: exit.code === 0 ? 'exitSuccess' : 'exitFailed',
      source: this.name,
      data: { code: exit.code, signal: exit.signal },
    });
    const restarts = this.config.restarts;
    let ended = false;
    if (this.#restarts < restarts.max && !this.ctx.shuttingDown()) {
      if (Date.now() - this.#startedAt >= restarts.backoff.max) this.#attempt = 0;
      const delay = nextDelay(this.#attempt, restarts.backoff, 0);
      this.#attempt++;
      this.#restarts++;
      this.#state = 'restarting';
      this.ctx.log.info({ job: this.name, delayMs: delay, restart: this.#restarts }, `restarting job ${this.name} in ${delay}ms`);
      this.#timer(delay, () => {
        if (this.#state === 'restarting' && !this.ctx.shuttingDown()) this.#start();
      });
    } else {
      this.#state = exit.code === 0 ? 'exited' : 'failed';
      if (this.#queued && !this.ctx.shuttingDown()) {
        this.#queued = false;
        this.#start();
      } else {
        ended = true;
      }
    }
    resolveRun();
    if (this.config.main && ended) this.onMainExit?.(exit);
  }

  /** Set by the supervisor: told when the main job has ended for good. */
  onMainExit?: (exit: Exit) => void;

  #timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
    return t;
  }

  #clearTimers(): void {
    for (const t of this.#timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.#timers.clear();
  }
}
