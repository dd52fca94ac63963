/**
 * Modification times to the nanosecond, both ways. A manifest entry keeps `mt`, the mtime in
 * milliseconds as Node's `mtimeMs` computes it (what change detection compares), and `mn`, its
 * nanoseconds within the second, which a double in milliseconds cannot hold (at today's dates
 * its step is about 240 ns).
 *
 * Restoring cannot go through Node's utimes family: it takes seconds as a double (the same
 * 240 ns step), and Node 20's libuv then cuts them to whole microseconds, one short when the
 * double fell just below. So the times are set with libc's futimens/utimensat (./libc.ts, in
 * each restore worker too). Where those cannot load, Node's calls are used at Node's precision.
 */
import { futimesSync, lutimesSync, utimesSync, type BigIntStats } from 'node:fs';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, errnoError, libc } from './libc.js';

/** An entry's times as a manifest holds them; `mn` is missing in manifests of earlier versions. */
export interface EntryTime {
  mt: number;
  mn?: number | undefined;
}

const NS = 1_000_000_000n;

/** `mt` and `mn` of a bigint stat: `mt` is exactly what a plain stat's `mtimeMs` would be. */
export function entryTimeOf(st: BigIntStats): { mt: number; mn: number } {
  let sec = st.mtimeNs / NS;
  let mn = Number(st.mtimeNs % NS);
  if (mn < 0) {
    // before 1970: bigint division truncates toward zero, a timespec's nanoseconds are positive
    mn += 1e9;
    sec -= 1n;
  }
  return { mt: Number(sec) * 1000 + mn / 1e6, mn };
}

/** Whole seconds and nanoseconds of an entry's mtime (to the nearest microsecond without `mn`). */
export function timespecOf(e: EntryTime): { sec: number; nsec: number } {
  if (e.mn !== undefined) return { sec: Math.round((e.mt - e.mn / 1e6) / 1000), nsec: e.mn };
  const us = Math.round(e.mt * 1000);
  const sec = Math.floor(us / 1e6);
  return { sec, nsec: (us - sec * 1e6) * 1000 };
}

/** Two struct timespec (atime, mtime), both the entry's mtime: 64-bit fields on 64-bit Linux. */
const times = Buffer.alloc(32);

/**
 * Set the atime and mtime of `target` (an open descriptor, or a path; a symlink itself with
 * `noFollow`) to the entry's mtime, to the nanosecond. Synchronous: one system call.
 */
export function setTimesSync(target: number | string, e: EntryTime, noFollow = false): void {
  const { sec, nsec } = timespecOf(e);
  const c = libc();
  if (c) {
    times.writeBigInt64LE(BigInt(sec), 0);
    times.writeBigInt64LE(BigInt(nsec), 8);
    times.writeBigInt64LE(BigInt(sec), 16);
    times.writeBigInt64LE(BigInt(nsec), 24);
    const rc = typeof target === 'number' ? c.futimens(target, times) : c.utimensat(AT_FDCWD, target, times, noFollow ? AT_SYMLINK_NOFOLLOW : 0);
    if (rc === 0) return;
    throw errnoError(`cannot set the times of ${typeof target === 'number' ? `descriptor ${target}` : target}`, c.errno());
  }
  const s = sec + nsec / 1e9; // Node's own precision
  if (typeof target === 'number') futimesSync(target, s, s);
  else if (noFollow) lutimesSync(target, s, s);
  else utimesSync(target, s, s);
}
