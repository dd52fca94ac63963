/**
 * The subsystems a config asks for, in start order. Each concern adds one line here; the
 * supervisor knows nothing about any of them.
 */
import type { Config } from '../config/schema.js';
import type { Subsystem, SubsystemFactory } from './subsystem.js';
import { createBackup } from '../backup/subsystem.js';
import { createConsul } from '../consul/subsystem.js';
import { createElection } from '../election/subsystem.js';
import { createTemplates } from '../templates/subsystem.js';
import { createVault } from '../vault/subsystem.js';

export const FACTORIES: SubsystemFactory[] = [createVault /* before backup (its key) and templates (secret: data) */, createBackup, createConsul, createElection /* after consul: the session attaches to the service's check */, createTemplates] /* consul before templates: it provides their key:, tree:, service: data */;

export function createSubsystems(config: Config): Subsystem[] {
  return FACTORIES.map((make) => make(config)).filter((s): s is Subsystem => s !== undefined);
}
