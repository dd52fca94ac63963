/** Unit tests: the chunker's boundaries, the blob codec, retention, the activity debouncer. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { chunkParams, chunkStream } from '../../src/backup/chunker.js';
import { Codec } from '../../src/backup/codec.js';
import { newSnapshotName, snapshotTime } from '../../src/backup/format.js';
import { deriveKeys } from '../../src/backup/keys.js';
import { selectKept } from '../../src/backup/retention.js';
import { Debouncer, eventTrigger, intervalTrigger } from '../../src/backup/triggers.js';
import { EventBus } from '../../src/kernel/events.js';

const p = chunkParams(64 * 1024);

async function chunks(data: Buffer, piece: number): Promise<Buffer[]> {
  async function* pieces(): AsyncGenerator<Buffer> {
    for (let off = 0; off < data.length; off += piece) yield data.subarray(off, off + piece);
  }
  const out: Buffer[] = [];
  for await (const c of chunkStream(pieces(), p)) out.push(c);
  return out;
}

describe('content-defined chunker', () => {
  const data = randomBytes(3 * 1024 * 1024);

  it('cuts the same boundaries whatever the read size, within min/max, losing no byte', async () => {
    const a = await chunks(data, 1000);
    const b = await chunks(data, 1024 * 1024);
    expect(a.map((c) => c.length)).toEqual(b.map((c) => c.length));
    expect(Buffer.concat(a).equals(data)).toBe(true);
    for (const c of a.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(p.min);
      expect(c.length).toBeLessThanOrEqual(p.max);
    }
  });

  it('keeps the chunks after an insertion (fixed blocks would all shift)', async () => {
    const before = new Set((await chunks(data, 65536)).map((c) => c.toString('base64')));
    const inserted = Buffer.concat([data.subarray(0, 1_000_000), Buffer.from('inserted bytes'), data.subarray(1_000_000)]);
    const after = await chunks(inserted, 65536);
    const fresh = after.filter((c) => !before.has(c.toString('base64')));
    expect(fresh.length).toBeLessThanOrEqual(2);
  });
});

describe('codec', () => {
  const keys = deriveKeys(randomBytes(32));
  for (const compression of ['lz4', 'brotli', 'deflate', 'none'] as const) {
    it(`seals and opens (${compression}, encrypted and not), and detects tampering`, async () => {
      for (const k of [undefined, keys]) {
        const codec = new Codec({ compression, level: 1, keys: k });
        const plain = Buffer.from('some compressible text '.repeat(1000));
        const id = codec.id(plain);
        const blob = await codec.seal(plain, id);
        expect((await codec.openChunk(blob, id)).equals(plain)).toBe(true);
        const bad = Buffer.from(blob);
        bad[bad.length - 3] = (bad[bad.length - 3] as number) ^ 1;
        await expect(codec.openChunk(bad, id)).rejects.toMatchObject({ code: 'PF_BACKUP_CORRUPT' });
      }
    });
  }

  it('refuses an lz4 block that declares another length than its chunk, before allocating it', async () => {
    const codec = new Codec({ compression: 'lz4', level: 1 });
    const plain = Buffer.from('lz4 text '.repeat(5000));
    const id = codec.id(plain);
    const blob = await codec.seal(plain, id);
    expect(blob[1]).toBe(3); // lz4, not encrypted
    expect(codec.openChunkSync(blob, id, plain.length).equals(plain)).toBe(true);
    const lying = Buffer.from(blob);
    lying.writeUInt32LE(0xfffffff0, 2); // the block's declared plaintext length
    expect(() => codec.openSync(lying, id)).toThrow(expect.objectContaining({ code: 'PF_BACKUP_CORRUPT' }) as Error);
    const short = Buffer.from(blob);
    short.writeUInt32LE(plain.length - 1, 2);
    expect(() => codec.openChunkSync(short, id, plain.length)).toThrow(expect.objectContaining({ code: 'PF_BACKUP_CORRUPT' }) as Error);
  });

  it('gives every sealed blob its own GCM nonce (drawn from a refilled pool)', async () => {
    const codec = new Codec({ compression: 'none', level: 1, keys });
    const nonces = new Set<string>();
    for (let i = 0; i < 2000; i++) nonces.add((await codec.seal(Buffer.from('same'), 'same')).subarray(2, 14).toString('hex')); // past 4 KiB of pool
    expect(nonces.size).toBe(2000);
  });

  it('binds an encrypted blob to its name', async () => {
    const codec = new Codec({ compression: 'none', level: 1, keys });
    const blob = await codec.seal(Buffer.from('x'.repeat(100)), 'name-a');
    await expect(codec.open(blob, 'name-b')).rejects.toMatchObject({ code: 'PF_BACKUP_CORRUPT' });
  });
});

describe('retention', () => {
  it('keeps the last N plus the newest of each recent hour and day', () => {
    const base = Date.UTC(2026, 0, 10, 12, 0, 0);
    // one snapshot every 20 minutes for 3 days, newest first
    const names = Array.from({ length: 3 * 72 }, (_, i) => newSnapshotName(new Date(base - i * 20 * 60_000)));
    const kept = selectKept(names, { keepLast: 3, hourly: 5, daily: 3 });
    expect(names.slice(0, 3).every((n) => kept.has(n))).toBe(true);
    const hours = new Set([...kept].map((n) => Math.floor((snapshotTime(n) as Date).getTime() / 3_600_000)));
    expect(hours.size).toBeGreaterThanOrEqual(5);
    expect(kept.size).toBeLessThanOrEqual(3 + 5 + 3);
    const days = new Set([...kept].map((n) => (snapshotTime(n) as Date).toISOString().slice(0, 10)));
    expect([...days].sort()).toEqual(['2026-01-08', '2026-01-09', '2026-01-10']);
    expect(kept.has(names[names.length - 1] as string)).toBe(false); // older than any rule keeps
  });
});

describe('activity debouncer', () => {
  it('fires after the quiet period, and at the latest after the max delay', () => {
    vi.useFakeTimers();
    try {
      const fire = vi.fn();
      const d = new Debouncer(1000, 5000, fire);
      d.poke();
      vi.advanceTimersByTime(900);
      d.poke();
      vi.advanceTimersByTime(900);
      expect(fire).not.toHaveBeenCalled();
      vi.advanceTimersByTime(200);
      expect(fire).toHaveBeenCalledTimes(1);
      for (let t = 0; t < 6000; t += 500) {
        d.poke();
        vi.advanceTimersByTime(500);
      }
      expect(fire).toHaveBeenCalledTimes(2); // busy all along: the max delay forced one
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('event and interval triggers', () => {
  it('fires on the configured events only', async () => {
    const bus = new EventBus();
    const fired: string[] = [];
    const t = eventTrigger(bus, [{ source: 'flush', on: 'exitSuccess' }], (r) => fired.push(r));
    bus.publish({ code: 'exitFailed', source: 'flush' });
    bus.publish({ code: 'exitSuccess', source: 'other' });
    bus.publish({ code: 'exitSuccess', source: 'flush' });
    await new Promise((r) => setImmediate(r));
    expect(fired).toEqual(['exitSuccess from flush']);
    await t.close();
  });

  it('fires on the interval', async () => {
    vi.useFakeTimers();
    try {
      const fire = vi.fn();
      const t = intervalTrigger(1000, fire);
      vi.advanceTimersByTime(3500);
      expect(fire).toHaveBeenCalledTimes(3);
      await t.close();
      vi.advanceTimersByTime(5000);
      expect(fire).toHaveBeenCalledTimes(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('tree watcher', () => {
  it('sees writes in existing and newly made directories, and ignores what it is told to', async () => {
    const { TreeWatcher } = await import('../../src/backup/watch.js');
    const { mkdtempSync } = await import('node:fs');
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { waitFor } = await import('../helpers/wait.js');
    const root = mkdtempSync(join(tmpdir(), 'pf-watch-'));
    await mkdir(join(root, 'a/b'), { recursive: true });
    const seen: string[] = [];
    const w = new TreeWatcher(
      [root],
      (p) => seen.push(p),
      (p) => p.includes('ignored'),
    );
    await w.start();
    expect(w.watched).toBe(3);
    await writeFile(join(root, 'a/b/one'), '1');
    await waitFor(() => seen.some((p) => p.endsWith('a/b/one')), { message: 'a write in a nested directory' });
    await mkdir(join(root, 'new'));
    await waitFor(() => w.watched === 4, { message: 'the new directory to be watched' });
    await writeFile(join(root, 'new/two'), '2');
    await waitFor(() => seen.some((p) => p.endsWith('new/two')), { message: 'a write in a new directory' });
    await writeFile(join(root, 'ignored.txt'), 'x');
    await writeFile(join(root, 'last'), 'x');
    await waitFor(() => seen.some((p) => p.endsWith('last')), { message: 'the last write' });
    expect(seen.some((p) => p.includes('ignored'))).toBe(false);
    w.close();
    const { rm } = await import('node:fs/promises');
    await rm(root, { recursive: true, force: true });
  });
});
