/**
 * What a restore killed before its end leaves is cleared by the next one: a partial stage beside
 * the target (or inside a mount point's target, which must not make it look not empty), and an
 * old tree set aside by a swap that died between its two renames, which is put back first.
 * bench/faults/backup-kill.ts kills real restores at random points; this pins each leftover.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { sourcesEmpty } from '../../src/backup/restore.js';
import { BackupService } from '../../src/backup/service.js';
import { configFor, log, makeTree, removeTempDirs, tempDir, treeDigest } from './helpers.js';

afterAll(removeTempDirs);

it('a new restore removes the stages a killed one left, and puts back an old tree left aside', async () => {
  const src = join(tempDir(), 'src');
  const dst = join(tempDir(), 'dst');
  await makeTree(src, { small: 10, bigBytes: 100_000 });
  const config = configFor('local', src);
  const writer = new BackupService(config, log);
  const reader = new BackupService({ ...config, sources: [{ path: dst, name: 'data', exclude: [] }] }, log);
  await writer.backupNow();
  await reader.restore({ policy: 'always' });
  const restored = await treeDigest(dst);
  const siblings = async (): Promise<string[]> => (await readdir(dirname(dst))).filter((n) => n !== basename(dst));

  // Killed while staging: a partial stage beside the target.
  const stage = join(dirname(dst), `.${basename(dst)}.pilotfish-restore-0123abcd`);
  await mkdir(join(stage, 'many'), { recursive: true });
  await writeFile(join(stage, 'many', 'f1.txt'), 'partial');
  // Killed between the two renames of a swap: the target missing, the old tree beside it.
  await rename(dst, join(dirname(dst), `.${basename(dst)}.pilotfish-restore-89abcdef.old`));
  expect(existsSync(dst)).toBe(false);
  expect(await sourcesEmpty(reader.config.sources)).toBe(true);
  await reader.restore({ policy: 'always' });
  expect(await treeDigest(dst)).toEqual(restored);
  expect(await siblings()).toEqual([]);
  writer.close();
  reader.close();
});

it('a stage left inside a mount point does not count as data, and is never backed up', async () => {
  const src = join(tempDir(), 'src');
  await mkdir(src, { recursive: true });
  const leftover = join(src, '.pilotfish-restore-0123abcd');
  await mkdir(leftover);
  await writeFile(join(leftover, 'partial'), 'x');
  const config = configFor('local', src);
  expect(await sourcesEmpty(config.sources)).toBe(true);
  await writeFile(join(src, 'data'), 'y');
  expect(await sourcesEmpty(config.sources)).toBe(false);
  const service = new BackupService(config, log);
  const result = await service.backupNow();
  expect(result.stats.files).toBe(1);
  service.close();
});
