/**
 * The Vault HTTP client: node-vault 0.12 underneath, with what Pilotfish needs around it.
 *
 * - One error type ({@link VaultRequestError}) naming the address, the path, the operation and the
 *   reason, built from the HTTP status and Vault's own `errors` text only. node-vault's errors are
 *   axios errors whose `config` holds the request headers (X-Vault-Token) and body (secret_id):
 *   they are never logged, never kept as `cause`.
 * - A per-request timeout, and retries with backoff for network errors, 5xx and 429 (never for
 *   403/404/400: those are answers, not outages).
 * - node-vault's `debug` output (which prints request bodies, e.g. a secret_id) is switched off.
 */
import { readFileSync } from 'node:fs';
import createVault from 'node-vault';
import { PilotfishError } from '../kernel/errors.js';
import { METRICS, NO_METRICS, type Metrics } from '../subsystem/metrics.js';
import type { RetryConfig } from './config.js';
import { delay, nextDelay } from '../kernel/backoff.js';

export type VaultOp = 'login' | 'unwrap' | 'renew' | 'lookup' | 'read' | 'lease-renew';

const VERBS: Record<VaultOp, string> = {
  login: 'log in at',
  unwrap: 'unwrap the secret_id at',
  renew: 'renew the token at',
  lookup: 'look up the token at',
  read: 'read',
  'lease-renew': 'renew the lease of',
};

/** A failed Vault request. The message names address, path and reason; it never holds a value. */
export class VaultRequestError extends PilotfishError {
  constructor(
    readonly op: VaultOp,
    readonly address: string,
    readonly path: string,
    /** The HTTP status; undefined when Vault did not answer. */
    readonly status: number | undefined,
    readonly reason: string,
    hint = '',
  ) {
    const code =
      status === 403
        ? 'PF_VAULT_DENIED'
        : status === 404
          ? 'PF_VAULT_NOT_FOUND'
          : status === undefined || status >= 500
            ? 'PF_VAULT_UNAVAILABLE'
            : 'PF_VAULT_REQUEST';
    super(code, `Vault at ${address}: cannot ${VERBS[op]} ${path}: ${reason}${hint ? `; ${hint}` : ''}`);
    this.name = 'VaultRequestError';
  }

  /** Worth retrying soon: no answer, a 5xx, or 429. */
  get transient(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429 || this.status === 412;
  }

  get denied(): boolean {
    return this.status === 403;
  }
}

export interface ClientOptions {
  address: string;
  namespace?: string | undefined;
  caFile?: string | undefined;
  timeout: number;
  retry: RetryConfig;
  /** Where failed requests are counted (telemetry, when configured). */
  metrics?: Metrics | undefined;
}

type Body = Record<string, unknown>;
type NodeVault = ReturnType<typeof createVault>;

export class VaultClient {
  readonly address: string;
  readonly #vault: NodeVault;
  readonly #timeout: number;
  readonly #retry: RetryConfig;
  readonly #ca: Buffer | undefined;
  readonly #metrics: Metrics;
  #closed = new AbortController();

  constructor(options: ClientOptions) {
    this.address = options.address.replace(/\/+$/, '');
    this.#timeout = options.timeout;
    this.#retry = options.retry;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#ca = options.caFile ? readFileSync(options.caFile) : undefined;
    this.#vault = createVault({
      endpoint: this.address,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      debug: () => {}, // node-vault's debug prints request bodies (secret_ids)
      ...(this.#ca ? { requestOptions: { ca: this.#ca } } : {}),
    });
    this.#vault.token = ''; // never VAULT_TOKEN implicitly: the session decides which token is used
  }

  /** The token sent with requests; set by the session after each login. */
  set token(value: string) {
    this.#vault.token = value;
  }

  close(): void {
    this.#closed.abort();
  }

  /** GET a path (e.g. `secret/data/app`, with a query). */
  read(path: string, op: VaultOp = 'read'): Promise<Body> {
    return this.#call(op, path, (o) => this.#vault.read(path, o));
  }

  /** POST/PUT a path. */
  write(path: string, data: Body, op: VaultOp = 'read', token?: string): Promise<Body> {
    return this.#call(op, path, (o) => this.#vault.write(path, data, token === undefined ? o : { ...o, headers: { 'X-Vault-Token': token } }));
  }

  approleLogin(mount: string, roleId: string, secretId: string | undefined): Promise<Body> {
    const args = { mount_point: mount, role_id: roleId, ...(secretId !== undefined ? { secret_id: secretId } : {}) };
    return this.#call('login', `auth/${mount}/login`, (o) => this.#vault.approleLogin({ ...args, requestOptions: o }));
  }

  kubernetesLogin(mount: string, role: string, jwt: string): Promise<Body> {
    return this.#call('login', `auth/${mount}/login`, (o) => this.#vault.kubernetesLogin({ mount_point: mount, role, jwt, requestOptions: o }));
  }

  jwtLogin(mount: string, role: string, jwt: string): Promise<Body> {
    return this.#call('login', `auth/${mount}/login`, (o) => this.#vault.jwtLogin({ mount_point: mount, role, jwt, requestOptions: o }));
  }

  /** Unwrap a response-wrapping token (sent as the request's token: no other token is needed). */
  unwrap(wrappingToken: string): Promise<Body> {
    return this.#call('unwrap', 'sys/wrapping/unwrap', (o) => this.#vault.unwrap({ requestOptions: { ...o, headers: { 'X-Vault-Token': wrappingToken } } }));
  }

  tokenLookupSelf(): Promise<Body> {
    return this.#call('lookup', 'auth/token/lookup-self', (o) => this.#vault.tokenLookupSelf({ requestOptions: o }));
  }

  tokenRenewSelf(): Promise<Body> {
    return this.#call('renew', 'auth/token/renew-self', (o) => this.#vault.tokenRenewSelf({ requestOptions: o }));
  }

  leaseRenew(leaseId: string, path: string): Promise<Body> {
    return this.#call('lease-renew', path, (o) => this.#vault.renew({ lease_id: leaseId, requestOptions: o }));
  }

  /** One request with retries on transient failures; the error says what failed, never with values. */
  async #call(op: VaultOp, path: string, send: (options: { timeout: number }) => Promise<unknown>): Promise<Body> {
    for (let attempt = 0; ; attempt++) {
      try {
        const body = await send({ timeout: this.#timeout });
        return (body && typeof body === 'object' ? body : {}) as Body;
      } catch (raw) {
        const error = this.#describe(op, path, raw);
        this.#metrics.inc(METRICS.vaultErrors, { operation: op });
        if (!error.transient || attempt + 1 >= this.#retry.attempts || this.#closed.signal.aborted) throw error;
        await delay(nextDelay(attempt, this.#retry.backoff), this.#closed.signal);
      }
    }
  }

  /** Map whatever node-vault threw to a VaultRequestError, keeping only safe facts. */
  #describe(op: VaultOp, path: string, raw: unknown): VaultRequestError {
    const err = raw as { response?: { statusCode?: number; body?: { errors?: unknown[] } }; code?: string; message?: string };
    const status = err.response?.statusCode;
    if (typeof status === 'number') {
      const said = (err.response?.body?.errors ?? [])
        .filter((e): e is string => typeof e === 'string')
        .map(oneLine)
        .join('; ');
      return new VaultRequestError(op, this.address, path, status, `${said || 'error'} (HTTP ${status})`, hintFor(op, status));
    }
    if (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT' || /timeout/i.test(err.message ?? ''))
      return new VaultRequestError(op, this.address, path, undefined, `no answer within ${this.#timeout}ms`, 'is Vault up and reachable?');
    if (err.code)
      return new VaultRequestError(
        op,
        this.address,
        path,
        undefined,
        `unreachable (${err.code})`,
        'is Vault running at this address? (vault.address or $VAULT_ADDR)',
      );
    // A node-vault argument validation error (tv4) or something unexpected: its message only.
    return new VaultRequestError(op, this.address, path, undefined, oneLine(err.message ?? String(raw)));
  }
}

/** One line; Vault's "2 errors occurred:\n\t* a\n\t* b" becomes "a; b". */
function oneLine(text: string): string {
  const bullets = text.replace(/^\s*\d+ errors? occurred:\s*/, '').split(/\n\s*\*\s*|^\s*\*\s*/);
  return bullets
    .map((b) => b.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('; ')
    .slice(0, 300);
}

function hintFor(op: VaultOp, status: number): string {
  if (status === 403 && op === 'read') return "the token's policies do not allow reading this path: grant read on it to the role's policy";
  if (status === 403 && (op === 'renew' || op === 'lookup')) return 'the token was revoked or has expired';
  if (status === 404 && op === 'read') return 'nothing there: check the path, the mount and the engine (kv1/kv2)';
  if (status === 400 && op === 'login') return 'check the role and the credentials given to vault.auth';
  if (status === 400 && op === 'unwrap') return 'a wrapping token can be unwrapped once: provide a fresh one';
  if (status === 503) return 'Vault is sealed or in standby';
  return '';
}
