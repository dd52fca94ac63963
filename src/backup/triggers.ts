/**
 * What starts a backup on its own: filesystem activity (after a quiet period, at the latest
 * after a maximum delay), events on the bus, an interval, the age of the newest snapshot. Each
 * calls `fire(reason)`; the service makes sure only one backup runs at a time.
 *
 * Activity uses TreeWatcher (watch.ts): one inotify watch per directory, nothing per file.
 */
import type { EventBus } from '../kernel/events.js';
import type { EventCode } from '../kernel/events.js';
import { STAGE_MARK } from './format.js';
import { TreeWatcher } from './watch.js';

/** A running trigger: it calls `fire` until closed. */
export interface BackupTrigger {
  close(): Promise<void>;
}

export interface ActivityOptions {
  paths: string[];
  quiet: number;
  maxDelay: number;
  /** Called with the watcher once it has scanned the tree. */
  onReady?: () => void;
}

/** Debounce: fire `quiet` ms after the last change, or `maxDelay` ms after the first. */
export class Debouncer {
  #quiet: NodeJS.Timeout | undefined;
  #max: NodeJS.Timeout | undefined;

  constructor(
    readonly quietMs: number,
    readonly maxDelayMs: number,
    readonly fire: () => void,
  ) {}

  poke(): void {
    if (this.#quiet) clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#go(), this.quietMs);
    this.#max ??= setTimeout(() => this.#go(), this.maxDelayMs);
  }

  #go(): void {
    this.cancel();
    this.fire();
  }

  cancel(): void {
    if (this.#quiet) clearTimeout(this.#quiet);
    if (this.#max) clearTimeout(this.#max);
    this.#quiet = undefined;
    this.#max = undefined;
  }
}

export function activityTrigger(options: ActivityOptions, fire: (reason: string) => void): BackupTrigger {
  const debounce = new Debouncer(options.quiet, options.maxDelay, () => fire('activity'));
  // A restore's staging directory is not the app's activity.
  const watcher = new TreeWatcher(
    options.paths,
    () => debounce.poke(),
    (path) => path.includes(STAGE_MARK),
  );
  void watcher.start().then(() => options.onReady?.());
  return {
    close: async () => {
      debounce.cancel();
      watcher.close();
    },
  };
}

export function eventTrigger(bus: EventBus, events: ReadonlyArray<{ source: string; on: EventCode }>, fire: (reason: string) => void): BackupTrigger {
  const unsubscribe = bus.subscribe(
    'backup-trigger',
    (e) => fire(`${e.code} from ${e.source}`),
    (e) => events.some((t) => t.source === e.source && t.on === e.code),
  );
  return { close: async () => unsubscribe() };
}

export function intervalTrigger(ms: number, fire: (reason: string) => void): BackupTrigger {
  const timer = setInterval(() => fire('interval'), ms);
  timer.unref();
  return { close: async () => clearInterval(timer) };
}

/** setTimeout's limit (about 24.8 days): longer delays are checked again when it runs out. */
const MAX_TIMER = 2 ** 31 - 1;

export interface MaxAgeOptions {
  maxAge: number;
  /** The time (ms) of the newest snapshot in the store, any instance's; undefined when none. */
  newest: () => Promise<number | undefined>;
  /** How soon to look again after the store could not be read or a backup failed. */
  retry: number;
  onError?: (error: unknown) => void;
  now?: () => number;
}

/**
 * "No snapshot older than maxAge": when the newest snapshot in the store is maxAge old, fire
 * `max-age`. The age is the store's, not this process's, so a backup by any trigger (or by
 * another instance) pushes the next one back; with no snapshot at all the clock starts at
 * {@link restart} (start, or being elected). `fire` returns false when it declined (a replica
 * with primaryOnly): the trigger then waits for the next restart.
 */
export class MaxAgeTrigger implements BackupTrigger {
  #timer: NodeJS.Timeout | undefined;
  #since: number;
  #closed = false;
  readonly #now: () => number;

  constructor(
    readonly options: MaxAgeOptions,
    readonly fire: (reason: string) => boolean,
  ) {
    this.#now = options.now ?? Date.now;
    this.#since = this.#now();
  }

  /** Count from now when the store has no snapshot, and check at once. */
  restart(): void {
    this.#since = this.#now();
    this.#arm(0);
  }

  /** A backup succeeded: the next one is due maxAge from now. */
  backedUp(): void {
    this.#arm(this.options.maxAge);
  }

  /** A backup failed: look again soon (the store decides whether one is still due). */
  failed(): void {
    this.#arm(Math.min(this.options.retry, this.options.maxAge));
  }

  #arm(ms: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#check(), Math.min(Math.max(0, ms), MAX_TIMER));
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    this.#timer = undefined;
    let newest: number | undefined;
    try {
      newest = await this.options.newest();
    } catch (error) {
      this.options.onError?.(error);
      this.failed();
      return;
    }
    if (this.#closed || this.#timer) return; // closed, or re-armed by a backup meanwhile
    const due = (newest ?? this.#since) + this.options.maxAge;
    const now = this.#now();
    if (now < due) this.#arm(due - now);
    else if (!this.fire('max-age')) this.#timer = undefined; // declined: wait for restart()
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
