/**
 * The whole config schema, composed from each subsystem's own schema. The same definition
 * validates configs and generates the JSON Schema (`pilotfish schema`), so they cannot drift.
 */
import * as v from 'valibot';
import { BACKUP_SOURCE, backupSchema } from '../backup/config.js';
import { controlSchema } from '../control/config.js';
import { ELECTION_SOURCE, electionSchema } from '../election/config.js';
import { consulSchema, watchesSchema } from '../consul/config.js';
import { jobSchema } from '../jobs/config.js';
import { templatesSchema } from '../templates/config.js';
import { telemetrySchema } from '../telemetry/config.js';
import { signalsSchema } from '../pid1/config.js';
import { vaultSchema } from '../vault/config.js';
import { duration, oneOf, strictObject } from '../config/types.js';

export const loggingSchema = v.optional(
  strictObject({
    level: v.optional(oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info'),
    format: v.optional(oneOf(['json', 'text']), 'json'),
  }),
  {},
);

export const configSchema = v.pipe(
  strictObject({
    $schema: v.optional(v.pipe(v.string(), v.description('Ignored; lets editors find the JSON Schema.'))),
    logging: loggingSchema,
    stopTimeout: v.optional(v.pipe(duration, v.description('Default time a job gets to stop before SIGKILL.')), '10s'),
    signals: signalsSchema,
    jobs: v.pipe(v.array(jobSchema), v.minLength(1, 'at least one job is needed')),
    consul: v.optional(consulSchema),
    watches: watchesSchema,
    templates: templatesSchema,
    control: controlSchema,
    telemetry: v.optional(telemetrySchema),
    backup: v.optional(backupSchema),
    election: v.optional(electionSchema),
    vault: v.optional(vaultSchema),
  }),
  v.title('Pilotfish configuration'),
);

export type Config = v.InferOutput<typeof configSchema>;

/**
 * Event sources beyond jobs, signals and `pilotfish`, so `when.source` can be checked: one line
 * per concern that publishes under names of its own. (Declared here, where every section is
 * already imported, rather than registered at runtime: registration from a concern's config
 * module made an import cycle with the loader.)
 */
export function eventSources(config: Config): string[] {
  return [
    ...config.watches.map((w) => w.name), // consul watches
    ...config.templates.map((t) => t.name), // templates
    ...(config.backup ? [BACKUP_SOURCE] : []), // backup: restored, backedUp, backupFailed
    ...(config.election ? [ELECTION_SOURCE] : []), // election: elected, demoted
    ...(config.vault?.secrets.map((s) => s.name) ?? []), // vault secrets: changed on rotation
  ];
}
