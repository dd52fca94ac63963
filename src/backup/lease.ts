/**
 * One writer per repository among the instances that share it. The lease is an object
 * (`lock.json`) made with S3 conditional writes: created with `If-None-Match: *`, renewed and
 * released with `If-Match: <etag>`, taken over once its expiry has passed. The local store
 * gives the same semantics with a mutex on the filesystem.
 *
 * A Consul session lock can implement {@link WriterLock} too (when Consul is configured); it
 * is not written yet. Expiry uses wall clocks: keep the TTL well above the clock skew.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
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

interface LockBody {
  owner: string;
  expires: number;
}

export class StoreLease implements WriterLock {
  readonly owner = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;

  constructor(
    readonly store: Store,
    readonly ttlMs: number,
    readonly now: () => number = Date.now,
  ) {}

  #body(expires: number): Buffer {
    return Buffer.from(JSON.stringify({ owner: this.owner, expires } satisfies LockBody));
  }

  async holder(): Promise<string | undefined> {
    const cur = await this.store.getVersioned(LOCK_KEY);
    const body = cur ? parse(cur.body) : undefined;
    return body && body.expires > this.now() ? body.owner : undefined;
  }

  async tryAcquire(): Promise<Lease | undefined> {
    let etag = await this.store.putIfAbsent(LOCK_KEY, this.#body(this.now() + this.ttlMs));
    if (etag === undefined) {
      const cur = await this.store.getVersioned(LOCK_KEY);
      if (!cur) return this.tryAcquire(); // released in between: try again
      const body = parse(cur.body);
      if (body && body.expires > this.now() && body.owner !== this.owner) return undefined;
      etag = await this.store.putIfMatch(LOCK_KEY, this.#body(this.now() + this.ttlMs), cur.etag);
      if (etag === undefined) return undefined; // someone else took it over first
    }
    return this.#held(etag);
  }

  #held(first: string): Lease {
    let etag = first;
    const lost = new AbortController();
    let released = false;
    let renewing: Promise<void> = Promise.resolve();
    const renew = async (): Promise<void> => {
      if (released) return;
      try {
        const next = await this.store.putIfMatch(LOCK_KEY, this.#body(this.now() + this.ttlMs), etag);
        if (next === undefined) lost.abort(new Error('the backup lease was taken over by another instance'));
        else etag = next;
      } catch (error) {
        // A store outage: keep trying until the TTL would have run out.
        if (this.now() > expiresAt) lost.abort(error);
      }
      if (!lost.signal.aborted) expiresAt = this.now() + this.ttlMs;
    };
    let expiresAt = this.now() + this.ttlMs;
    const timer = setInterval(() => void (renewing = renew()), Math.max(100, Math.floor(this.ttlMs / 3)));
    timer.unref();
    return {
      owner: this.owner,
      lost: lost.signal,
      release: async () => {
        released = true;
        clearInterval(timer);
        await renewing;
        if (lost.signal.aborted) return;
        // Expire it rather than delete it: If-Match on DELETE is not supported everywhere.
        await this.store.putIfMatch(LOCK_KEY, this.#body(0), etag).catch(() => undefined);
      },
    };
  }
}

function parse(raw: Buffer): LockBody | undefined {
  try {
    const b = JSON.parse(raw.toString('utf8')) as LockBody;
    return typeof b.owner === 'string' && typeof b.expires === 'number' ? b : undefined;
  } catch {
    return undefined;
  }
}
