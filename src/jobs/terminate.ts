/**
 * Ending a process group: its stop signal, then SIGKILL once the grace period is over. Returns
 * as soon as the whole group is gone; it never sleeps out the full timeout.
 */
import { delay } from '../kernel/backoff.js';
import type { Exit, Proc } from './process.js';

const GROUP_POLL_MS = 20;

export async function terminate(proc: Proc, signal: NodeJS.Signals, graceMs: number): Promise<Exit> {
  const deadline = Date.now() + graceMs;
  proc.signalGroup(signal);
  if (signal !== 'SIGKILL') {
    const exited = await settleWithin(proc.exited, graceMs);
    if (!exited) proc.signalGroup('SIGKILL');
  }
  const exit = await proc.exited;
  // The leader is gone; give the rest of its group what is left of the grace period.
  while (proc.groupAlive() && Date.now() < deadline) await delay(GROUP_POLL_MS);
  if (proc.groupAlive()) proc.signalGroup('SIGKILL');
  return exit;
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
