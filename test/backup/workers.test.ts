/** The restore's worker threads: chunks verified and written off the main thread, failures kept as they were. */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Codec } from '../../src/backup/codec.js';
import { deriveKeys } from '../../src/backup/keys.js';
import { interleave } from '../../src/backup/restore-plan.js';
import { startFlusher } from '../../src/backup/restore-stage.js';
import type { Place } from '../../src/backup/workers/place.js';
import { inlinePlacer, startPlacer, type Placer } from '../../src/backup/workers/pool.js';
import { removeTempDirs, tempDir } from './helpers.js';

// lz4, the default: decompressed inside the worker threads too.
const codec = new Codec({ compression: 'lz4', level: 1, keys: deriveKeys(randomBytes(32)) });

/** A pack of sealed chunks, as the backup writes it, and the places of its chunks in `dir`. */
async function pack(dir: string, contents: Buffer[]): Promise<{ body: Buffer; places: Place[] }> {
  const blobs: Buffer[] = [];
  const places: Place[] = [];
  let offset = 0;
  for (const [i, plain] of contents.entries()) {
    const id = codec.id(plain);
    const blob = await codec.seal(plain, id);
    places.push({
      path: join(dir, `f${i}`),
      at: 0,
      id,
      size: plain.length,
      offset,
      length: blob.length,
      meta: { m: 0o640, u: 0, g: 0, mt: 1_700_000_000_000 + i },
    });
    blobs.push(blob);
    offset += blob.length;
  }
  return { body: Buffer.concat(blobs), places };
}

const texts = Array.from({ length: 5 }, (_, i) => Buffer.from(`file ${i} `.repeat(2000 + i * 100)));

describe.each([
  ['worker threads', (): Promise<Placer> => startPlacer(codec, 2)],
  ['inline', async (): Promise<Placer> => inlinePlacer(codec)],
])('restore placer (%s)', (kind, start) => {
  const placers: Placer[] = [];
  afterAll(async () => {
    await Promise.all(placers.map((p) => p.close()));
    removeTempDirs();
  });
  const started = async (): Promise<Placer> => {
    const p = await start();
    placers.push(p);
    expect(p.threads).toBe(kind === 'inline' ? 0 : 2);
    return p;
  };

  it('verifies and writes every chunk of a pack: content, mode, mtime', async () => {
    const placer = await started();
    const dir = tempDir();
    const { body, places } = await pack(dir, texts);
    expect(await placer.run({ body, places, fsync: false })).toBe(texts.reduce((n, t) => n + t.length, 0));
    for (const [i, t] of texts.entries()) {
      expect((await readFile(join(dir, `f${i}`))).equals(t)).toBe(true);
      const st = await stat(join(dir, `f${i}`));
      expect(st.mode & 0o777).toBe(0o640);
      expect(Math.round(st.mtimeMs)).toBe(1_700_000_000_000 + i);
    }
  });

  it('fails with PF_BACKUP_CORRUPT on a flipped byte, and keeps working after it', async () => {
    const placer = await started();
    const dir = tempDir();
    const { body, places } = await pack(dir, texts);
    const bad = Buffer.from(body);
    const third = places[2] as Place;
    bad[third.offset + third.length - 1] = (bad[third.offset + third.length - 1] as number) ^ 0xff;
    await expect(placer.run({ body: bad, places, fsync: false })).rejects.toMatchObject({ name: 'PilotfishError', code: 'PF_BACKUP_CORRUPT' });
    // A pack cut short, and a chunk whose content does not match its size, are corrupt too.
    await expect(placer.run({ body: body.subarray(0, third.offset + 10), places, fsync: false })).rejects.toMatchObject({ code: 'PF_BACKUP_CORRUPT' });
    await expect(placer.run({ body, places: [{ ...third, size: third.size + 1 }], fsync: false })).rejects.toMatchObject({ code: 'PF_BACKUP_CORRUPT' });
    // The same placer still restores good data.
    expect(await placer.run({ body, places, fsync: true })).toBeGreaterThan(0);
    expect((await readFile(join(dir, 'f4'))).equals(texts[4] as Buffer)).toBe(true);
  });

  it('keeps the errno code of a failed write (ENOSPC becomes PF_BACKUP_NO_SPACE upstream)', async () => {
    const placer = await started();
    const { body, places } = await pack(join(tempDir(), 'missing-dir'), texts.slice(0, 1));
    await expect(placer.run({ body, places, fsync: false })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('writes chunks of one big file at their offsets', async () => {
    const placer = await started();
    const dir = tempDir();
    const parts = [randomBytes(300_000), randomBytes(200_000), randomBytes(100_000)];
    const path = join(dir, 'big');
    await (await import('node:fs/promises')).writeFile(path, '');
    let at = 0;
    // Out of order, as parallel fetches finish.
    const jobs = parts.map((plain) => ({ plain, at: (at += plain.length) - plain.length }));
    for (const { plain, at: offset } of [jobs[2], jobs[0], jobs[1]] as typeof jobs) {
      const id = codec.id(plain);
      const blob = await codec.seal(plain, id);
      await placer.run({ body: blob, places: [{ path, at: offset, id, size: plain.length, offset: 0, length: blob.length }], fsync: false });
    }
    expect((await readFile(path)).equals(Buffer.concat(parts))).toBe(true);
  });
});

describe('interleave', () => {
  it('merges two lists in proportion, each in order, losing nothing', () => {
    expect(interleave([1, 2], [10, 20, 30, 40])).toEqual([1, 10, 20, 2, 30, 40]);
    expect(interleave([], [1, 2])).toEqual([1, 2]);
    expect(interleave([1, 2, 3], [])).toEqual([1, 2, 3]);
  });
});

describe('background flusher', () => {
  it('answers each flush after its syncfs, and every pending one on close', async () => {
    const flusher = startFlusher(tempDir());
    expect(flusher).toBeDefined();
    if (!flusher) return;
    await flusher.flush();
    await Promise.all([flusher.flush(), flusher.flush()]);
    const pending = flusher.flush();
    flusher.close();
    await pending;
    await flusher.flush(); // after close: resolves at once, never hangs
  });
});
