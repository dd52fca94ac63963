/** Bounded parallelism: a counting semaphore, and a pool that runs a task per item. */

export class Semaphore {
  #free: number;
  readonly #waiters: Array<{ n: number; go: () => void }> = [];

  constructor(readonly capacity: number) {
    this.#free = capacity;
  }

  /** Take `n` units (at most the capacity), waiting until they are free. */
  async take(n = 1): Promise<void> {
    const want = Math.min(n, this.capacity);
    if (this.#waiters.length === 0 && this.#free >= want) {
      this.#free -= want;
      return;
    }
    await new Promise<void>((go) => this.#waiters.push({ n: want, go }));
  }

  give(n = 1): void {
    this.#free += Math.min(n, this.capacity);
    while (this.#waiters.length > 0) {
      const next = this.#waiters[0] as { n: number; go: () => void };
      if (this.#free < next.n) break;
      this.#free -= next.n;
      this.#waiters.shift();
      next.go();
    }
  }

  async run<T>(fn: () => Promise<T>, n = 1): Promise<T> {
    await this.take(n);
    try {
      return await fn();
    } finally {
      this.give(n);
    }
  }
}

/**
 * Run `fn` over `items` with at most `width` at once. An async iterable is pulled only as fast
 * as the runners take items, so a lazily produced sequence is never read far ahead. The first
 * failure stops new work and is thrown once the running items end; the iterator is then closed.
 */
export async function pool<T>(items: Iterable<T> | AsyncIterable<T>, width: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it: Iterator<T> | AsyncIterator<T> = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  let failed: unknown;
  let hasFailed = false;
  const fail = (error: unknown): void => {
    if (hasFailed) return;
    hasFailed = true;
    failed = error;
  };
  const runner = async (): Promise<void> => {
    while (!hasFailed) {
      let next: IteratorResult<T>;
      try {
        next = await it.next();
      } catch (error) {
        fail(error);
        return;
      }
      if (next.done || hasFailed) return;
      try {
        await fn(next.value);
      } catch (error) {
        fail(error);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, width) }, runner));
  if (hasFailed) {
    await Promise.resolve(it.return?.(undefined)).catch(() => undefined);
    throw failed;
  }
}

/** Tracks fire-and-forget promises; `settle()` waits for all and throws the first failure. */
export class TaskSet {
  readonly #tasks = new Set<Promise<void>>();
  #error: unknown;
  #hasError = false;

  add(task: Promise<void>): void {
    const p = task.then(
      () => void this.#tasks.delete(p),
      (error: unknown) => {
        this.#tasks.delete(p);
        if (!this.#hasError) {
          this.#hasError = true;
          this.#error = error;
        }
      },
    );
    this.#tasks.add(p);
  }

  /** Throw now if a task already failed. */
  check(): void {
    if (this.#hasError) throw this.#error;
  }

  async settle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
    this.check();
  }
}
