/**
 * Retention (keep-last, hourly, daily) and garbage collection. GC runs only under the writer
 * lease, deletes only chunks no remaining manifest references, and only those older than the
 * safety margin, so the chunks of an upload in progress are never collected. Packs that are
 * mostly dead are repacked: their live chunks are copied to new packs and the manifests
 * rewritten to name them.
 */
import { Uploader } from './uploader.js';
import { chunkParams } from './chunker.js';
import { chunkIdOf, retiredKey, snapshotTime, type ChunkRef } from './format.js';
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
  /** Packs whose live chunks were moved to new packs (deleted by a later run, see {@link RETIRED_PREFIX}). */
  repackedPacks: number;
}

export interface GcOptions {
  enabled: boolean;
  safetyMargin: number;
  /** Repack until at most this share of the referenced packs' bytes is dead (1: never). */
  maxUnused?: number | undefined;
  concurrency?: number | undefined;
  force?: boolean | undefined;
}

/** Packs repacked in one run, at most this many bytes of them: a backup's GC stays short. */
const REPACK_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Dead bytes a pack must hold to be repacked: a quarter of a full pack. Without it the small
 * last pack of a backup, whose table of contents can outweigh its chunks, could be repacked
 * on every run.
 */
const REPACK_MIN_DEAD = 1024 * 1024;

/** A referenced blob of a pack: chunk id, plaintext size, sealed length. */
type Live = Map<number, [id: string, size: number, length: number]>;

export async function prune(repo: Repository, policy: RetentionPolicy, gc: GcOptions, now = Date.now()): Promise<PruneResult> {
  const names = await repo.snapshotNames();
  const keep = selectKept(names, policy);
  const drop = names.filter((n) => !keep.has(n));
  for (const name of drop) await repo.store.delete(name);
  const result: PruneResult = { removedSnapshots: drop.length, removedChunks: 0, keptSnapshots: keep.size, repackedPacks: 0 };
  // Chunks become garbage only when a snapshot goes (or a backup was interrupted: its chunks
  // are collected the next time a snapshot goes). Reading every manifest on each backup would
  // make an unchanged re-run of a big tree slow.
  if (!gc.enabled || (drop.length === 0 && gc.force !== true)) return result;
  const referenced = new Set<string>();
  // Per pack, its referenced blobs by offset.
  const packs = new Map<string, Live>();
  const note = (ref: ChunkRef): void => {
    const [id, size, pack, offset, length] = ref;
    if (pack === undefined) return void referenced.add(id);
    let live = packs.get(pack);
    if (!live) packs.set(pack, (live = new Map()));
    live.set(offset ?? 0, [id, size, length ?? 0]);
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
      return result;
    }
  }
  const old = (modified: Date): boolean => now - modified.getTime() >= gc.safetyMargin;
  for await (const o of repo.listChunks()) {
    if (referenced.has(chunkIdOf(o.key)) || !old(o.modified)) continue;
    await repo.store.delete(o.key);
    result.removedChunks++;
  }
  // Packs retired by an earlier repack: deleted only once the retirement is older than the
  // margin too, so a restore that read a manifest before it was rewritten can still finish.
  const retired = new Map<string, Date>();
  for await (const o of repo.listRetired()) retired.set(chunkIdOf(o.key), o.modified);
  // Referenced packs with dead chunks: repacked, most dead first, until at most `maxUnused`
  // of the referenced packs' bytes is dead (or REPACK_MAX_BYTES were taken this run).
  const candidates: Array<{ pack: string; live: Live; size: number; dead: number }> = [];
  let total = 0;
  let dead = 0;
  for await (const o of repo.listPacks()) {
    const pack = chunkIdOf(o.key);
    const live = packs.get(pack);
    if (live) {
      let liveBytes = 0;
      for (const [, , length] of live.values()) liveBytes += length;
      const unused = o.size - liveBytes; // includes the table of contents, below REPACK_MIN_DEAD
      total += o.size;
      dead += unused;
      if (unused >= REPACK_MIN_DEAD && old(o.modified)) candidates.push({ pack, live, size: o.size, dead: unused });
      continue;
    }
    const since = retired.get(pack);
    if (!old(o.modified) || (since && !old(since))) continue;
    await repo.store.delete(o.key);
    if (since) await repo.store.delete(retiredKey(pack));
    retired.delete(pack);
    result.removedChunks++;
  }
  // Retirement marks of packs already gone.
  for (const [pack, since] of retired) if (old(since) && !packs.has(pack)) await repo.store.delete(retiredKey(pack));
  const repack: typeof candidates = [];
  let taken = 0;
  candidates.sort((a, b) => b.dead / b.size - a.dead / a.size);
  for (const c of candidates) {
    if (dead <= (gc.maxUnused ?? 1) * total || taken >= REPACK_MAX_BYTES) break;
    repack.push(c);
    taken += c.size;
    dead -= c.dead;
    total -= c.dead;
  }
  if (repack.length > 0) result.repackedPacks = await repackPacks(repo, keep, repack, gc.concurrency ?? 8);
  return result;
}

/**
 * Move the live chunks of mostly dead packs into new packs, then point every kept manifest
 * at them. Crash-safe in this order: the new packs are stored first (a crash leaves them
 * unreferenced, collected later); each old pack is marked retired before any manifest stops
 * naming it; each manifest is replaced whole (a PUT, or a rename locally), so it names the
 * old copy or the new one, both present. The old packs are deleted by a later run, once their
 * retirement is older than the safety margin.
 */
async function repackPacks(
  repo: Repository,
  keep: ReadonlySet<string>,
  repack: ReadonlyArray<{ pack: string; live: Live }>,
  concurrency: number,
): Promise<number> {
  // Pack buffers sized for the repository's biggest chunk, as the backup sizes them.
  const up = new Uploader(repo, concurrency, new Map(), chunkParams(repo.chunkSize).max);
  const moved = new Map<string, ChunkRef>(); // `${pack}@${offset}` → the chunk's new reference
  for (const { pack, live } of repack) {
    const offsets = [...live.keys()].sort((a, b) => a - b);
    const first = offsets[0] as number;
    const last = offsets[offsets.length - 1] as number;
    const end = last + (live.get(last) as [string, number, number])[2];
    const body = await repo.getPackRange(pack, first, end - first);
    for (const offset of offsets) {
      const [id, size, length] = live.get(offset) as [string, number, number];
      // A copy: the pack's body is dropped once its blobs are appended elsewhere.
      moved.set(`${pack}@${offset}`, await up.addSealed(id, size, Buffer.from(body.subarray(offset - first, offset - first + length))));
    }
  }
  await up.settle();
  await repo.store.flush?.();
  for (const { pack } of repack) await repo.store.put(retiredKey(pack), Buffer.alloc(0));
  const swap = (refs: ChunkRef[] | undefined): boolean => {
    let changed = false;
    for (const [i, ref] of (refs ?? []).entries()) {
      const to = ref[2] === undefined ? undefined : moved.get(`${ref[2]}@${ref[3] ?? 0}`);
      if (!to) continue;
      (refs as ChunkRef[])[i] = to;
      changed = true;
    }
    return changed;
  };
  for (const name of keep) {
    const m = await repo.readManifest(name);
    let changed = false;
    for (const e of m.entries) changed = swap(e.c) || changed;
    for (const s of m.sources) changed = swap(s.chunks) || changed;
    if (changed) await repo.writeManifest(m);
  }
  return repack.length;
}
