/**
 * Reading a changed file into chunks for the uploader: a file smaller than the chunker's
 * minimum (and under 64 KiB) is read synchronously into a reused buffer and is one chunk; a
 * bigger one is streamed through the content-defined chunker. A file deleted since the walk
 * is recorded empty; one replaced by a FIFO is never opened blocking. The mtime is taken again,
 * to the nanosecond, from the stat made as the file is opened (./mtime.ts).
 */
import { closeSync, constants, createReadStream, fstatSync, lstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ChunkParams } from './chunker.js';
import type { ChunkRef, FileEntry } from './format.js';
import { entryTimeOf } from './mtime.js';
import { SEAL_INLINE, type Uploader } from './uploader.js';

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
    let st: BigIntStats;
    try {
      st = fstatSync(fd, { bigint: true });
      if (!st.isFile()) {
        e.sz = 0; // no longer a regular file: recorded empty, like one deleted while we ran
        return [];
      }
      for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, n);
    } finally {
      closeSync(fd);
    }
    if (n >= buf.length) return undefined;
    e.sz = n;
    Object.assign(e, entryTimeOf(st));
    // add() has sealed (copied) the bytes or found them known before it returns: the buffer is free again.
    return n === 0 ? [] : [await up.add(buf.subarray(0, n))];
  } finally {
    scratch.push(buf);
  }
}

/** Store the file at `path` (its walked entry `e`, whose size is updated) and return its chunk list. */
export async function storeFile(up: Uploader, path: string, e: FileEntry, params: ChunkParams): Promise<ChunkRef[]> {
  try {
    if ((e.sz ?? 0) < SEAL_INLINE && (e.sz ?? 0) <= params.min) {
      const small = await readSmall(up, path, e);
      if (small) return small;
    }
    // The mtime to the nanosecond, from a stat made before the read, like the walk's.
    const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    if (st?.isFile()) Object.assign(e, entryTimeOf(st));
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
