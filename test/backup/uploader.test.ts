/** The uploader's memory bound, and its buffers when garbage collection repacks big chunks. */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Uploader } from '../../src/backup/uploader.js';
import { Codec } from '../../src/backup/codec.js';
import { SNAPSHOT_PREFIX, type ChunkRef, type Manifest } from '../../src/backup/format.js';
import { Repository } from '../../src/backup/repo.js';
import { prune } from '../../src/backup/retention.js';
import { LocalStore } from '../../src/backup/store/local.js';
import { pseudoRandom, removeTempDirs, tempDir } from './helpers.js';

afterAll(() => removeTempDirs());

/** A local store whose pack PUTs wait until the gate opens. */
class GatedStore extends LocalStore {
  #open!: () => void;
  readonly gate = new Promise<void>((go) => (this.#open = go));
  puts = 0;
  open(): void {
    this.#open();
  }
  override async put(key: string, body: Buffer): Promise<void> {
    if (key.startsWith('packs/')) {
      this.puts++;
      await this.gate;
    }
    return super.put(key, body);
  }
}

/** Resolves once nothing has moved for 20 turns of the event loop (everything is waiting on the gate). */
async function quiet(progress: () => number): Promise<void> {
  let last = -1;
  let still = 0;
  while (still < 20) {
    await new Promise((go) => setImmediate(go));
    const now = progress();
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

describe('uploader', () => {
  it('makes no new pack buffer while the ones made wait for their upload: small chunks stop, not memory', async () => {
    const store = new GatedStore(tempDir());
    const repo = new Repository(store, new Codec({ compression: 'none', level: 1 }), 1024 * 1024);
    await repo.open();
    const up = new Uploader(repo, 16, new Map(), 4 * 1024 * 1024);
    const CHUNK = 60 * 1024; // stored inline, without a task: what a tree of small files does
    const TOTAL = 700; // ~40 MiB: more than the 32 MiB budget
    let next = 0;
    let done = 0;
    const refs: ChunkRef[] = [];
    const runner = async (): Promise<void> => {
      while (next < TOTAL) {
        const i = next++;
        refs[i] = await up.add(pseudoRandom(CHUNK, i));
        done++;
      }
    };
    const runners = Promise.all(Array.from({ length: 16 }, runner));
    await quiet(() => done);
    // 32 MiB of budget holds three pack buffers (4 MiB + 4 MiB of room for a big chunk): three
    // packs of ~69 chunks fill, then every runner waits. Counted at the flush instead, each of
    // the 16 runners made a pack of its own meanwhile, and all 700 went through.
    const perPack = Math.ceil((4 * 1024 * 1024) / CHUNK);
    expect(done).toBeLessThanOrEqual(3 * perPack + 16);
    expect(new Set(refs.filter(Boolean).map((r) => r[2])).size).toBeLessThanOrEqual(4);
    store.open();
    await runners;
    await up.settle();
    expect(done).toBe(TOTAL);
    for (const [i, ref] of refs.entries()) expect((await repo.getChunk(ref)).equals(pseudoRandom(CHUNK, i))).toBe(true);
  });

  it('repacks chunks as big as the repository makes them (2 MiB average: up to 8 MiB)', async () => {
    const MIB = 1024 * 1024;
    const repo = new Repository(new LocalStore(tempDir()), new Codec({ compression: 'none', level: 1 }), 2 * MIB);
    await repo.open();
    const up = new Uploader(repo, 4, new Map(), 8 * MIB);
    const live = [randomBytes(3.9 * MIB), randomBytes(7 * MIB)];
    // Two packs, each one live chunk and dead ones: [live 3.9, dead 2] and [dead 2.3, live 7].
    const x = await up.add(live[0] as Buffer);
    await up.add(randomBytes(2 * MIB));
    await up.settle();
    // Small chunks are appended before add() returns: they are in the pack before the big one.
    for (let i = 0; i < 40; i++) await up.add(randomBytes(60 * 1024));
    const z = await up.add(live[1] as Buffer);
    await up.settle();
    expect(x[2]).not.toBe(z[2]);
    const name = `${SNAPSHOT_PREFIX}20260101T000000.000Z-00000001`;
    const entries = [
      { s: 0, p: 'x', t: 'f', m: 0o600, u: 0, g: 0, mt: 0, sz: live[0]?.length, c: [x] },
      { s: 0, p: 'z', t: 'f', m: 0o600, u: 0, g: 0, mt: 0, sz: live[1]?.length, c: [z] },
    ] as Manifest['entries'];
    const stats = { files: 2, dirs: 0, bytes: 0, chunks: 2, newChunks: 2, reusedChunks: 0, uploadedBytes: 0, durationMs: 0 };
    await repo.writeManifest({ version: 1, name, time: '', host: '', reason: 'test', sources: [{ name: 'data', kind: 'dir', path: '/x' }], entries, stats });
    // Both packs are repacked into one: 3.9 MiB, then the 7 MiB chunk appended to it, which a
    // buffer sized for 4 MiB chunks could not hold (PF_INTERNAL).
    const r = await prune(repo, { keepLast: 10, hourly: 0, daily: 0 }, { enabled: true, safetyMargin: 0, maxUnused: 0.1, concurrency: 2, force: true });
    expect(r.repackedPacks).toBe(2);
    const refs = (await repo.readManifest(name)).entries.map((e) => (e.c as ChunkRef[])[0] as ChunkRef);
    expect(refs.map((ref) => ref[2])).not.toContain(x[2]);
    expect(refs.map((ref) => ref[2])).not.toContain(z[2]);
    for (const [i, ref] of refs.entries()) expect((await repo.getChunk(ref)).equals(live[i] as Buffer)).toBe(true);
  });
});
