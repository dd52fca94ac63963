// A run validates with the schema of the sections its config has (src/top/sections.ts); the whole
// schema (src/top/schema.ts) is what `pilotfish schema`, the docs and the types come from. Both
// are composed by one function; these tests hold them to the same result.
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/top/config.js';
import { configSchema } from '../../src/top/schema.js';
import { coreSchema, schemaFor } from '../../src/top/sections.js';

const JOBS = [{ name: 'app', exec: ['/bin/true'], main: true }];
const FULL = {
  jobs: JOBS,
  consul: { address: 'localhost:8500' },
  watches: [{ name: 'db', service: 'db' }],
  templates: [{ name: 't', template: 'x', destination: '/tmp/t' }],
  telemetry: { port: 9090 },
  backup: { sources: [{ path: '/data' }], store: { local: { path: '/backups' } } },
  election: {},
  vault: { auth: { token: { env: 'VAULT_TOKEN' } } },
};

describe('the schema of the sections a config has', () => {
  it('gives what the whole schema gives, for a config with no optional section and one with all', async () => {
    for (const config of [{ jobs: JOBS }, FULL]) {
      const whole = v.parse(configSchema, config);
      expect(v.parse(await schemaFor(Object.keys(config)), config)).toEqual(whole);
    }
    expect(v.parse(coreSchema(), { jobs: JOBS })).toEqual(v.parse(configSchema, { jobs: JOBS }));
  });

  it('gives each section alone what the whole schema gives, absent sections their defaults', async () => {
    for (const [key, value] of Object.entries(FULL)) {
      const config = { jobs: JOBS, [key]: value };
      expect(v.parse(await schemaFor(Object.keys(config)), config), key).toEqual(v.parse(configSchema, config));
    }
  });

  it('still knows every key: an unknown one is refused with a suggestion, a section is checked when present', async () => {
    await expect(parseConfig('jobs: [{name: a, exec: x}]\nbackups: {}\n', 'c.yaml', {})).rejects.toThrow(/unknown key "backups" \(did you mean "backup"\?\)/);
    await expect(parseConfig('jobs: [{name: a, exec: x}]\nbackup: {sources: []}\n', 'c.yaml', {})).rejects.toThrow(/backup/);
  });
});
