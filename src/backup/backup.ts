/**
 * Making a snapshot: walk the directory sources and run the stream sources, chunk what
 * changed, upload the chunks the repository lacks (in parallel, with bounded memory), then
 * write the manifest, last.
 *
 * Files whose size, mtime, ctime and inode match the previous snapshot reuse its chunk list
 * without being read: that keeps an unchanged re-run cheap.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, createReadStream, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PilotfishError } from '../kernel/errors.js';
import { chunkParams, chunkStream, type ChunkParams } from './chunker.js';
import { isDirSource, sourceName, type DirSource, type SourceConfig } from './config.js';
import { chunkIdOf, newSnapshotName, type ChunkRef, type FileEntry, type Manifest, type SnapshotStats, type SourceRecord } from './format.js';
import { pool, Semaphore, TaskSet } from './limit.js';
import type { Progress } from './progress.js';
import type { Repository } from './repo.js';
import { runStreamSource } from './stream.js';

/**
 * Every chunk goes into a pack of about this many sealed bytes (a pack is flushed once it
 * reaches it, so it never exceeds it by more than one sealed chunk).
 */
const PACK_SIZE = 4 * 1024 * 1024;
/** Room left in a pack buffer for its table of contents (~50 bytes a chunk, compressed). */
const TRAILER_ROOM = 64 * 1024;
/** Chunks smaller than this are sealed inline (a thread-pool round trip costs more than the work). */
const SEAL_INLINE = 64 * 1024;

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

/** A pack being filled: sealed blobs are copied into one buffer (no parts list, no concatenation). */
interface OpenPack {
  id: string;
  buf: Buffer;
  size: number;
  /** Its chunks, for its table of contents. */
  refs: ChunkRef[];
}

export class Uploader {
  /** Chunks the repository has: their reference (a packed one carries its location), or null when only the id is known. */
  readonly #known: Map<string, ChunkRef | null>;
  readonly #tasks = new TaskSet();
  readonly #slots: Semaphore;
  /** Bytes of chunks read but not yet stored: what bounds memory. */
  readonly #bytes: Semaphore;
  #pack: OpenPack | undefined;
  /** A pack being made (waiting for its bytes): one at a time. */
  #opening: Promise<void> | undefined;
  /**
   * Pack buffers whose upload finished, for the next packs: a pack buffer lives long enough to
   * reach V8's old generation, where a dead one would wait for a full GC; reused, the pack
   * buffers alive are only those in flight.
   */
  readonly #spare: Buffer[] = [];
  newChunks = 0;
  reusedChunks = 0;
  uploadedBytes = 0;

  /**
   * `maxChunk`: the largest chunk the repository's chunker makes, which sizes the pack
   * buffers. Required: a default once left the repack with buffers too small for big chunks.
   */
  constructor(
    readonly repo: Repository,
    concurrency: number,
    known: Map<string, ChunkRef | null>,
    readonly maxChunk: number,
    readonly progress?: Progress,
  ) {
    this.#known = known;
    this.#slots = new Semaphore(concurrency);
    this.#bytes = new Semaphore(Math.max(32 * 1024 * 1024, concurrency * 2 * 1024 * 1024));
  }

  /**
   * Store a chunk unless the repository has it. Returns its reference at once: a chunk sealed
   * in the background gets its pack, offset and length when it is appended to a pack, before
   * {@link settle} returns (the manifest is written only after that).
   */
  async add(plain: Buffer): Promise<ChunkRef> {
    this.#tasks.check();
    const id = this.repo.codec.id(plain);
    const have = this.#known.get(id);
    if (have !== undefined) {
      this.reusedChunks++;
      this.progress?.advance(plain.length);
      return have ?? [id, plain.length];
    }
    const ref: ChunkRef = [id, plain.length];
    this.#known.set(id, ref);
    this.newChunks++;
    if (plain.length < SEAL_INLINE) {
      await this.#append(ref, await this.repo.codec.seal(plain, id));
      this.progress?.advance(plain.length);
      return ref;
    }
    await this.#bytes.take(plain.length);
    await this.#slots.take();
    this.#tasks.add(
      (async () => {
        let blob: Buffer;
        try {
          blob = await this.repo.codec.seal(plain, id);
        } finally {
          // Given back before appending: a flush below waits for a slot of its own.
          this.#slots.give();
          this.#bytes.give(plain.length);
        }
        await this.#append(ref, blob);
        this.progress?.advance(plain.length);
      })(),
    );
    return ref;
  }

  /** A chunk already sealed (garbage collection moving it to a new pack): appended as it is. */
  async addSealed(id: string, size: number, blob: Buffer): Promise<ChunkRef> {
    this.#tasks.check();
    const ref: ChunkRef = [id, size];
    await this.#append(ref, blob);
    return ref;
  }

  /** Copy a sealed blob into the open pack and complete its reference; upload the pack once it is full. */
  async #append(ref: ChunkRef, blob: Buffer): Promise<void> {
    const pack = this.#pack ?? (await this.#openPack());
    if (pack.size + blob.length > pack.buf.length) throw new PilotfishError('PF_INTERNAL', `a sealed chunk of ${blob.length} bytes does not fit its pack`);
    (ref as unknown as Array<string | number>).push(pack.id, pack.size, blob.length);
    pack.refs.push(ref);
    blob.copy(pack.buf, pack.size);
    pack.size += blob.length;
    if (pack.size >= PACK_SIZE) await this.#flushPack();
  }

  /**
   * The open pack, made once its buffer's bytes are granted: a pack buffer counts from the
   * moment it is made, not from its flush. Counted at the flush, every runner that found the
   * open pack full made a new one meanwhile: 16 buffers of 8 MiB, 150 MiB at the peak of a
   * 100,000-file backup once small files were read without waiting.
   */
  async #openPack(): Promise<OpenPack> {
    while (!this.#pack) {
      this.#opening ??= (async () => {
        const size = PACK_SIZE + this.maxChunk + TRAILER_ROOM;
        await this.#bytes.take(size);
        this.#pack = { id: randomBytes(16).toString('hex'), buf: this.#spare.pop() ?? Buffer.allocUnsafe(size), size: 0, refs: [] };
      })().finally(() => (this.#opening = undefined));
      await this.#opening;
    }
    return this.#pack;
  }

  async #flushPack(): Promise<void> {
    const pack = this.#pack;
    if (!pack) return;
    this.#pack = undefined;
    await this.#slots.take();
    this.#tasks.add(
      (async () => {
        try {
          const trailer = await this.repo.packTrailer(pack.id, pack.refs);
          pack.refs = [];
          let body: Buffer;
          if (pack.size + trailer.length <= pack.buf.length) {
            trailer.copy(pack.buf, pack.size);
            body = pack.buf.subarray(0, pack.size + trailer.length);
          } else body = Buffer.concat([pack.buf.subarray(0, pack.size), trailer]); // a pack of very many tiny chunks
          await this.repo.putPack(pack.id, body);
          this.uploadedBytes += body.length;
        } finally {
          this.#slots.give();
          this.#spare.push(pack.buf);
          this.#bytes.give(pack.buf.length);
        }
      })(),
    );
  }

  /** Chunk a stream and store its chunks. */
  async addStream(source: AsyncIterable<Uint8Array>, params: ChunkParams): Promise<{ refs: ChunkRef[]; size: number }> {
    const refs: ChunkRef[] = [];
    let size = 0;
    for await (const chunk of chunkStream(source, params)) {
      refs.push(await this.add(chunk));
      size += chunk.length;
    }
    return { refs, size };
  }

  async settle(): Promise<void> {
    // The sealing tasks first: the last of them may still fill the open pack.
    await this.#tasks.settle();
    await this.#flushPack();
    await this.#tasks.settle();
  }
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

/** Buffers for small files, one per file being read: reused, so 100,000 reads allocate nothing. */
const scratch: Buffer[] = [];

/**
 * A small file, read synchronously into a reused buffer: ~15 µs instead of readFile's five
 * thread-pool round trips (~45 µs of this thread each), and no buffer per file, whose garbage
 * (external memory) outran the collector: 154 MiB of it at the peak of a 100,000-file backup.
 * The walk's lstat already runs like this. Undefined when the file grew past the inline size
 * since it was walked: the caller reads it the general way.
 */
async function readSmall(up: Uploader, path: string, e: FileEntry): Promise<ChunkRef[] | undefined> {
  const buf = scratch.pop() ?? Buffer.allocUnsafe(SEAL_INLINE);
  try {
    // O_NONBLOCK: a file replaced by a FIFO since the walk must not hang this thread on open.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    let n = 0;
    try {
      if (!fstatSync(fd).isFile()) {
        e.sz = 0; // no longer a regular file: recorded empty, like one deleted while we ran
        return [];
      }
      for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, n);
    } finally {
      closeSync(fd);
    }
    if (n >= buf.length) return undefined;
    e.sz = n;
    // add() has sealed (copied) the bytes or found them known before it returns: the buffer is free again.
    return n === 0 ? [] : [await up.add(buf.subarray(0, n))];
  } finally {
    scratch.push(buf);
  }
}

async function storeFile(up: Uploader, path: string, e: FileEntry, params: ChunkParams): Promise<ChunkRef[]> {
  try {
    if ((e.sz ?? 0) < SEAL_INLINE && (e.sz ?? 0) <= params.min) {
      const small = await readSmall(up, path, e);
      if (small) return small;
    }
    if ((e.sz ?? 0) <= params.min) {
      const data = await readFile(path);
      e.sz = data.length;
      return data.length === 0 ? [] : [await up.add(data)];
    }
    const { refs, size } = await up.addStream(createReadStream(path, { highWaterMark: 1024 * 1024 }), params);
    e.sz = size;
    return refs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      // Deleted while we ran: record it empty; the next backup sees the truth.
      e.sz = 0;
      return [];
    }
    throw error;
  }
}

/**
 * Every directory, file and symlink under a source, parents before children. A file whose
 * size, mtime, ctime and inode match its entry in `previous` is that entry itself (its source
 * index updated): nothing else about it can have changed without changing its ctime, and an
 * unchanged re-run of a big tree then holds one set of entries, not two. lstat runs
 * synchronously, one directory at a time with a yield between directories: ~5 µs a file
 * instead of a thread-pool round trip each, and the event loop is never held for long.
 */
export async function walk(source: DirSource, index: number, previous?: ReadonlyMap<string, FileEntry>): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const excluded = (rel: string): boolean => source.exclude.some((x) => (x.endsWith('/') ? `${rel}/`.startsWith(x) : rel === x));
  let root;
  try {
    root = await lstat(source.path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw new PilotfishError('PF_BACKUP_SOURCE', `cannot read backup source ${source.path}: ${(cause as Error).message}`, { cause });
  }
  if (!root.isDirectory()) throw new PilotfishError('PF_BACKUP_SOURCE', `backup source ${source.path} is not a directory`);
  out.push(entryOf(index, '', root));
  const pending = [''];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let names: string[];
    try {
      names = await readdir(join(source.path, dir));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const name of names) {
      const rel = dir ? `${dir}/${name}` : name;
      if (excluded(rel)) continue;
      const full = join(source.path, rel);
      const st = lstatSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        out.push(entryOf(index, rel, st));
        pending.push(rel);
      } else if (st.isFile()) {
        const old = previous?.get(rel);
        if (old && old.t === 'f' && old.c && old.sz === st.size && old.mt === st.mtimeMs && old.ct === st.ctimeMs && old.i === st.ino) {
          old.s = index;
          out.push(old);
          continue;
        }
        const e = entryOf(index, rel, st);
        e.sz = st.size;
        e.ct = st.ctimeMs;
        e.i = st.ino;
        out.push(e);
      } else if (st.isSymbolicLink()) {
        const e = entryOf(index, rel, st);
        try {
          e.l = readlinkSync(full);
        } catch {
          continue; // removed while we ran
        }
        out.push(e);
      }
      // sockets, fifos and devices are skipped: they are not state
    }
  }
  out.sort((a, b) => (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
  return out;
}

function entryOf(s: number, p: string, st: { mode: number; uid: number; gid: number; mtimeMs: number; isDirectory(): boolean; isSymbolicLink(): boolean }): FileEntry {
  // Every optional field exists from the start (undefined is dropped by JSON): one hidden class for all entries.
  return { s, p, t: st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f', m: st.mode & 0o7777, u: st.uid, g: st.gid, mt: st.mtimeMs, sz: undefined, c: undefined, l: undefined, ct: undefined, i: undefined } as unknown as FileEntry;
}
