/** What the elector (./elector.ts) is given by the election subsystem. */
import type { EventBus } from '../kernel/events.js';
import type { Logger } from '../kernel/logger.js';
import type { ConsulSessions, SessionSpec } from '../subsystem/capabilities.js';
import type { ElectionConfig } from './config.js';

export type Role = 'primary' | 'replica';

export interface ElectorDeps {
  config: ElectionConfig;
  consul: ConsulSessions;
  bus: EventBus;
  log: Logger;
  key: string;
  /** The elected job. */
  job: string;
  /** Who we are, written into the key: {id, address, port, ...meta}. */
  identity: { id: string; address: string; port?: number; [k: string]: unknown };
  session: SessionSpec;
  /** Timeout of each non-blocking Consul request. */
  requestTimeout: number;
  /** May this instance hold the lock (the job runs and its health check passes)? */
  eligible: () => boolean;
  /** The environment the candidate gate and the rank command run with. */
  gateEnv: () => Record<string, string>;
}
