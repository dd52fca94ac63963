/**
 * What starts a backup on its own: filesystem activity (after a quiet period, at the latest
 * after a maximum delay), events on the bus, an interval. Each calls `fire(reason)`; the
 * service makes sure only one backup runs at a time.
 *
 * Activity uses chokidar (inotify per directory): Node 20's fs.watch({recursive}) walks and
 * polls on Linux. See bench/backup/README.md for its cost on a 100k-file tree.
 */
import { watch, type FSWatcher } from 'chokidar';
import type { EventBus } from '../core/events.js';
import type { EventCode } from '../core/events.js';

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
  const watcher: FSWatcher = watch(options.paths, {
    ignoreInitial: true,
    persistent: true,
    followSymlinks: false,
    // A restore's staging directory is not the app's activity.
    ignored: (path: string) => path.includes('.pilotfish-restore-'),
  });
  watcher.on('all', () => debounce.poke());
  watcher.on('error', () => undefined);
  if (options.onReady) watcher.once('ready', options.onReady);
  return {
    close: async () => {
      debounce.cancel();
      await watcher.close();
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
