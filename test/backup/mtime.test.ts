/**
 * Restored times to the nanosecond: a file of one chunk (written by a worker), a file of
 * several chunks and an empty file (finished on the main thread), a directory and a symlink,
 * each with an mtime whose nanoseconds a double in milliseconds or seconds cannot hold.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { entryTimeOf, setTimesSync, timespecOf } from '../../src/backup/mtime.js';
import { restoreSnapshot } from '../../src/backup/restore.js';
import { BackupService } from '../../src/backup/service.js';
import { configFor, log, pseudoRandom, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

/** Set an mtime (and atime) to the nanosecond with coreutils' touch (utimensat). */
function touchNs(path: string, stamp: string, noDereference = false): void {
  execFileSync('touch', [...(noDereference ? ['-h'] : []), '-d', `@${stamp}`, path]);
}

const mtimeNs = (path: string): bigint => lstatSync(path, { bigint: true }).mtimeNs;

it.each([{ threads: 'workers' }, { threads: 'inline' }])('restores mtimes to the nanosecond ($threads)', async ({ threads }) => {
  const src = join(tempDir(), 'src');
  const dst = join(tempDir(), 'dst');
  await mkdir(join(src, 'dir'), { recursive: true });
  await writeFile(join(src, 'one-chunk.txt'), 'small\n');
  await writeFile(join(src, 'several.bin'), pseudoRandom(600 * 1024, 3)); // > 64 KiB chunks: several
  await writeFile(join(src, 'empty'), '');
  await symlink('one-chunk.txt', join(src, 'link'));
  // Nanoseconds that float milliseconds round and libuv's microseconds cut: .123456789 and
  // .000000999 (one short of a microsecond), .999999999 (one short of a second).
  const stamps: Record<string, string> = {
    'one-chunk.txt': '1700000000.123456789',
    'several.bin': '1700000001.000000999',
    empty: '1700000002.999999999',
    link: '1700000003.555555555',
    dir: '1700000004.000001001',
    '': '1700000005.987654321',
  };
  for (const [rel, stamp] of Object.entries(stamps)) touchNs(rel ? join(src, rel) : src, stamp, rel === 'link');
  const expected = Object.fromEntries(Object.keys(stamps).map((rel) => [rel, mtimeNs(rel ? join(src, rel) : src)]));
  expect(expected['one-chunk.txt']).toBe(1700000000123456789n); // the filesystem holds nanoseconds

  const config = configFor('local', src, { chunking: { avgSize: 64 * 1024 } });
  const writer = new BackupService(config, log);
  const reader = new BackupService({ ...config, sources: [{ path: dst, name: 'data', exclude: [] }] }, log);
  try {
    await writer.backupNow();
    if (threads === 'workers') await reader.restore({ policy: 'always' });
    else {
      // No worker threads: the same writes on the main thread.
      const repo = await reader.open();
      const [name] = await repo.snapshotNames();
      await restoreSnapshot(repo, await repo.openManifest(name as string), reader.config.sources, { concurrency: 4, threads: 0 });
    }
  } finally {
    writer.close();
    reader.close();
  }
  const restored = Object.fromEntries(Object.keys(stamps).map((rel) => [rel, mtimeNs(rel ? join(dst, rel) : dst)]));
  expect(restored).toEqual(expected);
});

it('keeps change detection as it was, and restores an older manifest (no nanoseconds) to the nearest microsecond', async () => {
  const dir = tempDir();
  const file = join(dir, 'f');
  await writeFile(file, 'x');
  for (const stamp of ['1700000000.123456789', '1700000001.999999999', '1.000000001', '1733000000.000000000']) {
    touchNs(file, stamp);
    // What the walk compares with (a plain stat's mtimeMs) is exactly what the manifest keeps.
    expect(entryTimeOf(lstatSync(file, { bigint: true })).mt).toBe(lstatSync(file).mtimeMs);
    const [sec, frac] = stamp.split('.') as [string, string];
    expect(timespecOf(entryTimeOf(lstatSync(file, { bigint: true })))).toEqual({ sec: Number(sec), nsec: Number(frac) });
  }
  // Before `mn` existed, mt alone: 1700000000123.456 ms (a double just below it) is .123456 s.
  expect(timespecOf({ mt: 1700000000123.456 })).toEqual({ sec: 1700000000, nsec: 123456000 });
  const file2 = join(dir, 'g');
  await writeFile(file2, 'y');
  setTimesSync(file2, { mt: 1700000000123.456 });
  expect(lstatSync(file2, { bigint: true }).mtimeNs).toBe(1700000000123456000n);
});
