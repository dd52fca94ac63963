/**
 * Restoring a snapshot. For each directory source: fetch chunks in parallel (each verified
 * against its hash), write them into a temporary directory beside the target, fsync, then
 * swap it in with renames, so the target shows the old tree or the whole new one. Any failure
 * removes the temporary directory. A target that is a mount point cannot be renamed: its
 * contents are restored into a temporary directory inside it and moved up entry by entry.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lchown, lutimes, mkdir, open, readdir, rename, rm, stat, symlink, utimes } from 'node:fs/promises';
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

/** Where a chunk goes: a file of the stage and an offset in it. */
interface Placement {
  path: string;
  at: number;
  ref: ChunkRef;
}

async function writeAt(path: string, at: number, data: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    let done = 0;
    while (done < data.length) done += (await fh.write(data, done, data.length - done, at + done)).bytesWritten;
  } finally {
    await fh.close();
  }
}

function checkSize(data: Buffer, ref: ChunkRef): void {
  if (data.length !== ref[1]) throw new PilotfishError('PF_BACKUP_CORRUPT', `chunk ${ref[0]} has ${data.length} bytes, expected ${ref[1]}`);
}

/**
 * Write the tree into the stage: create every file, then fetch in parallel — each standalone
 * chunk with one GET, each pack whole with one GET (its small files written from it) — then
 * set modes, owners and times, and sync.
 */
async function writeTree(repo: Repository, stage: string, entries: FileEntry[], options: RestoreOptions): Promise<void> {
  await mkdir(stage, { recursive: true });
  // Probe once: with syncfs, files are not fsynced one by one.
  const canSyncFs = await syncFs(stage);
  const dirs = entries.filter((e) => e.t === 'd');
  for (const d of dirs) if (d.p) await mkdir(join(stage, d.p), { recursive: true });
  const files = entries.filter((e) => e.t === 'f');
  const single: Placement[] = [];
  const packs = new Map<string, Placement[]>();
  for (const e of files) {
    let at = 0;
    for (const ref of e.c ?? []) {
      const place = { path: join(stage, e.p), at, ref };
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
  await pool(entries.filter((e) => e.t !== 'd'), options.concurrency, async (e) => {
    const path = join(stage, e.p);
    if (e.t === 'f') return (await open(path, 'w', 0o600)).close();
    await symlink(e.l ?? '', path);
    if (isRoot) await lchown(path, e.u, e.g).catch(() => undefined);
    await lutimes(path, e.mt / 1000, e.mt / 1000).catch(() => undefined);
  });
  type Job = { pack: string; places: Placement[] } | Placement;
  const jobs: Job[] = [...[...packs].map(([pack, places]) => ({ pack, places })), ...single];
  await pool(jobs, options.concurrency, async (job) => {
    options.signal?.throwIfAborted();
    if ('pack' in job) {
      const body = await repo.getPack(job.pack);
      for (const place of job.places) {
        const data = await repo.openPacked(body, place.ref);
        checkSize(data, place.ref);
        await writeAt(place.path, place.at, data);
        options.progress?.advance(data.length);
      }
      return;
    }
    const data = await repo.getChunk(job.ref);
    checkSize(data, job.ref);
    await writeAt(job.path, job.at, data);
    options.progress?.advance(data.length);
  });
  await pool(files, options.concurrency, async (e) => {
    const path = join(stage, e.p);
    if (!canSyncFs) {
      const fh = await open(path, 'r+');
      await fh.sync().finally(() => fh.close());
    }
    if (isRoot) await lchown(path, e.u, e.g).catch(() => undefined);
    await chmod(path, e.m);
    await utimes(path, e.mt / 1000, e.mt / 1000);
  });
  // One syncfs(2) for the whole tree instead of an fsync per file (thousands of journal commits).
  if (canSyncFs && !(await syncFs(stage))) throw new PilotfishError('PF_BACKUP_RESTORE', `cannot sync ${stage} to disk`);
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
