/** Reading the process table from /proc, for PID-1 and process tests. */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  comm: string;
}

export function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { pid, comm: stat.slice(open + 1, close), state: rest[0] as string, ppid: Number(rest[1]), pgid: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

export function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = readProc(Number(e));
    if (p) out.push(p);
  }
  return out;
}

/** Every descendant of `root` (not including it). */
export function descendants(root: number): ProcInfo[] {
  const procs = allProcs();
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    for (const child of byParent.get(pid) ?? []) {
      out.push(child);
      stack.push(child.pid);
    }
  }
  return out;
}

export function childrenOf(pid: number): number[] {
  return allProcs()
    .filter((p) => p.ppid === pid)
    .map((p) => p.pid);
}

export function alive(pid: number): boolean {
  const p = readProc(pid);
  return p !== undefined && p.state !== 'Z';
}

/** The host pid of the process that has pid `nsPid` inside the PID namespace led by `root`. */
export function hostPid(root: number, nsPid: number): number | undefined {
  for (const p of [{ pid: root }, ...descendants(root)]) {
    try {
      const line = readFileSync(`/proc/${p.pid}/status`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('NSpid:'));
      const ids = line?.split(/\s+/).slice(1).map(Number) ?? [];
      if (ids[ids.length - 1] === nsPid) return p.pid;
    } catch {
      // gone
    }
  }
  return undefined;
}
