/**
 * The restore reads the manifest as a stream: entries are pulled block by block and written
 * before many more are pulled, several sources sharing packs come back each in its place, and
 * a pack that blocks split is fetched in parts (ranged reads) that still verify.
 */
import * as valibot from 'valibot';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSnapshot } from '../../src/backup/backup.js';
import { Codec } from '../../src/backup/codec.js';
import { backupSchema, type DirSource } from '../../src/backup/config.js';
import type { FileEntry } from '../../src/backup/format.js';
import { deriveKeys } from '../../src/backup/keys.js';
import { pool } from '../../src/backup/limit.js';
import { Repository, type OpenManifest } from '../../src/backup/repo.js';
import { restoreSnapshot } from '../../src/backup/restore.js';
import { readsOf } from '../../src/backup/restore-stream.js';
import { LocalStore } from '../../src/backup/store/local.js';
import { pseudoRandom, removeTempDirs, tempDir, treeDigest } from './helpers.js';

afterAll(() => removeTempDirs());

const FILE = 600; // bytes per small file: every one is a packed chunk

async function smallFiles(root: string, count: number, tag: string): Promise<void> {
  for (let d = 0; d * 100 < count; d++) {
    await mkdir(join(root, `d${d}`), { recursive: true });
    for (let i = d * 100; i < Math.min(count, (d + 1) * 100); i++)
      await writeFile(join(root, `d${d}`, `f${i}`), `${tag} ${i} ${randomBytes(FILE / 2).toString('hex')}`.slice(0, FILE));
  }
}

/** The same entries, re-cut into blocks of `size`; `onPull(block)` is told of each block as the restore pulls it. */
function reblocked(open: OpenManifest, size: number, onPull: (block: FileEntry[]) => void): OpenManifest {
  async function* blocks(): AsyncGenerator<FileEntry[]> {
    let held: FileEntry[] = [];
    for await (const block of open.blocks) {
      for (const e of block) {
        held.push(e);
        if (held.length < size) continue;
        onPull(held);
        yield held;
        held = [];
      }
    }
    if (held.length) {
      onPull(held);
      yield held;
    }
  }
  return { header: open.header, blocks: blocks() };
}

/** A local store whose ranged reads (the restore's pack reads) wait their turn: one let through per macrotask. */
class SlowStore extends LocalStore {
  override async getRange(key: string, offset: number, length: number): Promise<Buffer | undefined> {
    await new Promise((go) => setImmediate(go));
    await new Promise((go) => setImmediate(go));
    return super.getRange(key, offset, length);
  }
}

describe('streamed restore', () => {
  it('pulls entries only as fast as their files are written, and restores two sources that share packs', async () => {
    const dir = tempDir();
    const codec = new Codec({ compression: 'brotli', level: 1, keys: deriveKeys(randomBytes(32)) });
    const repo = new Repository(new LocalStore(dir), codec, 1024 * 1024);
    await repo.open();
    const a = tempDir();
    const b = tempDir();
    await smallFiles(a, 3000, 'a');
    await smallFiles(b, 1000, 'b');
    const { sources } = valibot.parse(backupSchema, {
      sources: [
        { path: a, name: 'a' },
        { path: b, name: 'b' },
      ],
      store: { local: { path: tempDir() } },
    });
    const manifest = await createSnapshot(repo, sources, { concurrency: 4 });
    // Packs of ~4 MiB hold about 6,000 of these files: the last pack of `a` also holds the first of `b`.
    const packs = new Set(manifest.entries.flatMap((e) => (e.c ?? []).map((r) => r[2])));
    expect(packs.size).toBeLessThan(3);
    const want = { a: await treeDigest(a), b: await treeDigest(b) };

    const slow = new Repository(new SlowStore(dir), codec, 1024 * 1024);
    await slow.open();
    const targets = (sources as DirSource[]).map((s) => ({ ...s, path: join(tempDir(), s.name ?? '') }));
    let written = 0;
    let pulled = 0;
    const ahead: number[] = [];
    const open = reblocked(await slow.openManifest(manifest.name), 200, (block) => {
      // Chunks handed out and not yet written when the restore asks for more entries.
      ahead.push(pulled - written / FILE);
      pulled += block.filter((e) => e.t === 'f').length;
    });
    await restoreSnapshot(slow, open, targets, {
      concurrency: 16,
      maxPendingChunks: 400,
      progress: { addTotal: () => undefined, advance: (n: number) => void (written += n) } as never,
    });
    expect(await treeDigest(targets[0]?.path as string)).toEqual(want.a);
    expect(await treeDigest(targets[1]?.path as string)).toEqual(want.b);
    expect(ahead.length).toBe(Math.ceil(manifest.entries.length / 200));
    // The bound, plus the last job handed out (a pack's files in one block): 16 runners free to
    // pull would be 16 blocks (3,200 files) ahead.
    expect(Math.max(...ahead)).toBeLessThanOrEqual(400 + 200);

    // Blocks of 2,500 entries: a pack's files in one block are fetched by several ranged
    // reads (at most 1,024 chunks each), each placed from its own offset.
    const again = (sources as DirSource[]).map((s) => ({ ...s, path: join(tempDir(), s.name ?? '') }));
    await restoreSnapshot(
      repo,
      reblocked(await repo.openManifest(manifest.name), 2500, () => undefined),
      again,
      { concurrency: 4 },
    );
    expect(await treeDigest(again[0]?.path as string)).toEqual(want.a);
    expect(await treeDigest(again[1]?.path as string)).toEqual(want.b);
  });
});

describe('stream source restore', () => {
  it('reads consecutive chunks of a pack together, and hands them out in order, verified', async () => {
    const dir = tempDir();
    const codec = new Codec({ compression: 'lz4', level: 1, keys: deriveKeys(randomBytes(32)) });
    const input = join(tempDir(), 'dump.bin');
    const output = join(tempDir(), 'restored.bin');
    // 6 MiB in chunks of 64 KiB on average (the text part cuts bigger): dozens, in two packs.
    await writeFile(input, Buffer.concat([pseudoRandom(3 * 1024 * 1024, 7), Buffer.from('text '.repeat(600_000))]));
    const { sources } = valibot.parse(backupSchema, {
      sources: [{ name: 'db', command: ['cat', input], restore: `cat > ${output}`, shell: true }],
      store: { local: { path: tempDir() } },
    });
    const repo = new Repository(new LocalStore(dir), codec, 64 * 1024);
    await repo.open();
    const manifest = await createSnapshot(repo, sources, { concurrency: 4 });
    const refs = manifest.sources[0]?.chunks ?? [];
    expect(refs.length).toBeGreaterThan(30);
    let reads = 0;
    const counting = new Repository(
      new (class extends LocalStore {
        override getRange(key: string, offset: number, length: number): Promise<Buffer | undefined> {
          reads++;
          return super.getRange(key, offset, length);
        }
      })(dir),
      codec,
      64 * 1024,
    );
    await counting.open();
    await restoreSnapshot(counting, await counting.openManifest(manifest.name), sources, { concurrency: 4 });
    expect((await readFile(output)).equals(await readFile(input))).toBe(true);
    // One read per run of a pack (at most 8 MiB), not one per chunk.
    expect(reads).toBe(readsOf(refs).length);
    expect(reads).toBeLessThan(6);
  });
});

describe('pool over an async iterable', () => {
  it('pulls only as fast as its runners take items, and stops at the first failure', async () => {
    let pulled = 0;
    async function* items(): AsyncGenerator<number> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    let running = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const done = pool(items(), 3, async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((go) => release.push(go));
      running--;
    });
    await expect.poll(() => release.length).toBe(3);
    expect(pulled).toBe(3);
    while (pulled < 100 || release.length > 0) {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await done;
    expect(most).toBe(3);

    let closed = false;
    async function* failing(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    await expect(
      pool(failing(), 2, async (i) => {
        if (i === 5) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(closed).toBe(true);
  });
});
