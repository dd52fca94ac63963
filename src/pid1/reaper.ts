/**
 * Reaping orphans without stealing exits from Node's own children.
 *
 * libuv reaps the children it spawned with waitpid(pid); a waitpid(-1) here could take one of
 * those and its ChildProcess would never emit `exit`. So the reaper never reaps blindly: it asks
 * the kernel which child has exited without reaping it (waitid with WNOWAIT), and reaps that pid
 * only if no live ChildProcess owns it; the `child_process` diagnostics channel tells us of every
 * ChildProcess, whichever library spawned it. Each zombie costs two system calls and nothing
 * else: no /proc is read, so the cost does not grow with the process table.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ChildProcess } from 'node:child_process';
import type { Native } from './native.js';

export interface ReaperOptions {
  native: Native;
  /** Safety-net pass interval; SIGCHLD triggers a pass too. */
  intervalMs?: number;
  onReaped?: (count: number) => void;
}

/** A monotonic clock in ms (the global `performance` would load perf_hooks at start). */
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The most zombies one pass reaps before it yields to the event loop (a storm stays fair). */
const PASS_MAX = 1024;
/** The least time between passes that SIGCHLDs ask for (an orphan's exit is not urgent). */
const SIGCHLD_COALESCE_MS = 10;
/** When a zombie libuv owns is first in line, look again this soon (libuv reaps it meanwhile). */
const OWNED_RETRY_MS = 5;

export class Reaper {
  readonly #live = new Set<ChildProcess>();
  /** Children we started ourselves outside libuv, and who wants their wait status. */
  readonly #adopted = new Map<number, (status: number) => void>();
  readonly #native: Native;
  readonly #intervalMs: number;
  readonly #onReaped: (count: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #scheduled = false;
  /** When the last pass ran (ms, monotonic). */
  #lastPass = -Infinity;
  #total = 0;
  /** What a pass reaped: pid and raw wait status, in pairs. */
  readonly #out = new Int32Array(PASS_MAX * 2);
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
  readonly #onSigchld = (): void => this.schedule(SIGCHLD_COALESCE_MS);

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
    unsubscribe('child_process', this.#onSpawn);
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
  }

  get reaped(): number {
    return this.#total;
  }

  /** Our own child that libuv does not know of: `onExit` gets its raw wait status when it is reaped. */
  adopt(pid: number, onExit: (status: number) => void): void {
    this.#adopted.set(pid, onExit);
    // No libuv handle stands for it: our timer keeps the event loop alive until it is reaped.
    this.#timer?.ref();
    this.schedule(); // it may have exited already
  }

  /**
   * Coalesce a burst of SIGCHLD into one pass: a storm of orphans dying one by one costs at most
   * one pass per `delayMs`, not one per signal. The first signal after a quiet spell is served at
   * once (a crowd of zombies re-parented together is not kept waiting); the ones that follow
   * within `delayMs` of a pass wait for the next.
   */
  schedule(delayMs = 0): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const pass = (): void => {
      this.#scheduled = false;
      this.reap();
    };
    const wait = this.#lastPass + delayMs - nowMs();
    if (wait > 0) setTimeout(pass, Math.ceil(wait));
    else setImmediate(pass);
  }

  /** One pass: reap every exited child of ours that no ChildProcess owns. Returns how many. */
  reap(): number {
    this.#lastPass = nowMs();
    // The pids libuv still waits for; no ChildProcess can be spawned while the pass runs.
    const owned: number[] = [];
    for (const child of this.#live) if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) owned.push(child.pid);
    const result = this.#native.reapBatch(Int32Array.from(owned), this.#out);
    const count = result < 0 ? ~result : result;
    if (result < 0) {
      // libuv reaps its own child on the same SIGCHLD; until then it hides the ones behind it.
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        this.reap();
      }, OWNED_RETRY_MS);
    }
    if (this.#adopted.size > 0) {
      const pairs = this.#out.slice(0, count * 2); // a callback may start another pass
      for (let i = 0; i < pairs.length; i += 2) {
        const onExit = this.#adopted.get(pairs[i] as number);
        if (!onExit) continue;
        this.#adopted.delete(pairs[i] as number);
        if (this.#adopted.size === 0) this.#timer?.unref();
        onExit(pairs[i + 1] as number);
      }
    }
    if (count > 0) {
      this.#total += count;
      this.#onReaped(count);
    }
    if (count === PASS_MAX) this.schedule();
    return count;
  }
}
