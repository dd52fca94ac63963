/**
 * Making a snapshot, the way in. The data moves forward through these files:
 *
 *   backup.ts          learn the chunks the repository has (the previous snapshot's, or
 *                      every pack's table of contents when there is none)
 *   walk.ts            for each directory source: its entries; unchanged files reuse their chunks
 *   read-file.ts       each changed file read and cut into chunks
 *   uploader.ts        each new chunk sealed into a pack; full packs uploaded
 *   stream-command.ts  for each stream source: its command's stdout, chunked the same way
 *   backup.ts          once every pack is stored: the manifest, written last
 *
 * A crash before the manifest leaves only unreferenced packs, which the next first backup
 * reuses and garbage collection later removes.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { chunkParams } from './chunker.js';
import { isDirSource, sourceName, type SourceConfig } from './config.js';
import { chunkIdOf, newSnapshotName, type ChunkRef, type FileEntry, type Manifest, type SnapshotStats, type SourceRecord } from './format.js';
import { pool } from './limit.js';
import type { Progress } from './progress.js';
import { storeFile } from './read-file.js';
import type { Repository } from './repo.js';
import { runStreamSource } from './stream-command.js';
import { Uploader } from './uploader.js';
import { walk } from './walk.js';

export interface BackupOptions {
  concurrency: number;
  reason?: string;
  /**
   * The previous snapshot, for change detection and dedup. Its entries are consumed: the array
   * is emptied and each entry dropped once matched, so the old and the new manifest of a big
   * tree are not both held whole.
   */
  parent?: Manifest | undefined;
  progress?: Progress | undefined;
  signal?: AbortSignal | undefined;
}

export async function createSnapshot(repo: Repository, sources: readonly SourceConfig[], options: BackupOptions): Promise<Manifest> {
  const started = Date.now();
  const params = chunkParams(repo.chunkSize);
  const parent = options.parent;
  const known = new Map<string, ChunkRef | null>();
  // Per source name: path → the previous snapshot's entry (no new key strings).
  const previous = new Map<string, Map<string, FileEntry>>();
  if (parent) {
    const bySource = parent.sources.map((s) => {
      const m = new Map<string, FileEntry>();
      previous.set(s.name, m);
      for (const ref of s.chunks ?? []) known.set(ref[0], ref);
      return m;
    });
    for (const e of parent.entries) {
      if (e.t !== 'f') continue;
      for (const ref of e.c ?? []) known.set(ref[0], ref);
      bySource[e.s]?.set(e.p, e);
    }
    parent.entries = [];
  } else {
    // A first backup (or one after a lost manifest): learn what an interrupted run left behind,
    // from each pack's table of contents (and the chunks earlier versions stored on their own).
    for await (const o of repo.listChunks()) known.set(o.key.slice(o.key.lastIndexOf('/') + 1), null);
    await pool(repo.listPacks(), options.concurrency, async (o) => {
      for (const ref of (await repo.packContents(chunkIdOf(o.key), o.size)) ?? []) known.set(ref[0], ref);
    });
  }
  const up = new Uploader(repo, options.concurrency, known, params.max, options.progress);

  const records: SourceRecord[] = [];
  const entries: FileEntry[] = [];
  const stats: SnapshotStats = { files: 0, dirs: 0, bytes: 0, chunks: 0, newChunks: 0, reusedChunks: 0, uploadedBytes: 0, durationMs: 0 };

  for (const source of sources) {
    const index = records.length;
    if (isDirSource(source)) {
      records.push({ name: sourceName(source), kind: 'dir', path: source.path });
      const before = previous.get(sourceName(source));
      // Unchanged files come back as the previous snapshot's own entry objects (see walk).
      const found = await walk(source, index, before);
      options.progress?.addTotal(found.reduce((n, e) => n + (e.t === 'f' ? (e.sz ?? 0) : 0), 0));
      // Unchanged files are counted here; only the others go through the (promise per file) pool.
      const changed: FileEntry[] = [];
      for (const e of found) {
        if (e.t === 'd') stats.dirs++;
        if (e.t !== 'f') continue;
        stats.files++;
        stats.bytes += e.sz ?? 0;
        if (e.c && before?.get(e.p) === e) {
          up.reusedChunks += e.c.length;
          options.progress?.advance(e.sz ?? 0);
        } else changed.push(e);
      }
      await pool(changed, options.concurrency, async (e) => {
        options.signal?.throwIfAborted();
        e.c = await storeFile(up, join(source.path, e.p), e, params);
      });
      before?.clear();
      for (const e of found) entries.push(e);
    } else {
      const out = await runStreamSource(source, (stdout: Readable) => up.addStream(stdout, params), options.signal);
      records.push({ name: source.name, kind: 'stream', chunks: out.refs, size: out.size });
      stats.bytes += out.size;
    }
  }
  await up.settle();
  options.signal?.throwIfAborted();

  const name = newSnapshotName();
  stats.chunks = entries.reduce((n, e) => n + (e.c?.length ?? 0), 0) + records.reduce((n, r) => n + (r.chunks?.length ?? 0), 0);
  stats.newChunks = up.newChunks;
  stats.reusedChunks = up.reusedChunks;
  stats.uploadedBytes = up.uploadedBytes;
  const manifest: Manifest = {
    version: 1,
    name,
    time: new Date().toISOString(),
    host: hostname(),
    reason: options.reason ?? 'manual',
    sources: records,
    entries,
    stats,
  };
  await repo.writeManifest(manifest);
  stats.durationMs = Date.now() - started;
  return manifest;
}
