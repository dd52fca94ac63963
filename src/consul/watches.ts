/**
 * A named watch from `watches:`: a {@link BlockingQuery} plus quiescence, publishing `changed`
 * (source = the watch's name) once per real change or burst of changes, and `healthy` /
 * `unhealthy` when a service's healthy-instance count goes from 0 to more and back.
 *
 * The first answer is compared with "nothing": an existing key or a service with instances
 * publishes `changed` once at start (and `healthy`), an absent one publishes nothing.
 */
import type { EventCode } from '../kernel/events.js';
import type { Logger } from '../kernel/logger.js';
import type { ConsulClient } from './client.js';
import type { WatchConfig } from './config.js';
import { BlockingQuery, fingerprint, type Content, type Query } from './blocking-query.js';

export type Publish = (code: EventCode, source: string, data?: Record<string, unknown>) => void;

export function queryOf(w: WatchConfig): Query {
  const dc = w.datacenter ? { datacenter: w.datacenter } : {};
  if (w.service !== undefined) return { kind: 'service', service: w.service, ...(w.tag ? { tag: w.tag } : {}), ...dc };
  if (w.key !== undefined) return { kind: 'key', key: w.key, ...dc };
  return { kind: 'prefix', prefix: w.prefix as string, ...dc };
}

function emptyOf(query: Query): Content {
  return query.kind === 'service' ? [] : query.kind === 'prefix' ? {} : undefined;
}

export class Watch {
  readonly #watcher: BlockingQuery;
  readonly #query: Query;
  #published: string;
  #latest: Content;
  #healthyCount = 0;
  #timer: NodeJS.Timeout | undefined;
  #firstPendingAt = 0;
  #changes = 0;

  constructor(
    readonly config: WatchConfig,
    client: ConsulClient,
    private readonly log: Logger,
    private readonly publish: Publish,
    requestTimeout = 10_000,
  ) {
    this.#query = queryOf(config);
    this.#latest = emptyOf(this.#query);
    this.#published = fingerprint(this.#latest);
    this.#watcher = new BlockingQuery(
      this.#query,
      client,
      {
        blockingWait: config.blockingWait,
        requestTimeout,
        ...(config.interval !== undefined ? { interval: config.interval } : {}),
        log,
        label: `watch ${config.name}`,
      },
      (content) => this.#onContent(content),
    );
  }

  get name(): string {
    return this.config.name;
  }

  start(): void {
    this.#watcher.start();
  }

  stop(): void {
    this.#watcher.stop();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  status(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.#query.kind,
      changes: this.#changes,
      ...(this.#query.kind === 'service' ? { healthy: this.#healthyCount } : {}),
      ...this.#watcher.status(),
    };
  }

  #onContent(content: Content): void {
    this.#latest = content;
    if (this.#query.kind === 'service') {
      const count = (content as unknown[]).length;
      if (count > 0 !== this.#healthyCount > 0) {
        this.log.info({ watch: this.name, instances: count }, `watch ${this.name}: service ${count > 0 ? 'has healthy instances' : 'has no healthy instance'}`);
        this.publish(count > 0 ? 'healthy' : 'unhealthy', this.name, { instances: count });
      }
      this.#healthyCount = count;
    }
    const { min } = this.config.wait;
    if (min <= 0) return this.#flush();
    const now = Date.now();
    if (!this.#timer) this.#firstPendingAt = now;
    else clearTimeout(this.#timer);
    const max = this.config.wait.max ?? min * 4;
    const due = Math.min(now + min, this.#firstPendingAt + Math.max(max, min));
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#flush();
      },
      Math.max(0, due - now),
    );
  }

  #flush(): void {
    const print = fingerprint(this.#latest);
    if (print === this.#published) return; // a burst that ended where it began
    this.#published = print;
    this.#changes++;
    const size = Array.isArray(this.#latest)
      ? this.#latest.length
      : this.#latest && typeof this.#latest === 'object'
        ? Object.keys(this.#latest).length
        : this.#latest === undefined
          ? 0
          : 1;
    this.log.info({ watch: this.name, size }, `watch ${this.name} changed`);
    this.publish('changed', this.name, { size });
  }
}
