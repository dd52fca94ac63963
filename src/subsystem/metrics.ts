/**
 * Metrics without a metrics library: the catalog of Pilotfish's own metrics (names, help,
 * labels: declared once here so they stay consistent) and the sink subsystems record into.
 * The top hands every subsystem a sink: the telemetry subsystem's Prometheus registry when
 * `telemetry:` is configured, else one that does nothing, so a run without telemetry never
 * loads prom-client.
 *
 * Naming: `pilotfish_<thing>_<unit>`, counters end in `_total`, labels stay low-cardinality
 * (a job or operation name, never an id, path or value).
 */

export interface MetricDef {
  readonly kind: 'counter' | 'gauge' | 'histogram';
  readonly name: string;
  readonly help: string;
  readonly labels?: readonly string[];
}

export type Labels = Record<string, string>;

export interface Metrics {
  /** Add `by` (default 1) to a counter. */
  inc(def: MetricDef, labels?: Labels, by?: number): void;
  set(def: MetricDef, value: number, labels?: Labels): void;
  /** A histogram observation, in the metric's unit (seconds). */
  observe(def: MetricDef, value: number, labels?: Labels): void;
}

export const NO_METRICS: Metrics = { inc() {}, set() {}, observe() {} };

const counter = (name: string, help: string, labels?: string[]): MetricDef => ({ kind: 'counter', name, help, ...(labels ? { labels } : {}) });
const gauge = (name: string, help: string, labels?: string[]): MetricDef => ({ kind: 'gauge', name, help, ...(labels ? { labels } : {}) });
const histogram = (name: string, help: string, labels?: string[]): MetricDef => ({ kind: 'histogram', name, help, ...(labels ? { labels } : {}) });

/** The metrics the subsystems record. A metric appears once its subsystem first records it. */
export const METRICS = {
  vaultErrors: counter('pilotfish_vault_errors_total', 'Failed Vault requests, by operation.', ['operation']),
  backupBytes: counter('pilotfish_backup_bytes_total', 'Bytes uploaded by backups (after compression).'),
  backupChunksReused: counter('pilotfish_backup_chunks_reused_total', 'Chunks a backup found already stored (deduplicated).'),
  backupDuration: histogram('pilotfish_backup_duration_seconds', 'How long backups took, by result.', ['result']),
  backupLastSuccess: gauge('pilotfish_backup_last_success_timestamp_seconds', 'Unix time of the last successful backup.'),
  restoreDuration: histogram('pilotfish_restore_duration_seconds', 'How long restores took, by result.', ['result']),
} as const satisfies Record<string, MetricDef>;
