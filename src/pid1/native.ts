/**
 * The libc calls Node does not offer: a reaper's pass (waitid with WNOWAIT to see the next
 * zombie child without reaping it, waitpid(pid, WNOHANG) to reap it), and
 * prctl(PR_SET_CHILD_SUBREAPER). Through Pilotfish's own small addon (native.c, which the build
 * compiles into dist/native/pid1.node when there is a C compiler), else through koffi, which
 * ships prebuilt binaries for every platform: the addon costs a start under 0.5 MiB, koffi about
 * 7 MiB (bench/startup/README.md). Loaded lazily: a failure to load both degrades to a warning.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PilotfishError } from '../kernel/errors.js';

const P_ALL = 0;
const WNOHANG = 1;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
const PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37;
/** siginfo_t is 128 bytes on Linux; si_pid sits at offset 12 on 32-bit and 16 on 64-bit ABIs. */
const SIGINFO_SIZE = 128;
const SI_PID_OFFSET =
  process.arch === 'x64' || process.arch === 'arm64' || process.arch === 'ppc64' || process.arch === 's390x' || process.arch === 'riscv64' ? 16 : 12;

export interface Native {
  /**
   * Reap zombie children of ours (of any thread) one after another, in one call: each is seen
   * first without being reaped, and the pass stops at one whose pid is in `owned` (libuv's
   * children: libuv reaps them), when none is left, or when `out` is full. Each reaped child's pid and raw wait status go into `out` in
   * pairs. Returns how many were reaped, or ~count (negative) when it stopped at an owned zombie.
   */
  reapBatch(owned: Int32Array, out: Int32Array): number;
  setSubreaper(): boolean;
  isSubreaper(): boolean;
}

let native: Native | undefined;

/** The build's addon, beside the bundle (dist/native/pid1.node); none when running from source. */
export const ADDON = fileURLToPath(new URL('../native/pid1.node', import.meta.url));

const ADDON_FUNCTIONS = ['reapBatch', 'setSubreaper', 'isSubreaper'] as const;

function fromAddon(require: NodeJS.Require, file: string): Native | undefined {
  // An addon that does not load (another libc, another CPU) leaves koffi to do it.
  if (!existsSync(file)) return undefined;
  try {
    const addon = require(file) as Partial<Native>;
    if (!ADDON_FUNCTIONS.every((name) => typeof addon[name] === 'function')) return undefined;
    const { reapBatch, setSubreaper, isSubreaper } = addon as Native;
    return { reapBatch, setSubreaper, isSubreaper };
  } catch {
    return undefined;
  }
}

function fromKoffi(require: NodeJS.Require): Native {
  const koffi = require('koffi') as typeof import('koffi');
  const libc = koffi.load('libc.so.6');
  const waitid = libc.func('int waitid(int idtype, int id, int32_t *info, int options)');
  // The status goes straight into an Int32Array (an _Out_ array costs a conversion per call).
  const waitpid = libc.func('int waitpid(int pid, int *status, int options)');
  const prctl = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
  const prctlGet = libc.func('int prctl(int option, _Out_ int *value, unsigned long a3, unsigned long a4, unsigned long a5)');
  // Plain typed arrays: Buffer's checked readInt32LE/writeInt32LE cost about 1 µs a call here,
  // as much as the system call (bench/reaper).
  const info = new Int32Array(SIGINFO_SIZE / 4);
  const status = new Int32Array(1);
  return {
    // The loop of native.c, call for call.
    reapBatch(owned, out) {
      let count = 0;
      while (count * 2 + 1 < out.length) {
        info[SI_PID_OFFSET / 4] = 0; // WNOHANG with no zombie leaves si_pid as it was
        if ((waitid(P_ALL, 0, info, WEXITED | WNOHANG | WNOWAIT) as number) !== 0) break;
        const pid = info[SI_PID_OFFSET / 4] as number;
        if (pid <= 0) break;
        if (owned.includes(pid)) return ~count;
        if ((waitpid(pid, status, WNOHANG) as number) !== pid) break;
        out[count * 2] = pid;
        out[count * 2 + 1] = status[0] as number;
        count++;
      }
      return count;
    },
    setSubreaper: () => (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) as number) === 0,
    isSubreaper() {
      const value = [0];
      return (prctlGet(PR_GET_CHILD_SUBREAPER, value, 0, 0, 0) as number) === 0 && value[0] === 1;
    },
  };
}

/**
 * The native calls: the addon when it loads, else koffi. For tests: `koffi` skips the addon,
 * `addon` names another addon file; either way the result is not kept.
 */
export function loadNative(options: { koffi?: boolean; addon?: string } = {}): Native {
  const plain = !options.koffi && options.addon === undefined;
  if (native && plain) return native;
  const require = createRequire(import.meta.url);
  try {
    const loaded = (options.koffi ? undefined : fromAddon(require, options.addon ?? ADDON)) ?? fromKoffi(require);
    if (plain) native = loaded;
    return loaded;
  } catch (cause) {
    throw new PilotfishError(
      'PF_NATIVE_UNAVAILABLE',
      'cannot load the native helper (dist/native/pid1.node) nor libc through koffi; orphans will not be reaped',
      {
        cause,
      },
    );
  }
}

/** A raw wait status as the shell reports it: the exit code, or 128+n for a death by signal n. */
export function decodeStatus(status: number): { code: number; signal: number | null } {
  const signal = status & 0x7f;
  return signal === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: 128 + signal, signal };
}
