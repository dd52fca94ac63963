/**
 * The restore's worker threads: each fetched object (a pack or a chunk) goes, transferred
 * without a copy, to the least busy worker, which decrypts, decompresses, verifies and writes
 * its chunks (./place.ts). The main thread is left with the network; the work spreads over the
 * cores, and a slow filesystem call blocks one worker, not the event loop.
 *
 * When no worker can start (the worker file is missing from a custom bundle, ...), the same
 * work runs inline on the main thread: slower, same result.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PilotfishError } from '../../kernel/errors.js';
import type { Codec } from '../codec.js';
import { writePlaces, type PlaceTask } from './place.js';
import { initOf, type Reply, type Request } from './protocol.js';

export interface Placer {
  /** Worker threads in use; 0 when the work runs inline. */
  readonly threads: number;
  /** Verify and write a task's chunks; the plaintext bytes written. */
  run(task: PlaceTask): Promise<number>;
  close(): Promise<void>;
}

/**
 * A worker keeps nothing between tasks (the fetched bodies are external memory): a 2 MiB young
 * generation instead of V8's default cut the restore of 100,000 files from 410–426 to 309–328
 * MiB RSS with two workers, at the same speed (1 GiB restore: unchanged).
 */
const LIMITS = { maxYoungGenerationSizeMb: 2 };

/** Two cores is the common container size; more than four workers only adds memory. */
export function defaultThreads(): number {
  return Math.max(2, Math.min(4, availableParallelism()));
}

export function inlinePlacer(codec: Codec): Placer {
  return {
    threads: 0,
    run: async (task) => writePlaces(codec, task),
    close: async () => undefined,
  };
}

/** Start `threads` workers (each ready before use); inline when `threads` is 0 or none starts. */
export async function startPlacer(codec: Codec, threads = defaultThreads()): Promise<Placer> {
  if (threads <= 0) return inlinePlacer(codec);
  const started = await Promise.allSettled(Array.from({ length: threads }, () => startWorker(codec)));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (workers.length < threads) {
    await Promise.all(workers.map((w) => w.terminate()));
    return inlinePlacer(codec);
  }
  return new WorkerPlacer(workers);
}

/** The bundle's dist/cli/backup-worker.js, or the TypeScript source when running from src/ (tests, bench). */
function workerEntry(): { file: string; source: boolean } {
  const source = import.meta.url.endsWith('.ts');
  return { file: fileURLToPath(new URL(source ? './restore-worker.ts' : './backup-worker.js', import.meta.url)), source };
}

function startWorker(codec: Codec): Promise<Worker> {
  const { file, source } = workerEntry();
  if (!existsSync(file)) return Promise.reject(new Error(`no worker file ${file}`));
  // From source, load the worker through tsx (a dev dependency, like the tests that need it).
  const worker = source
    ? new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(new URL(`file://${file}`).href)}); })`, {
        eval: true,
        workerData: initOf(codec),
        resourceLimits: LIMITS,
      })
    : new Worker(file, { workerData: initOf(codec), resourceLimits: LIMITS });
  return new Promise<Worker>((resolve, reject) => {
    const failed = (error: unknown): void => {
      void worker.terminate();
      reject(error);
    };
    worker.once('error', failed);
    worker.once('exit', (code) => failed(new Error(`restore worker exited with ${code} before it was ready`)));
    worker.once('message', (m: unknown) => {
      worker.removeAllListeners('error');
      worker.removeAllListeners('exit');
      if ((m as { ready?: boolean }).ready === true) resolve(worker);
      else failed(new Error('restore worker sent no ready message'));
    });
  });
}

interface Pending {
  resolve(bytes: number): void;
  reject(error: unknown): void;
}

class WorkerPlacer implements Placer {
  readonly #slots: Array<{ worker: Worker; pending: Map<number, Pending>; dead?: Error }>;
  #seq = 0;

  constructor(workers: Worker[]) {
    this.#slots = workers.map((worker) => {
      const slot: { worker: Worker; pending: Map<number, Pending>; dead?: Error } = { worker, pending: new Map() };
      const die = (error: Error): void => {
        slot.dead ??= error;
        for (const p of slot.pending.values()) p.reject(slot.dead);
        slot.pending.clear();
      };
      worker.on('message', (reply: Reply) => {
        const p = slot.pending.get(reply.seq);
        if (!p) return;
        slot.pending.delete(reply.seq);
        if (reply.error === undefined) p.resolve(reply.bytes);
        else p.reject(rebuild(reply.error));
      });
      worker.on('error', (error) => die(new PilotfishError('PF_BACKUP_RESTORE', `a restore worker failed: ${error.message}`, { cause: error })));
      worker.on('exit', (code) => die(new PilotfishError('PF_BACKUP_RESTORE', `a restore worker exited with ${code}`)));
      return slot;
    });
  }

  get threads(): number {
    return this.#slots.length;
  }

  run(task: PlaceTask): Promise<number> {
    const live = this.#slots.filter((s) => !s.dead);
    if (live.length === 0) return Promise.reject(this.#slots[0]?.dead ?? new PilotfishError('PF_BACKUP_RESTORE', 'no restore worker'));
    const slot = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    // Transfer the body's memory instead of copying it; a view into a shared buffer (small
    // Buffers come from Node's pool) is copied first into memory of its own. (Buffer's slice()
    // is a view, not a copy: transferring the pool detached it on Node 20, and Node 24 refuses
    // it with a DataCloneError.)
    let body = task.body;
    if (body.byteOffset !== 0 || body.byteLength !== body.buffer.byteLength || !(body.buffer instanceof ArrayBuffer)) body = new Uint8Array(body);
    const seq = ++this.#seq;
    return new Promise<number>((resolve, reject) => {
      slot.pending.set(seq, { resolve, reject });
      const req: Request = { seq, task: { ...task, body } };
      slot.worker.postMessage(req, [body.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    for (const s of this.#slots) s.worker.removeAllListeners('exit');
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}

/** An error from a worker as the main thread would have thrown it: same class and code. */
function rebuild(e: { message: string; code: string | undefined; pilotfish: boolean }): Error {
  if (e.pilotfish) return new PilotfishError(e.code as PilotfishError['code'], e.message);
  return Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
}
