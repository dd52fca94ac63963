/**
 * The configured secrets: read them (KV v1, KV v2 with an optional pinned version, or any
 * generic endpoint), keep the last good values, and keep them fresh: static secrets re-read every
 * `refresh`, leased secrets renewed at `renewAt` of their lease and re-read when the lease can no
 * longer be extended. A change (a new KV version, new credentials) is reported to `onChange`.
 *
 * Values go to the redactor inside {@link readSecret}, before anything else sees them.
 */
import { errorMessage } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { redactor } from '../kernel/redact.js';
import { nextDelay, RateLimiter, type Backoff } from '../kernel/backoff.js';
import type { VaultClient } from './client.js';
import type { SecretConfig } from './config.js';
import { MAX_TIMER, type VaultSession } from './session.js';

export type SecretData = Readonly<Record<string, unknown>>;

export interface ReadResult {
  data: SecretData;
  version?: number;
  leaseId?: string;
  leaseMs: number;
  renewable: boolean;
}

/** The HTTP path a secret is read from (kv2: `<mount>/data/<key>?version=N`). */
export function readPath(s: SecretConfig): string {
  if (s.engine !== 'kv2') return s.path;
  const mount = (s.mount ?? s.path.split('/')[0] ?? '').replace(/\/+$/, '');
  let key = s.path.startsWith(`${mount}/`) ? s.path.slice(mount.length + 1) : s.path;
  if (key.startsWith('data/')) key = key.slice(5); // written as the API path already
  return `${mount}/data/${key}${s.version !== undefined ? `?version=${s.version}` : ''}`;
}

/** Every string inside a secret goes to the redactor. */
export function registerValues(value: unknown): void {
  if (typeof value === 'string') redactor.add(value);
  else if (Array.isArray(value)) for (const v of value) registerValues(v);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) registerValues(v);
}

export async function readSecret(client: VaultClient, s: SecretConfig): Promise<ReadResult> {
  const path = readPath(s);
  const body = s.method === 'POST' ? await client.write(path, {}) : await client.read(path);
  // Every string goes to the redactor, except the fields declared plain (a kv2 secret's are one level down).
  const fields = (s.engine === 'kv2' ? (body.data as { data?: unknown } | undefined)?.data : body.data) as Record<string, unknown> | null | undefined;
  if (fields && typeof fields === 'object') {
    for (const [field, value] of Object.entries(fields)) if (!s.plain.includes(field)) registerValues(value);
  } else registerValues(body.data);
  const lease = { leaseMs: Number(body.lease_duration ?? 0) * 1000, renewable: body.renewable === true };
  if (s.engine === 'kv2') {
    const inner = (body.data ?? {}) as { data?: SecretData | null; metadata?: { version?: number } };
    return { data: inner.data ?? {}, ...(inner.metadata?.version !== undefined ? { version: inner.metadata.version } : {}), leaseMs: 0, renewable: false };
  }
  const leaseId = typeof body.lease_id === 'string' && body.lease_id ? body.lease_id : undefined;
  return { data: (body.data ?? {}) as SecretData, ...(leaseId ? { leaseId } : {}), ...lease };
}

/** JSON with sorted keys, to compare two readings. */
export function fingerprint(data: unknown): string {
  return JSON.stringify(data, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

export interface SecretState {
  config: SecretConfig;
  current: ReadResult | undefined;
  fingerprint: string;
  obtainedAt: number;
  reads: number;
  changes: number;
  renewals: number;
  /** The lease granted at the last read: a renewal granting less is capped by the max TTL. */
  grantedMs: number;
  lastError: string | undefined;
}

export interface SecretsOptions {
  refresh: number;
  renewAt: number;
  backoff: Backoff;
  log: Logger;
  onChange: (name: string, previous: ReadResult | undefined, next: ReadResult) => void;
}

export class SecretSet {
  readonly states = new Map<string, SecretState>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #stop = new AbortController();
  readonly #warn = new RateLimiter(60_000);

  constructor(
    configs: SecretConfig[],
    private readonly session: VaultSession,
    private readonly options: SecretsOptions,
  ) {
    for (const c of configs)
      this.states.set(c.name, {
        config: c,
        current: undefined,
        fingerprint: '',
        obtainedAt: 0,
        reads: 0,
        changes: 0,
        renewals: 0,
        grantedMs: 0,
        lastError: undefined,
      });
  }

  /** Read every secret once; throws the first failure. */
  async readAll(): Promise<void> {
    for (const state of this.states.values()) if (!state.current) await this.#read(state);
  }

  /** Keep them fresh from now on. */
  start(): void {
    for (const state of this.states.values()) this.#plan(state);
  }

  stop(): void {
    this.#stop.abort();
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  get(name: string): SecretData | undefined {
    return this.states.get(name)?.current?.data;
  }

  async #read(state: SecretState): Promise<void> {
    const next = await this.session.run(() => readSecret(this.session.client, state.config));
    const previous = state.current;
    const print = fingerprint(next.data);
    state.current = next;
    state.grantedMs = next.leaseMs;
    state.obtainedAt = Date.now();
    state.reads++;
    state.lastError = undefined;
    if (previous && print !== state.fingerprint) {
      state.changes++;
      state.fingerprint = print;
      this.options.log.info(
        { secret: state.config.name, path: state.config.path, version: next.version, previousVersion: previous.version },
        `vault: secret ${state.config.name} changed`,
      );
      this.options.onChange(state.config.name, previous, next);
    }
    state.fingerprint = print;
  }

  /** What to do next for this secret, and when. */
  #plan(state: SecretState, failures = 0): void {
    if (this.#stop.signal.aborted) return;
    const c = state.config;
    const cur = state.current;
    let wait: number;
    let act: () => Promise<void>;
    if (failures > 0) {
      wait = Math.min(nextDelay(failures - 1, this.options.backoff), c.refresh ?? this.options.refresh);
      act = () => this.#read(state);
    } else if (cur?.leaseId && cur.leaseMs > 0) {
      wait = cur.leaseMs * this.options.renewAt;
      act = cur.renewable ? () => this.#renewLease(state) : () => this.#read(state);
    } else if (c.engine === 'kv2' && c.version !== undefined) {
      return; // pinned: it cannot change
    } else {
      wait = c.refresh ?? this.options.refresh;
      act = () => this.#read(state);
    }
    const timer = setTimeout(
      () => {
        this.#timers.delete(c.name);
        void act().then(
          () => {
            this.#warn.clear(c.name);
            this.#plan(state);
          },
          (error: unknown) => {
            state.lastError = errorMessage(error);
            const quiet = this.#warn.allow(c.name);
            if (quiet !== undefined && !this.#stop.signal.aborted)
              this.options.log.warn(
                { secret: c.name, path: c.path, suppressed: quiet },
                `vault: cannot refresh secret ${c.name}, keeping its last value and retrying: ${state.lastError}`,
              );
            this.#plan(state, failures + 1);
          },
        );
      },
      Math.min(MAX_TIMER, Math.max(50, wait)),
    );
    timer.unref();
    this.#timers.set(c.name, timer);
  }

  /** Renew the lease; a lease that cannot be extended enough is replaced by a new read. */
  async #renewLease(state: SecretState): Promise<void> {
    const cur = state.current as ReadResult;
    let leaseMs: number;
    try {
      const body = await this.session.run(() => this.session.client.leaseRenew(cur.leaseId as string, state.config.path));
      leaseMs = Number(body.lease_duration ?? 0) * 1000;
    } catch (error) {
      if ((error as { transient?: boolean }).transient) throw error;
      this.options.log.info({ secret: state.config.name }, `vault: lease of ${state.config.name} cannot be renewed (${errorMessage(error)}); reading it again`);
      return this.#read(state);
    }
    state.renewals++;
    if (leaseMs < state.grantedMs) {
      // Capped by its max TTL: use what is left, then read new credentials before it ends.
      state.current = { ...cur, leaseMs, renewable: false };
    } else state.current = { ...cur, leaseMs };
    state.obtainedAt = Date.now();
    this.options.log.debug({ secret: state.config.name, leaseSeconds: leaseMs / 1000 }, `vault: lease of ${state.config.name} renewed`);
  }
}
