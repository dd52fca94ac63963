/**
 * The two libc calls Node does not offer: waitpid(pid, WNOHANG) for one given pid, and
 * prctl(PR_SET_CHILD_SUBREAPER). Bound through koffi, which ships prebuilt binaries, so
 * `npm ci` needs no compiler. Loaded lazily: a failure to load degrades to a warning.
 */
import { createRequire } from 'node:module';
import { PilotfishError } from '../kernel/errors.js';

const WNOHANG = 1;
const PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37;
const ECHILD = 10;

export interface Native {
  /** Reap `pid` if it is a zombie child of ours. Returns true when it was reaped. */
  reap(pid: number): boolean;
  setSubreaper(): boolean;
  isSubreaper(): boolean;
}

let native: Native | undefined;

export function loadNative(): Native {
  if (native) return native;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    const waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
    const prctl = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
    const prctlGet = libc.func('int prctl(int option, _Out_ int *value, unsigned long a3, unsigned long a4, unsigned long a5)');
    native = {
      reap(pid) {
        const status = [0];
        const r = waitpid(pid, status, WNOHANG) as number;
        if (r === -1 && koffi.errno() !== ECHILD) return false;
        return r === pid;
      },
      setSubreaper: () => (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) as number) === 0,
      isSubreaper() {
        const value = [0];
        return (prctlGet(PR_GET_CHILD_SUBREAPER, value, 0, 0, 0) as number) === 0 && value[0] === 1;
      },
    };
    return native;
  } catch (cause) {
    throw new PilotfishError('PF_NATIVE_UNAVAILABLE', 'cannot load libc through koffi; orphans will not be reaped', {
      cause,
    });
  }
}
