/**
 * Watching the lock key with blocking queries, and reading the value the primary wrote.
 *
 * Each request carries `index` and `wait` and a client-side timeout longer than the wait; the
 * index starts over at 0 when it goes backwards (Consul restarted or lost its data); errors
 * back off (capped at 2 s, so a returning Consul is noticed quickly) and never end the loop.
 */
import type { ConsulSessions, KeyState } from '../subsystem/capabilities.js';
import { nextDelay } from '../kernel/backoff.js';
import { delay } from '../kernel/backoff.js';

export interface KeyWatchOptions {
  consul: ConsulSessions;
  key: string;
  waitMs: number;
  signal: AbortSignal;
  /** Every answer: the key (undefined when absent) and the X-Consul-Index it was read at. */
  onState: (state: KeyState | undefined, index: number) => void;
  onError: (error: unknown) => void;
}

export async function watchKey(o: KeyWatchOptions): Promise<void> {
  let index = 0;
  let errors = 0;
  while (!o.signal.aborted) {
    try {
      const out = await o.consul.readKey(o.key, { index, waitMs: o.waitMs, signal: o.signal });
      errors = 0;
      index = out.index < index || out.index <= 0 ? 0 : out.index;
      o.onState(out.state, out.index);
    } catch (error) {
      if (o.signal.aborted) break;
      o.onError(error);
      index = 0;
      await delay(backoffMs(errors++), o.signal);
    }
  }
}

/** Retry delay: 250 ms doubling to at most 2 s, well inside a 10 s TTL. */
export function backoffMs(attempt: number): number {
  return nextDelay(attempt, { initial: 250, max: 2_000, factor: 2 }, 0);
}

function parse(value: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(value) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The `id` the holder wrote into the key. */
export function idOf(value: string): string | undefined {
  const id = parse(value)?.id;
  return typeof id === 'string' ? id : undefined;
}

/** host:port of the primary from the key's value (or the raw value if another tool wrote it). */
export function addressOf(value: string): string {
  const v = parse(value);
  if (!v || typeof v.address !== 'string') return value.slice(0, 200);
  return typeof v.port === 'number' ? `${v.address}:${v.port}` : v.address;
}
