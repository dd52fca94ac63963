/**
 * Retention (keep-last, hourly, daily) and garbage collection. GC runs only under the writer
 * lease, deletes only chunks no remaining manifest references, and only those older than the
 * safety margin, so the chunks of an upload in progress are never collected.
 */
import { chunkIdOf, snapshotTime, type ChunkRef } from './format.js';
import type { Repository } from './repo.js';

export interface RetentionPolicy {
  keepLast: number;
  hourly: number;
  daily: number;
}

/** The names to keep, given names newest first. */
export function selectKept(names: readonly string[], policy: RetentionPolicy): Set<string> {
  const keep = new Set(names.slice(0, policy.keepLast));
  const bucketed = (size: number, count: number): void => {
    const seen = new Set<number>();
    for (const name of names) {
      if (seen.size >= count) break;
      const t = snapshotTime(name);
      if (!t) continue;
      const bucket = Math.floor(t.getTime() / size);
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      keep.add(name); // the newest of each bucket
    }
  };
  bucketed(3_600_000, policy.hourly);
  bucketed(86_400_000, policy.daily);
  return keep;
}

export interface PruneResult {
  removedSnapshots: number;
  removedChunks: number;
  keptSnapshots: number;
}

export async function prune(repo: Repository, policy: RetentionPolicy, gc: { enabled: boolean; safetyMargin: number; force?: boolean }, now = Date.now()): Promise<PruneResult> {
  const names = await repo.snapshotNames();
  const keep = selectKept(names, policy);
  const drop = names.filter((n) => !keep.has(n));
  for (const name of drop) await repo.store.delete(name);
  let removedChunks = 0;
  // Chunks become garbage only when a snapshot goes (or a backup was interrupted: its chunks
  // are collected the next time a snapshot goes). Reading every manifest on each backup would
  // make an unchanged re-run of a big tree slow.
  if (gc.enabled && (drop.length > 0 || gc.force === true)) {
    const referenced = new Set<string>();
    const packs = new Set<string>();
    const note = (ref: ChunkRef): void => {
      if (ref[2] !== undefined) packs.add(ref[2]);
      else referenced.add(ref[0]);
    };
    for (const name of keep) {
      // Streamed: one manifest's entries are never all in memory (100k files × 10 snapshots).
      try {
        const m = await repo.forEachEntry(name, (e) => {
          for (const ref of e.c ?? []) note(ref);
        });
        for (const s of m.sources) for (const ref of s.chunks ?? []) note(ref);
      } catch {
        // An unreadable manifest: collect nothing this time rather than guess what it needs.
        return { removedSnapshots: drop.length, removedChunks: 0, keptSnapshots: keep.size };
      }
    }
    for await (const o of repo.listChunks()) {
      if (referenced.has(chunkIdOf(o.key))) continue;
      if (now - o.modified.getTime() < gc.safetyMargin) continue;
      await repo.store.delete(o.key);
      removedChunks++;
    }
    // A pack goes when none of its chunks is referenced (partly used packs stay whole).
    for await (const o of repo.listPacks()) {
      if (packs.has(chunkIdOf(o.key))) continue;
      if (now - o.modified.getTime() < gc.safetyMargin) continue;
      await repo.store.delete(o.key);
      removedChunks++;
    }
  }
  return { removedSnapshots: drop.length, removedChunks, keptSnapshots: keep.size };
}
