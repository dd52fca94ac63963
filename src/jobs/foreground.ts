/**
 * The process given our stdin, when stdin is our terminal: the top may install a spawner that
 * starts it as the terminal's foreground process group (pid1/terminal.ts), so Ctrl-C and job
 * control reach it. It is the same Proc as any other: its own group, and a run that ends once
 * the whole group is gone.
 */
import type { Exit, Proc, SpawnSpec } from './child.js';
import { endGroup, type Group } from './terminate.js';

export type ForegroundSpawn = (
  argv: readonly string[],
  env: Record<string, string>,
  cwd: string | undefined,
) => { pid: number; status: Promise<{ code: number; signal: NodeJS.Signals | null }> } | { error: string };

let installed: ForegroundSpawn | undefined;

/** Installed by the top when stdin is a terminal (and only then). */
export function setForegroundSpawn(spawn: ForegroundSpawn | undefined): void {
  installed = spawn;
}

export function foregroundSpawn(): ForegroundSpawn | undefined {
  return installed;
}

const DEFAULT_GROUP_STOP = { signal: 'SIGTERM', graceMs: 2_000 } as const;

export function spawnForeground(spec: SpawnSpec, argv: readonly string[], spawn: ForegroundSpawn): Proc {
  const file = argv[0] as string;
  const started = spawn(argv, spec.env, spec.cwd);
  if ('error' in started) {
    const reason =
      started.error === 'ENOENT'
        ? `cannot run "${file}": no such file or directory (is it installed and on PATH?)`
        : started.error === 'EACCES'
          ? `cannot run "${file}": permission denied (is it executable?)`
          : `cannot run "${file}": ${started.error}`;
    const exit: Exit = { code: started.error === 'ENOENT' ? 127 : 126, signal: null, spawnError: reason };
    return { pid: undefined, exited: Promise.resolve(exit), stopping: () => undefined, signalGroup: () => false, groupAlive: () => false };
  }
  const pid = started.pid;
  const group: Group = {
    signal(signal) {
      try {
        process.kill(-pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    alive: () => group.signal(0),
  };
  let stop: { signal: NodeJS.Signals; deadline: number } | undefined;
  const exited = started.status.then(async (exit): Promise<Exit> => {
    const { signal, graceMs } = spec.groupStop ?? DEFAULT_GROUP_STOP;
    await endGroup(group, stop ?? { signal, deadline: Date.now() + graceMs, fresh: true });
    return exit;
  });
  return {
    pid,
    exited,
    stopping(signal, deadline) {
      stop = { signal, deadline };
    },
    signalGroup: (signal) => group.signal(signal),
    groupAlive: () => group.alive(),
  };
}
