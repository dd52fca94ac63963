/** What one child process of a job is, to the code that spawns it (process.ts), runs it in the foreground (foreground.ts) and stops it (terminate.ts). */
import type { Logger } from '../kernel/logger.js';
import type { UserIds } from './user.js';

export interface SpawnSpec {
  job: string;
  argv: readonly string[];
  env: Record<string, string>;
  cwd?: string;
  /** Run as this user (Pilotfish must be root). */
  user?: UserIds | undefined;
  logging: 'wrapped' | 'raw';
  /** Give the process our stdin (only one process should). */
  stdin?: boolean;
  log: Logger;
  /** Level of wrapped output lines; health checks log theirs at debug. */
  lineLevel?: 'info' | 'debug';
  /** Keep the last bytes of output, e.g. for a health check's Consul note. */
  captureTail?: number;
  /**
   * What the rest of the process group gets once the leader has exited on its own (a
   * `sh -c 'daemon & exit 0'`), and the grace before SIGKILL. Default SIGTERM, 2 s.
   */
  groupStop?: { signal: NodeJS.Signals; graceMs: number };
}

export interface Exit {
  /** The shell convention: the exit code, 128+n for a death by signal n, 127 not found, 126 not executable. */
  code: number;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  spawnError?: string;
  output?: string;
}

export interface Proc {
  readonly pid: number | undefined;
  /** The leader's exit, once the rest of its process group is gone too (see `groupStop`). */
  readonly exited: Promise<Exit>;
  /**
   * A stop is under way (terminate.ts): the group has had `signal`, and gets SIGKILL at
   * `deadline` (ms since the epoch); what is left of the group after the leader is held to it.
   */
  stopping(signal: NodeJS.Signals, deadline: number): void;
  /** Resolves true once the process is started (exec done), false if it never was. */
  readonly spawned?: Promise<boolean>;
  /** Signal the whole process group; false if it is already gone. */
  signalGroup(signal: NodeJS.Signals | 0): boolean;
  /** True while any process of the group is alive. */
  groupAlive(): boolean;
}
