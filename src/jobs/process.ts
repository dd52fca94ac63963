/**
 * One process of a job: spawned as the leader of its own process group, so that stopping it
 * reaches everything it started; its exit normalised to the shell's conventions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { execProblem } from '../config/limits.js';
import { foregroundSpawn, spawnForeground } from './foreground.js';
import { endGroup, type Group } from './terminate.js';
import type { Exit, Proc, SpawnSpec } from './child.js';

export type { Exit, Proc, SpawnSpec };

const MAX_LINE = 64 * 1024;
const CLOSE_GRACE_MS = 100;
const DEFAULT_GROUP_STOP = { signal: 'SIGTERM', graceMs: 2_000 } as const;

/** Where setpriv (util-linux) is, once looked up; null when there is none. */
let setprivPath: string | null | undefined;
let warnedNoSetpriv = false;

/**
 * The command and the spawn options that run it as `user`. Node (libuv) sets the uid and gid
 * itself but drops every supplementary group; a user with supplementary groups is started
 * through `setpriv --reuid --regid --groups`, which sets all three and execs the command (same
 * pid, same process group). Without setpriv the job runs with its primary group only, and
 * that is logged once.
 */
function asUser(spec: SpawnSpec): { argv: readonly string[]; ids: { uid?: number; gid?: number } } {
  const user = spec.user;
  if (!user) return { argv: spec.argv, ids: {} };
  // Only root can set groups; otherwise Node's own spawn, as before (it ignores that failure).
  if (user.groups.length > 0 && process.getuid?.() === 0) {
    if (setprivPath === undefined) setprivPath = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'].find((p) => existsSync(p)) ?? null;
    if (setprivPath)
      return { argv: [setprivPath, `--reuid=${user.uid}`, `--regid=${user.gid}`, `--groups=${user.groups.join(',')}`, '--', ...spec.argv], ids: {} };
    if (!warnedNoSetpriv) {
      warnedNoSetpriv = true;
      spec.log.warn(
        { job: spec.job },
        `user ${user.name ?? user.uid} has supplementary groups (${user.groups.join(',')}), but there is no setpriv (util-linux) to give them: jobs run with the primary group only`,
      );
    }
  }
  return { argv: spec.argv, ids: { uid: user.uid, gid: user.gid } };
}

/** A process that could not be started: it exits at once with the shell's code and the reason. */
function notStarted(code: number, reason: string): Proc {
  return {
    pid: undefined,
    exited: Promise.resolve({ code, signal: null, spawnError: reason }),
    spawned: Promise.resolve(false),
    signalGroup: () => false,
    groupAlive: () => false,
    stopping: () => undefined,
  };
}

/** Why a spawn failed, in the user's terms: a missing cwd is not a missing binary. */
function spawnFailure(file: string, cwd: string | undefined, err: NodeJS.ErrnoException): { code: number; reason: string } {
  if ((err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EACCES') && cwd !== undefined) {
    let problem: string | undefined;
    try {
      if (!statSync(cwd).isDirectory()) problem = 'it is not a directory';
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      problem = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : (cause as Error).message;
    }
    if (problem) return { code: 126, reason: `cannot start in cwd "${cwd}": ${problem}` };
  }
  if (err.code === 'ENOENT') return { code: 127, reason: `cannot run "${file}": no such file or directory (is it installed and on PATH?)` };
  if (err.code === 'EACCES') return { code: 126, reason: `cannot run "${file}": permission denied (is it executable?)` };
  if (err.code === 'E2BIG') return { code: 126, reason: `cannot run "${file}": its arguments and environment are too large for the kernel (E2BIG)` };
  return { code: 126, reason: `cannot run "${file}": ${err.message}` };
}

export function spawnProcess(spec: SpawnSpec): Proc {
  const { argv, ids } = asUser(spec);
  const [file, ...args] = argv as [string, ...string[]];
  // What the kernel (or Node) would refuse is refused here, with the reason: a NUL byte makes
  // spawn throw, and too large an environment (a big putenv) fails every exec with E2BIG.
  const problem = execProblem(argv, spec.env);
  if (problem) return notStarted(126, `cannot run "${file}": ${problem.message}`);
  // The process given our terminal as stdin gets it as its foreground when the top says how.
  const foreground = spec.stdin && spec.logging === 'raw' && ids.uid === undefined ? foregroundSpawn() : undefined;
  if (foreground) return spawnForeground(spec, argv, foreground);
  const raw = spec.logging === 'raw';
  const level = spec.lineLevel ?? 'info';
  let tail = '';
  const capture = (text: string): void => {
    if (!spec.captureTail) return;
    tail = (tail + text).slice(-spec.captureTail);
  };

  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      env: spec.env,
      ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
      ...ids,
      detached: true, // setsid: the child leads a new process group
      stdio: [spec.stdin ? 'inherit' : 'ignore', raw ? 'inherit' : 'pipe', raw ? 'inherit' : 'pipe'],
    });
  } catch (error) {
    const { code, reason } = spawnFailure(file, spec.cwd, error as NodeJS.ErrnoException);
    return notStarted(code, reason);
  }

  const pid = child.pid;
  if (!raw) {
    for (const [stream, readable] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      if (!readable) continue;
      let carry = '';
      readable.setEncoding('utf8');
      readable.on('data', (chunk: string) => {
        capture(chunk);
        const text = carry + chunk;
        const lines = text.split('\n');
        carry = (lines.pop() as string).slice(-MAX_LINE);
        for (const line of lines) spec.log[level]({ job: spec.job, pid, stream }, line.slice(0, MAX_LINE));
      });
      readable.on('end', () => {
        if (carry) spec.log[level]({ job: spec.job, pid, stream }, carry);
        carry = '';
      });
    }
  }

  let stop: { signal: NodeJS.Signals; deadline: number } | undefined;
  const group: Group = {
    signal(signal) {
      if (pid === undefined) return false;
      try {
        process.kill(-pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    alive() {
      return group.signal(0);
    },
  };
  const leaderExited = new Promise<Exit>((resolve) => {
    let done = false;
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (done || child.pid !== undefined) return;
      done = true;
      const { code, reason } = spawnFailure(file, spec.cwd, err);
      resolve({ code, signal: null, spawnError: reason });
    });
    // Prefer 'close' (the output pipes drained, so the last lines are logged before the exit),
    // but do not wait long: a background process may hold the pipes open indefinitely.
    child.once('exit', (code, signal) => {
      const finish = (): void => {
        if (done) return;
        done = true;
        const n = signal ? (constants.signals[signal] ?? 0) : 0;
        resolve({ code: signal ? 128 + n : (code ?? 0), signal, ...(spec.captureTail ? { output: tail } : {}) });
      };
      if (raw) return finish();
      const grace = setTimeout(finish, CLOSE_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        finish();
      });
    });
  });
  // The run is over when the whole group is: whatever the leader left behind in it gets the
  // stop signal, and SIGKILL after the grace (or at the deadline of a stop already under way).
  const exited = leaderExited.then(async (exit) => {
    if (pid === undefined || exit.spawnError) return exit;
    const { signal, graceMs } = spec.groupStop ?? DEFAULT_GROUP_STOP;
    await endGroup(group, stop ?? { signal, deadline: Date.now() + graceMs, fresh: true });
    return exit;
  });

  const spawned = new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });

  return {
    pid,
    exited,
    spawned,
    stopping(signal, deadline) {
      stop = { signal, deadline };
    },
    signalGroup: (signal) => group.signal(signal),
    groupAlive: () => group.alive(),
  };
}
