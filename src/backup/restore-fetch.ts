/**
 * Fetching the directory sources' objects, on the way out (after ./restore-plan.ts, before
 * the workers): blocks of entries are pulled and planned as the fetches need them, each
 * object is fetched with one GET (a ranged read of a pack, or a chunk stored on its own) and
 * handed, with the place of each of its chunks, to the worker threads (./workers/pool.ts).
 *
 *   while blocks remain:  wait until fewer than MAX_PENDING_CHUNKS chunks are pending
 *                         plan the next block → its fetches
 *   `concurrency` runners: fetch (at most IN_FLIGHT_BYTES of bodies held) → workers write it
 *                         → progress, and a background sync every 128 MiB
 */
import { join } from 'node:path';
import type { ChunkRef, FileEntry } from './format.js';
import { pool, Semaphore } from './limit.js';
import type { Repository } from './repo.js';
import type { RestoreOptions } from './restore-options.js';
import { chunksOf, planBlock, type Fetch, type Members } from './restore-plan.js';
import { wrote, type StagedTree } from './restore-stage.js';
import type { Place } from './workers/place.js';
import type { Placer } from './workers/pool.js';

/** Bytes of fetched objects not yet written (each also needs its plaintext while written). */
export const IN_FLIGHT_BYTES = 32 * 1024 * 1024;
/**
 * Chunks handed out for fetching and not yet written: bounds the manifest entries held. On the
 * 100,000-file tree (S3, reads of at most 1,024 chunks): 8,192 peaked at 240–246 MiB RSS,
 * 4,096 at 221–235 MiB, at the same speed (7.3 s). With whole-block reads (about 5,000 tiny
 * files each), 4,096 left one read at a time and cost 1.7 s.
 */
const MAX_PENDING_CHUNKS = 4096;

/** The stage of each source index. */
type Stages = ReadonlyMap<number, string>;

/**
 * Write the trees into their stages as the entries arrive: for each block of entries, plan it,
 * then fetch in parallel and hand each fetched object to the worker threads, which verify its
 * chunks and write them (a file of one chunk is created, written and finished in one open).
 */
export async function writeTrees(
  repo: Repository,
  trees: ReadonlyMap<number, StagedTree>,
  blocks: AsyncIterable<FileEntry[]>,
  placer: Placer,
  options: RestoreOptions,
): Promise<void> {
  const started = Date.now();
  // Chunks of pulled fetches not yet written: the entries they hold stay in memory until then.
  // Without this bound the runners would pull blocks as fast as fetches are made (a block of
  // small files is one or two fetches), and hold most of a 100,000-file manifest after all.
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
  async function* fetches(): AsyncGenerator<Fetch> {
    for await (const block of blocks) {
      for (const fetch of await planBlock(trees, block, options.concurrency)) {
        await room();
        pending += chunksOf(fetch);
        yield fetch;
      }
    }
  }
  const stages: Stages = new Map([...trees].map(([index, tree]) => [index, tree.stage]));
  // One flag for every task: fsync each file when any of the filesystems cannot be synced at once.
  const fsync = [...trees.values()].some((t) => !t.canSyncFs);
  // Fetched objects wait for a worker; bound their bytes, not only their number.
  const inFlight = new Semaphore(IN_FLIGHT_BYTES);
  await pool(fetches(), options.concurrency, async (fetch) => {
    const n = chunksOf(fetch);
    try {
      await fetchAndPlace(fetch);
    } catch (error) {
      stopped = true; // fetches pulled but never run would otherwise hold `pending` up forever
      throw error;
    } finally {
      settle(n);
    }
  });
  async function fetchAndPlace(fetch: Fetch): Promise<void> {
    options.signal?.throwIfAborted();
    const size = 'pack' in fetch ? fetch.end - fetch.start : ((fetch.entry as FileEntry).c?.[fetch.chunk]?.[1] ?? 0);
    await inFlight.run(async () => {
      let bytes: number;
      if ('pack' in fetch) {
        const body = await repo.getPackRange(fetch.pack, fetch.start, fetch.end - fetch.start);
        bytes = await placer.run({ body, places: placesOf(stages, fetch.members as Members, fetch.start), fsync });
        fetch.members = undefined;
      } else {
        const body = await repo.getChunkBlob(fetch.id);
        const place = placeOf(stages, fetch.entry as FileEntry, fetch.chunk, 0);
        bytes = await placer.run({ body, places: [{ ...place, offset: 0, length: body.length }], fsync });
        fetch.entry = undefined;
      }
      options.progress?.advance(bytes);
      wrote(fetch.tree, bytes);
    }, size);
  }
  for (const tree of trees.values()) await tree.flushing;
  options.trace?.(`fetch and write (${placer.threads} worker threads)`, Date.now() - started);
}

/** Where chunk `k` of `e` goes in the stage (its offset is the sizes of the chunks before it); `base`: where the fetched body starts in its object. */
function placeOf(stages: Stages, e: FileEntry, k: number, base: number): Place {
  const chunks = e.c as ChunkRef[];
  let at = 0;
  for (let j = 0; j < k; j++) at += (chunks[j] as ChunkRef)[1];
  const [id, size, , offset = 0, length = 0] = chunks[k] as ChunkRef;
  const meta = chunks.length === 1 ? { m: e.m, u: e.u, g: e.g, mt: e.mt, mn: e.mn } : undefined;
  return { path: join(stages.get(e.s) as string, e.p), at, id, size, offset: offset - base, length, meta };
}

function placesOf(stages: Stages, members: Members, base: number): Place[] {
  const places: Place[] = [];
  for (let i = 0; i < members.length; i += 2) places.push(placeOf(stages, members[i] as FileEntry, members[i + 1] as number, base));
  return places;
}
