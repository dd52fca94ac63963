/**
 * The whole config schema: every section composed (./compose.ts), statically. The
 * same definition generates the JSON Schema (`pilotfish schema`), gives the config its type and
 * is what the tests validate with; a run validates with the schema of the sections its config
 * has (sections.ts `schemaFor`), composed by the same function.
 */
import * as v from 'valibot';
import { backupSchema } from '../backup/config.js';
import { consulSchema, watchesSchema } from '../consul/config.js';
import { electionSchema } from '../election/config.js';
import { templatesSchema } from '../templates/config.js';
import { telemetrySchema } from '../telemetry/config.js';
import { vaultSchema } from '../vault/config.js';
import { compose } from './compose.js';

export const configSchema = compose({
  consul: v.optional(consulSchema),
  watches: watchesSchema,
  templates: templatesSchema,
  telemetry: v.optional(telemetrySchema),
  backup: v.optional(backupSchema),
  election: v.optional(electionSchema),
  vault: v.optional(vaultSchema),
});

export type Config = v.InferOutput<typeof configSchema>;
