/**
 * Walking a directory source on the way in: every directory, file and symlink under it as
 * manifest entries, parents before children, excluded paths skipped. A file that did not change
 * since the previous snapshot comes back as that snapshot's own entry, chunk list included, so
 * it is never read again.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PilotfishError } from '../kernel/errors.js';
import type { DirSource } from './config.js';
import { isInnerStage, type FileEntry } from './format.js';
import { entryTimeOf } from './mtime.js';

/**
 * Every directory, file and symlink under a source, parents before children. A file whose
 * size, mtime, ctime and inode match its entry in `previous` is that entry itself (its source
 * index updated): nothing else about it can have changed without changing its ctime, and an
 * unchanged re-run of a big tree then holds one set of entries, not two. lstat runs
 * synchronously, one directory at a time with a yield between directories: ~5 µs a file
 * instead of a thread-pool round trip each, and the event loop is never held for long.
 */
export async function walk(source: DirSource, index: number, previous?: ReadonlyMap<string, FileEntry>): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const excluded = (rel: string): boolean => source.exclude.some((x) => (x.endsWith('/') ? `${rel}/`.startsWith(x) : rel === x));
  let root;
  try {
    root = await lstat(source.path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw new PilotfishError('PF_BACKUP_SOURCE', `cannot read backup source ${source.path}: ${(cause as Error).message}`, { cause });
  }
  if (!root.isDirectory()) throw new PilotfishError('PF_BACKUP_SOURCE', `backup source ${source.path} is not a directory`);
  out.push(withNs(entryOf(index, '', root), source.path));
  const pending = [''];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let names: string[];
    try {
      names = await readdir(join(source.path, dir));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const name of names) {
      const rel = dir ? `${dir}/${name}` : name;
      if (excluded(rel) || (dir === '' && isInnerStage(name))) continue; // a restore's stage inside a mount point
      const full = join(source.path, rel);
      const st = lstatSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        out.push(withNs(entryOf(index, rel, st), full));
        pending.push(rel);
      } else if (st.isFile()) {
        const old = previous?.get(rel);
        if (old && old.t === 'f' && old.c && old.sz === st.size && old.mt === st.mtimeMs && old.ct === st.ctimeMs && old.i === st.ino) {
          old.s = index;
          out.push(old);
          continue;
        }
        const e = entryOf(index, rel, st);
        e.sz = st.size;
        e.ct = st.ctimeMs;
        e.i = st.ino;
        out.push(e);
      } else if (st.isSymbolicLink()) {
        const e = withNs(entryOf(index, rel, st), full);
        try {
          e.l = readlinkSync(full);
        } catch {
          continue; // removed while we ran
        }
        out.push(e);
      }
      // sockets, fifos and devices are skipped: they are not state
    }
  }
  out.sort((a, b) => (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
  return out;
}

/**
 * A directory's or symlink's mtime to the nanosecond (./mtime.ts): a second, bigint lstat, for
 * these only. A file's nanoseconds come from the stat its read makes (./read-file.ts), so an
 * unchanged file costs no more than before.
 */
function withNs(e: FileEntry, full: string): FileEntry {
  const st = lstatSync(full, { bigint: true, throwIfNoEntry: false });
  if (st) Object.assign(e, entryTimeOf(st));
  return e;
}

function entryOf(
  s: number,
  p: string,
  st: { mode: number; uid: number; gid: number; mtimeMs: number; isDirectory(): boolean; isSymbolicLink(): boolean },
): FileEntry {
  // Every optional field exists from the start (undefined is dropped by JSON): one hidden class for all entries.
  return {
    s,
    p,
    t: st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f',
    m: st.mode & 0o7777,
    u: st.uid,
    g: st.gid,
    mt: st.mtimeMs,
    mn: undefined,
    sz: undefined,
    c: undefined,
    l: undefined,
    ct: undefined,
    i: undefined,
  } as unknown as FileEntry;
}
