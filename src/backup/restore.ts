/**
 * Restoring a snapshot. For each directory source: fetch chunks in parallel (each verified
 * against its hash), write them into a temporary directory beside the target, fsync, then
 * swap it in with renames, so the target shows the old tree or the whole new one. Any failure
 * removes the temporary directory. A target that is a mount point cannot be renamed: its
 * contents are restored into a temporary directory inside it and moved up entry by entry.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lchown, lutimes, mkdir, open, readdir, rename, rm, stat, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PilotfishError } from '../kernel/errors.js';
import { corrupt } from './codec.js';
import { isDirSource, sourceName, type DirSource, type SourceConfig } from './config.js';
import type { ChunkRef, FileEntry } from './format.js';
import { pool, Semaphore } from './limit.js';
import type { Progress } from './progress.js';
import type { OpenManifest, Repository } from './repo.js';
import { restoreStreamSource } from './stream.js';
import type { Place } from './workers/place.js';
import { startPlacer, type Placer } from './workers/pool.js';

export interface RestoreOptions {
  concurrency: number;
  progress?: Progress | undefined;
  signal?: AbortSignal | undefined;
  /** Told how long each phase took (debug logging). */
  trace?: ((phase: string, ms: number) => void) | undefined;
  /** Worker threads that verify and write chunks (default: 2–4 by cores); 0 runs that inline. */
  threads?: number | undefined;
  /** Chunks fetched or being fetched and not yet written, at most (default {@link MAX_PENDING_CHUNKS}). */
  maxPendingChunks?: number | undefined;
}

const isRoot = process.getuid?.() === 0;
/** Bytes of fetched objects not yet written (each also needs its plaintext while written). */
const IN_FLIGHT_BYTES = 32 * 1024 * 1024;
/**
 * Chunks handed out for fetching and not yet written: bounds the manifest entries held. On the
 * 100,000-file tree (S3, reads of at most 1,024 chunks): 8,192 peaked at 240–246 MiB RSS,
 * 4,096 at 221–235 MiB, at the same speed (7.3 s). With whole-block reads (about 5,000 tiny
 * files each), 4,096 left one read at a time and cost 1.7 s.
 */
const MAX_PENDING_CHUNKS = 4096;
/** Chunks of one pack fetched by one ranged read, at most. */
const CHUNKS_PER_READ = 1024;
/** Bytes of one pack fetched by one ranged read, at most (unless one chunk is bigger). */
const BYTES_PER_READ = 8 * 1024 * 1024;

/**
 * Restore an opened manifest into the sources. Its entries are pulled block by block and each
 * block is released once its files are written, so a tree of 100,000 files is never in memory
 * at once: only its directories and its files of several chunks are kept to the end.
 */
export async function restoreSnapshot(repo: Repository, manifest: OpenManifest, sources: readonly SourceConfig[], options: RestoreOptions): Promise<void> {
  const header = manifest.header;
  const byName = new Map(header.sources.map((s, i) => [s.name, i]));
  const trees = new Map<number, Tree>();
  const dirSources = sources.filter((s) => isDirSource(s) && byName.has(sourceName(s)));
  // The worker threads start while the stages are made (each loads the bundle: ~0.1 s).
  const starting = dirSources.length > 0 ? startPlacer(repo.codec, options.threads) : undefined;
  // Directory sources first, staged together in one pass over the entries, then swapped in.
  try {
    for (const source of dirSources) trees.set(byName.get(sourceName(source)) as number, await openTree(source as DirSource));
    if (starting) {
      options.progress?.addTotal(header.stats.bytes - header.sources.reduce((n, s) => n + (s.kind === 'stream' ? (s.size ?? 0) : 0), 0));
      const placer = await starting;
      try {
        await writeTrees(repo, trees, manifest.blocks, placer, options);
      } finally {
        await placer.close();
      }
      for (const tree of trees.values()) await finishTree(tree, options);
      for (const tree of trees.values()) {
        if (tree.mountPoint) await moveUp(tree.stage, tree.target);
        else await swap(tree.stage, tree.target);
        tree.swapped = true;
      }
    }
  } catch (error) {
    // A stage that could not be made leaves the workers started for nothing: stop them.
    if (starting && trees.size < dirSources.length) await starting.then((p) => p.close()).catch(() => undefined);
    for (const tree of trees.values()) if (!tree.swapped) await rm(tree.stage, { recursive: true, force: true }).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      const where = [...trees.values()].map((t) => t.target).join(', ');
      throw new PilotfishError('PF_BACKUP_NO_SPACE', `no space left on the device of ${where} while restoring; free space and restart (nothing was changed)`, { cause: error });
    }
    throw error;
  } finally {
    for (const tree of trees.values()) tree.flusher?.close(); // also on failure: the helper must not outlive the restore
  }
  for (const source of sources) {
    const index = byName.get(sourceName(source));
    const record = index === undefined ? undefined : header.sources[index];
    if (isDirSource(source) || !record?.chunks) continue;
    await restoreStreamSource(source, fetchInOrder(repo, record.chunks), options.signal);
  }
}

/**
 * A stream source's chunks in order. Consecutive chunks of one pack are fetched by one ranged
 * read of at most {@link BYTES_PER_READ} (a stream's chunks were appended to the same packs
 * as they came, in about their order), up to {@link IN_FLIGHT_BYTES} of reads ahead. Chunks
 * are opened (verified, decompressed) a few at a time as they are handed out, so the
 * plaintext of whole reads is never held at once.
 */
async function* fetchInOrder(repo: Repository, refs: ChunkRef[]): AsyncGenerator<Buffer> {
  const runs = readsOf(refs);
  const ahead = Math.max(2, Math.floor(IN_FLIGHT_BYTES / BYTES_PER_READ));
  const pending: Promise<Read>[] = [];
  let next = 0;
  const fetch = (run: Run): Promise<Read> => {
    const p = fetchRead(repo, run);
    p.catch(() => undefined); // awaited in order below; never an unhandled rejection meanwhile
    return p;
  };
  while (next < runs.length && pending.length < ahead) pending.push(fetch(runs[next++] as Run));
  while (pending.length > 0) {
    const read = await (pending.shift() as Promise<Read>);
    if (next < runs.length) pending.push(fetch(runs[next++] as Run));
    const opening: Promise<Buffer>[] = [];
    let k = 0;
    const open = (): Promise<Buffer> => {
      const p = read.open(k++);
      p.catch(() => undefined);
      return p;
    };
    while (k < read.count && opening.length < OPEN_AHEAD) opening.push(open());
    while (opening.length > 0) {
      const chunk = await (opening.shift() as Promise<Buffer>);
      if (k < read.count) opening.push(open());
      yield chunk;
    }
  }
}

/** Chunks of a stream opened ahead of the one being written. */
const OPEN_AHEAD = 4;

/** A fetched run: open chunk `i` of it (verified). */
interface Read {
  count: number;
  open(i: number): Promise<Buffer>;
}

/** A run of references read together: in one pack, the bytes `[start, end)` of it. */
interface Run {
  refs: ChunkRef[];
  start: number;
  end: number;
}

/** Runs of consecutive references in one pack, each spanning at most {@link BYTES_PER_READ}; a chunk stored on its own is a run of one. */
export function readsOf(refs: readonly ChunkRef[]): Run[] {
  const out: Run[] = [];
  let run: Run | undefined;
  for (const ref of refs) {
    const [, , pack, offset = 0, length = 0] = ref;
    const first = run?.refs[0];
    if (run && first && pack !== undefined && first[2] === pack && Math.max(run.end, offset + length) - Math.min(run.start, offset) <= BYTES_PER_READ) {
      run.refs.push(ref);
      run.start = Math.min(run.start, offset);
      run.end = Math.max(run.end, offset + length);
      continue;
    }
    run = { refs: [ref], start: offset, end: offset + length };
    out.push(run);
  }
  return out;
}

/** Fetch one run: a ranged read of its pack, or a chunk stored on its own. */
async function fetchRead(repo: Repository, { refs: run, start, end }: Run): Promise<Read> {
  const pack = (run[0] as ChunkRef)[2];
  if (pack === undefined) {
    const chunk = await repo.getChunk(run[0] as ChunkRef);
    return { count: 1, open: async () => chunk };
  }
  const body = await repo.getPackRange(pack, start, end - start);
  if (body.length !== end - start) throw corrupt(pack, `shorter than the chunks it should hold (${body.length} of ${end - start} bytes)`);
  return {
    count: run.length,
    open: (i) => {
      const [id, , , offset = 0, length = 0] = run[i] as ChunkRef;
      return repo.codec.openChunk(body.subarray(offset - start, offset - start + length), id);
    },
  };
}

/** A directory source being restored into its stage. */
interface Tree {
  target: string;
  stage: string;
  mountPoint: boolean;
  /** Filesystem syncs at once (syncfs); else every file is fsynced. */
  canSyncFs: boolean;
  flusher: Flusher | undefined;
  unflushed: number;
  flushing: Promise<unknown> | undefined;
  /** Directories made in the stage so far (their metadata is set at the end, deepest first). */
  made: Set<string>;
  dirs: FileEntry[];
  /** Files of several chunks: created when first seen, finished (mode, times) at the end. */
  multi: FileEntry[];
  swapped?: boolean;
}

async function openTree(source: DirSource): Promise<Tree> {
  const target = source.path;
  const mountPoint = await isMountPoint(target);
  const stage = mountPoint
    ? join(target, `.pilotfish-restore-${randomBytes(4).toString('hex')}`)
    : join(dirname(target), `.${basename(target)}.pilotfish-restore-${randomBytes(4).toString('hex')}`);
  await mkdir(stage, { recursive: true });
  // Probe once: with syncfs, files are not fsynced one by one.
  const canSyncFs = await syncFs(stage);
  // Write back to disk while the restore still downloads (a syncfs every FLUSH_EVERY bytes),
  // so the final sync has little left to do. The helper process is forked now, while this
  // process is small: forking later would copy-on-write fault every page we then touch.
  const flusher = canSyncFs ? startFlusher(stage) : undefined;
  return { target, stage, mountPoint, canSyncFs, flusher, unflushed: 0, flushing: undefined, made: new Set(['']), dirs: [], multi: [] };
}

/** Owner, mode and times through the open descriptor. */
async function finish(fh: FileHandle, e: FileEntry, fsync: boolean): Promise<void> {
  if (fsync) await fh.sync();
  if (isRoot) await fh.chown(e.u, e.g).catch(() => undefined);
  await fh.chmod(e.m);
  await fh.utimes(e.mt / 1000, e.mt / 1000);
}

/** One object to fetch: a standalone chunk, or the part of a pack that a block of entries needs. */
type Job = { tree: Tree; pack: string; start: number; end: number; members: Members | undefined } | { tree: Tree; id: string; entry: FileEntry | undefined; chunk: number };

/** The stage of each source index. */
type Stages = ReadonlyMap<number, string>;

/**
 * Write the trees into their stages as the entries arrive: for each block of entries, make its
 * directories, symlinks and empty files, then fetch in parallel — each standalone chunk with
 * one GET, the part of each pack that the block uses with one ranged GET — and hand each
 * fetched object to the worker threads, which verify its chunks and write them (a file of one
 * chunk is created, written and finished in one open). Files of several chunks are created
 * first and finished last.
 */
async function writeTrees(repo: Repository, trees: Map<number, Tree>, blocks: AsyncIterable<FileEntry[]>, placer: Placer, options: RestoreOptions): Promise<void> {
  const started = Date.now();
  // Chunks of pulled jobs not yet written: the entries they hold stay in memory until then.
  // Without this bound the runners would pull blocks as fast as jobs are made (a block of
  // small files is one or two jobs), and hold most of a 100,000-file manifest after all.
  const maxPending = options.maxPendingChunks ?? MAX_PENDING_CHUNKS;
  let pending = 0;
  let stopped = false;
  const waiting: Array<() => void> = [];
  const settle = (n: number): void => {
    pending -= n;
    for (const w of waiting.splice(0)) w();
  };
  const room = async (): Promise<void> => {
    while (pending >= maxPending && !stopped) await new Promise<void>((go) => waiting.push(go));
  };
  const weight = (job: Job): number => ('pack' in job ? (job.members?.length ?? 0) / 2 : 1);
  async function* jobs(): AsyncGenerator<Job> {
    for await (const block of blocks) {
      // What each object to fetch holds, as (entry, chunk index) pairs in one flat list per
      // pack: no per-file record is made until the object arrives.
      const single: Job[] = [];
      const packs = new Map<string, { tree: Tree; members: Members }>(); // a pack may hold files of several sources
      const early: Array<{ tree: Tree; e: FileEntry }> = []; // symlinks, empty files, files of several chunks
      for (const e of block) {
        const tree = trees.get(e.s);
        if (!tree) continue;
        if (e.t === 'd') {
          tree.dirs.push(e);
          await makeDir(tree, e.p);
          continue;
        }
        await makeDir(tree, parentOf(e.p));
        const chunks = e.c ?? [];
        if (e.t === 'l' || chunks.length !== 1) early.push({ tree, e });
        if (e.t === 'f' && chunks.length > 1) tree.multi.push(e);
        if (e.t !== 'f') continue;
        for (let k = 0; k < chunks.length; k++) {
          const [id, , pack] = chunks[k] as ChunkRef;
          if (pack === undefined) single.push({ tree, id, entry: e, chunk: k });
          else {
            let group = packs.get(pack);
            if (!group) packs.set(pack, (group = { tree, members: [] }));
            group.members.push(e, k);
          }
        }
      }
      await pool(early, options.concurrency, ({ tree, e }) => createEarly(tree, e));
      const packJobs: Job[] = [];
      for (const [pack, { tree, members }] of packs) {
        for (const part of rangesOf(members)) packJobs.push({ tree, pack, ...part });
      }
      packs.clear();
      // Packs (many small files: decompression and file creation) interleaved with standalone
      // chunks (big files: mostly bytes), so the workers and the network stay busy together.
      for (const job of interleave(packJobs, single)) {
        await room();
        pending += weight(job);
        yield job;
      }
    }
  }
  const stages: Stages = new Map([...trees].map(([index, tree]) => [index, tree.stage]));
  // One flag for every task: fsync each file when any of the filesystems cannot be synced at once.
  const fsync = [...trees.values()].some((t) => !t.canSyncFs);
  // Fetched objects wait for a worker; bound their bytes, not only their number.
  const inFlight = new Semaphore(IN_FLIGHT_BYTES);
  await pool(jobs(), options.concurrency, async (job) => {
    const n = weight(job);
    try {
      await place(job);
    } catch (error) {
      stopped = true; // jobs pulled but never run would otherwise hold `pending` up forever
      throw error;
    } finally {
      settle(n);
    }
  });
  async function place(job: Job): Promise<void> {
    options.signal?.throwIfAborted();
    const tree = job.tree;
    const size = 'pack' in job ? job.end - job.start : ((job.entry as FileEntry).c?.[job.chunk]?.[1] ?? 0);
    await inFlight.run(async () => {
      let bytes: number;
      if ('pack' in job) {
        const body = await repo.getPackRange(job.pack, job.start, job.end - job.start);
        bytes = await placer.run({ body, places: placesOf(stages, job.members as Members, job.start), fsync });
        job.members = undefined;
      } else {
        const body = await repo.getChunkBlob(job.id);
        const place = placeOf(stages, job.entry as FileEntry, job.chunk, 0);
        bytes = await placer.run({ body, places: [{ ...place, offset: 0, length: body.length }], fsync });
        job.entry = undefined;
      }
      options.progress?.advance(bytes);
      wrote(tree, bytes);
    }, size);
  }
  for (const tree of trees.values()) await tree.flushing;
  options.trace?.(`fetch and write (${placer.threads} worker threads)`, Date.now() - started);
}

/** Make `rel` (and its parents) in the stage, once. */
async function makeDir(tree: Tree, rel: string): Promise<void> {
  if (tree.made.has(rel)) return;
  await mkdir(join(tree.stage, rel), { recursive: true });
  for (let p = rel; p !== '' && !tree.made.has(p); p = parentOf(p)) tree.made.add(p);
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

/** Symlinks, empty files (finished at once) and files of several chunks (created now). */
async function createEarly(tree: Tree, e: FileEntry): Promise<void> {
  const path = join(tree.stage, e.p);
  if (e.t === 'f') {
    const fh = await open(path, 'w', 0o600);
    try {
      if ((e.c ?? []).length === 0) await finish(fh, e, !tree.canSyncFs);
    } finally {
      await fh.close();
    }
    return;
  }
  await symlink(e.l ?? '', path);
  if (isRoot) await lchown(path, e.u, e.g).catch(() => undefined);
  await lutimes(path, e.mt / 1000, e.mt / 1000).catch(() => undefined);
}

/** Count bytes written; start a background syncfs every FLUSH_EVERY bytes. */
function wrote(tree: Tree, bytes: number): void {
  tree.unflushed += bytes;
  if (!tree.flusher || tree.flushing || tree.unflushed < FLUSH_EVERY) return;
  tree.unflushed = 0;
  tree.flushing = tree.flusher.flush().finally(() => (tree.flushing = undefined));
}

/** Files of several chunks finished, everything synced, directories' metadata set last. */
async function finishTree(tree: Tree, options: RestoreOptions): Promise<void> {
  let mark = Date.now();
  const phase = (name: string): void => {
    options.trace?.(name, Date.now() - mark);
    mark = Date.now();
  };
  await pool(tree.multi, options.concurrency, async (e) => {
    const fh = await open(join(tree.stage, e.p), 'r+');
    try {
      await finish(fh, e, !tree.canSyncFs);
    } finally {
      await fh.close();
    }
  });
  phase('file metadata');
  // One syncfs(2) for the whole tree instead of an fsync per file (thousands of journal commits).
  if (tree.canSyncFs && !(await syncFs(tree.stage))) throw new PilotfishError('PF_BACKUP_RESTORE', `cannot sync ${tree.stage} to disk`);
  phase('sync');
  // Directories last, deepest first: creating entries inside would change their mtimes.
  const dirs = [...tree.dirs].sort((a, b) => (a.p < b.p ? 1 : a.p > b.p ? -1 : 0));
  for (const d of dirs) {
    const path = d.p ? join(tree.stage, d.p) : tree.stage;
    if (isRoot) await lchown(path, d.u, d.g).catch(() => undefined);
    await chmod(path, d.m);
    await utimes(path, d.mt / 1000, d.mt / 1000);
    await fsyncDir(path);
  }
  if (!tree.dirs.some((d) => d.p === '')) await fsyncDir(tree.stage);
}

/** Entries and the index of one of their chunks, flat: entry, index, entry, index, ... */
type Members = Array<FileEntry | number>;

/**
 * The chunks a block needs from one pack, in offset order, cut into reads of at most
 * {@link CHUNKS_PER_READ} chunks: the byte range of each read, and its members. Small reads of
 * many tiny files let several go at once under the pending bound; a read of bigger files ends
 * at the pack's size anyway.
 */
function rangesOf(members: Members): Array<{ start: number; end: number; members: Members }> {
  const order = Array.from({ length: members.length / 2 }, (_, j) => 2 * j);
  order.sort((x, y) => (chunkOf(members, x)[3] ?? 0) - (chunkOf(members, y)[3] ?? 0));
  const out: Array<{ start: number; end: number; members: Members }> = [];
  let part: Members = [];
  let start = Infinity;
  let end = 0;
  for (const i of order) {
    const [, , , offset = 0, length = 0] = chunkOf(members, i);
    if (part.length > 0 && (part.length >= 2 * CHUNKS_PER_READ || Math.max(end, offset + length) - start > BYTES_PER_READ)) {
      out.push({ start, end, members: part });
      part = [];
      start = Infinity;
      end = 0;
    }
    start = Math.min(start, offset);
    end = Math.max(end, offset + length);
    part.push(members[i] as FileEntry, members[i + 1] as number);
  }
  if (part.length > 0) out.push({ start, end, members: part });
  return out;
}

function chunkOf(members: Members, i: number): ChunkRef {
  return ((members[i] as FileEntry).c as ChunkRef[])[members[i + 1] as number] as ChunkRef;
}

/** Where chunk `k` of `e` goes in the stage (its offset is the sizes of the chunks before it); `base`: where the fetched body starts in its object. */
function placeOf(stages: Stages, e: FileEntry, k: number, base: number): Place {
  const chunks = e.c as ChunkRef[];
  let at = 0;
  for (let j = 0; j < k; j++) at += (chunks[j] as ChunkRef)[1];
  const [id, size, , offset = 0, length = 0] = chunks[k] as ChunkRef;
  const meta = chunks.length === 1 ? { m: e.m, u: e.u, g: e.g, mt: e.mt } : undefined;
  return { path: join(stages.get(e.s) as string, e.p), at, id, size, offset: offset - base, length, meta };
}

function placesOf(stages: Stages, members: Members, base: number): Place[] {
  const places: Place[] = [];
  for (let i = 0; i < members.length; i += 2) places.push(placeOf(stages, members[i] as FileEntry, members[i + 1] as number, base));
  return places;
}

/** Replace `target` by `stage`: two renames, old tree removed after. */
async function swap(stage: string, target: string): Promise<void> {
  const old = `${stage}.old`;
  let moved = false;
  try {
    await rename(target, old);
    moved = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  try {
    await rename(stage, target);
  } catch (error) {
    if (moved) await rename(old, target).catch(() => undefined);
    throw error;
  }
  await fsyncDir(dirname(target));
  if (moved) await rm(old, { recursive: true, force: true });
}

/** For a mount point: clear the target except the stage, then move the stage's entries up. */
async function moveUp(stage: string, target: string): Promise<void> {
  const keep = basename(stage);
  for (const name of await readdir(target)) if (name !== keep) await rm(join(target, name), { recursive: true, force: true });
  for (const name of await readdir(stage)) await rename(join(stage, name), join(target, name));
  const st = await stat(stage);
  await rm(stage, { recursive: true, force: true });
  await chmod(target, st.mode & 0o7777);
  await fsyncDir(target);
}

async function isMountPoint(path: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([stat(path), stat(dirname(path))]);
    return a.dev !== b.dev;
  } catch {
    return false;
  }
}

/** Bytes written between two background syncfs calls during a restore. */
const FLUSH_EVERY = 128 * 1024 * 1024;

/**
 * A shell that runs `sync -f DIR` for each line it reads: syncfs on demand, forked once.
 * Measured on the 1 GiB set (three runs each, fresh targets): 6.4 s without it, 5.4–5.7 s with
 * it (the final sync went from 1.6 s to 0.1–0.2 s; the download phase lost 0.5–0.8 s of that to
 * the disk writing beside it). Undefined when no shell can start: then only the final sync runs.
 */
interface Flusher {
  flush(): Promise<void>;
  close(): void;
}

export function startFlusher(dir: string): Flusher | undefined {
  let proc;
  try {
    proc = spawn('sh', ['-c', 'while read -r _; do sync -f "$1"; echo; done', 'sh', dir], { stdio: ['pipe', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  const child = proc;
  const waiting: Array<() => void> = [];
  const wake = (): void => {
    for (const w of waiting.splice(0)) w();
  };
  child.on('error', wake);
  child.on('close', wake);
  child.stdin.on('error', () => undefined);
  child.stdout.on('data', (d: Buffer) => {
    for (let i = 0; i < d.length; i++) if (d[i] === 10) waiting.shift()?.();
  });
  return {
    flush: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.stdin.writableEnded) return resolve();
        waiting.push(resolve);
        child.stdin.write('\n');
      }),
    close: () => {
      child.stdin.end();
      wake();
    },
  };
}

/** `sync -f DIR` (coreutils ≥ 8.24) is syncfs(2): flush one filesystem. */
function syncFs(path: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => execFile('sync', ['-f', path], { timeout: 600_000 }, (error) => resolve(!error)));
}

async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync().catch(() => undefined);
  } finally {
    await fh.close();
  }
}

/** True when no directory source has anything in it (the `if-empty` policy). */
export async function sourcesEmpty(sources: readonly SourceConfig[]): Promise<boolean> {
  for (const s of sources) {
    const dir = isDirSource(s) ? s.path : s.dataDir;
    if (dir === undefined) return false;
    try {
      if ((await readdir(dir)).length > 0) return false;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return true;
}

/** `a` and `b` merged in proportion to their lengths, each keeping its order. */
export function interleave<T>(a: readonly T[], b: readonly T[]): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Take from whichever list is behind its share of the output.
    if (j >= b.length || (i < a.length && i * b.length <= j * a.length)) out.push(a[i++] as T);
    else out.push(b[j++] as T);
  }
  return out;
}
