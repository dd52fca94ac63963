/**
 * Ending a process group: its stop signal, then SIGKILL once the grace period is over. Returns
 * as soon as the whole group is gone; it never sleeps out the full timeout. The same rule holds
 * for what a process leaves in its group when it exits on its own (`sh -c 'daemon & exit 0'`):
 * the stop signal, the grace, SIGKILL (process.ts calls `endGroup` before a run counts as over).
 */
import { delay } from '../kernel/backoff.js';
import type { Exit, Proc } from './child.js';

const GROUP_POLL_MS = 20;
/** After SIGKILL, how long to wait for the group's last members to be reaped. */
const REAP_WAIT_MS = 2_000;

/** A process group, by its leader's pid. */
export interface Group {
  /** Signal every member; false if there is none left. */
  signal(signal: NodeJS.Signals | 0): boolean;
  alive(): boolean;
}

export async function terminate(proc: Proc, signal: NodeJS.Signals, graceMs: number): Promise<Exit> {
  proc.stopping(signal, Date.now() + graceMs);
  proc.signalGroup(signal);
  if (signal !== 'SIGKILL') {
    const exited = await settleWithin(proc.exited, graceMs);
    if (!exited) proc.signalGroup('SIGKILL');
  }
  return proc.exited;
}

/**
 * The leader is gone: end the rest of its group. A group a stop has already signalled keeps
 * that stop's deadline; otherwise (`fresh`) it gets `signal` now and `deadline` is its grace.
 */
export async function endGroup(group: Group, stop: { signal: NodeJS.Signals; deadline: number; fresh?: boolean }): Promise<void> {
  if (!group.alive()) return;
  if (stop.fresh) group.signal(stop.signal);
  while (group.alive() && Date.now() < stop.deadline) await delay(GROUP_POLL_MS);
  if (!group.alive()) return;
  group.signal('SIGKILL');
  // Killed members are reaped by whoever is their parent now (us, as PID 1 or subreaper).
  const reaped = Date.now() + REAP_WAIT_MS;
  while (group.alive() && Date.now() < reaped) await delay(GROUP_POLL_MS);
}

async function settleWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([p.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}
