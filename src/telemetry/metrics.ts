/**
 * The shared metrics registry and helpers, so subsystems record metrics without knowing
 * prom-client. Helpers get-or-create by name, so calling them again (a restart, a test) is safe.
 *
 * Other subsystems never import this file: they record through the `Metrics` sink the top
 * hands them (src/subsystem/metrics.ts), which is {@link prometheusSink} when telemetry runs.
 *
 * Naming: `pilotfish_<thing>_<unit>`, counters end in `_total`, labels stay low-cardinality
 * (a job or operation name, never an id, path or value).
 */
import client from 'prom-client';
import type { MetricDef, Metrics } from '../subsystem/metrics.js';

export const registry = new client.Registry();
export const CONTENT_TYPE = client.prometheusContentType;

export type Counter = client.Counter<string>;
export type Gauge = client.Gauge<string>;
export type Histogram = client.Histogram<string>;
type Collect<T> = (this: T) => void | Promise<void>;

/** The metric already registered under `name`; it must be of the same kind (by instanceof: bundling renames classes). */
function existing<T>(name: string, kind: abstract new (...args: never[]) => unknown): T | undefined {
  const found = registry.getSingleMetric(name);
  if (found && !(found instanceof kind)) throw new Error(`metric ${name} is already registered with another type`);
  return found as T | undefined;
}

function checkName(name: string, internal: boolean): void {
  if (internal && !name.startsWith('pilotfish_')) throw new Error(`metric ${name} must start with pilotfish_`);
}

export interface MetricOptions<T> {
  labels?: string[];
  /** Called at each scrape to refresh the value (for values read from elsewhere). */
  collect?: Collect<T>;
  /** False for user-declared metrics, which may have any valid name. */
  internal?: boolean;
}

export function counter(name: string, help: string, options: MetricOptions<Counter> = {}): Counter {
  checkName(name, options.internal ?? true);
  if (!name.endsWith('_total') && (options.internal ?? true)) throw new Error(`counter ${name} must end in _total`);
  return (
    existing<Counter>(name, client.Counter) ??
    new client.Counter({ name, help, labelNames: options.labels ?? [], registers: [registry], ...(options.collect ? { collect: options.collect } : {}) })
  );
}

export function gauge(name: string, help: string, options: MetricOptions<Gauge> = {}): Gauge {
  checkName(name, options.internal ?? true);
  return (
    existing<Gauge>(name, client.Gauge) ??
    new client.Gauge({ name, help, labelNames: options.labels ?? [], registers: [registry], ...(options.collect ? { collect: options.collect } : {}) })
  );
}

/** A histogram in seconds; the default buckets span 10 ms to 30 min (backups, restores, requests). */
export function histogram(name: string, help: string, options: { labels?: string[]; buckets?: number[] } = {}): Histogram {
  checkName(name, true);
  return (
    existing<Histogram>(name, client.Histogram) ??
    new client.Histogram({
      name,
      help,
      labelNames: options.labels ?? [],
      buckets: options.buckets ?? [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800],
      registers: [registry],
    })
  );
}

/** Remove a metric (e.g. a user-declared one on shutdown). */
export function unregister(name: string): void {
  registry.removeSingleMetric(name);
}

/** The Prometheus text exposition of every registered metric. */
export function exposition(): Promise<string> {
  return registry.metrics();
}

/** The sink the top hands to every subsystem when telemetry is configured (see subsystem/metrics.ts). */
export function prometheusSink(): Metrics {
  const labelsOf = (def: MetricDef): string[] => [...(def.labels ?? [])];
  const counterOf = (def: MetricDef): Counter => counter(def.name, def.help, { labels: labelsOf(def) });
  const gaugeOf = (def: MetricDef): Gauge => gauge(def.name, def.help, { labels: labelsOf(def) });
  const histogramOf = (def: MetricDef): Histogram => histogram(def.name, def.help, { labels: labelsOf(def) });
  return {
    inc: (def, labels = {}, by = 1) => counterOf(def).inc(labels, by),
    set: (def, value, labels = {}) => gaugeOf(def).set(labels, value),
    observe: (def, value, labels = {}) => histogramOf(def).observe(labels, value),
  };
}
