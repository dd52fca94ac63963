/**
 * Watching a tree for activity with one inotify watch per DIRECTORY (Node's non-recursive
 * fs.watch is inotify on Linux), nothing per file. chokidar 4 also stats and remembers every
 * file: on 100,000 files it took 27 s to get ready and 583 MiB (bench/backup/README.md), which
 * PID 1 cannot afford. Node 20's fs.watch({recursive}) walks and polls on Linux instead.
 *
 * New directories are watched as they appear; removed ones drop their watch. A path that does
 * not exist yet is looked for again every few seconds.
 */
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const RETRY_MS = 5_000;

export class TreeWatcher {
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #retries = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(
    readonly roots: readonly string[],
    readonly onChange: (path: string) => void,
    readonly ignored: (path: string) => boolean = () => false,
  ) {}

  /** Resolves once every existing directory is watched. */
  async start(): Promise<void> {
    await Promise.all(this.roots.map((r) => this.#root(r)));
  }

  get watched(): number {
    return this.#watchers.size;
  }

  async #root(root: string): Promise<void> {
    if (this.#closed) return;
    const st = await lstat(root).catch(() => undefined);
    if (st?.isDirectory()) return this.#tree(root);
    const timer = setTimeout(() => {
      this.#retries.delete(timer);
      void this.#root(root).then(() => {
        if (this.#watchers.has(root)) this.onChange(root); // it appeared: that is activity
      });
    }, RETRY_MS);
    timer.unref();
    this.#retries.add(timer);
  }

  /** Watch `dir` and every directory below it. */
  async #tree(dir: string): Promise<void> {
    const pending = [dir];
    while (pending.length > 0 && !this.#closed) {
      const d = pending.pop() as string;
      if (this.#watchers.has(d) || this.ignored(d)) continue;
      this.#watch(d);
      const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory()) pending.push(join(d, e.name));
    }
  }

  #watch(dir: string): void {
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: true }, (event, name) => {
        const path = name ? join(dir, name.toString()) : dir;
        if (this.ignored(path)) return;
        this.onChange(path);
        // A new (or renamed-in) directory: watch it and what it holds.
        if (event === 'rename' && name) {
          void lstat(path).then(
            (st) => {
              if (st.isDirectory() && !this.#watchers.has(path)) void this.#tree(path);
            },
            () => this.#drop(path), // gone: if it was a directory, forget its watch
          );
        }
      });
    } catch {
      return; // removed meanwhile, or no permission: nothing to watch
    }
    w.on('error', () => this.#drop(dir));
    this.#watchers.set(dir, w);
  }

  #drop(dir: string): void {
    const w = this.#watchers.get(dir);
    if (!w) return;
    w.close();
    this.#watchers.delete(dir);
    if (this.roots.includes(dir) && !this.#closed) void this.#root(dir);
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    for (const t of this.#retries) clearTimeout(t);
    this.#retries.clear();
  }
}
