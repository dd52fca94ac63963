/**
 * The subsystems a config asks for, in start order. Each concern adds one line here; the
 * supervisor knows nothing about any of them.
 */
import type { Config } from './schema.js';
import type { Subsystem, SubsystemFactory } from '../subsystem/contract.js';
import { createBackup } from '../backup/subsystem.js';
import { createConsul } from '../consul/subsystem.js';
import { createElection } from '../election/subsystem.js';
import { createTemplates } from '../templates/subsystem.js';
import { createControl } from '../control/index.js';
import { createTelemetry } from '../telemetry/index.js';
import { createVault } from '../vault/subsystem.js';

export const FACTORIES: SubsystemFactory[] = [
  createControl,
  createTelemetry,
  createVault, // before backup (its key may come from Vault) and templates (secret: data)
  createBackup,
  createConsul, // before templates: it provides their key:, tree: and service: data
  createElection, // after consul: the session attaches to the service's registered check
  createTemplates,
];

export function createSubsystems(config: Config): Subsystem[] {
  return FACTORIES.map((make) => make(config)).filter((s): s is Subsystem => s !== undefined);
}
