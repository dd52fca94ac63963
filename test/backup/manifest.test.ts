/** Manifests read as a stream in blocks, and an unchanged re-run that reuses the previous entries. */
import { randomBytes } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walk } from '../../src/backup/walk.js';
import { Codec } from '../../src/backup/codec.js';
import { newSnapshotName, type FileEntry, type Manifest } from '../../src/backup/format.js';
import { deriveKeys } from '../../src/backup/keys.js';
import { Repository } from '../../src/backup/repo.js';
import { LocalStore } from '../../src/backup/store/local.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(() => removeTempDirs());

async function repoFor(compression: 'lz4' | 'brotli' | 'deflate'): Promise<Repository> {
  const repo = new Repository(new LocalStore(tempDir()), new Codec({ compression, level: 1, keys: deriveKeys(randomBytes(32)) }), 1024 * 1024);
  await repo.open();
  return repo;
}

/** Enough entries for several parse blocks (about 1 MiB each), some with chunk lists in shared packs. */
function manyEntries(n: number): FileEntry[] {
  const pack = randomBytes(16).toString('hex');
  return Array.from({ length: n }, (_, i): FileEntry => {
    const p = `dir${i % 17}/file-${i}-${'x'.repeat(i % 50)}\u00e9"\\`;
    if (i % 10 === 0) return { s: 0, p, t: 'd', m: 0o755, u: 0, g: 0, mt: 1_700_000_000_000 + i };
    return {
      s: 0,
      p,
      t: 'f',
      m: 0o644,
      u: 1,
      g: 2,
      mt: 1_700_000_000_000.5 + i,
      sz: i,
      c: [[randomBytes(32).toString('hex'), i, pack, i * 10, 10]],
      ct: 1_700_000_000_001 + i,
      i: 1000 + i,
    };
  });
}

function manifestOf(entries: FileEntry[]): Manifest {
  return {
    version: 1,
    name: newSnapshotName(),
    time: new Date().toISOString(),
    host: 'h',
    reason: 'test',
    sources: [{ name: 'data', kind: 'dir', path: '/x' }],
    entries,
    stats: { files: 0, dirs: 0, bytes: 0, chunks: 0, newChunks: 0, reusedChunks: 0, uploadedBytes: 0, durationMs: 0 },
  };
}

describe('manifest', () => {
  for (const compression of ['lz4', 'brotli', 'deflate'] as const) {
    it(`round-trips across parse blocks (${compression}): every entry, in order`, async () => {
      const repo = await repoFor(compression);
      const m = manifestOf(manyEntries(30_000)); // ~5 MiB of JSON lines
      await repo.writeManifest(m);
      const back = await repo.readManifest(m.name);
      expect(back.entries).toEqual(m.entries);
      expect(back.sources).toEqual(m.sources);
      // The same entries one at a time, none kept (what garbage collection can use).
      const seen: FileEntry[] = [];
      const header = await repo.forEachEntry(m.name, (e) => seen.push(e));
      expect(seen).toEqual(m.entries);
      expect(header.entries).toEqual([]);
      await expect(
        repo.forEachEntry(m.name, () => {
          throw new Error('from the callback');
        }),
      ).rejects.toThrow('from the callback');
    });
  }

  it('reads an empty tree, and calls a manifest with missing entries corrupt', async () => {
    const repo = await repoFor('brotli');
    const empty = manifestOf([]);
    await repo.writeManifest(empty);
    expect((await repo.readManifest(empty.name)).entries).toEqual([]);
    // Sealed like a manifest, but its header announces more entries than it holds.
    const { entries, ...header } = manifestOf(manyEntries(3));
    const text = [JSON.stringify({ ...header, entryCount: 5 }), ...entries.map((e) => JSON.stringify(e))].join('\n');
    const { brotliCompressSync } = await import('node:zlib');
    await repo.store.put(header.name, await repo.codec.seal(brotliCompressSync(text), header.name, 'brotli'));
    await expect(repo.readManifest(header.name)).rejects.toMatchObject({ code: 'PF_BACKUP_CORRUPT' });
  });
});

describe('walk with the previous snapshot', () => {
  it('returns the previous entry itself for an unchanged file, a new one for a changed file', async () => {
    const root = tempDir();
    await mkdir(join(root, 'd'));
    await writeFile(join(root, 'd/same'), 'same');
    await writeFile(join(root, 'd/changed'), 'before');
    const first = await walk({ path: root, exclude: [] }, 0);
    const previous = new Map(first.map((e) => [e.p, e]));
    for (const e of first) if (e.t === 'f') e.c = [];
    await writeFile(join(root, 'd/changed'), 'after!');
    await utimes(join(root, 'd/changed'), 1, 1);
    const second = await walk({ path: root, exclude: [] }, 3, previous);
    const byPath = new Map(second.map((e) => [e.p, e]));
    expect(byPath.get('d/same')).toBe(previous.get('d/same'));
    expect(byPath.get('d/same')?.s).toBe(3);
    expect(byPath.get('d/changed')).not.toBe(previous.get('d/changed'));
    expect(byPath.get('d/changed')?.sz).toBe(6);
    expect(byPath.get('d/changed')?.c).toBeUndefined();
  });
});
