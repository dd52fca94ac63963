/**
 * Fetching a stream source's chunks, on the way out (after the directory sources, before its
 * restore command in ./stream-command.ts): in order, consecutive chunks of one pack by one
 * ranged read.
 *
 *   readsOf:       the chunk list cut into runs (one pack, at most 8 MiB each)
 *   fetchInOrder:  a few runs fetched ahead (32 MiB); each run's chunks opened (verified,
 *                  decompressed) four ahead of the one being written, and yielded in order
 */
import { corrupt } from './codec.js';
import type { ChunkRef } from './format.js';
import type { Repository } from './repo.js';
import { IN_FLIGHT_BYTES } from './restore-fetch.js';
import { BYTES_PER_READ } from './restore-plan.js';

/**
 * A stream source's chunks in order. Consecutive chunks of one pack are fetched by one ranged
 * read of at most {@link BYTES_PER_READ} (a stream's chunks were appended to the same packs
 * as they came, in about their order), up to {@link IN_FLIGHT_BYTES} of reads ahead. Chunks
 * are opened (verified, decompressed) a few at a time as they are handed out, so the
 * plaintext of whole reads is never held at once.
 */
export async function* fetchInOrder(repo: Repository, refs: ChunkRef[]): AsyncGenerator<Buffer> {
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
