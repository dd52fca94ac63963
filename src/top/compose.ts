/**
 * How the config's sections compose into one schema: the sections every config has (jobs,
 * logging, signals, control), and the on-demand ones as given. ./schema.ts composes every
 * section with it; ./sections.ts only the sections a config has.
 */
import * as v from 'valibot';
import { controlSchema } from '../control/config.js';
import { jobSchema } from '../jobs/config.js';
import { signalsSchema } from '../pid1/config.js';
import { duration, oneOf, strictObject } from '../config/types.js';

export const loggingSchema = v.optional(
  strictObject({
    level: v.optional(oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info'),
    format: v.optional(oneOf(['json', 'text']), 'json'),
  }),
  {},
);

type S = v.GenericSchema;
/** The sections loaded on demand, each as the config holds it (optional, or a list that defaults to empty). */
export interface Sections<
  Consul extends S = S,
  Watches extends S = S,
  Templates extends S = S,
  Telemetry extends S = S,
  Backup extends S = S,
  Election extends S = S,
  Vault extends S = S,
> {
  consul: Consul;
  watches: Watches;
  templates: Templates;
  telemetry: Telemetry;
  backup: Backup;
  election: Election;
  vault: Vault;
}

/** The config's schema from the schemas of its on-demand sections. */
export function compose<Consul extends S, Watches extends S, Templates extends S, Telemetry extends S, Backup extends S, Election extends S, Vault extends S>(
  s: Sections<Consul, Watches, Templates, Telemetry, Backup, Election, Vault>,
) {
  return v.pipe(
    strictObject({
      $schema: v.optional(v.pipe(v.string(), v.description('Ignored; lets editors find the JSON Schema.'))),
      logging: loggingSchema,
      stopTimeout: v.optional(v.pipe(duration, v.description('Default time a job gets to stop before SIGKILL.')), '10s'),
      signals: signalsSchema,
      jobs: v.pipe(v.array(jobSchema), v.minLength(1, 'at least one job is needed')),
      consul: s.consul,
      watches: s.watches,
      templates: s.templates,
      control: controlSchema,
      telemetry: s.telemetry,
      backup: s.backup,
      election: s.election,
      vault: s.vault,
    }),
    v.title('Pilotfish configuration'),
  );
}
