/**
 * The schema of a given config: the sections every config has (./compose.ts) with the schemas
 * of the on-demand sections it has, each loaded only then. A run without `backup:` neither loads
 * nor builds the backup section's schema: building every section's schema cost each start about
 * 0.9 MiB and 3% of its time (bench/startup/README.md). The whole schema, every section composed
 * the same way, is in ./schema.ts, for `pilotfish schema`, the docs, the types and the tests.
 */
import * as v from 'valibot';
import { BACKUP_SOURCE, ELECTION_SOURCE } from '../kernel/events.js';
import { compose, type Sections } from './compose.js';
import type { Config } from './schema.js';

type Section = keyof Sections;

/**
 * Each on-demand section: its schema, loaded when a config has the section, and what the whole
 * schema makes of its absence (test/config/sections.test.ts holds the two to the same output).
 */
const ON_DEMAND: Record<Section, { load: () => Promise<v.GenericSchema>; absent?: () => unknown }> = {
  consul: { load: async () => v.optional((await import('../consul/config.js')).consulSchema) },
  watches: { load: async () => (await import('../consul/config.js')).watchesSchema, absent: () => [] },
  templates: { load: async () => (await import('../templates/config.js')).templatesSchema, absent: () => [] },
  telemetry: { load: async () => v.optional((await import('../telemetry/config.js')).telemetrySchema) },
  backup: { load: async () => v.optional((await import('../backup/config.js')).backupSchema) },
  election: { load: async () => v.optional((await import('../election/config.js')).electionSchema) },
  vault: { load: async () => v.optional((await import('../vault/config.js')).vaultSchema) },
};

const SECTIONS = Object.keys(ON_DEMAND) as Section[];
/** A section the config does not have: it may only be absent. */
const absentSchema = (section: Section): v.GenericSchema => {
  const absent = ON_DEMAND[section].absent;
  // valibot checks a default against the schema it wraps: an empty list is a list of nothing.
  return absent ? v.optional(v.array(v.never()), absent as () => never[]) : v.optional(v.undefined());
};

/** The schema of the config with these top-level keys: only their sections' schemas loaded. */
export async function schemaFor(keys: Iterable<string>): Promise<v.GenericSchema<unknown, Config>> {
  const present = new Set(keys);
  const entries = await Promise.all(SECTIONS.map(async (s) => [s, present.has(s) ? await ON_DEMAND[s].load() : absentSchema(s)] as const));
  return compose(Object.fromEntries(entries) as unknown as Sections) as unknown as v.GenericSchema<unknown, Config>;
}

/** The schema of a config with none of the on-demand sections (a config made from arguments). */
export const coreSchema = (): v.GenericSchema<unknown, Config> =>
  compose(Object.fromEntries(SECTIONS.map((s) => [s, absentSchema(s)])) as unknown as Sections) as unknown as v.GenericSchema<unknown, Config>;

/**
 * Event sources beyond jobs, signals and `pilotfish`, so `when.source` can be checked: one line
 * per concern that publishes under names of its own.
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
