/**
 * The repository layout, crash-safe by construction:
 *
 *   config                     created once: format version, chunk size, key check
 *   packs/<ab>/<rand>          every chunk, sealed one by one and concatenated into packs of
 *                              about 4 MiB: 10,000 small files are ~100 PUTs, not 10,000, and
 *                              a 1 GiB file ~250 objects to fetch, not ~1,000
 *   chunks/<ab>/<id>           a chunk stored on its own: what earlier versions wrote for the
 *                              chunks of big files; still read, deduplicated against and collected
 *   snapshots/<time>-<rand>    one manifest per snapshot, written last; names sort by time
 *   retired/<pack>             a pack whose live chunks a repack moved: deleted once this
 *                              mark is older than the GC safety margin
 *   lock.json                  the writer lease
 *
 * A snapshot exists only once its manifest does, and a manifest is only written after every
 * chunk it names has been stored, so a crash leaves only unreferenced chunks (collected later).
 */
import { randomBytes } from 'node:crypto';

export const FORMAT_VERSION = 1;
export const CONFIG_KEY = 'config';
export const LOCK_KEY = 'lock.json';
export const SNAPSHOT_PREFIX = 'snapshots/';
export const CHUNK_PREFIX = 'chunks/';

/**
 * A chunk reference: its id and its plaintext length; for a chunk stored in a pack (every
 * chunk written now), also the pack, and the sealed blob's offset and length in it.
 */
export type ChunkRef = [id: string, size: number] | [id: string, size: number, pack: string, offset: number, length: number];

export const PACK_PREFIX = 'packs/';

/** `retired/<pack>`: a pack whose chunks were moved by a repack; deleted once this is old. */
export const RETIRED_PREFIX = 'retired/';

export function retiredKey(pack: string): string {
  return `${RETIRED_PREFIX}${pack}`;
}

export function packKey(pack: string): string {
  return `${PACK_PREFIX}${pack.slice(0, 2)}/${pack}`;
}

/**
 * What a restore's stage is named by: `.<target>.pilotfish-restore-<8 hex>` beside the target,
 * `.pilotfish-restore-<8 hex>` inside a target that is a mount point (./restore-stage.ts).
 */
export const STAGE_MARK = '.pilotfish-restore-';

/** A stage made inside a mount point (its name at the root of the target). */
export function isInnerStage(name: string): boolean {
  return /^\.pilotfish-restore-[0-9a-f]{8}$/.test(name);
}

export interface FileEntry {
  /** Index into {@link Manifest.sources}. */
  s: number;
  /** Path relative to the source root, '/'-separated; '' is the root itself. */
  p: string;
  /** f: file, d: directory, l: symlink. */
  t: 'f' | 'd' | 'l';
  m: number;
  u: number;
  g: number;
  /** mtime in ms (as Node's mtimeMs). */
  mt: number;
  /** The mtime's nanoseconds within its second (mtime.ts); missing in manifests before 2026-12-04. */
  mn?: number;
  sz?: number;
  c?: ChunkRef[];
  /** Symlink target. */
  l?: string;
  /** ctime and inode: change detection for the next backup only. */
  ct?: number;
  i?: number;
}

export interface SourceRecord {
  name: string;
  kind: 'dir' | 'stream';
  /** The path it was backed up from (directories). */
  path?: string;
  /** Stream sources: the chunks of the command's output, in order. */
  chunks?: ChunkRef[];
  size?: number;
}

export interface SnapshotStats {
  files: number;
  dirs: number;
  bytes: number;
  chunks: number;
  newChunks: number;
  reusedChunks: number;
  uploadedBytes: number;
  durationMs: number;
}

export interface Manifest {
  version: number;
  name: string;
  time: string;
  host: string;
  reason: string;
  sources: SourceRecord[];
  entries: FileEntry[];
  stats: SnapshotStats;
}

export interface RepoConfig {
  version: number;
  avgChunk: number;
  encrypted: boolean;
  /** HMAC of a constant under the chunk-id key: tells a wrong key apart from corruption. */
  keyCheck?: string;
}

export function chunkKey(id: string): string {
  return `${CHUNK_PREFIX}${id.slice(0, 2)}/${id}`;
}

export function chunkIdOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** `snapshots/20261123T230134.123Z-1a2b3c4d`: lexical order is time order. */
export function newSnapshotName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '');
  return `${SNAPSHOT_PREFIX}${stamp}-${randomBytes(4).toString('hex')}`;
}

export function snapshotTime(name: string): Date | undefined {
  const m = /(\d{8}T\d{6}\.\d{3}Z)/.exec(name);
  if (!m?.[1]) return undefined;
  const s = m[1];
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13)}`;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The short id users type: the manifest name without its prefix. */
export function shortName(name: string): string {
  return name.startsWith(SNAPSHOT_PREFIX) ? name.slice(SNAPSHOT_PREFIX.length) : name;
}
