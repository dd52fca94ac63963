/**
 * One writer per repository among the instances that share it, with two backends behind
 * {@link WriterLock}:
 *
 * - **consul** (the default when a `consul:` section exists): a Consul session lock on
 *   `backup.lease.key`. The session has half the lease TTL (Consul waits up to twice it), the
 *   agent's serfHealth check and no lock-delay, so a writer whose node dies frees the lock at
 *   once and one that hangs frees it after about the lease TTL. This is the lock the election
 *   uses (Capabilities.consul, handed in by the top).
 * - **store**: an object (`lock.json`) made with S3 conditional writes: created with
 *   `If-None-Match: *`, renewed and released with `If-Match: <etag>`, taken over once its
 *   expiry has passed. The local store gives the same semantics with a mutex on the
 *   filesystem. Expiry uses wall clocks: keep the TTL well above the clock skew.
 *
 * Either way, a writer that cannot renew aborts (`lost`) before it writes its manifest, and a
 * holder that is a dead process of this machine (killed with -9: same boot and PID namespace,
 * pid gone or reused; ./holder.ts) is taken over at once instead of after its TTL.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { errorMessage, PilotfishError } from '../kernel/errors.js';
import { sessionGone, type ConsulAccess, type ConsulSessions } from '../subsystem/capabilities.js';
import type { BackupConfig } from './config.js';
import { isDeadLocal, selfProcess, type HolderProcess } from './holder.js';
import { LOCK_KEY } from './format.js';
import type { Store } from './store/types.js';

export interface Lease {
  readonly owner: string;
  /** Aborted when the lease could not be renewed: stop writing. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface WriterLock {
  /** The lease, or undefined when another live owner holds it. */
  tryAcquire(): Promise<Lease | undefined>;
  /** Who holds it now, for messages. */
  holder(): Promise<string | undefined>;
}

/** Consul's smallest session TTL. */
const CONSUL_MIN_TTL = 10_000;

/** The writer lock the config asks for: Consul's when `consul` is given and the backend allows it. */
export function writerLock(config: BackupConfig, store: Store, consul?: ConsulAccess): WriterLock {
  const { backend, ttl, key } = config.lease;
  if (backend === 'consul' && !consul) throw new PilotfishError('PF_CONFIG_INVALID', 'backup.lease.backend is consul but there is no consul: section');
  if (backend === 'store' || !consul) return new StoreLease(store, ttl);
  return new ConsulLease(consul.sessions(), key ?? defaultLockKey(config), sessionTtl(ttl));
}

/**
 * Consul may keep a session up to twice its TTL after the last renewal, so half the lease TTL
 * (in whole seconds, at least Consul's 10 s) frees an abandoned lock after about `ttl`, like the
 * store lease.
 */
export function sessionTtl(leaseTtlMs: number): number {
  return Math.max(CONSUL_MIN_TTL, Math.ceil(leaseTtlMs / 2 / 1000) * 1000);
}

/** `pilotfish/backup/s3/<bucket>/<prefix>/lock` or `pilotfish/backup/local/<path>/lock`. */
export function defaultLockKey(config: BackupConfig): string {
  const where = 's3' in config.store ? `s3/${config.store.s3.bucket}/${config.store.s3.prefix}` : `local/${config.store.local.path}`;
  return `pilotfish/backup/${where}/lock`.replace(/\/+/g, '/');
}

function newOwner(): string {
  return `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
}

interface LockBody {
  owner: string;
  expires: number;
  /** The holder's process, to tell it is dead (missing in bodies of earlier versions). */
  proc?: HolderProcess | undefined;
}

function bodyOf(owner: string, expires: number): string {
  return JSON.stringify({ owner, expires, proc: selfProcess() } satisfies LockBody);
}

export class StoreLease implements WriterLock {
  readonly owner = newOwner();

  constructor(
    readonly store: Store,
    readonly ttlMs: number,
    readonly now: () => number = Date.now,
  ) {}

  #body(expires: number): Buffer {
    return Buffer.from(bodyOf(this.owner, expires));
  }

  async holder(): Promise<string | undefined> {
    const cur = await this.store.getVersioned(LOCK_KEY);
    const body = cur ? parse(cur.body) : undefined;
    return body && body.expires > this.now() && !isDeadLocal(body.proc) ? body.owner : undefined;
  }

  async tryAcquire(): Promise<Lease | undefined> {
    let etag = await this.store.putIfAbsent(LOCK_KEY, this.#body(this.now() + this.ttlMs));
    if (etag === undefined) {
      const cur = await this.store.getVersioned(LOCK_KEY);
      if (!cur) return this.tryAcquire(); // released in between: try again
      const body = parse(cur.body);
      if (body && body.expires > this.now() && body.owner !== this.owner && !isDeadLocal(body.proc)) return undefined;
      etag = await this.store.putIfMatch(LOCK_KEY, this.#body(this.now() + this.ttlMs), cur.etag);
      if (etag === undefined) return undefined; // someone else took it over first
    }
    return this.#held(etag);
  }

  #held(first: string): Lease {
    let etag = first;
    return holdLease({
      owner: this.owner,
      ttlMs: this.ttlMs,
      minIntervalMs: 100,
      now: this.now,
      renew: async () => {
        const next = await this.store.putIfMatch(LOCK_KEY, this.#body(this.now() + this.ttlMs), etag);
        if (next === undefined) return 'the backup lease was taken over by another instance';
        etag = next;
        return undefined;
      },
      // Expire it rather than delete it: If-Match on DELETE is not supported everywhere.
      release: async (lost) => {
        if (!lost) await this.store.putIfMatch(LOCK_KEY, this.#body(0), etag);
      },
    });
  }
}

export class ConsulLease implements WriterLock {
  readonly owner = newOwner();

  constructor(
    readonly client: ConsulSessions,
    readonly key: string,
    readonly ttlMs: number,
    readonly timeoutMs = 5_000,
    readonly now: () => number = Date.now,
  ) {}

  async holder(): Promise<string | undefined> {
    const { state } = await this.client.readKey(this.key, { index: 0, waitMs: 0 });
    if (!state?.session) return undefined;
    const body = parse(Buffer.from(state.value, 'utf8'));
    if (isDeadLocal(body?.proc)) return undefined;
    return body?.owner ?? `Consul session ${state.session}`;
  }

  async tryAcquire(): Promise<Lease | undefined> {
    const lease = await this.#tryAcquire();
    if (lease) return lease;
    // Held: by a dead process of this machine, its session ends now rather than after its TTL.
    const { state } = await this.client.readKey(this.key, { index: 0, waitMs: 0 });
    if (!state?.session || !isDeadLocal(parse(Buffer.from(state.value, 'utf8'))?.proc)) return undefined;
    await this.client.destroySession(state.session, this.timeoutMs);
    return this.#tryAcquire();
  }

  async #tryAcquire(): Promise<Lease | undefined> {
    const session = await this.client.createSession(
      { name: `pilotfish backup writer ${this.owner}`, ttlMs: this.ttlMs, lockDelayMs: 0, behavior: 'release', checks: ['serfHealth'] },
      this.timeoutMs,
    );
    let held = false;
    try {
      // `expires` only for `holder()` messages and the store format's shape; Consul decides.
      held = await this.client.acquire(this.key, session, bodyOf(this.owner, this.now() + this.ttlMs), this.timeoutMs);
    } finally {
      if (!held) await this.client.destroySession(session, this.timeoutMs).catch(() => undefined);
    }
    return held ? this.#held(session) : undefined;
  }

  #held(session: string): Lease {
    return holdLease({
      owner: this.owner,
      ttlMs: this.ttlMs,
      minIntervalMs: 1_000,
      now: this.now,
      renew: async () => {
        try {
          await this.client.renewSession(session, this.timeoutMs);
          return undefined;
        } catch (error) {
          if (sessionGone(error)) return 'the backup lock session ended (Consul invalidated it)';
          throw error;
        }
      },
      release: async () => {
        await this.client.release(this.key, session, this.timeoutMs).catch(() => undefined);
        await this.client.destroySession(session, this.timeoutMs);
      },
    });
  }
}

/**
 * A held lease, whichever backend: renewed every ttl/3 (at least `minIntervalMs`). `renew`
 * resolves undefined when renewed, or why the lease is lost (it was taken over); when it throws
 * (the backend is unreachable) the lease is lost only once nothing was renewed for a whole TTL.
 * `release` runs once, after any renewal in flight; its failures are ignored (the TTL frees it).
 */
function holdLease(o: {
  owner: string;
  ttlMs: number;
  minIntervalMs: number;
  now: () => number;
  renew: () => Promise<string | undefined>;
  release: (lost: boolean) => Promise<void>;
}): Lease {
  const lost = new AbortController();
  let released = false;
  let renewedAt = o.now();
  let renewing: Promise<void> | undefined;
  const renew = async (): Promise<void> => {
    if (released || lost.signal.aborted) return;
    try {
      const why = await o.renew();
      if (why === undefined) renewedAt = o.now();
      else lost.abort(new PilotfishError('PF_BACKUP_BUSY', `${why}; this backup stopped before writing its snapshot`));
    } catch (error) {
      if (o.now() - renewedAt > o.ttlMs)
        lost.abort(
          new PilotfishError(
            'PF_BACKUP_STORE',
            `the backup lease could not be renewed for ${o.ttlMs} ms (${errorMessage(error)}); this backup stopped before writing its snapshot`,
            { cause: error },
          ),
        );
    }
  };
  // One renewal at a time: a slow one (a loaded machine, a slow store) overlapped by the next
  // made both use the same etag, and the second's refusal read as a takeover.
  const tick = (): void => {
    if (renewing) return;
    renewing = renew().finally(() => (renewing = undefined));
  };
  const timer = setInterval(tick, Math.max(o.minIntervalMs, Math.floor(o.ttlMs / 3)));
  timer.unref();
  return {
    owner: o.owner,
    lost: lost.signal,
    release: async () => {
      released = true;
      clearInterval(timer);
      await renewing;
      await o.release(lost.signal.aborted).catch(() => undefined);
    },
  };
}

function parse(raw: Buffer): LockBody | undefined {
  try {
    const b = JSON.parse(raw.toString('utf8')) as LockBody;
    return typeof b.owner === 'string' && typeof b.expires === 'number' ? b : undefined;
  } catch {
    return undefined;
  }
}
