/**
 * The whole config schema, composed from each subsystem's own schema. The same definition
 * validates configs and generates the JSON Schema (`pilotfish schema`), so they cannot drift.
 */
import { z } from 'zod';
import { backupSchema } from '../backup/config.js';
import { consulSchema, watchesSchema } from '../consul/config.js';
import { jobSchema } from '../jobs/config.js';
import { templatesSchema } from '../templates/config.js';
import { signalsSchema } from '../pid1/config.js';
import { duration } from './types.js';

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
    backup: backupSchema.optional(),
  })
  .meta({ title: 'Pilotfish configuration' });

export type Config = z.output<typeof configSchema>;

let cached: Record<string, unknown> | undefined;

/** The JSON Schema (draft-07) of the config as written by users (the input side). */
export function jsonSchema(): Record<string, unknown> {
  cached ??= z.toJSONSchema(configSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return cached;
}
