/**
 * Consul sessions and session locks, offered to the election and the backup writer lock
 * through Capabilities.consul (./access.ts): sessions (create, renew, destroy), the lock key (acquire,
 * release, a blocking read). Plain HTTP with `fetch`, because every decision here hangs on the
 * exact answer: the status code (404 = the session is gone), the body (`true`/`false` of an
 * acquire) and X-Consul-Index. The address and token come from the `consul:` section, resolved
 * by src/consul/client.ts; every request has a hard timeout.
 */
import { errorMessage, PilotfishError } from '../kernel/errors.js';
import { redactor } from '../kernel/redact.js';
import { resolveEndpoint } from './endpoint.js';
import type { ConsulSessions, KeyState, SessionSpec } from '../subsystem/capabilities.js';
import type { ConsulConfig } from './config.js';

export type { KeyState, SessionSpec };

/** A failed Consul call: `status` is the HTTP status when Consul answered. */
export class ConsulCallError extends PilotfishError {
  constructor(
    readonly op: string,
    readonly status: number | undefined,
    detail: string,
  ) {
    super('PF_CONSUL_CALL', `${op}: ${status !== undefined ? `HTTP ${status}: ` : ''}${detail}`);
    this.name = 'ConsulCallError';
  }

  /** Consul no longer knows the session (it expired, was destroyed, or Consul lost its state). */
  get sessionGone(): boolean {
    return this.status === 404 || /invalid session|session.*not found|not found.*session/i.test(this.message);
  }
}

function seconds(ms: number): string {
  return `${Math.max(0, Math.round(ms / 1000))}s`;
}

export class SessionClient implements ConsulSessions {
  readonly address: string;
  readonly #headers: Record<string, string>;
  readonly #dc: string | undefined;

  constructor(config: ConsulConfig, env: NodeJS.ProcessEnv = process.env) {
    this.address = resolveEndpoint(config, env).address;
    const token = config.token ?? env.CONSUL_HTTP_TOKEN;
    if (token) redactor.add(token);
    this.#headers = token ? { 'x-consul-token': token } : {};
    this.#dc = config.datacenter;
  }

  async createSession(spec: SessionSpec, timeoutMs: number): Promise<string> {
    const body = {
      Name: spec.name,
      TTL: seconds(spec.ttlMs),
      LockDelay: `${spec.lockDelayMs}ms`,
      Behavior: spec.behavior,
      // Not the legacy `Checks`: with it, Consul still adds serfHealth as a node check.
      NodeChecks: spec.checks.filter((c) => !c.startsWith('service:')),
      ServiceChecks: spec.checks.filter((c) => c.startsWith('service:')).map((ID) => ({ ID })),
    };
    const out = (await this.#call('create session', 'PUT', '/v1/session/create', {}, timeoutMs, JSON.stringify(body))).json as { ID?: string };
    if (!out?.ID) throw new ConsulCallError('create session', 200, 'no session ID in the answer');
    return out.ID;
  }

  /** Renew; a 404 (ConsulCallError.sessionGone) means the session is gone. */
  async renewSession(id: string, timeoutMs: number): Promise<void> {
    const out = await this.#call('renew session', 'PUT', `/v1/session/renew/${id}`, {}, timeoutMs);
    if (Array.isArray(out.json) && out.json.length === 0) throw new ConsulCallError('renew session', 404, `session ${id} not found`);
  }

  async destroySession(id: string, timeoutMs: number): Promise<void> {
    await this.#call('destroy session', 'PUT', `/v1/session/destroy/${id}`, {}, timeoutMs);
  }

  /** True when this session now holds the key. */
  async acquire(key: string, session: string, value: string, timeoutMs: number): Promise<boolean> {
    const out = await this.#call('acquire', 'PUT', `/v1/kv/${encodeKey(key)}`, { acquire: session }, timeoutMs, value);
    return out.json === true;
  }

  async release(key: string, session: string, timeoutMs: number): Promise<boolean> {
    const out = await this.#call('release', 'PUT', `/v1/kv/${encodeKey(key)}`, { release: session }, timeoutMs);
    return out.json === true;
  }

  /**
   * Read the key; with `index` > 0 a blocking query that returns when the key changes or after
   * `waitMs`. The request timeout is always longer than the wait.
   */
  async readKey(
    key: string,
    opts: { index: number; waitMs: number; consistent?: boolean; signal?: AbortSignal },
  ): Promise<{ state: KeyState | undefined; index: number }> {
    const query: Record<string, string> = {};
    if (opts.index > 0) {
      query.index = String(opts.index);
      query.wait = seconds(opts.waitMs);
    }
    if (opts.consistent) query.consistent = '';
    const timeout = opts.index > 0 ? opts.waitMs + opts.waitMs / 16 + 5_000 : 10_000;
    const out = await this.#call('read key', 'GET', `/v1/kv/${encodeKey(key)}`, query, timeout, undefined, [404], opts.signal);
    if (out.status === 404) return { state: undefined, index: out.index };
    const item = (out.json as Array<{ Session?: string; LockIndex?: number; ModifyIndex?: number; Value?: string | null }>)?.[0];
    if (!item) return { state: undefined, index: out.index };
    return {
      state: {
        session: item.Session || undefined,
        lockIndex: item.LockIndex ?? 0,
        modifyIndex: item.ModifyIndex ?? 0,
        value: item.Value ? Buffer.from(item.Value, 'base64').toString('utf8') : '',
      },
      index: out.index,
    };
  }

  /**
   * Read every key under `prefix` (`?recurse`); with `index` > 0 a blocking query, like
   * {@link readKey}. An empty prefix answers no entries.
   */
  async readPrefix(
    prefix: string,
    opts: { index: number; waitMs: number; signal?: AbortSignal },
  ): Promise<{ entries: Array<KeyState & { key: string }>; index: number }> {
    const query: Record<string, string> = { recurse: '' };
    if (opts.index > 0) {
      query.index = String(opts.index);
      query.wait = seconds(opts.waitMs);
    }
    const timeout = opts.index > 0 ? opts.waitMs + opts.waitMs / 16 + 5_000 : 10_000;
    const out = await this.#call('read prefix', 'GET', `/v1/kv/${encodeKey(prefix)}`, query, timeout, undefined, [404], opts.signal);
    if (out.status === 404 || !Array.isArray(out.json)) return { entries: [], index: out.index };
    const items = out.json as Array<{ Key: string; Session?: string; LockIndex?: number; ModifyIndex?: number; Value?: string | null }>;
    return {
      entries: items.map((item) => ({
        key: item.Key,
        session: item.Session || undefined,
        lockIndex: item.LockIndex ?? 0,
        modifyIndex: item.ModifyIndex ?? 0,
        value: item.Value ? Buffer.from(item.Value, 'base64').toString('utf8') : '',
      })),
      index: out.index,
    };
  }

  async deleteKey(key: string, timeoutMs: number): Promise<void> {
    await this.#call('delete key', 'DELETE', `/v1/kv/${encodeKey(key)}`, {}, timeoutMs);
  }

  async #call(
    op: string,
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    query: Record<string, string>,
    timeoutMs: number,
    body?: string,
    okStatuses: number[] = [],
    signal?: AbortSignal,
  ): Promise<{ status: number; json: unknown; index: number }> {
    const q = new URLSearchParams(query);
    if (this.#dc) q.set('dc', this.#dc);
    const qs = q.toString().replace(/=(&|$)/g, '$1');
    const url = `${this.address}${path}${qs ? `?${qs}` : ''}`;
    const timeout = AbortSignal.timeout(Math.max(1, Math.round(timeoutMs)));
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: this.#headers,
        ...(body !== undefined ? { body } : {}),
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const why = timeout.aborted ? `no answer within ${timeoutMs}ms` : (cause?.code ?? errorMessage(error));
      throw new ConsulCallError(op, undefined, `${why} (Consul at ${this.address})`);
    }
    const text = await res.text().catch(() => '');
    const index = Number(res.headers.get('x-consul-index') ?? 0) || 0;
    if (!res.ok && !okStatuses.includes(res.status)) throw new ConsulCallError(op, res.status, text.trim().slice(0, 300) || res.statusText);
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, json, index };
  }
}

function encodeKey(key: string): string {
  return key.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
}
