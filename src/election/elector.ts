/**
 * The election state machine: one Consul session, one lock key, one role.
 *
 *   session (TTL, lock-delay, checks) → acquire the key with our address → primary
 *   renew every ttl/2, after the health gate; watch the key with blocking queries
 *   renewal failed / session gone / key held by another session → demote at once
 *
 * One serial queue runs every decision, so a demotion never interleaves with an acquisition.
 * The role is a belief with an expiry: primary only while the last good renewal (timed from its
 * request, monotonic) is younger than the TTL, so a blocked event loop cannot keep it primary.
 */
import { ELECTION_SOURCE } from './config.js';
import { sessionGone, type KeyState } from '../subsystem/capabilities.js';
import { AbandonedSessions } from './abandoned.js';
import { runCandidateGate } from './gate.js';
import { Candidacy } from './rank.js';
import { delay } from '../kernel/backoff.js';
import { addressOf, backoffMs, idOf, watchKey } from './keywatch.js';
import { errorMessage } from '../kernel/errors.js';
import type { ElectorDeps, Role } from './deps.js';

const now = (): number => performance.now();

export class Elector {
  #role: Role = 'replica';
  #session: string | undefined;
  #lastRenewAt = -Infinity;
  #lockIndex = 0;
  /** ModifyIndex of our acquisition: older views of the key are stale for a primary. */
  #acquiredIndex = 0;
  #holder: KeyState | undefined;
  #holderKnown = false;
  #primaryAddr = '';
  #lastPrimaryId: string | undefined;
  #keyVanishedAt = 0;
  #holdUntil = 0;
  #gatePassedAt = -Infinity;
  /** With election.rank: this instance's entry among the candidates. */
  readonly #candidacy: Candidacy | undefined;
  /** The Consul index at which the key was seen free, and when (undefined while it is held). */
  #freeIndex: number | undefined;
  #freeSince = 0;
  #rankReason = '';
  #fencing = false;
  #started = false;
  #stopping = false;
  #failures = 0;
  #elections = 0;
  #demotions = 0;
  /** Sessions given up while Consul did not answer (./abandoned.ts). */
  readonly #abandoned: AbandonedSessions;
  #chain: Promise<void> = Promise.resolve();
  #stepQueued = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #abort = new AbortController();
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(private readonly d: ElectorDeps) {
    this.#abandoned = new AbandonedSessions(d.consul, d.key, d.log, Math.min(2_000, d.requestTimeout));
    const rank = d.config.rank;
    this.#candidacy = rank
      ? new Candidacy({
          config: rank,
          consul: d.consul,
          log: d.log,
          key: d.key,
          id: d.identity.id,
          session: d.session,
          requestTimeout: d.requestTimeout,
          watchWait: d.config.watchWait,
          state: () => ({
            active: this.#started && !this.#stopping && this.#role !== 'primary' && now() >= this.#holdUntil && this.d.eligible(),
            freeIndex: this.#freeIndex,
          }),
          env: d.gateEnv,
          onChange: () => this.kick(),
        })
      : undefined;
  }

  get role(): Role {
    return this.#role;
  }

  /** Primary only while the last good renewal is younger than the TTL. */
  isPrimary(): boolean {
    return this.#role === 'primary' && now() - this.#lastRenewAt < this.d.config.ttl;
  }

  env(): Record<string, string> {
    const primary = this.isPrimary();
    const token = primary ? this.#lockIndex : this.#holder?.session ? this.#holder.lockIndex : undefined;
    return {
      PILOTFISH_ROLE: primary ? 'primary' : 'replica',
      PILOTFISH_PRIMARY_ADDR: this.#primaryAddr,
      PILOTFISH_FENCING_TOKEN: token !== undefined ? String(token) : '',
    };
  }

  status(): Record<string, unknown> {
    return {
      role: this.isPrimary() ? 'primary' : 'replica',
      key: this.d.key,
      session: this.#session ?? null,
      lockIndex: this.#role === 'primary' ? this.#lockIndex : null,
      primary: this.#primaryAddr || null,
      lastRenewalAgeMs: Number.isFinite(this.#lastRenewAt) ? Math.round(now() - this.#lastRenewAt) : null,
      ttlMs: this.d.config.ttl,
      elections: this.#elections,
      demotions: this.#demotions,
      ...(this.#candidacy ? { candidacy: this.#candidacy.status() } : {}),
    };
  }

  /** Start watching the key and renewing; campaigning waits for {@link begin}. */
  start(): void {
    void watchKey({
      consul: this.d.consul,
      key: this.d.key,
      waitMs: this.d.config.watchWait,
      signal: this.#abort.signal,
      onState: (state, index) => this.#onKey(state, index),
      onError: (error) => {
        if (this.#holderKnown) this.d.log.warn({ err: errorMessage(error) }, `lost sight of ${this.d.key}: ${errorMessage(error)}`);
        this.#holderKnown = false;
      },
    });
    void this.#renewLoop();
    this.#candidacy?.start();
    // A renewal is due every ttl/2 and times out after ttl/4, so a healthy primary's renewal is
    // never older than 0.75×ttl: the fence sits above that, whatever the watchdog margin.
    const { ttl } = this.d.config;
    const fenceAt = ttl - Math.min(this.d.config.watchdog.margin, ttl / 5);
    const fence = setInterval(() => {
      if (this.#role !== 'primary') return;
      const age = now() - this.#lastRenewAt;
      if (age > fenceAt && !this.#fencing) {
        this.#fencing = true;
        void this.#serial(() => this.#lose(`no successful session renewal for ${Math.round(age)}ms`))
          .catch(() => undefined) // logged by #serial
          .finally(() => (this.#fencing = false));
      }
    }, 250);
    fence.unref();
    this.#timers.push(fence);
  }

  /** Pilotfish has started (jobs are attached): from now on this instance may run for primary. */
  begin(): void {
    this.#started = true;
    this.kick();
  }

  /** Re-evaluate soon (health changed, the key changed, a retry is due). */
  kick(): void {
    if (this.#stepQueued || this.#stopping) return;
    this.#candidacy?.wake();
    this.#stepQueued = true;
    void this.#serial(async () => {
      this.#stepQueued = false;
      await this.#step();
    }).catch(() => undefined); // logged by #serial
  }

  /** Give up the role now (the stall watchdog, a failed health gate). */
  lose(reason: string): Promise<void> {
    return this.#serial(() => this.#lose(reason)).catch(() => undefined); // logged by #serial
  }

  /**
   * Planned step-down: demote, release the key (no lock-delay applies to a release), destroy
   * the session, and stay out of the race for `holdMs` so another instance takes over.
   */
  stepDown(reason: string, holdMs: number): Promise<boolean> {
    return this.#serial(async () => {
      const was = this.#role === 'primary';
      await this.#stepDown(reason, holdMs);
      return was;
    });
  }

  /** Pilotfish is stopping: step down (before any job is stopped) and end every loop. */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    if (this.#retry) clearTimeout(this.#retry);
    await this.#serial(() => this.#stepDown('Pilotfish is stopping', 0));
    await this.#candidacy?.stop();
  }

  stop(): void {
    this.#stopping = true;
    this.#abort.abort();
    if (this.#retry) clearTimeout(this.#retry);
    for (const t of this.#timers) clearInterval(t);
    void this.#candidacy?.stop();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.then(
      () => undefined,
      (error: unknown) => this.d.log.error({ err: errorMessage(error) }, `election step failed: ${errorMessage(error)}`),
    );
    return run;
  }

  #later(ms: number): void {
    if (this.#stopping) return;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.kick(), Math.max(10, ms));
    this.#retry.unref();
  }

  async #step(): Promise<void> {
    if (this.#stopping || !this.#started) return;
    const { log } = this.d;
    if (this.#abandoned.size > 0 && this.#role !== 'primary') {
      await this.#abandoned.retry();
      if (this.#abandoned.size > 0) this.#later(backoffMs(this.#failures++));
    }
    if (this.#role === 'primary') {
      if (!this.d.eligible()) return this.#stepDown(`job ${this.d.job} is not healthy`, 0);
      if (this.#holderKnown && this.#holder?.session !== this.#session) return this.#lose('the key is no longer held by this session');
      return;
    }
    if (!this.d.eligible() || !this.#holderKnown) return;
    const t = now();
    if (t < this.#holdUntil) return this.#later(this.#holdUntil - t);
    if (this.#holder?.session && this.#holder.session !== this.#session) return; // another instance is primary
    // Consul lost the key (restart with lost state): the last primary gets the first chance.
    if (this.#holder === undefined && this.#keyVanishedAt > 0 && this.#lastPrimaryId && this.#lastPrimaryId !== this.d.identity.id) {
      const until = this.#keyVanishedAt + this.d.config.ttl;
      if (t < until) return this.#later(until - t);
    }
    if (!this.#session) {
      try {
        const sent = now();
        this.#session = await this.d.consul.createSession(this.d.session, this.d.requestTimeout);
        this.#lastRenewAt = sent;
        this.#failures = 0;
        log.info({ session: this.#session, checks: this.d.session.checks }, 'created a Consul session for the election');
      } catch (error) {
        const attempt = this.#failures++;
        if (attempt % 10 === 0) log.warn({ err: errorMessage(error) }, `cannot create a Consul session (will retry): ${errorMessage(error)}`);
        return this.#later(backoffMs(attempt));
      }
    }
    // Ranked candidacy: only the most advanced live candidate runs (bounded by rank.maxWait).
    if (this.#candidacy && this.#freeIndex !== undefined) {
      const waited = t - this.#freeSince;
      const verdict = this.#candidacy.verdict(this.#freeIndex, waited);
      if (verdict.reason !== this.#rankReason) log.info({ freeIndex: this.#freeIndex, waitedMs: Math.round(waited) }, `rank: ${verdict.reason}`);
      this.#rankReason = verdict.reason;
      if (!verdict.go) return this.#later(Math.max(200, (this.d.config.rank?.maxWait ?? 0) - waited));
    }
    // The gate's pass counts for one second: retries during a lock-delay do not re-run it.
    if (this.d.config.candidate && now() - this.#gatePassedAt > 1_000) {
      const gate = await runCandidateGate(this.d.config.candidate, this.d.gateEnv(), log);
      if (!gate.ok) {
        log.info({ reason: gate.reason }, `candidate gate failed; not running for primary: ${gate.reason}`);
        return this.#later(this.d.config.candidate.interval);
      }
      this.#gatePassedAt = now();
      if (this.#stopping || !this.d.eligible() || (this.#holder?.session && this.#holder.session !== this.#session)) return;
      if (this.#candidacy && this.#freeIndex !== undefined && !this.#candidacy.verdict(this.#freeIndex, now() - this.#freeSince).go) return this.#later(200);
    }
    await this.#acquire(this.#session);
  }

  async #acquire(session: string): Promise<void> {
    const { consul, key, log, requestTimeout } = this.d;
    const value = JSON.stringify(this.d.identity);
    let won: boolean;
    let state: KeyState | undefined;
    try {
      won = await consul.acquire(key, session, value, requestTimeout);
      if (won) state = (await consul.readKey(key, { index: 0, waitMs: 0, consistent: true })).state;
    } catch (error) {
      if (sessionGone(error)) return this.#lose(`session ${session} is gone: ${errorMessage(error)}`);
      log.warn({ err: errorMessage(error) }, `cannot acquire ${key} (will retry): ${errorMessage(error)}`);
      return this.#later(backoffMs(this.#failures++));
    }
    // Refused: another session was faster (the watch will show it), or the lock-delay of an
    // invalidated session still runs and the key only looks free: try again shortly.
    if (!won) return this.#later(200);
    if (state?.session !== session) return this.#later(backoffMs(this.#failures++));
    if (this.#stopping || this.#session !== session || now() - this.#lastRenewAt >= this.d.config.ttl) {
      await consul.release(key, session, requestTimeout).catch(() => false);
      return;
    }
    this.#failures = 0;
    this.#role = 'primary';
    this.#lockIndex = state.lockIndex;
    this.#acquiredIndex = state.modifyIndex;
    this.#holder = state;
    this.#primaryAddr = addressOf(value);
    this.#lastPrimaryId = this.d.identity.id;
    this.#elections++;
    log.info({ key, lockIndex: state.lockIndex, session }, `elected primary (${key}, fencing token ${state.lockIndex})`);
    this.d.bus.publish({ code: 'elected', source: ELECTION_SOURCE, data: { key, lockIndex: state.lockIndex, job: this.d.job, role: 'primary' } });
    this.#candidacy?.wake(); // the primary withdraws its candidate entry
  }

  /** Something went wrong: demote if primary, forget the session, and try again later. */
  async #lose(reason: string): Promise<void> {
    if (this.#role === 'primary') await this.#demote(reason);
    const old = this.#session;
    this.#session = undefined;
    if (old) await this.#abandoned.end(old);
    this.#later(backoffMs(this.#failures++));
  }

  async #stepDown(reason: string, holdMs: number): Promise<void> {
    if (this.#role === 'primary') await this.#demote(reason);
    const session = this.#session;
    this.#session = undefined;
    this.#holdUntil = now() + holdMs;
    if (!session) return;
    await this.#abandoned.end(session, Math.min(3_000, this.d.requestTimeout));
    if (holdMs > 0) this.#later(holdMs);
  }

  /**
   * Stop being primary: the role flips first (children started from now on see `replica`),
   * then `demoted` runs the demote hooks. They must finish before Consul could hand the lock to
   * another instance: TTL after the last good renewal (lease), which is logged when missed.
   */
  async #demote(reason: string): Promise<void> {
    const { log, key, bus } = this.d;
    const deadline = this.#lastRenewAt + this.d.config.ttl;
    this.#role = 'replica';
    this.#demotions++;
    log.warn({ key, lockIndex: this.#lockIndex, reason }, `demoting: ${reason}`);
    const budget = Math.max(1_000, deadline - now());
    const finished = await bus.request(
      { code: 'demoted', source: ELECTION_SOURCE, data: { key, lockIndex: this.#lockIndex, job: this.d.job, role: 'replica', reason } },
      budget,
    );
    const late = now() - deadline;
    if (!finished) log.error({ budgetMs: Math.round(budget) }, `demote hooks did not finish within ${Math.round(budget)}ms`);
    if (late > 0) log.error({ lateMs: Math.round(late) }, `demotion finished ${Math.round(late)}ms after the lock could have passed to another instance`);
    else log.info({ spareMs: Math.round(-late) }, 'demoted to replica');
  }

  async #renewLoop(): Promise<void> {
    const { consul, config, log } = this.d;
    const renewTimeout = Math.min(this.d.requestTimeout, config.ttl / 4);
    let wait = config.ttl / 2;
    while (!this.#stopping) {
      await delay(wait, this.#abort.signal);
      wait = config.ttl / 2;
      const id = this.#session;
      if (this.#stopping || !id) continue;
      // The health gate comes before the renewal: an unhealthy app must not keep the lock.
      if (this.#role === 'primary' && !this.d.eligible()) {
        await this.#serial(() => this.#stepDown(`health gate: job ${this.d.job} is not healthy`, 0)).catch(() => undefined); // logged by #serial
        continue;
      }
      const sent = now();
      try {
        await consul.renewSession(id, renewTimeout);
        if (this.#session === id) this.#lastRenewAt = sent;
      } catch (error) {
        if (this.#stopping) break;
        const gone = sessionGone(error);
        const why = gone ? `the session was invalidated (${errorMessage(error)})` : `session renewal failed: ${errorMessage(error)}`;
        if (this.#role !== 'primary') log.info({ err: errorMessage(error) }, `election session lost: ${why}`);
        await this.#serial(async () => {
          if (this.#session === id) await this.#lose(why);
        }).catch(() => undefined); // logged by #serial
        wait = 1_000;
      }
    }
  }

  #onKey(state: KeyState | undefined, index: number): void {
    if (this.#role === 'primary' && index < this.#acquiredIndex) return; // a read from before our acquisition
    this.#holderKnown = true;
    this.#holder = state;
    if (state?.session) {
      this.#freeIndex = undefined;
      this.#rankReason = '';
      this.#primaryAddr = addressOf(state.value);
      this.#lastPrimaryId = idOf(state.value) ?? this.#lastPrimaryId;
      this.#keyVanishedAt = 0;
    } else {
      this.#primaryAddr = '';
      // Free since: the key's ModifyIndex (the release), or the index of the read that found it absent.
      if (this.#freeIndex === undefined) {
        this.#freeIndex = state ? state.modifyIndex : index;
        this.#freeSince = now();
      }
      if (state === undefined && this.#lastPrimaryId && this.#keyVanishedAt === 0) this.#keyVanishedAt = now();
    }
    this.kick();
  }
}
