/**
 * What starts a backup on its own: filesystem activity (after a quiet period, at the latest
 * after a maximum delay), events on the bus, an interval. Each calls `fire(reason)`; the
 * service makes sure only one backup runs at a time.
 *
 * Activity uses TreeWatcher (watch.ts): one inotify watch per directory, nothing per file.
 */
import type { EventBus } from '../core/events.js';
import type { EventCode } from '../core/events.js';
import { TreeWatcher } from './watch.js';

export interface Trigger {
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

export function activityTrigger(options: ActivityOptions, fire: (reason: string) => void): Trigger {
  const debounce = new Debouncer(options.quiet, options.maxDelay, () => fire('activity'));
  // A restore's staging directory is not the app's activity.
  const watcher = new TreeWatcher(options.paths, () => debounce.poke(), (path) => path.includes('.pilotfish-restore-'));
  void watcher.start().then(() => options.onReady?.());
  return {
    close: async () => {
      debounce.cancel();
      watcher.close();
    },
  };
}

export function eventTrigger(bus: EventBus, events: ReadonlyArray<{ source: string; on: EventCode }>, fire: (reason: string) => void): Trigger {
  const unsubscribe = bus.subscribe(
    'backup-trigger',
    (e) => fire(`${e.code} from ${e.source}`),
    (e) => events.some((t) => t.source === e.source && t.on === e.code),
  );
  return { close: async () => unsubscribe() };
}

export function intervalTrigger(ms: number, fire: (reason: string) => void): Trigger {
  const timer = setInterval(() => fire('interval'), ms);
  timer.unref();
  return { close: async () => clearInterval(timer) };
}
