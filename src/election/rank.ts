/**
 * Ranked candidacy (`election.rank`): the most advanced instance takes the lock.
 *
 * Each instance that may run for primary (eligible, not primary, not holding off after a
 * step-down) keeps an entry `<key>/candidates/<id>` = `{"id", "rank", ...}`, acquired with its own
 * session (behavior `delete`, the election's TTL and checks, no lock-delay): the entry vanishes
 * when the instance dies, turns unhealthy or loses Consul, and the primary withdraws its own.
 *
 * - While the key is held, an entry only says "I am a candidate"; it is written once.
 * - When the key becomes free (at Consul index F: the key's ModifyIndex, or the index of the
 *   read that found it absent), every candidate measures its rank and publishes it again, and
 *   again every `interval` while the key stays free. An entry with ModifyIndex > F is fresh.
 * - An instance runs for primary only when its own entry is fresh and every other live entry
 *   is fresh and ranks lower (ties: the smaller id wins). A higher-ranked or stale entry holds
 *   it back for at most `maxWait` after F was seen: a candidate that is alive but cannot take
 *   the key (its gate fails, its rank command hangs) must not leave the cluster without a
 *   primary.
 * - A candidate whose rank command fails withdraws its entry, so nobody waits for it.
 *
 * Ranks are compared only while the key is free: the old primary is fenced by then (it
 * demotes before Consul can free the key), so the ranks measured after F no longer move.
 */
import { sessionGone, type ConsulSessions, type SessionSpec } from '../subsystem/capabilities.js';
import { delay } from '../kernel/backoff.js';
import { errorMessage } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { RankConfig } from './config.js';
import { measureRank } from './gate.js';
import { backoffMs } from './keywatch.js';

export interface CandidateEntry {
  id: string;
  rank: number;
  modifyIndex: number;
}

export interface Verdict {
  go: boolean;
  reason: string;
}

/**
 * May `self` run for primary now? `entries` are the live candidates (with a session), `freeIndex`
 * the Consul index at which the key was seen free, `waitedMs` how long ago that was.
 */
export function rankVerdict(o: { self: string; entries: CandidateEntry[]; freeIndex: number; waitedMs: number; maxWaitMs: number }): Verdict {
  const mine = o.entries.find((e) => e.id === o.self);
  if (!mine || mine.modifyIndex <= o.freeIndex) return { go: false, reason: "publishing this instance's rank" };
  if (o.waitedMs >= o.maxWaitMs) return { go: true, reason: `the key has been free for ${Math.round(o.waitedMs)}ms: ranks no longer hold this instance back` };
  for (const e of o.entries) {
    if (e.id === o.self) continue;
    if (e.rank > mine.rank || (e.rank === mine.rank && e.id < o.self)) return { go: false, reason: `${e.id} ranks higher (${e.rank} vs ${mine.rank})` };
  }
  const stale = o.entries.find((e) => e.id !== o.self && e.modifyIndex <= o.freeIndex);
  if (stale) return { go: false, reason: `waiting for ${stale.id} to publish a fresh rank` };
  return { go: true, reason: `the highest rank (${mine.rank})` };
}

/** What the elector says about this instance right now. */
export interface CandidacyState {
  /** Eligible, not primary, not holding off: it should have an entry. */
  active: boolean;
  /** The index at which the key was seen free; undefined while it is held (or unknown). */
  freeIndex: number | undefined;
}

export interface CandidacyDeps {
  config: RankConfig;
  consul: ConsulSessions;
  log: Logger;
  /** The lock key; entries live under `<key>/candidates/`. */
  key: string;
  id: string;
  /** The election's session spec: its TTL and checks are reused. */
  session: SessionSpec;
  requestTimeout: number;
  /** The wait of each blocking query on the candidates (election.watchWait). */
  watchWait: number;
  state: () => CandidacyState;
  env: () => Record<string, string>;
  /** The entries changed (or this instance published): re-evaluate. */
  onChange: () => void;
}

export class Candidacy {
  readonly prefix: string;
  readonly #entryKey: string;
  #session: string | undefined;
  #present = false;
  #publishedFor: number | undefined;
  #publishedAt = -Infinity;
  #rank: number | undefined;
  #entries: CandidateEntry[] = [];
  #entriesIndex = 0;
  #known = false;
  #failures = 0;
  #writes = 0;
  #lastError = '';
  #stopping = false;
  #woken = false;
  #wake: (() => void) | undefined;
  #loopDone: Promise<void> = Promise.resolve();
  readonly #abort = new AbortController();

  constructor(private readonly d: CandidacyDeps) {
    this.prefix = `${d.key.replace(/\/+$/, '')}/candidates/`;
    this.#entryKey = `${this.prefix}${d.id.replace(/\//g, '_')}`;
  }

  /** The live entries as last seen, or undefined while Consul does not answer. */
  get entries(): CandidateEntry[] | undefined {
    return this.#known ? this.#entries : undefined;
  }

  verdict(freeIndex: number, waitedMs: number): Verdict {
    if (!this.#known) return { go: false, reason: 'the candidates are unknown (Consul does not answer)' };
    return rankVerdict({ self: this.d.id, entries: this.#entries, freeIndex, waitedMs, maxWaitMs: this.d.config.maxWait });
  }

  status(): Record<string, unknown> {
    return { rank: this.#rank ?? null, published: this.#present, candidates: this.#known ? this.#entries.map((e) => ({ id: e.id, rank: e.rank })) : null };
  }

  start(): void {
    void this.#watch();
    this.#loopDone = this.#loop();
    void this.#renewLoop();
  }

  /** Re-evaluate now (the key became free, the role changed). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Withdraw the entry (destroy the session: its entry is deleted) and end every loop. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    this.wake();
    await this.#loopDone; // at most one rank command's timeout
    await this.#withdraw('Pilotfish is stopping');
  }

  async #loop(): Promise<void> {
    const { config } = this.d;
    while (!this.#stopping) {
      let wait = config.interval;
      try {
        const s = this.d.state();
        if (!s.active) {
          if (this.#present || this.#session) await this.#withdraw('not a candidate now');
        } else if (s.freeIndex !== undefined) {
          if (this.#publishedFor !== s.freeIndex || performance.now() - this.#publishedAt >= config.interval) await this.#publish(s.freeIndex);
        } else if (!this.#present) {
          await this.#publish(undefined);
        }
        if (!this.#present && s.active) wait = Math.min(config.interval, backoffMs(this.#failures));
      } catch (error) {
        this.#report(`candidacy: ${errorMessage(error)}`);
        wait = backoffMs(this.#failures++);
      }
      if (!this.#woken && !this.#stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          timer.unref();
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      this.#wake = undefined;
      this.#woken = false;
    }
  }

  async #publish(freeIndex: number | undefined): Promise<void> {
    const { consul, log, requestTimeout } = this.d;
    const measured = await measureRank(this.d.config, this.d.env(), log);
    if ('error' in measured) {
      this.#report(`the rank command failed; withdrawing from the race: ${measured.error}`);
      if (this.#present) await this.#withdraw('the rank command failed');
      return;
    }
    if (!this.d.state().active || this.#stopping) return;
    if (!this.#session) {
      this.#session = await consul.createSession(
        { ...this.d.session, name: `${this.d.session.name} candidate`, behavior: 'delete', lockDelayMs: 0 },
        requestTimeout,
      );
    }
    const session = this.#session;
    try {
      // `n` changes the value on every write: Consul keeps the ModifyIndex of an identical re-acquire.
      const value = JSON.stringify({ id: this.d.id, rank: measured.rank, vacancy: freeIndex ?? null, n: ++this.#writes });
      const won = await consul.acquire(this.#entryKey, session, value, requestTimeout);
      if (!won) throw new Error(`Consul refused ${this.#entryKey} to session ${session}`);
    } catch (error) {
      if (sessionGone(error) && this.#session === session) this.#session = undefined;
      throw error;
    }
    if (this.#rank !== measured.rank || !this.#present) log.info({ rank: measured.rank, freeIndex }, `candidate with rank ${measured.rank}`);
    this.#rank = measured.rank;
    this.#present = true;
    this.#publishedFor = freeIndex;
    this.#publishedAt = performance.now();
    this.#failures = 0;
    this.#lastError = '';
    this.d.onChange();
  }

  /** Destroying the session deletes the entry (behavior delete); delete it too in case it lingers. */
  async #withdraw(why: string): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    const had = this.#present;
    this.#present = false;
    this.#publishedFor = undefined;
    if (!session) return;
    const timeout = Math.min(3_000, this.d.requestTimeout);
    await this.d.consul.destroySession(session, timeout).catch(() => undefined);
    await this.d.consul.deleteKey(this.#entryKey, timeout).catch(() => undefined);
    if (had) this.d.log.debug({ why }, `withdrew the candidate entry: ${why}`);
  }

  async #renewLoop(): Promise<void> {
    const ttl = this.d.session.ttlMs;
    while (!this.#stopping) {
      await delay(ttl / 2, this.#abort.signal);
      const id = this.#session;
      if (this.#stopping || !id) continue;
      try {
        await this.d.consul.renewSession(id, Math.min(this.d.requestTimeout, ttl / 4));
      } catch (error) {
        if (this.#stopping) break;
        if (sessionGone(error) && this.#session === id) {
          // Invalidated (a check, Consul lost its state): the entry is gone; publish again.
          this.#session = undefined;
          this.#present = false;
          this.#publishedFor = undefined;
          this.wake();
        }
      }
    }
  }

  async #watch(): Promise<void> {
    let errors = 0;
    while (!this.#stopping) {
      try {
        const out = await this.d.consul.readPrefix(this.prefix, { index: this.#entriesIndex, waitMs: this.d.watchWait, signal: this.#abort.signal });
        errors = 0;
        this.#entriesIndex = out.index < this.#entriesIndex || out.index <= 0 ? 0 : out.index;
        this.#entries = out.entries.flatMap((e) => {
          if (!e.session) return [];
          const v = parseEntry(e.value);
          return v ? [{ ...v, modifyIndex: e.modifyIndex }] : [];
        });
        this.#known = true;
        this.d.onChange();
      } catch (error) {
        if (this.#stopping) break;
        this.#known = false;
        this.#entriesIndex = 0;
        await delay(backoffMs(errors++), this.#abort.signal);
      }
    }
  }

  #report(message: string): void {
    if (message !== this.#lastError) this.d.log.warn({}, message);
    this.#lastError = message;
  }
}

function parseEntry(value: string): { id: string; rank: number } | undefined {
  try {
    const v = JSON.parse(value) as { id?: unknown; rank?: unknown };
    return typeof v.id === 'string' && typeof v.rank === 'number' && Number.isFinite(v.rank) ? { id: v.id, rank: v.rank } : undefined;
  } catch {
    return undefined;
  }
}
