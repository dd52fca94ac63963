/**
 * A one-shot command under a timeout: a health check, an election gate or rank, a backup hook.
 * Spawned like a job's process (its own process group); when the timeout runs out the group
 * gets `killSignal` and, after `graceMs`, SIGKILL.
 */
import { spawnProcess, type Exit, type Proc, type SpawnSpec } from './process.js';
import { terminate } from './terminate.js';

export interface OneShotSpec extends SpawnSpec {
  timeout: number;
  /** Default SIGKILL at once. */
  killSignal?: NodeJS.Signals;
  graceMs?: number;
  /**
   * Count the timeout from when the process was started (its exec done), not from the spawn
   * call: on a busy host the fork itself can take a good part of a short timeout.
   */
  fromSpawn?: boolean;
  /** Told the process once it is spawned (to stop it from outside). */
  started?: (proc: Proc) => void;
}

export interface OneShot {
  exit: Exit;
  timedOut: boolean;
  /** The captured tail of its output (SpawnSpec.captureTail). */
  output: string;
}

export async function runOneShot(spec: OneShotSpec): Promise<OneShot> {
  const proc = spawnProcess(spec);
  spec.started?.(proc);
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const arm = (): void => {
    timer = setTimeout(() => {
      timedOut = true;
      void terminate(proc, spec.killSignal ?? 'SIGKILL', spec.graceMs ?? 0);
    }, spec.timeout);
  };
  if (spec.fromSpawn && proc.spawned) void proc.spawned.then((ok) => ok && !done && arm());
  else arm();
  const exit = await proc.exited;
  done = true;
  clearTimeout(timer);
  return { exit, timedOut, output: exit.output ?? '' };
}
