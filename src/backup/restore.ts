/**
 * Restoring a snapshot, the way out. The data moves forward through these files:
 *
 *   restore.ts          for each directory source: a stage beside its target, after clearing
 *                       what a killed restore left (restore-stage.ts)
 *   restore-plan.ts     each block of manifest entries: directories, symlinks and empty files
 *                       made in the stage; the rest becomes objects to fetch (a ranged read of
 *                       a pack, or a chunk stored on its own)
 *   restore-fetch.ts    objects fetched in parallel, bounded in bytes and in chunks pending
 *   workers/pool.ts     each fetched object handed to a worker thread
 *   workers/place.ts    its chunks verified and written at their place in the stage
 *   restore-stage.ts    files of several chunks finished, one sync, directories' metadata,
 *                       then the stage exchanged with the target in one rename (moved up for
 *                       a mount point)
 *   restore-stream.ts   then each stream source: its chunks fetched in order and piped into
 *                       its restore command (stream-command.ts)
 *
 * Any failure removes the stages; the targets show the old tree or the whole new one. A
 * corrupt chunk fails with PF_BACKUP_CORRUPT, and the caller (service.ts) tries the previous
 * snapshot.
 */
import { readdir, rm } from 'node:fs/promises';
import { PilotfishError } from '../kernel/errors.js';
import { isDirSource, sourceName, type DirSource, type SourceConfig } from './config.js';
import { isInnerStage } from './format.js';
import type { RestoreOptions } from './restore-options.js';
import type { OpenManifest, Repository } from './repo.js';
import { writeTrees } from './restore-fetch.js';
import { finishStage, openStage, swapIn, type StagedTree } from './restore-stage.js';
import { fetchInOrder } from './restore-stream.js';
import { restoreStreamSource } from './stream-command.js';
import { startPlacer } from './workers/pool.js';

export type { RestoreOptions };

/**
 * Restore an opened manifest into the sources. Its entries are pulled block by block and each
 * block is released once its files are written, so a tree of 100,000 files is never in memory
 * at once: only its directories and its files of several chunks are kept to the end.
 */
export async function restoreSnapshot(repo: Repository, manifest: OpenManifest, sources: readonly SourceConfig[], options: RestoreOptions): Promise<void> {
  const header = manifest.header;
  const byName = new Map(header.sources.map((s, i) => [s.name, i]));
  const trees = new Map<number, StagedTree>();
  const dirSources = sources.filter((s) => isDirSource(s) && byName.has(sourceName(s)));
  // The worker threads start while the stages are made (each loads the bundle: ~0.1 s).
  const starting = dirSources.length > 0 ? startPlacer(repo.codec, options.threads) : undefined;
  // Directory sources first, staged together in one pass over the entries, then swapped in.
  try {
    for (const source of dirSources) trees.set(byName.get(sourceName(source)) as number, await openStage(source as DirSource));
    if (starting) {
      options.progress?.addTotal(header.stats.bytes - header.sources.reduce((n, s) => n + (s.kind === 'stream' ? (s.size ?? 0) : 0), 0));
      const placer = await starting;
      try {
        await writeTrees(repo, trees, manifest.blocks, placer, options);
      } finally {
        await placer.close();
      }
      for (const tree of trees.values()) await finishStage(tree, options);
      for (const tree of trees.values()) await swapIn(tree);
    }
  } catch (error) {
    // A stage that could not be made leaves the workers started for nothing: stop them.
    if (starting && trees.size < dirSources.length) await starting.then((p) => p.close()).catch(() => undefined);
    for (const tree of trees.values()) if (!tree.swapped) await rm(tree.stage, { recursive: true, force: true }).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      const where = [...trees.values()].map((t) => t.target).join(', ');
      throw new PilotfishError('PF_BACKUP_NO_SPACE', `no space left on the device of ${where} while restoring; free space and restart (nothing was changed)`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    for (const tree of trees.values()) tree.flusher?.close(); // also on failure: the helper must not outlive the restore
  }
  for (const source of sources) {
    const index = byName.get(sourceName(source));
    const record = index === undefined ? undefined : header.sources[index];
    if (isDirSource(source) || !record?.chunks) continue;
    await restoreStreamSource(source, fetchInOrder(repo, record.chunks), options.signal);
  }
}

/** True when no directory source has anything in it (the `if-empty` policy). */
export async function sourcesEmpty(sources: readonly SourceConfig[]): Promise<boolean> {
  for (const s of sources) {
    const dir = isDirSource(s) ? s.path : s.dataDir;
    if (dir === undefined) return false;
    try {
      // A stage a killed restore left inside a mount point is not the app's data.
      if ((await readdir(dir)).some((name) => !isInnerStage(name))) return false;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return true;
}
