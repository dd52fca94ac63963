/**
 * A blocking-query loop over one Consul read (a service's healthy instances, a key, a prefix),
 * handing on normalized content only when it really changed.
 *
 * - Each request carries `index` and `wait`, and a client-side timeout longer than `wait`
 *   (a dropped connection would otherwise hang the loop silently).
 * - The index is reset to 0 when it goes backwards or is missing (agent restarted, data lost).
 * - Errors back off exponentially; warnings are rate-limited; the loop never gives up.
 * - With `interval`, it polls instead (ContainerPilot's style, kept for comparison).
 */
import type { Logger } from '../kernel/logger.js';
import { backoff, blockingRead, reasonOf, RequestContext, type ConsulClient } from './client.js';
import { delay, RateLimiter } from '../kernel/backoff.js';
import { isoTime } from '../kernel/time.js';

export type Query =
  | { kind: 'service'; service: string; tag?: string; datacenter?: string }
  | { kind: 'key'; key: string; datacenter?: string }
  | { kind: 'prefix'; prefix: string; datacenter?: string };

export interface Instance {
  id: string;
  name: string;
  node: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
}

/** key → string | undefined; prefix → {relative key: value}; service → instances sorted by node and id. */
export type Content = string | undefined | Record<string, string> | Instance[];

export interface BlockingQueryOptions {
  blockingWait: number;
  /** Timeout of a non-blocking read, and the margin past `wait` of a blocking one (default 10 s). */
  requestTimeout?: number;
  interval?: number;
  log: Logger;
  /** For log lines: "watch web", "template app.conf". */
  label: string;
}

interface KvItem {
  Key: string;
  Value: string | null;
}

interface HealthEntry {
  Node?: { Node?: string; Address?: string };
  Service?: { ID?: string; Service?: string; Address?: string; Port?: number; Tags?: string[] | null; Meta?: Record<string, string> | null };
}

function sortedRecord(obj: Record<string, string> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(obj ?? {}).sort()) out[k] = (obj as Record<string, string>)[k] as string;
  return out;
}

export function normalize(query: Query, body: unknown): Content {
  if (query.kind === 'key') {
    const item = body as KvItem | undefined;
    return item ? (item.Value ?? '') : undefined;
  }
  if (query.kind === 'prefix') {
    const items = (Array.isArray(body) ? body : body ? [body] : []) as KvItem[];
    const out: Record<string, string> = {};
    for (const it of [...items].sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0))) {
      if (it.Key.endsWith('/') && (it.Value === null || it.Value === '')) continue; // a "folder"
      out[it.Key.slice(query.prefix.length).replace(/^\//, '')] = it.Value ?? '';
    }
    return out;
  }
  const entries = (Array.isArray(body) ? body : []) as HealthEntry[];
  return entries
    .map((e) => ({
      id: e.Service?.ID ?? '',
      name: e.Service?.Service ?? query.service,
      node: e.Node?.Node ?? '',
      address: e.Service?.Address || e.Node?.Address || '',
      port: e.Service?.Port ?? 0,
      tags: [...(e.Service?.Tags ?? [])].sort(),
      meta: sortedRecord(e.Service?.Meta),
    }))
    .sort((a, b) => (a.node + '\0' + a.id < b.node + '\0' + b.id ? -1 : 1));
}

/** A canonical string of content: equal strings mean equal content, whatever the order. */
export function fingerprint(content: Content): string {
  return JSON.stringify(content ?? null);
}

export class BlockingQuery {
  #ctx: RequestContext | undefined;
  #abort = new AbortController();
  #running = false;
  #last: string | undefined;
  #index = 0;
  #errors = 0;
  #updates = 0;
  #lastOk = 0;
  readonly #warn = new RateLimiter(10_000);

  constructor(
    readonly query: Query,
    private readonly client: ConsulClient,
    private readonly options: BlockingQueryOptions,
    /** Called with the first content and then on every real change. */
    private readonly onContent: (content: Content) => void,
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  stop(): void {
    this.#running = false;
    this.#abort.abort();
    this.#ctx?.cancel();
  }

  status(): Record<string, unknown> {
    return { index: this.#index, updates: this.#updates, errors: this.#errors, lastContact: this.#lastOk ? isoTime(this.#lastOk) : null };
  }

  async #loop(): Promise<void> {
    const polling = this.options.interval !== undefined;
    while (this.#running) {
      const ctx = new RequestContext();
      this.#ctx = ctx;
      const waitMs = this.options.blockingWait;
      const margin = this.options.requestTimeout ?? 10_000;
      try {
        const res = await blockingRead(this.#call(), {
          ctx,
          ...(polling ? {} : { index: this.#index, waitMs }),
          // Consul adds up to wait/16 of jitter; give it that and a margin before calling it hung.
          timeoutMs: polling || this.#index === 0 ? margin : waitMs + waitMs / 16 + margin,
        });
        if (!this.#running) return;
        if (this.#errors > 0) this.options.log.info({ watch: this.options.label }, `${this.options.label}: Consul answers again`);
        this.#errors = 0;
        this.#lastOk = Date.now();
        this.#warn.clear('warn');
        const previous = this.#index;
        // Reset when the index goes backwards or is missing: the agent restarted or lost its data.
        this.#index = res.index > 0 && res.index >= previous ? res.index : 0;
        const content = normalize(this.query, res.body);
        const print = fingerprint(content);
        const changed = print !== this.#last;
        this.options.log.trace({ watch: this.options.label, index: res.index, changed }, `${this.options.label}: answer at index ${res.index}`);
        if (changed) {
          this.#last = print;
          this.#updates++;
          this.onContent(content);
        }
        if (polling) await delay(this.options.interval as number, this.#abort.signal);
        else if (this.#index === 0 || this.#index === previous) await delay(50, this.#abort.signal); // never spin
      } catch (error) {
        if (!this.#running) return;
        this.#errors++;
        this.#index = 0;
        const held = this.#warn.allow('warn');
        if (held !== undefined)
          this.options.log.warn(
            { watch: this.options.label, err: reasonOf(error), failures: this.#errors },
            `${this.options.label}: cannot reach Consul (${reasonOf(error)}); retrying with backoff`,
          );
        await delay(backoff(this.#errors - 1, 250, 10_000), this.#abort.signal);
      } finally {
        if (this.#ctx === ctx) this.#ctx = undefined;
      }
    }
  }

  #call(): (opts: Record<string, unknown>) => Promise<unknown> {
    const q = this.query;
    const dc = q.datacenter ? { dc: q.datacenter } : {};
    if (q.kind === 'service') return (o) => this.client.health.service({ service: q.service, passing: true, ...(q.tag ? { tag: q.tag } : {}), ...dc, ...o });
    if (q.kind === 'key') return (o) => this.client.kv.get({ key: q.key, ...dc, ...o });
    return (o) => this.client.kv.get({ key: q.prefix, recurse: true, ...dc, ...o } as never);
  }
}
