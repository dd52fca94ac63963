/**
 * The whole config schema, composed from each subsystem's own schema. The same definition
 * validates configs and generates the JSON Schema (`pilotfish schema`), so they cannot drift.
 */
import { z } from 'zod';
import { BACKUP_SOURCE, backupSchema } from '../backup/config.js';
import { controlSchema } from '../control/config.js';
import { ELECTION_SOURCE, electionSchema } from '../election/config.js';
import { consulSchema, watchesSchema } from '../consul/config.js';
import { jobSchema } from '../jobs/config.js';
import { templatesSchema } from '../templates/config.js';
import { telemetrySchema } from '../telemetry/config.js';
import { signalsSchema } from '../pid1/config.js';
import { vaultSchema } from '../vault/config.js';
import { duration } from '../config/types.js';

export const loggingSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    format: z.enum(['json', 'text']).default('json'),
  })
  .default({ level: 'info', format: 'json' });

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Ignored; lets editors find the JSON Schema.' }),
    logging: loggingSchema,
    stopTimeout: duration.default(10_000).meta({ description: 'Default time a job gets to stop before SIGKILL.' }),
    signals: signalsSchema,
    jobs: z.array(jobSchema).min(1, 'at least one job is needed'),
    consul: consulSchema.optional(),
    watches: watchesSchema,
    templates: templatesSchema,
    control: controlSchema,
    telemetry: telemetrySchema.optional(),
    backup: backupSchema.optional(),
    election: electionSchema.optional(),
    vault: vaultSchema.optional(),
  })
  .meta({ title: 'Pilotfish configuration' });

export type Config = z.output<typeof configSchema>;

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

let cached: Record<string, unknown> | undefined;

/** The JSON Schema (draft-07) of the config as written by users (the input side). */
export function jsonSchema(): Record<string, unknown> {
  cached ??= z.toJSONSchema(configSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return cached;
}
