/**
 * Restoring a snapshot. For each directory source: fetch chunks in parallel (each verified
 * against its hash), write them into a temporary directory beside the target, fsync, then
 * swap it in with renames, so the target shows the old tree or the whole new one. Any failure
 * removes the temporary directory. A target that is a mount point cannot be renamed: its
 * contents are restored into a temporary directory inside it and moved up entry by entry.
 */
import { execFile } from 'node:child_process';
import { closeSync, fchmodSync, fchownSync, fsyncSync, futimesSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, lchown, lutimes, mkdir, open, readdir, rename, rm, stat, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PilotfishError } from '../core/errors.js';
import { isDirSource, sourceName, type DirSource, type SourceConfig } from './config.js';
import type { ChunkRef, FileEntry, Manifest } from './format.js';
import { pool } from './limit.js';
import type { Progress } from './progress.js';
import type { Repository } from './repo.js';
import { restoreStreamSource } from './stream.js';

export interface RestoreOptions {
  concurrency: number;
  progress?: Progress | undefined;
  signal?: AbortSignal | undefined;
  /** Told how long each phase took (debug logging). */
  trace?: ((phase: string, ms: number) => void) | undefined;
}

const isRoot = process.getuid?.() === 0;

export async function restoreSnapshot(repo: Repository, manifest: Manifest, sources: readonly SourceConfig[], options: RestoreOptions): Promise<void> {
  const byName = new Map(manifest.sources.map((s, i) => [s.name, i]));
  // Directory sources first, each staged and swapped in; streams after.
  for (const source of sources) {
    const index = byName.get(sourceName(source));
    if (index === undefined) continue;
    if (isDirSource(source)) {
      const entries = manifest.entries.filter((e) => e.s === index);
      options.progress?.addTotal(entries.reduce((n, e) => n + (e.sz ?? 0), 0));
      await restoreTree(repo, source, entries, options);
    }
  }
  for (const source of sources) {
    const index = byName.get(sourceName(source));
    const record = index === undefined ? undefined : manifest.sources[index];
    if (isDirSource(source) || !record?.chunks) continue;
    await restoreStreamSource(source, fetchInOrder(repo, record.chunks, options.concurrency), options.signal);
  }
}

/** Chunks in order, fetched up to `ahead` at a time. */
async function* fetchInOrder(repo: Repository, refs: ChunkRef[], ahead: number): AsyncGenerator<Buffer> {
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  const fetch = (ref: ChunkRef): Promise<Buffer> => {
    const p = repo.getChunk(ref);
    p.catch(() => undefined); // awaited in order below; never an unhandled rejection meanwhile
    return p;
  };
  while (next < refs.length && pending.length < ahead) pending.push(fetch(refs[next++] as ChunkRef));
  while (pending.length > 0) {
    const chunk = await (pending.shift() as Promise<Buffer>);
    if (next < refs.length) pending.push(fetch(refs[next++] as ChunkRef));
    yield chunk;
  }
}

async function restoreTree(repo: Repository, source: DirSource, entries: FileEntry[], options: RestoreOptions): Promise<void> {
  const target = source.path;
  const mountPoint = await isMountPoint(target);
  const stage = mountPoint
    ? join(target, `.pilotfish-restore-${randomBytes(4).toString('hex')}`)
    : join(dirname(target), `.${basename(target)}.pilotfish-restore-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dirname(stage), { recursive: true });
    await writeTree(repo, stage, entries, options);
    if (mountPoint) await moveUp(stage, target);
    else await swap(stage, target);
  } catch (error) {
    await rm(stage, { recursive: true, force: true }).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new PilotfishError('PF_BACKUP_NO_SPACE', `no space left on the device of ${target} while restoring; free space and restart (nothing was changed)`, { cause: error });
    }
    throw error;
  }
}

/** Where a chunk goes: a file of the stage and an offset in it; `whole` when it is the file's only chunk. */
interface Placement {
  path: string;
  at: number;
  ref: ChunkRef;
  entry: FileEntry;
  whole: boolean;
}

function checkSize(data: Buffer, ref: ChunkRef): void {
  if (data.length !== ref[1]) throw new PilotfishError('PF_BACKUP_CORRUPT', `chunk ${ref[0]} has ${data.length} bytes, expected ${ref[1]}`);
}

/** Small whole files: five synchronous syscalls (tens of µs) beat five thread-pool round trips. */
const SYNC_WRITE_BELOW = 256 * 1024;

function placeSmall(p: Placement, data: Buffer, fsync: boolean): void {
  const fd = openSync(p.path, 'w', 0o600);
  try {
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done, done);
    if (fsync) fsyncSync(fd);
    if (isRoot) {
      try {
        fchownSync(fd, p.entry.u, p.entry.g);
      } catch {
        // an owner this system does not have: keep ours
      }
    }
    fchmodSync(fd, p.entry.m);
    futimesSync(fd, p.entry.mt / 1000, p.entry.mt / 1000);
  } finally {
    closeSync(fd);
  }
}

/** Owner, mode and times through the open descriptor. */
async function finish(fh: FileHandle, e: FileEntry, fsync: boolean): Promise<void> {
  if (fsync) await fh.sync();
  if (isRoot) await fh.chown(e.u, e.g).catch(() => undefined);
  await fh.chmod(e.m);
  await fh.utimes(e.mt / 1000, e.mt / 1000);
}

/**
 * Write the tree into the stage: fetch in parallel — each standalone chunk with one GET, each
 * pack whole with one GET (its small files written from it) — a file of one chunk is created,
 * written and finished in one open; files of several chunks are created first and finished last.
 */
async function writeTree(repo: Repository, stage: string, entries: FileEntry[], options: RestoreOptions): Promise<void> {
  await mkdir(stage, { recursive: true });
  // Probe once: with syncfs, files are not fsynced one by one.
  const canSyncFs = await syncFs(stage);
  const dirs = entries.filter((e) => e.t === 'd');
  for (const d of dirs) if (d.p) await mkdir(join(stage, d.p), { recursive: true });
  const single: Placement[] = [];
  const packs = new Map<string, Placement[]>();
  const early: FileEntry[] = []; // symlinks, empty files, files of several chunks
  for (const e of entries) {
    const chunks = e.c ?? [];
    if (e.t === 'l' || (e.t === 'f' && chunks.length !== 1)) early.push(e);
    if (e.t !== 'f') continue;
    let at = 0;
    for (const ref of chunks) {
      const place: Placement = { path: join(stage, e.p), at, ref, entry: e, whole: chunks.length === 1 };
      at += ref[1];
      const pack = ref[2];
      if (pack === undefined) single.push(place);
      else {
        let list = packs.get(pack);
        if (!list) packs.set(pack, (list = []));
        list.push(place);
      }
    }
  }
  let mark = Date.now();
  const phase = (name: string): void => {
    options.trace?.(name, Date.now() - mark);
    mark = Date.now();
  };
  await pool(early, options.concurrency, async (e) => {
    const path = join(stage, e.p);
    if (e.t === 'f') {
      const fh = await open(path, 'w', 0o600);
      try {
        if ((e.c ?? []).length === 0) await finish(fh, e, !canSyncFs);
      } finally {
        await fh.close();
      }
      return;
    }
    await symlink(e.l ?? '', path);
    if (isRoot) await lchown(path, e.u, e.g).catch(() => undefined);
    await lutimes(path, e.mt / 1000, e.mt / 1000).catch(() => undefined);
  });
  phase('create files');
  const place = async (p: Placement, data: Buffer): Promise<void> => {
    checkSize(data, p.ref);
    if (p.whole && data.length < SYNC_WRITE_BELOW) {
      placeSmall(p, data, !canSyncFs);
      options.progress?.advance(data.length);
      return;
    }
    const fh = await open(p.path, p.whole ? 'w' : 'r+', 0o600);
    try {
      let done = 0;
      while (done < data.length) done += (await fh.write(data, done, data.length - done, p.at + done)).bytesWritten;
      if (p.whole) await finish(fh, p.entry, !canSyncFs);
    } finally {
      await fh.close();
    }
    options.progress?.advance(data.length);
  };
  type Job = { pack: string; places: Placement[] } | Placement;
  const jobs: Job[] = [...[...packs].map(([pack, places]) => ({ pack, places })), ...single];
  await pool(jobs, options.concurrency, async (job) => {
    options.signal?.throwIfAborted();
    if ('pack' in job) {
      const body = await repo.getPack(job.pack);
      for (const p of job.places) await place(p, await repo.openPacked(body, p.ref));
      return;
    }
    await place(job, await repo.getChunk(job.ref));
  });
  phase('fetch and write');
  await pool(
    early.filter((e) => e.t === 'f' && (e.c ?? []).length > 1),
    options.concurrency,
    async (e) => {
      const fh = await open(join(stage, e.p), 'r+');
      try {
        await finish(fh, e, !canSyncFs);
      } finally {
        await fh.close();
      }
    },
  );
  phase('file metadata');
  // One syncfs(2) for the whole tree instead of an fsync per file (thousands of journal commits).
  phase('file metadata');
  if (canSyncFs && !(await syncFs(stage))) throw new PilotfishError('PF_BACKUP_RESTORE', `cannot sync ${stage} to disk`);
  phase('sync');
  // Directories last, deepest first: creating entries inside would change their mtimes.
  for (const d of [...dirs].reverse()) {
    const path = d.p ? join(stage, d.p) : stage;
    if (isRoot) await lchown(path, d.u, d.g).catch(() => undefined);
    await chmod(path, d.m);
    await utimes(path, d.mt / 1000, d.mt / 1000);
    await fsyncDir(path);
  }
  if (!dirs.some((d) => d.p === '')) await fsyncDir(stage);
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
