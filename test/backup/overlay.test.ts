// Restoring into a directory that comes from an image layer: on overlayfs (a container's root)
// such a directory cannot be renamed (EXDEV), so the restore must replace its entries instead.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DirSource } from '../../src/backup/config.js';
import { openStage, swapIn } from '../../src/backup/restore-stage.js';

function canMountOverlay(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'pf-ovl-probe-'));
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(dir, d));
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`, `${dir}/merged`], {
      stdio: 'ignore',
    });
    execFileSync('umount', [`${dir}/merged`]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('restore into an image layer (overlayfs)', () => {
  it.runIf(canMountOverlay())('replaces the entries of a directory that cannot be renamed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-ovl-'));
    for (const d of ['lower/data', 'upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'lower/data/from-image.txt'), 'image');
    const merged = join(dir, 'merged');
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`, merged]);
    try {
      const target = join(merged, 'data');
      // The precondition: the kernel refuses to rename the image's directory.
      expect(() => renameSync(target, join(merged, 'moved'))).toThrow(/EXDEV/);
      const tree = await openStage({ path: target } as DirSource);
      try {
        writeFileSync(join(tree.stage, 'restored.txt'), 'from the backup');
        await swapIn(tree);
      } finally {
        tree.flusher?.close();
      }
      expect(readdirSync(target)).toEqual(['restored.txt']);
      expect(readFileSync(join(target, 'restored.txt'), 'utf8')).toBe('from the backup');
      expect(readdirSync(merged)).toEqual(['data']); // no stage or old tree left beside it
    } finally {
      execFileSync('umount', [merged]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
