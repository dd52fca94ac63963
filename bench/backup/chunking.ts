/**
 * Content-defined vs fixed chunking on the "1% change" case, and the chunker's and the
 * compressors' throughput. Run: npx tsx bench/backup/chunking.ts [MiB]
 */
import { createHash, randomBytes } from 'node:crypto';
import { deflateRawSync, brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { chunkParams, chunkStream, findCut, findCutFixed, type CutFinder } from '../../src/backup/chunker.js';

const MIB = 1024 * 1024;
const size = Number(process.argv[2] ?? 256) * MIB;
const p = chunkParams(MIB);

async function* pieces(buf: Buffer): AsyncGenerator<Buffer> {
  for (let off = 0; off < buf.length; off += MIB) yield buf.subarray(off, Math.min(buf.length, off + MIB));
}

async function ids(buf: Buffer, cut: CutFinder): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const c of chunkStream(pieces(buf), p, cut)) out.set(createHash('sha256').update(c).digest('hex'), c.length);
  return out;
}

function newBytes(before: Map<string, number>, after: Map<string, number>): number {
  let n = 0;
  for (const [id, len] of after) if (!before.has(id)) n += len;
  return n;
}

/** 1% of the bytes changed in 20 places: `insert` adds bytes (shifting the rest), `overwrite` replaces in place. */
function change(buf: Buffer, mode: 'insert' | 'overwrite'): Buffer {
  const places = 20;
  const each = Math.floor((buf.length * 0.01) / places);
  const at = Array.from({ length: places }, (_, i) => Math.floor(((i + 0.5) * buf.length) / places));
  if (mode === 'overwrite') {
    const out = Buffer.from(buf);
    for (const a of at) randomBytes(each).copy(out, a);
    return out;
  }
  const parts: Buffer[] = [];
  let prev = 0;
  for (const a of at) {
    parts.push(buf.subarray(prev, a), randomBytes(each));
    prev = a;
  }
  parts.push(buf.subarray(prev));
  return Buffer.concat(parts);
}

const data = randomBytes(size);
const changed = size * 0.01;
console.log(
  `data ${size / MIB} MiB random, chunks avg ${p.avg / MIB} MiB (min ${p.min / 1024} KiB, max ${p.max / MIB} MiB); 1% = ${(changed / MIB).toFixed(2)} MiB in 20 places\n`,
);
console.log('| chunking | change | new bytes to upload | × changed bytes |');
console.log('|---|---|---|---|');
for (const [name, cut] of [
  ['content-defined (gear)', findCut],
  ['fixed 1 MiB', findCutFixed],
] as const) {
  const base = await ids(data, cut);
  for (const mode of ['overwrite', 'insert'] as const) {
    const n = newBytes(base, await ids(change(data, mode), cut));
    console.log(`| ${name} | ${mode} | ${(n / MIB).toFixed(1)} MiB | ${(n / changed).toFixed(2)} |`);
  }
}

console.log('\n| stage | throughput (1 core) |');
console.log('|---|---|');
for (const [name, cut] of [
  ['gear chunker (find cuts + copy)', findCut],
  ['fixed chunker', findCutFixed],
] as const) {
  const t = performance.now();
  let n = 0;
  let count = 0;
  for await (const c of chunkStream(pieces(data), p, cut)) {
    n += c.length;
    count++;
  }
  console.log(`| ${name} (mean chunk ${(n / count / MIB).toFixed(2)} MiB) | ${(n / MIB / ((performance.now() - t) / 1000)).toFixed(0)} MiB/s |`);
}
{
  const t = performance.now();
  for (let off = 0; off < data.length; off += MIB)
    createHash('sha256')
      .update(data.subarray(off, off + MIB))
      .digest();
  console.log(`| SHA-256 | ${(size / MIB / ((performance.now() - t) / 1000)).toFixed(0)} MiB/s |`);
}
// Compressible input: log/JSON-like text, the typical app state besides databases.
const lines: string[] = [];
let textLength = 0;
while (textLength < 32 * MIB)
  textLength +=
    lines[
      lines.push(
        JSON.stringify({
          t: Date.now() + lines.length,
          level: 'info',
          user: `u${lines.length % 977}`,
          msg: 'request served',
          ms: lines.length % 250,
          path: `/api/v1/items/${lines.length % 5000}`,
        }),
      ) - 1
    ]!.length + 1;
const text = Buffer.from(lines.join('\n'));
const comp: Array<[string, (b: Buffer) => Buffer]> = [
  ['deflate-raw level 1', (b) => deflateRawSync(b, { level: 1 })],
  ['deflate-raw level 3', (b) => deflateRawSync(b, { level: 3 })],
  ['deflate-raw level 6', (b) => deflateRawSync(b, { level: 6 })],
  ['gzip level 1', (b) => gzipSync(b, { level: 1 })],
  ['brotli quality 1', (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } })],
  ['brotli quality 3', (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 3 } })],
];
console.log('\n| compressor | JSON-lines text: MiB/s, ratio | random: MiB/s |');
console.log('|---|---|---|');
const rnd = data.subarray(0, 32 * MIB);
for (const [name, fn] of comp) {
  let t = performance.now();
  let out = 0;
  for (let off = 0; off < text.length; off += MIB) out += fn(text.subarray(off, off + MIB)).length;
  const textRate = text.length / MIB / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let off = 0; off < rnd.length; off += MIB) fn(rnd.subarray(off, off + MIB));
  const rndRate = rnd.length / MIB / ((performance.now() - t) / 1000);
  console.log(`| ${name} | ${textRate.toFixed(0)} MiB/s, ${(out / text.length).toFixed(3)} | ${rndRate.toFixed(0)} MiB/s |`);
}
