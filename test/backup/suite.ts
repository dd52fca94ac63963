/** The store-independent backup tests, run against the local store and against the real MinIO. */
import * as valibot from 'valibot';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { backupSchema, type BackupConfig } from '../../src/backup/config.js';
import { chunkKey, packKey, SNAPSHOT_PREFIX, type ChunkRef } from '../../src/backup/format.js';
import { StoreLease } from '../../src/backup/lease.js';
import { BackupService, createStore } from '../../src/backup/service.js';
import { PilotfishError } from '../../src/kernel/errors.js';
import { configFor, log, makeTree, rawConfigFor, removeTempDirs, pseudoRandom, tempDir, treeDigest, useS3Env, type StoreKind } from './helpers.js';

/** Small chunks so a small test tree still spans many chunks. */
const SMALL_CHUNKS = { chunking: { avgSize: 64 * 1024 }, retention: { keepLast: 100, hourly: 0, daily: 0 } };

function pair(kind: StoreKind, extra: Record<string, unknown> = {}) {
  const src = join(tempDir(), 'src');
  const dst = join(tempDir(), 'dst');
  const config = configFor(kind, src, { ...SMALL_CHUNKS, ...extra });
  const restoreConfig: BackupConfig = { ...config, sources: [{ path: dst, name: 'data', exclude: [] }] };
  const services: BackupService[] = [];
  const svc = (c: BackupConfig): BackupService => {
    const s = new BackupService(c, log);
    services.push(s);
    return s;
  };
  return { src, dst, config, restoreConfig, writer: svc(config), reader: svc(restoreConfig), svc, close: () => services.forEach((s) => s.close()) };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (error) {
    return error instanceof PilotfishError ? error.code : String(error);
  }
}

export function storeSuite(kind: StoreKind): void {
  const cleanup: Array<() => void> = [];
  beforeAll(() => {
    if (kind === 's3') useS3Env();
  });
  afterAll(() => {
    cleanup.forEach((c) => c());
    removeTempDirs();
  });

  it('round-trips a tree: modes, symlinks, empty dirs, a large file, many small files', async () => {
    const p = pair(kind);
    cleanup.push(p.close);
    await makeTree(p.src, { small: 300, bigBytes: 3 * 1024 * 1024 });
    const result = await p.writer.backupNow();
    expect(result.stats.files).toBe(304);
    const restored = await p.reader.restore({ policy: 'always' });
    expect(restored.snapshot).toBe(result.snapshot);
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));
    // Nothing of the staging directory is left beside the target.
    expect((await readdir(join(p.dst, '..'))).filter((n) => n.includes('pilotfish-restore'))).toEqual([]);
  });

  it('uploads only the changed chunks after a small change', async () => {
    const p = pair(kind);
    cleanup.push(p.close);
    await makeTree(p.src, { small: 20, bigBytes: 4 * 1024 * 1024 });
    const first = await p.writer.backupNow();
    expect(first.stats.uploadedBytes).toBeGreaterThan(4 * 1024 * 1024);
    // Insert 100 bytes into the middle of the big file (shifts everything after it) and touch one small file.
    const big = join(p.src, 'big.bin');
    const data = pseudoRandom(4 * 1024 * 1024, 1);
    await writeFile(big, Buffer.concat([data.subarray(0, 2_000_000), Buffer.alloc(100, 7), data.subarray(2_000_000)]));
    await appendFile(join(p.src, 'many/f3.txt'), 'changed\n');
    const second = await p.writer.backupNow();
    expect(second.stats.newChunks).toBeLessThanOrEqual(4);
    expect(second.stats.uploadedBytes).toBeLessThan(600 * 1024);
    await p.reader.restore({ policy: 'always' });
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));
    // An unchanged re-run reads nothing and uploads nothing.
    const third = await p.writer.backupNow();
    expect(third.stats.newChunks).toBe(0);
    expect(third.stats.uploadedBytes).toBe(0);
  });

  it('falls back to the previous snapshot when a chunk of the latest is corrupt, and when its manifest is', async () => {
    const p = pair(kind);
    cleanup.push(p.close);
    await makeTree(p.src, { small: 10, bigBytes: 512 * 1024 });
    const v1 = await treeDigest(p.src);
    const s1 = await p.writer.backupNow();
    await writeFile(join(p.src, 'new.bin'), pseudoRandom(200_000, 9));
    const s2 = await p.writer.backupNow();
    const repo = await p.writer.open();
    const m1 = await repo.readManifest(SNAPSHOT_PREFIX + s1.snapshot);
    const m2 = await repo.readManifest(SNAPSHOT_PREFIX + s2.snapshot);
    const old = new Set(m1.entries.flatMap((e) => (e.c ?? []).map(([id]) => id)));
    const fresh = m2.entries.flatMap((e) => e.c ?? []).find(([id]) => !old.has(id)) as ChunkRef;
    // The new file is small, so its chunk sits in a pack: flip the last byte of its sealed blob.
    const key = fresh[2] !== undefined ? packKey(fresh[2]) : chunkKey(fresh[0]);
    const original = (await repo.store.get(key)) as Buffer;
    const flipped = Buffer.from(original);
    const last = fresh[2] !== undefined ? (fresh[3] as number) + (fresh[4] as number) - 1 : flipped.length - 1;
    flipped[last] = (flipped[last] as number) ^ 0xff;
    await repo.store.put(key, flipped);

    const r = await p.reader.restore({ policy: 'always' });
    expect(r.snapshot).toBe(s1.snapshot);
    expect(r.skipped.map((s) => s.snapshot)).toEqual([s2.snapshot]);
    expect(r.skipped[0]?.error).toMatch(/corrupt/);
    expect(await treeDigest(p.dst)).toEqual(v1);

    // A manifest that does not parse is skipped too.
    await repo.store.put(key, original);
    const s3 = await p.writer.backupNow();
    await repo.store.put(SNAPSHOT_PREFIX + s3.snapshot, Buffer.from('garbage'));
    const r2 = await p.reader.restore({ policy: 'always' });
    expect(r2.snapshot).toBe(s2.snapshot);
  });

  it('packs every chunk, big files too, and still restores and dedups against standalone chunks of older versions', async () => {
    const p = pair(kind);
    cleanup.push(p.close);
    await makeTree(p.src, { small: 20, bigBytes: 3 * 1024 * 1024 });
    const s1 = await p.writer.backupNow();
    const repo = await p.writer.open();
    const m1 = await repo.readManifest(SNAPSHOT_PREFIX + s1.snapshot);
    const refs = m1.entries.flatMap((e) => e.c ?? []);
    // A 3 MiB file in 64 KiB chunks: ~50 chunks, in a few 4 MiB packs, not ~50 objects.
    expect(refs.length).toBeGreaterThan(40);
    expect(refs.every((r) => r[2] !== undefined)).toBe(true);
    const stored = { chunks: 0, packs: 0 };
    for await (const _ of repo.listChunks()) stored.chunks++;
    for await (const _ of repo.listPacks()) stored.packs++;
    expect(stored).toEqual({ chunks: 0, packs: expect.any(Number) as number });
    expect(stored.packs).toBeLessThan(5);

    // A repository written before big chunks were packed: each big-file chunk its own object
    // (the same sealed blob: its name, the chunk id, is its additional data either way).
    const big = m1.entries.find((e) => (e.c?.length ?? 0) > 1);
    expect(big).toBeDefined();
    for (const ref of big?.c ?? []) {
      await repo.store.put(chunkKey(ref[0]), await repo.getPackRange(ref[2] as string, ref[3] as number, ref[4] as number));
      ref.length = 2;
    }
    const legacy = { ...m1, name: `${SNAPSHOT_PREFIX}29991231T000000.000Z-00000000` }; // the newest
    await repo.writeManifest(legacy);
    const r = await p.reader.restore({ policy: 'always' });
    expect(r.snapshot).toBe(legacy.name.slice(SNAPSHOT_PREFIX.length));
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));

    // The big file read again (its ctime changed): every chunk is known from the legacy parent.
    await utimes(join(p.src, big?.p as string), new Date(), new Date(1_600_000_000_000));
    const s2 = await p.writer.backupNow();
    expect(s2.stats).toMatchObject({ newChunks: 0, uploadedBytes: 0 });
    await p.reader.restore({ policy: 'always', snapshot: s2.snapshot });
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));
  });

  it('reuses the packs of a backup that died before its manifest (each pack ends with its contents)', async () => {
    const p = pair(kind);
    cleanup.push(p.close);
    await makeTree(p.src, { small: 50, bigBytes: 2 * 1024 * 1024 });
    const first = await p.writer.backupNow();
    expect(first.stats.newChunks).toBeGreaterThan(30);
    // As if killed just before the manifest: every pack is stored, no snapshot names them.
    const repo = await p.writer.open();
    await repo.store.delete(SNAPSHOT_PREFIX + first.snapshot);
    const again = await p.writer.backupNow();
    expect(again.stats).toMatchObject({ newChunks: 0, uploadedBytes: 0, reusedChunks: first.stats.newChunks });
    await p.reader.restore({ policy: 'always' });
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));
  });

  it('restores by policy: if-empty leaves data alone, no snapshot is not an error unless required', async () => {
    const p = pair(kind);
    cleanup.push(p.close);
    const nothing = await p.reader.restore({ policy: 'always' });
    expect(nothing).toMatchObject({ reason: 'no snapshot exists yet' });
    const required = p.svc({ ...p.restoreConfig, restore: { policy: 'always', required: true } });
    expect(await codeOf(required.restore())).toBe('PF_BACKUP_NOTHING_TO_RESTORE');

    await makeTree(p.src, { small: 3, bigBytes: 0 });
    await p.writer.backupNow();
    await mkdir(p.dst, { recursive: true });
    await writeFile(join(p.dst, 'mine'), 'keep me');
    expect(await p.reader.restore({ policy: 'if-empty' })).toMatchObject({ reason: 'the sources are not empty' });
    expect(await readdir(p.dst)).toEqual(['mine']);
    await rm(join(p.dst, 'mine'));
    expect((await p.reader.restore({ policy: 'if-empty' })).snapshot).toBeDefined();
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));
  });

  it('encrypts with AES-256-GCM: names are keyed, content unreadable without the key, round trip works', async () => {
    const keyFile = join(tempDir(), 'key');
    await writeFile(keyFile, `${pseudoRandom(32, 5).toString('hex')}\n`);
    const p = pair(kind, { encryption: { key: { file: keyFile } } });
    cleanup.push(p.close);
    await makeTree(p.src, { small: 5, bigBytes: 300_000 });
    await writeFile(join(p.src, 'secret.txt'), 'the plaintext marker 12345');
    await p.writer.backupNow();
    await p.reader.restore({ policy: 'always' });
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));
    const repo = await p.writer.open();
    let objects = 0;
    for (const list of [repo.listChunks(), repo.listPacks()]) {
      for await (const o of list) {
        const blob = (await repo.store.get(o.key)) as Buffer;
        expect(blob.includes('the plaintext marker')).toBe(false);
        objects++;
      }
    }
    expect(objects).toBeGreaterThan(0);
    const otherKey = join(tempDir(), 'key2');
    await writeFile(otherKey, pseudoRandom(32, 6));
    const wrong = p.svc({ ...p.restoreConfig, encryption: { key: { file: otherKey } } });
    expect(await codeOf(wrong.restore({ policy: 'always' }))).toBe('PF_BACKUP_KEY');
    const none = p.svc({ ...p.restoreConfig, encryption: undefined });
    expect(await codeOf(none.restore({ policy: 'always' }))).toBe('PF_BACKUP_KEY');
  });

  it('lets one writer at a time use a prefix; an expired lease is taken over and the old holder learns it', async () => {
    const p = pair(kind);
    cleanup.push(p.close);
    await makeTree(p.src, { small: 100, bigBytes: 2 * 1024 * 1024 });
    const second = p.svc(p.config);
    const outcomes = await Promise.allSettled([p.writer.backupNow(), second.backupNow()]);
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    const busy = outcomes.filter((o) => o.status === 'rejected' && (o.reason as PilotfishError).code === 'PF_BACKUP_BUSY');
    expect(ok.length + busy.length).toBe(2);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    // After the first released it, the other can write; both snapshots restore.
    await second.backupNow();
    expect((await p.reader.restore({ policy: 'always' })).skipped).toEqual([]);
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));

    const store = createStore(p.config);
    cleanup.push(() => store.close?.());
    const a = new StoreLease(store, 3_000);
    const b = new StoreLease(store, 3_000);
    const held = await a.tryAcquire();
    expect(held).toBeDefined();
    expect(await b.tryAcquire()).toBeUndefined();
    expect(await b.holder()).toBe(a.owner);
    // B's clock runs past A's expiry: A looks dead, B takes over.
    const late = new StoreLease(store, 300, () => Date.now() + 120_000);
    const taken = await late.tryAcquire();
    expect(taken).toBeDefined();
    await expect.poll(() => held?.lost.aborted, { timeout: 30_000 }).toBe(true);
    await taken?.release();
    await held?.release();
  });

  it('round-trips a command-stream source', async () => {
    const dir = tempDir();
    const input = join(dir, 'dump.bin');
    const output = join(dir, 'restored.bin');
    await writeFile(input, Buffer.concat([pseudoRandom(700_000, 3), Buffer.from('tail\n')]));
    const base = rawConfigFor(kind, join(dir, 'unused'), SMALL_CHUNKS);
    const config = valibot.parse(backupSchema, {
      ...base,
      sources: [{ name: 'db', command: ['cat', input], restore: `cat > ${output}`, shell: true }],
    });
    // `restore` as a string with shell: true; both run as their own process group.
    const service = new BackupService(config, log);
    cleanup.push(() => service.close());
    const r = await service.backupNow();
    expect(r.stats.bytes).toBe(700_005);
    const back = await service.restore({ policy: 'always' });
    expect(back.snapshot).toBe(r.snapshot);
    expect(execFileSync('cmp', [input, output]).length).toBe(0);
    // A failing command fails the backup and writes no snapshot.
    const failing = new BackupService(valibot.parse(backupSchema, { ...base, sources: [{ name: 'db', command: 'false', restore: 'true' }] }), log);
    cleanup.push(() => failing.close());
    expect(await codeOf(failing.backupNow())).toBe('PF_BACKUP_SOURCE');
    expect((await service.snapshots()).length).toBe(1);
  });

  it('runs pre and post hooks around a backup; a hook that times out fails it and writes no snapshot', async () => {
    const p = pair(kind);
    cleanup.push(p.close);
    await makeTree(p.src, { small: 2, bigBytes: 0 });
    const marker = join(tempDir(), 'post-ran');
    const hooked = p.svc({
      ...p.config,
      hooks: {
        pre: { command: `echo flushed > ${join(p.src, 'flushed.txt')}`, shell: true, timeout: 10_000 },
        post: { command: ['touch', marker], shell: false, timeout: 10_000 },
      },
    });
    const r = await hooked.backupNow();
    const m = await (await hooked.open()).readManifest(SNAPSHOT_PREFIX + r.snapshot);
    expect(m.entries.map((e) => e.p)).toContain('flushed.txt');
    expect(existsSync(marker)).toBe(true);
    const slow = p.svc({ ...p.config, hooks: { pre: { command: ['sleep', '30'], shell: false, timeout: 300 } } });
    const started = Date.now();
    expect(await codeOf(slow.backupNow())).toBe('PF_BACKUP_HOOK');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await p.writer.snapshots()).length).toBe(1);
  });

  it('keeps what retention asks and collects unreferenced chunks older than the margin', async () => {
    const p = pair(kind, { retention: { keepLast: 2, hourly: 0, daily: 0 }, gc: { safetyMargin: 0 } });
    cleanup.push(p.close);
    await makeTree(p.src, { small: 3, bigBytes: 0 });
    for (let i = 0; i < 4; i++) {
      await writeFile(join(p.src, 'changing.bin'), pseudoRandom(100_000, 100 + i));
      await p.writer.backupNow();
    }
    const list = await p.writer.snapshots();
    expect(list.length).toBe(2);
    const repo = await p.writer.open();
    const referenced = new Set<string>();
    for (const s of list) {
      for (const e of (await repo.readManifest(SNAPSHOT_PREFIX + s.name)).entries) for (const ref of e.c ?? []) referenced.add(ref[2] ?? ref[0]);
    }
    const stored: string[] = [];
    for (const l of [repo.listChunks(), repo.listPacks()]) for await (const o of l) stored.push(o.key.slice(o.key.lastIndexOf('/') + 1));
    expect(stored.sort()).toEqual([...referenced].sort());
    await p.reader.restore({ policy: 'always' });
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));
  });

  it('repacks a mostly dead pack: live chunks move, manifests follow, the old pack goes a run later', async () => {
    const p = pair(kind, { retention: { keepLast: 1, hourly: 0, daily: 0 }, gc: { safetyMargin: 0, maxUnused: 0.1 } });
    cleanup.push(p.close);
    await mkdir(p.src, { recursive: true });
    const file = join(p.src, 'db.bin');
    const v1 = pseudoRandom(2 * 1024 * 1024, 1);
    await writeFile(file, v1);
    await p.writer.backupNow();
    const repo = await p.writer.open();
    const packsOf = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const o of repo.listPacks()) out.push(o.key.slice(o.key.lastIndexOf('/') + 1));
      return out.sort();
    };
    const [first, ...none] = await packsOf();
    expect(none).toEqual([]); // 2 MiB of incompressible chunks: one pack
    // Most of the file rewritten in place: the first snapshot goes (keepLast 1), and the first
    // pack is now mostly dead chunks.
    await writeFile(file, Buffer.concat([pseudoRandom(1536 * 1024, 2), v1.subarray(1536 * 1024)]));
    const s2 = await p.writer.backupNow();
    const retired: string[] = [];
    for await (const o of repo.listRetired()) retired.push(o.key.slice(o.key.lastIndexOf('/') + 1));
    expect(retired).toEqual([first]);
    // Still there: a restore that read the manifest before it was rewritten can finish.
    expect(await packsOf()).toContain(first);
    const m2 = await repo.readManifest(SNAPSHOT_PREFIX + s2.snapshot);
    expect(m2.entries.flatMap((e) => e.c ?? []).some((r) => r[2] === first)).toBe(false);
    await p.reader.restore({ policy: 'always' });
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));

    // The next run that collects deletes the retired pack and its mark.
    await writeFile(join(p.src, 'more.txt'), 'more');
    await p.writer.backupNow();
    expect(await packsOf()).not.toContain(first);
    for await (const o of repo.listRetired()) expect.unreachable(`left behind: ${o.key}`);
    await p.reader.restore({ policy: 'always' });
    expect(await treeDigest(p.dst)).toEqual(await treeDigest(p.src));
  });

  it('fails clearly on a full disk and leaves the target untouched', async () => {
    if (process.getuid?.() !== 0) return;
    const mnt = tempDir('pf-enospc-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    } catch {
      return; // no permission to mount here: covered where tests run as root with CAP_SYS_ADMIN
    }
    try {
      const p = pair(kind);
      cleanup.push(p.close);
      await makeTree(p.src, { small: 5, bigBytes: 3 * 1024 * 1024 });
      await p.writer.backupNow();
      const target = join(mnt, 'data');
      await mkdir(target);
      await writeFile(join(target, 'old'), 'old data');
      const svc = p.svc({ ...p.config, sources: [{ path: target, name: 'data', exclude: [] }] });
      expect(await codeOf(svc.restore({ policy: 'always' }))).toBe('PF_BACKUP_NO_SPACE');
      expect((await readdir(mnt)).sort()).toEqual(['data']);
      expect(await readdir(target)).toEqual(['old']);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('restores into a mount point (a volume) by moving the staged entries up', async () => {
    if (process.getuid?.() !== 0) return;
    const mnt = tempDir('pf-volume-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);
    } catch {
      return;
    }
    try {
      const p = pair(kind);
      cleanup.push(p.close);
      await makeTree(p.src, { small: 20, bigBytes: 300_000 });
      await p.writer.backupNow();
      await writeFile(join(mnt, 'stale'), 'from before');
      const svc = p.svc({ ...p.config, sources: [{ path: mnt, name: 'data', exclude: [] }] });
      expect((await svc.restore({ policy: 'always' })).snapshot).toBeDefined();
      const want = await treeDigest(p.src);
      const got = await treeDigest(mnt);
      delete want['.'];
      delete got['.']; // the mount point's own mode is the volume's
      expect(got).toEqual(want);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
}
