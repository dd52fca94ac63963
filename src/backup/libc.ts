/**
 * The libc calls the restore needs and Node does not offer: futimens/utimensat (times to the
 * nanosecond, ./mtime.ts) and renameat2 with RENAME_EXCHANGE (an atomic swap of the stage and
 * the target, ./restore-stage.ts). Bound through koffi, which ships prebuilt binaries, on first
 * use (in each restore worker too); null where it cannot load or on a 32-bit system (whose
 * timespec differs): the callers then use Node's calls.
 */
import { createRequire } from 'node:module';

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
const RENAME_EXCHANGE = 2;

export interface Libc {
  /** `times`: two struct timespec of 64-bit fields (atime, mtime). */
  futimens(fd: number, times: Buffer): number;
  utimensat(dirfd: number, path: string, times: Buffer, flags: number): number;
  /** Swap two paths atomically (both must exist); -1 with errno set on failure. */
  exchange(a: string, b: string): number;
  errno(): number;
}

let bound: Libc | null | undefined;

export function libc(): Libc | null {
  if (bound !== undefined) return bound;
  bound = null;
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return bound;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    const futimens = lib.func('int futimens(int fd, const uint8_t *times)');
    const utimensat = lib.func('int utimensat(int dirfd, const char *path, const uint8_t *times, int flags)');
    const renameat2 = lib.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)');
    bound = {
      futimens: (fd, times) => futimens(fd, times) as number,
      utimensat: (dirfd, path, times, flags) => utimensat(dirfd, path, times, flags) as number,
      exchange: (a, b) => renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) as number,
      errno: () => koffi.errno(),
    };
  } catch {
    bound = null;
  }
  return bound;
}

/** An Error like Node's for a failed call: `code` from errno, for the common ones. */
export function errnoError(what: string, errno: number): NodeJS.ErrnoException {
  const code = (
    {
      1: 'EPERM',
      2: 'ENOENT',
      9: 'EBADF',
      13: 'EACCES',
      16: 'EBUSY',
      18: 'EXDEV',
      22: 'EINVAL',
      28: 'ENOSPC',
      30: 'EROFS',
      38: 'ENOSYS',
      95: 'EOPNOTSUPP',
    } as Record<number, string>
  )[errno];
  return Object.assign(new Error(`${what}: ${code ?? `errno ${errno}`}`), { errno, code });
}
