/**
 * Who holds the writer lease, as a process: enough to tell, on the same machine, that the holder
 * is dead. A writer killed with -9 never releases its lease; without this the next backup on the
 * same host waited out the whole TTL, refused with a message naming a pid that no longer ran.
 *
 * A holder is known dead only when all of these hold, read from /proc:
 *   - same kernel boot (boot_id) and same PID namespace as us, so its pid means the same process
 *     (containers with one hostname on different machines, or in different PID namespaces of
 *     one machine, never qualify);
 *   - and its pid is gone, or runs a process that started at another time (a reused pid).
 * Anything unreadable counts as alive: then the TTL decides, as before.
 */
import { readFileSync, readlinkSync } from 'node:fs';

/** The holder's process, as written into the lease body. */
export interface HolderProcess {
  /** /proc/sys/kernel/random/boot_id */
  boot: string;
  /** The PID namespace, as /proc/self/ns/pid names it (`pid:[4026531836]`). */
  pidns: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks from boot to the process's start. */
  start: string;
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** The start time of `pid` (ticks since boot), or undefined when no such process exists; throws when /proc cannot tell. */
function startOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw error;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19]; // field 22 of the whole line
  if (start === undefined) throw new Error(`unexpected /proc/${pid}/stat`);
  return start;
}

let self: HolderProcess | null | undefined;

/** This process, or undefined where /proc does not say (then holders are never judged dead). */
export function selfProcess(): HolderProcess | undefined {
  if (self === undefined) {
    try {
      const boot = bootId();
      const pidns = pidNamespace();
      const start = startOf(process.pid);
      self = boot && pidns && start ? { boot, pidns, pid: process.pid, start } : null;
    } catch {
      self = null;
    }
  }
  return self ?? undefined;
}

/** True only when `holder` (a lease body's `proc`) is surely a dead process of this machine and PID namespace. */
export function isDeadLocal(holder: unknown): boolean {
  const me = selfProcess();
  if (!me || !isHolderProcess(holder)) return false;
  if (holder.boot !== me.boot || holder.pidns !== me.pidns) return false;
  if (holder.pid === me.pid) return holder.start !== me.start;
  try {
    const start = startOf(holder.pid);
    return start === undefined || start !== holder.start;
  } catch {
    return false;
  }
}

function isHolderProcess(v: unknown): v is HolderProcess {
  const p = v as HolderProcess | undefined;
  return (
    typeof p === 'object' && p !== null && typeof p.boot === 'string' && typeof p.pidns === 'string' && typeof p.pid === 'number' && typeof p.start === 'string'
  );
}
