/**
 * Consul KV as environment variables for chosen jobs, envconsul-style: every key under a prefix
 * (or one key) becomes a variable, the prefix stripped, upper-cased and sanitised as configured.
 * Values are read at start and kept fresh by blocking queries; a job sees them on its next start.
 */
import type { Logger } from '../kernel/logger.js';
import { redactor } from '../kernel/redact.js';
import type { ConsulClient } from './client.js';
import type { KvEnvConfig } from './config.js';
import { BlockingQuery, type Content, type Query } from './blocking-query.js';

/** The variable name for a key (relative to the prefix when `strip`). */
export function variableName(spec: KvEnvConfig, key: string): string {
  if (spec.key !== undefined && spec.name !== undefined) return spec.name;
  let name = key;
  if (spec.strip && spec.prefix !== undefined && name.startsWith(spec.prefix)) name = name.slice(spec.prefix.length);
  if (spec.strip && spec.key !== undefined) name = name.slice(name.lastIndexOf('/') + 1);
  name = name.replace(/^\/+/, '');
  if (spec.sanitize) name = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (spec.upperCase) name = name.toUpperCase();
  name = spec.envPrefix + name;
  if (spec.sanitize && /^[0-9]/.test(name)) name = `_${name}`;
  return name;
}

/** The variables one spec gives, from the watcher's content. */
export function variablesOf(spec: KvEnvConfig, content: Content): Record<string, string> {
  const out: Record<string, string> = {};
  if (spec.key !== undefined) {
    if (typeof content === 'string') out[variableName(spec, spec.key)] = content;
    return out;
  }
  for (const [rel, value] of Object.entries((content as Record<string, string>) ?? {})) {
    const prefix = spec.prefix ?? '';
    const full = spec.strip ? rel : prefix === '' || prefix.endsWith('/') ? prefix + rel : `${prefix}/${rel}`;
    out[variableName({ ...spec, prefix: '', strip: false }, full)] = value;
  }
  return out;
}

export class KvEnvironment {
  readonly #values: Array<Record<string, string>>;
  readonly #watchers: BlockingQuery[] = [];
  readonly #first: Array<Promise<void>> = [];

  constructor(
    readonly specs: KvEnvConfig[],
    client: ConsulClient,
    log: Logger,
    datacenter: string | undefined,
  ) {
    this.#values = specs.map(() => ({}));
    specs.forEach((spec, i) => {
      const dc = datacenter ? { datacenter } : {};
      const query: Query = spec.key !== undefined ? { kind: 'key', key: spec.key, ...dc } : { kind: 'prefix', prefix: spec.prefix as string, ...dc };
      let arrived!: () => void;
      this.#first.push(new Promise((resolve) => (arrived = resolve)));
      const label = `kv env ${spec.key ?? spec.prefix}`;
      this.#watchers.push(
        new BlockingQuery(query, client, { blockingWait: 60_000, log, label }, (content) => {
          const vars = variablesOf(spec, content);
          if (spec.secret) for (const v of Object.values(vars)) redactor.add(v);
          this.#values[i] = vars;
          log.debug({ kv: spec.key ?? spec.prefix, variables: Object.keys(this.#values[i] ?? {}) }, `${label}: loaded`);
          arrived();
        }),
      );
    });
  }

  start(): void {
    for (const w of this.#watchers) w.start();
  }

  stop(): void {
    for (const w of this.#watchers) w.stop();
  }

  /** Resolves when every spec has had its first answer, or false after `timeoutMs`. */
  async loaded(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const ok = await Promise.race([Promise.all(this.#first).then(() => true), timeout]);
    clearTimeout(timer);
    return ok;
  }

  env(job: string): Record<string, string> {
    const out: Record<string, string> = {};
    this.specs.forEach((spec, i) => {
      if (spec.jobs.includes(job)) Object.assign(out, this.#values[i]);
    });
    return out;
  }

  /** Variable names per job, for status (never values). */
  names(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    this.specs.forEach((spec, i) => {
      for (const job of spec.jobs) out[job] = [...(out[job] ?? []), ...Object.keys(this.#values[i] ?? {})];
    });
    return out;
  }
}
