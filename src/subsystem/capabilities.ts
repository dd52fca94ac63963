/**
 * What one concern offers another, handed in by the top at construction: never a global, a
 * registry keyed by the bus, or an import of another subsystem's files.
 *
 * - `metrics`: where to record (telemetry's Prometheus registry, or nothing).
 * - `templateSources`: the run's template data sources; Consul and Vault register theirs,
 *   templates read them.
 * - `consul`: sessions and locks on the Consul agent (election, the backup writer lock), and
 *   how the Consul subsystem registers a job's service (the election ties its session to the
 *   service's check).
 * - `secrets`: a `vault.secrets` entry's current data (the backup key and S3 credentials).
 */
import type { JobConfig } from '../jobs/config.js';
import type { ErrorCode } from '../kernel/errors.js';
import type { Metrics } from './metrics.js';
import type { TemplateSourceRegistry } from './template-sources.js';

export interface Capabilities {
  readonly metrics: Metrics;
  readonly templateSources: TemplateSourceRegistry;
  /** Present when the config has a consul: section, or something needs the agent's defaults. */
  readonly consul?: ConsulAccess | undefined;
  /** Present when the config has a vault: section. */
  readonly secrets?: SecretReader | undefined;
}

export interface SessionSpec {
  name: string;
  ttlMs: number;
  lockDelayMs: number;
  behavior: 'release' | 'delete';
  /** Check IDs: `service:<id>` ones become ServiceChecks, the rest NodeChecks (e.g. serfHealth). */
  checks: string[];
}

export interface KeyState {
  session: string | undefined;
  lockIndex: number;
  modifyIndex: number;
  value: string;
}

/** Sessions and session locks on one Consul agent. Errors say `sessionGone` (see below). */
export interface ConsulSessions {
  readonly address: string;
  createSession(spec: SessionSpec, timeoutMs: number): Promise<string>;
  /** Rejects with an error whose `sessionGone` is true when Consul no longer knows the session. */
  renewSession(id: string, timeoutMs: number): Promise<void>;
  destroySession(id: string, timeoutMs: number): Promise<void>;
  acquire(key: string, session: string, value: string, timeoutMs: number): Promise<boolean>;
  release(key: string, session: string, timeoutMs: number): Promise<boolean>;
  readKey(
    key: string,
    opts: { index: number; waitMs: number; consistent?: boolean; signal?: AbortSignal },
  ): Promise<{ state: KeyState | undefined; index: number }>;
  readPrefix(
    prefix: string,
    opts: { index: number; waitMs: number; signal?: AbortSignal },
  ): Promise<{ entries: Array<KeyState & { key: string }>; index: number }>;
  deleteKey(key: string, timeoutMs: number): Promise<void>;
}

/** Whether a failed Consul call means the session is gone (expired, destroyed, or Consul lost its state). */
export function sessionGone(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { sessionGone?: unknown }).sessionGone === true;
}

/** How a job's service is registered: what the election needs to tie its session to the check. */
export interface ServiceRegistration {
  id: string;
  address: string;
  /** The TTL of the service's check, when the job has a health check. */
  ttl?: number | undefined;
}

export interface ConsulAccess {
  /** The agent's address, for logs. */
  readonly address: string;
  /** The configured timeout of one Consul request, in ms. */
  readonly requestTimeout: number;
  /** A session client on the configured agent. */
  sessions(): ConsulSessions;
  /** The job's service as the Consul subsystem registers it; undefined when it is not registered. */
  serviceOf(job: JobConfig): ServiceRegistration | undefined;
}

export interface SecretReader {
  /**
   * A `vault.secrets` entry's current data (waits for the first reading). Rejects with a
   * PilotfishError of `code` whose message names `what` and the secret.
   */
  read(name: string, use: { what: string; code: ErrorCode }): Promise<Readonly<Record<string, unknown>>>;
}
