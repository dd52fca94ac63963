/**
 * Planning a block of manifest entries, on the way out (after ./restore.ts, before
 * ./restore-fetch.ts): its directories, symlinks and empty files are made in the stage at once,
 * files of several chunks are created; every chunk of a file becomes part of an object to
 * fetch, grouped by pack:
 *
 *   for each entry of the block:  directory → made;  symlink, empty file → made and finished
 *                                 file chunk in a pack → (entry, chunk) added to that pack's list
 *                                 chunk stored on its own → a fetch of its own
 *   for each pack:                its list sorted by offset, cut into ranged reads
 *                                 (at most 1,024 chunks and 8 MiB each)
 *   the fetches:                  packs interleaved with standalone chunks
 *
 * No per-file record is made until the object arrives: a pack's list is flat.
 */
import type { ChunkRef, FileEntry } from './format.js';
import { pool } from './limit.js';
import { createEarly, makeDir, parentOf, type StagedTree } from './restore-stage.js';

/** Chunks of one pack fetched by one ranged read, at most. */
const CHUNKS_PER_READ = 1024;
/** Bytes of one pack fetched by one ranged read, at most (unless one chunk is bigger). */
export const BYTES_PER_READ = 8 * 1024 * 1024;

/** Entries and the index of one of their chunks, flat: entry, index, entry, index, ... */
export type Members = Array<FileEntry | number>;

/** The bytes `[start, end)` of a pack, which hold chunks of the `members`. */
export interface PackRead {
  tree: StagedTree;
  pack: string;
  start: number;
  end: number;
  /** Dropped once placed, so the entries can go. */
  members: Members | undefined;
}

/** Chunk `chunk` of `entry`, stored on its own (an older repository's big-file chunk). */
export interface ChunkRead {
  tree: StagedTree;
  id: string;
  entry: FileEntry | undefined;
  chunk: number;
}

/** One object to fetch: part of a pack, or a chunk stored on its own. */
export type Fetch = PackRead | ChunkRead;

/** Chunks a fetch holds: what it weighs against the bound of chunks pending (a pack read's members come in pairs). */
export function chunksOf(fetch: Fetch): number {
  return 'pack' in fetch ? (fetch.members?.length ?? 0) / 2 : 1;
}

/** Make what a block needs in the stages now, and list the objects its files' chunks come from. */
export async function planBlock(trees: ReadonlyMap<number, StagedTree>, block: readonly FileEntry[], concurrency: number): Promise<Fetch[]> {
  const single: Fetch[] = [];
  const packs = new Map<string, { tree: StagedTree; members: Members }>(); // a pack may hold files of several sources
  const early: Array<{ tree: StagedTree; e: FileEntry }> = []; // symlinks, empty files, files of several chunks
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
  await pool(early, concurrency, ({ tree, e }) => createEarly(tree, e));
  const packReads: Fetch[] = [];
  for (const [pack, { tree, members }] of packs) {
    for (const part of rangesOf(members)) packReads.push({ tree, pack, ...part });
  }
  // Packs (many small files: decompression and file creation) interleaved with standalone
  // chunks (big files: mostly bytes), so the workers and the network stay busy together.
  return interleave(packReads, single);
}

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
