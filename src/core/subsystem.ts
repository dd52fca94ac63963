/**
 * The contract between the core and a concern (consul, vault, backup, election, control,
 * telemetry). A subsystem sees the bus, the logger and the config; it never reaches into
 * another subsystem's internals.
 */
import type { Config } from '../config/schema.js';
import type { JobConfig } from '../jobs/config.js';
import type { JobStatus } from '../jobs/job.js';
import type { Logger } from '../log/logger.js';
import type { EventBus } from './events.js';

export interface SubsystemContext {
  bus: EventBus;
  log: Logger;
  config: Config;
  /** The jobs' current status, read-only. */
  jobs: () => JobStatus[];
  /** Ask the supervisor to stop Pilotfish with this exit code (e.g. on a fatal subsystem error). */
  requestShutdown: (reason: string, exitCode: number) => void;
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
}

export type SubsystemFactory = (config: Config) => Subsystem | undefined;
