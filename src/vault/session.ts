/**
 * The token's life: log in, renew at `renewAt` (2/3) of its TTL, log in again when renewal fails,
 * when the token was revoked (403 on renew or on a read), when it reaches its max TTL (a renewal
 * that no longer extends it), or when a token file changes. Requests made during a login wait
 * for it. While Vault is away, logins retry with backoff forever (never "give up after N").
 *
 * Why not node-vault's startTokenRenewal: it renews at a fixed fraction and, on any renewal
 * error, emits an event and stops; near the max TTL it renews every second until the token dies;
 * it never logs in again. See docs/vault.md.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { errorMessage } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { Authenticator, LoginResult } from './auth.js';
import { delay, nextDelay, RateLimiter, type Backoff } from '../kernel/backoff.js';
import type { VaultClient } from './client.js';

/** setTimeout's limit (about 24.8 days); a longer delay would fire at once. */
export const MAX_TIMER = 2 ** 31 - 1;

export interface SessionOptions {
  renewAt: number;
  backoff: Backoff;
  log: Logger;
}

export interface SessionStatus {
  method: string;
  credentials: string;
  loggedIn: boolean;
  ttlSeconds: number | null;
  renewable: boolean;
  policies: string[];
  logins: number;
  renewals: number;
  lastError: string | null;
}

export class VaultSession {
  #current: LoginResult | undefined;
  #obtainedAt = 0;
  #firstTtlMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #login: Promise<void> | undefined;
  #logins = 0;
  #renewals = 0;
  #lastError: string | undefined;
  readonly #stop = new AbortController();
  readonly #warn = new RateLimiter(60_000);

  constructor(
    readonly client: VaultClient,
    readonly auth: Authenticator,
    private readonly options: SessionOptions,
  ) {}

  get logins(): number {
    return this.#logins;
  }

  /** The first login; throws its error (the subsystem decides whether to wait and retry). */
  async start(): Promise<void> {
    await this.#loginOnce('start');
    for (const file of this.auth.watchFiles) {
      watchFile(file, { interval: 1000, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) void this.relogin(`${file} changed`);
      });
    }
  }

  stop(): void {
    this.#stop.abort();
    clearTimeout(this.#timer);
    for (const file of this.auth.watchFiles) unwatchFile(file);
  }

  /**
   * Run a request with the current token. A 403 may mean our token was revoked: when a new login
   * is possible, log in again once and retry; a second 403 is a policy answer and is thrown.
   */
  async run<T>(request: () => Promise<T>): Promise<T> {
    if (this.#login) await this.#login;
    const usedLogin = this.#logins;
    try {
      return await request();
    } catch (error) {
      if (!(error as { denied?: boolean }).denied || !this.auth.canRelogin || this.#stop.signal.aborted) throw error;
      if (this.#logins === usedLogin) {
        const ok = await this.#probe();
        if (ok) throw error; // our token is fine: the policy says no
        await this.relogin('the token was revoked or has expired');
      } else if (this.#login) await this.#login;
      return request();
    }
  }

  /** Log in again (deduplicated); resolves once logged in, retrying with backoff until stopped. */
  relogin(reason: string): Promise<void> {
    if (this.#login) return this.#login;
    this.options.log.info({ method: this.auth.method }, `vault: logging in again: ${reason}`);
    this.#login = this.#retryLogin().finally(() => (this.#login = undefined));
    return this.#login;
  }

  status(): SessionStatus {
    const left = this.#current && this.#current.ttlMs > 0 ? Math.max(0, this.#current.ttlMs - (Date.now() - this.#obtainedAt)) : null;
    return {
      method: this.auth.method,
      credentials: this.auth.describe,
      loggedIn: this.#current !== undefined,
      ttlSeconds: left === null ? null : Math.round(left / 1000),
      renewable: this.#current?.renewable ?? false,
      policies: this.#current?.policies ?? [],
      logins: this.#logins,
      renewals: this.#renewals,
      lastError: this.#lastError ?? null,
    };
  }

  async #retryLogin(): Promise<void> {
    for (let attempt = 0; !this.#stop.signal.aborted; attempt++) {
      try {
        await this.#loginOnce('relogin');
        this.#warn.clear('login');
        return;
      } catch (error) {
        this.#lastError = errorMessage(error);
        const wait = nextDelay(attempt, this.options.backoff);
        const quiet = this.#warn.allow('login');
        if (quiet !== undefined)
          this.options.log.warn({ method: this.auth.method, retryInMs: wait, suppressed: quiet }, `vault: login failed, retrying: ${this.#lastError}`);
        await delay(wait, this.#stop.signal);
      }
    }
  }

  /** Is our current token still valid? (Distinguishes "revoked" from "policy says no".) */
  async #probe(): Promise<boolean> {
    try {
      await this.client.tokenLookupSelf();
      return true;
    } catch {
      return false;
    }
  }

  async #loginOnce(why: 'start' | 'relogin'): Promise<void> {
    const result = await this.auth.login(this.client);
    this.client.token = result.token;
    this.#current = result;
    this.#obtainedAt = Date.now();
    this.#firstTtlMs = result.ttlMs;
    this.#logins++;
    this.#lastError = undefined;
    this.options.log.info(
      { method: this.auth.method, ttlSeconds: result.ttlMs / 1000, renewable: result.renewable, policies: result.policies },
      why === 'start' ? `vault: logged in (${this.auth.method})` : `vault: logged in again (${this.auth.method})`,
    );
    this.#schedule(result.ttlMs);
  }

  /** Next step at renewAt of the TTL left: renew, or log in again when renewing no longer helps. */
  #schedule(ttlMs: number): void {
    clearTimeout(this.#timer);
    if (ttlMs <= 0 || this.#stop.signal.aborted) return; // a token without expiry (e.g. root)
    const current = this.#current;
    // A renewal granted less than the first TTL: the max TTL caps it. Log in again instead.
    const nearMax = ttlMs < this.#firstTtlMs;
    const relogin = this.auth.canRelogin && (!current?.renewable || nearMax);
    this.#timer = setTimeout(
      () => void (relogin ? this.relogin(nearMax ? 'the token nears its max TTL' : 'the token is not renewable') : this.#renew()),
      Math.min(MAX_TIMER, Math.max(100, ttlMs * this.options.renewAt)),
    );
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    if (!this.#current?.renewable) {
      this.options.log.warn(
        { method: this.auth.method },
        'vault: the token is not renewable and will expire; give Pilotfish a new token or use a login method',
      );
      return;
    }
    for (let attempt = 0; !this.#stop.signal.aborted; attempt++) {
      try {
        const body = await this.client.tokenRenewSelf();
        const ttlMs = ((body.auth as { lease_duration?: number } | undefined)?.lease_duration ?? 0) * 1000;
        this.#renewals++;
        this.#obtainedAt = Date.now();
        this.#current = { ...this.#current, ttlMs };
        this.options.log.info({ method: this.auth.method, ttlSeconds: ttlMs / 1000, renewals: this.#renewals }, 'vault: token renewed');
        if (ttlMs < this.#firstTtlMs && !this.auth.canRelogin)
          this.options.log.warn({ ttlSeconds: ttlMs / 1000 }, 'vault: the token nears its max TTL and cannot be renewed much longer; provide a new token');
        this.#schedule(ttlMs);
        return;
      } catch (error) {
        this.#lastError = errorMessage(error);
        const expired = Date.now() - this.#obtainedAt >= (this.#current?.ttlMs ?? 0);
        if ((error as { denied?: boolean }).denied || expired) {
          if (this.auth.canRelogin) return void this.relogin('the token was revoked or has expired');
          this.options.log.error(
            { method: this.auth.method },
            `vault: ${this.#lastError}; the token cannot be replaced (auth: token): secrets keep their last values`,
          );
          return;
        }
        const wait = Math.min(nextDelay(attempt, this.options.backoff), Math.max(100, (this.#current?.ttlMs ?? 0) - (Date.now() - this.#obtainedAt)));
        if (this.#warn.allow('renew') !== undefined) this.options.log.warn({ retryInMs: wait }, `vault: token renewal failed, retrying: ${this.#lastError}`);
        await delay(wait, this.#stop.signal);
      }
    }
  }
}
