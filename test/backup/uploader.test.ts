/** The uploader's memory bound: pack buffers count from the moment they are made. */
import { afterAll, describe, expect, it } from 'vitest';
import { Uploader } from '../../src/backup/backup.js';
import { Codec } from '../../src/backup/codec.js';
import type { ChunkRef } from '../../src/backup/format.js';
import { Repository } from '../../src/backup/repo.js';
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
    const up = new Uploader(repo, 16, new Map(), undefined, 4 * 1024 * 1024);
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
});
