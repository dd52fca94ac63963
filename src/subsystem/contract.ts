/**
 * The contract between the top and a concern (consul, vault, templates, backup, election,
 * control, telemetry). A subsystem is made by the top with its own sections of the config and
 * the capabilities it needs (./capabilities.ts); at start it sees the bus, the logger, the jobs
 * and the control plane. It never reaches into another subsystem's files.
 */
import type { ControlRoutes } from './routes.js';
import type { JobConfig } from '../jobs/config.js';
import type { JobStatus } from '../jobs/job.js';
import type { Logger } from '../kernel/logger.js';
import type { EventBus } from '../kernel/events.js';

/** What every subsystem may read of the whole config: the jobs (it gets its own sections at construction). */
export interface CommonConfig {
  readonly jobs: JobConfig[];
}

export interface SubsystemContext {
  bus: EventBus;
  log: Logger;
  /** The current config (it changes on a reload). */
  config: CommonConfig;
  /** The jobs' current status, read-only. */
  jobs: () => JobStatus[];
  /** Ask the supervisor to stop Pilotfish with this exit code (e.g. on a fatal subsystem error). */
  requestShutdown: (reason: string, exitCode: number) => void;
  /** The control plane's route table: add endpoints here (`ctx.routes.add('POST', '/v1/x', h)`). */
  routes: ControlRoutes;
  /** Operations on the running supervisor, for the control plane. */
  control: SupervisorControl;
}

/** What the control plane may ask of the supervisor. Errors are PilotfishErrors with stable codes. */
export interface SupervisorControl {
  /** Re-read and validate the config, then restart only the jobs whose definition changed. */
  reload(): Promise<ReloadResult>;
  signalJob(name: string, signal: string): void;
  restartJob(name: string): Promise<void>;
  stopJob(name: string): Promise<void>;
  /** Set (or, with `undefined`, remove) a variable in the environment of future children. */
  putenv(key: string, value: string | undefined): void;
  maintenance(on: boolean): boolean;
  status(): SupervisorStatus;
}

export interface ReloadResult {
  restarted: string[];
  added: string[];
  removed: string[];
  unchanged: string[];
  /** Top-level sections that changed and their subsystems applied live (templates, backup). */
  applied: string[];
  /** Top-level sections that changed but need a restart of Pilotfish to take effect. */
  needsRestart: string[];
}

export interface SupervisorStatus {
  pid: number;
  uptimeMs: number;
  stopping: boolean;
  maintenance: boolean;
  mainJob: string | null;
  jobs: JobStatus[];
  /** Names only: putenv values may be secrets. */
  environ: string[];
  reloads: number;
  /** Processes started and automatic restarts per job name since Pilotfish started, across reloads and restarts. */
  jobTotals: Record<string, { runs: number; restarts: number }>;
  events: Record<string, number>;
  subsystems: Record<string, unknown>;
  /** For spotting leaks: live libuv resources by type, bus subscribers, memory. */
  runtime: { resources: Record<string, number>; subscribers: number; processListeners: number; rssBytes: number; heapUsedBytes: number };
}

export interface Subsystem {
  readonly name: string;
  /** Runs before `startup` is published; throwing aborts the start with a clear error. */
  start(ctx: SubsystemContext): Promise<void>;
  /** Runs after every job has stopped. */
  stop(): Promise<void>;
  /** Extra environment for a job's next process (secrets, Consul keys, role). */
  env?(job: JobConfig): Record<string, string>;
  /** A JSON-safe summary for `pilotfish status`. Never includes secret values. */
  status?(): unknown;
  /**
   * The top-level config sections this subsystem applies on a reload (e.g. `['templates']`);
   * `jobs` when it follows the jobs' definitions (Consul registrations).
   */
  readonly sections?: readonly string[];
  /**
   * Get ready to apply a reloaded config whose owned sections changed, without a restart: do
   * everything that can fail (parse, open, log in) and return how to apply or drop the result.
   * Throw when the new sections cannot be applied; nothing may have changed then. Without this
   * method, a change to the sections needs a restart (reported as `needsRestart`).
   */
  prepareReload?(next: CommonConfig): Promise<PreparedReload>;
}

/** A reload made ready by every subsystem before any of them applies it. */
export interface PreparedReload {
  apply(): Promise<void>;
  discard(): void;
}
