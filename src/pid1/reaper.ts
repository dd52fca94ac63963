/**
 * Reaping orphans without stealing exits from Node's own children.
 *
 * libuv reaps the children it spawned with waitpid(pid); a waitpid(-1) here could take one of
 * those and its ChildProcess would never emit `exit`. So the reaper only ever waits on pids
 * that are our children but not a live ChildProcess, which the `child_process` diagnostics
 * channel tells us about, whichever library spawned them.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Native } from './native.js';

export interface ReaperOptions {
  native: Native;
  /** Safety-net scan interval; SIGCHLD triggers a scan too. */
  intervalMs?: number;
  onReaped?: (count: number) => void;
}

export class Reaper {
  readonly #live = new Set<ChildProcess>();
  readonly #native: Native;
  readonly #intervalMs: number;
  readonly #onReaped: (count: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #scheduled = false;
  #total = 0;
  readonly #onSpawn = (message: unknown): void => {
    const child = (message as { process?: ChildProcess }).process;
    if (!child) return;
    this.#live.add(child);
    child.once('exit', () => this.#live.delete(child));
    // A spawn that failed never emits exit.
    child.once('error', () => {
      if (child.pid === undefined) this.#live.delete(child);
    });
  };
  readonly #onSigchld = (): void => this.schedule();

  constructor(options: ReaperOptions) {
    this.#native = options.native;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#onReaped = options.onReaped ?? (() => {});
    // Subscribe at once: every spawn from here on is known before it can exit.
    subscribe('child_process', this.#onSpawn);
  }

  start(): void {
    process.on('SIGCHLD', this.#onSigchld);
    this.#timer = setInterval(() => this.reap(), this.#intervalMs);
    this.#timer.unref();
    this.reap();
  }

  stop(): void {
    process.off('SIGCHLD', this.#onSigchld);
    if (this.#timer) clearInterval(this.#timer);
  }

  get reaped(): number {
    return this.#total;
  }

  /** Coalesce a burst of SIGCHLD into one scan. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.reap();
    });
  }

  /** One pass: wait on every child of ours that no ChildProcess owns. Returns how many were reaped. */
  reap(): number {
    const owned = new Set<number>();
    for (const child of this.#live) if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) owned.add(child.pid);
    let count = 0;
    for (const pid of childPids()) {
      if (owned.has(pid)) continue;
      if (this.#native.reap(pid)) count++;
    }
    if (count > 0) {
      this.#total += count;
      this.#onReaped(count);
      // Reaping may have been partial if more orphans arrived meanwhile.
      this.schedule();
    }
    return count;
  }
}

/** Our direct children, from /proc/self/task/<tid>/children, else from a /proc scan. */
export function childPids(): number[] {
  const pids: number[] = [];
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const text = readFileSync(`/proc/self/task/${tid}/children`, 'utf8');
      for (const p of text.split(' ')) if (p.trim()) pids.push(Number(p));
    }
    return pids;
  } catch {
    return scanProc();
  }
}

function scanProc(): number[] {
  const me = process.pid;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ... ; comm may contain spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === me) pids.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}
