/**
 * Writing restored chunks into the stage: open each sealed blob of a fetched object (a pack,
 * or one chunk), verify it against its id, and write it at its place; a file of one chunk is
 * created, written and finished (owner, mode, times) in one open. Synchronous on purpose: this
 * runs in a worker thread (./restore-worker.ts), where blocking costs nothing but that thread,
 * or inline on the main thread when no worker can start.
 */
import { closeSync, fchmodSync, fchownSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { PilotfishError } from '../../kernel/errors.js';
import { corrupt, type Codec } from '../codec.js';
import { setTimesSync } from '../mtime.js';

/** One chunk of a fetched object and where it goes. */
export interface Place {
  /** The file in the stage. */
  path: string;
  /** Offset in the file. */
  at: number;
  /** Chunk id and plaintext size, both checked. */
  id: string;
  size: number;
  /** The sealed blob in the fetched object. */
  offset: number;
  length: number;
  /** Set when this chunk is the whole file: finish the file with these. */
  meta?: { m: number; u: number; g: number; mt: number; mn?: number | undefined } | undefined;
}

export interface PlaceTask {
  body: Uint8Array;
  places: Place[];
  /** fsync each finished file (when the filesystem cannot be synced at once). */
  fsync: boolean;
}

const isRoot = process.getuid?.() === 0;

/** Verify and write every place of `task`; the plaintext bytes written. */
export function writePlaces(codec: Codec, task: PlaceTask): number {
  const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
  let bytes = 0;
  for (const p of task.places) {
    if (p.offset + p.length > body.length) throw corrupt(p.id, 'missing from its pack (the pack is shorter)');
    const data = codec.openChunkSync(body.subarray(p.offset, p.offset + p.length), p.id, p.size);
    if (data.length !== p.size) throw new PilotfishError('PF_BACKUP_CORRUPT', `chunk ${p.id} has ${data.length} bytes, expected ${p.size}`);
    writeAt(p, data, task.fsync);
    bytes += data.length;
  }
  return bytes;
}

function writeAt(p: Place, data: Buffer, fsync: boolean): void {
  const meta = p.meta;
  const fd = openSync(p.path, meta ? 'w' : 'r+', 0o600);
  try {
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done, p.at + done);
    if (!meta) return;
    if (fsync) fsyncSync(fd);
    if (isRoot) {
      try {
        fchownSync(fd, meta.u, meta.g);
      } catch {
        // an owner this system does not have: keep ours
      }
    }
    fchmodSync(fd, meta.m);
    setTimesSync(fd, meta);
  } finally {
    closeSync(fd);
  }
}
