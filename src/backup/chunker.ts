/**
 * Content-defined chunking (FastCDC-style gear hash with normalised chunking), streaming and
 * bounded: memory is one window of `max + read size` bytes whatever the input length.
 * Why content-defined and not fixed: an insertion shifts every later fixed block, so a 1%
 * change re-uploads up to the whole tail; see bench/backup/README.md for the measurement.
 */

export interface ChunkParams {
  min: number;
  avg: number;
  max: number;
}

export function chunkParams(avg: number): ChunkParams {
  return { min: Math.floor(avg / 4), avg, max: avg * 4 };
}

/** 256 pseudo-random 32-bit values from a fixed seed: chunk boundaries must never change. */
const GEAR = (() => {
  const table = new Int32Array(256);
  let x = 0x9e3779b9;
  for (let i = 0; i < 256; i++) {
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    table[i] = x | 0;
  }
  return table;
})();

/** A mask with `bits` one-bits spread over the top of a 32-bit word (the hash's most mixed bits). */
function mask(bits: number): number {
  let m = 0;
  for (let i = 0; i < bits; i++) m |= 1 << (31 - i);
  return m | 0;
}

/** Length of the next chunk of `buf[start, end)`; `eof` says no more data follows. Returns -1 when more data is needed. */
export function findCut(buf: Uint8Array, start: number, end: number, p: ChunkParams, eof: boolean): number {
  const n = end - start;
  if (n < p.max && !eof) return -1; // decide only with a full window: no rescans
  if (n <= p.min) return n;
  const bits = Math.round(Math.log2(p.avg));
  const maskS = mask(bits + 1);
  const maskL = mask(bits - 1);
  const gear = GEAR;
  // A plain Uint8Array view: V8 indexes it faster than a Buffer.
  if (buf instanceof Buffer) buf = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const limit = start + Math.min(n, p.max);
  const normal = start + Math.min(n, p.avg);
  let h = 0;
  let i = start + p.min;
  // FastCDC skips the first `min` bytes; the 32-bit gear hash only remembers the last 32 anyway.
  for (let j = i - 32; j < i; j++) h = ((h << 1) + (gear[buf[j] as number] as number)) | 0;
  for (; i < normal; i++) {
    h = ((h << 1) + (gear[buf[i] as number] as number)) | 0;
    if ((h & maskS) === 0) return i + 1 - start;
  }
  for (; i < limit; i++) {
    h = ((h << 1) + (gear[buf[i] as number] as number)) | 0;
    if ((h & maskL) === 0) return i + 1 - start;
  }
  return limit - start;
}

/** Fixed-size chunking, kept for the benchmark's comparison. */
export function findCutFixed(_buf: Uint8Array, start: number, end: number, p: ChunkParams, eof: boolean): number {
  const n = end - start;
  if (n >= p.avg) return p.avg;
  return eof ? n : -1;
}

export type CutFinder = typeof findCut;

/**
 * Split a byte stream into chunks. Each yielded Buffer is a fresh copy the caller may keep.
 * At most one window (max + the largest input piece) is held.
 */
export async function* chunkStream(source: AsyncIterable<Uint8Array>, p: ChunkParams, cut: CutFinder = findCut): AsyncGenerator<Buffer> {
  let window = Buffer.allocUnsafe(p.max * 2);
  let start = 0;
  let end = 0;
  const drain = function* (eof: boolean): Generator<Buffer> {
    for (;;) {
      if (end === start) return;
      const len = cut(window, start, end, p, eof);
      if (len < 0) return;
      yield Buffer.from(window.subarray(start, start + len));
      start += len;
    }
  };
  for await (const piece of source) {
    let off = 0;
    while (off < piece.length) {
      if (start > 0 && window.length - end < piece.length - off) {
        window.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      if (window.length - end === 0) {
        const bigger = Buffer.allocUnsafe(window.length * 2);
        window.copy(bigger, 0, start, end);
        end -= start;
        start = 0;
        window = bigger;
      }
      const take = Math.min(piece.length - off, window.length - end);
      window.set(piece.subarray(off, off + take), end);
      end += take;
      off += take;
      yield* drain(false);
    }
  }
  yield* drain(true);
}
