import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/top/config.js';
import { jsonSchema } from '../../src/top/json-schema.js';

async function issues(text: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await parseConfig(text, 'test.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('parses a minimal config with defaults', async () => {
    const config = await parseConfig('jobs:\n  - name: app\n    exec: sleep 1\n', 'x.yaml', {});
    expect(config.stopTimeout).toBe(10_000);
    expect(config.logging).toEqual({ level: 'info', format: 'json' });
    expect(config.jobs[0]).toMatchObject({ name: 'app', exec: 'sleep 1', stopSignal: 'SIGTERM', main: false, restarts: { max: 0 } });
  });

  it('parses durations in every accepted form', async () => {
    const config = await parseConfig(
      `stopTimeout: 1m
jobs:
  - name: a
    exec: [x]
    timeout: 250ms
    health: {exec: ["true"], interval: 5, timeout: 1.5s}
`,
      'x.yaml',
      {},
    );
    expect(config.stopTimeout).toBe(60_000);
    expect(config.jobs[0]?.timeout).toBe(250);
    expect(config.jobs[0]?.health).toMatchObject({ interval: 5000, timeout: 1500 });
  });

  it('accepts JSON', async () => {
    const config = await parseConfig('{"jobs": [{"name": "a", "exec": ["true"], "main": true}]}', 'x.json', {});
    expect(config.jobs[0]?.main).toBe(true);
  });

  it('interpolates ${VAR} and ${VAR:-default} in values, never in keys', async () => {
    const config = await parseConfig(
      `jobs:
  - name: \${NAME}
    exec: [echo, "\${GREETING:-hello}", "$$HOME"]
    env: { PORT: "\${PORT:-8080}" }
    port: \${PORT:-8080}
`,
      'x.yaml',
      { NAME: 'web', PORT: '' },
    );
    expect(config.jobs[0]).toMatchObject({ name: 'web', exec: ['echo', 'hello', '$HOME'], env: { PORT: '8080' }, port: 8080 });
  });

  it('names file, line, column and key path, with a suggestion for a typo', async () => {
    const out = await issues(`logging:
  level: debugg
jobs:
  - name: app
    exec: [x]
    helth:
      exec: [true]
    restarts: sometimes
`);
    expect(out).toEqual([
      'test.yaml:2:10: logging.level: expected one of trace, debug, info, warn, error, fatal, silent (did you mean "debug"?)',
      'test.yaml:6:5: jobs[0].helth: unknown key "helth" (did you mean "health"?)',
      'test.yaml:8:15: jobs[0].restarts: expected a number, "unlimited" or "never" (from 0 to 1000000000); got "sometimes"',
    ]);
  });

  it('reports an unset variable with its position', async () => {
    expect(await issues('jobs:\n  - name: a\n    exec: ${NOPE}\n')).toEqual([
      'test.yaml:3:11: jobs[0].exec: environment variable NOPE is not set; give a default with ${NOPE:-value}',
    ]);
  });

  it('reports missing keys, duplicates, two mains and unknown sources', async () => {
    expect(await issues('jobs:\n  - exec: [x]\n')).toEqual(['test.yaml:2:5: jobs[0].name: missing required key']);
    const out = await issues(`jobs:
  - name: app
    exec: [x]
    main: true
  - name: app
    exec: [y]
    main: true
    when: {source: ap, once: exitSuccess}
`);
    expect(out).toContain('test.yaml:5:11: jobs[1].name: duplicate job name "app"');
    expect(out).toContain('test.yaml:7:11: jobs[1].main: only one job can be main');
    expect(out).toContain('test.yaml:8:20: jobs[1].when.source: unknown event source "ap" (did you mean "app"?)');
  });

  it('checks the backup triggers against the other sections', async () => {
    const out = await issues(`jobs:
  - name: app
    exec: [x]
backup:
  sources: [{path: /data}]
  store: {local: {path: /repo}}
  primaryOnly: true
  triggers:
    events: [{source: ap, on: exitSuccess}]
`);
    expect(out).toEqual([
      'test.yaml:7:16: backup.primaryOnly: primaryOnly needs an election: section (which instance is the primary?)',
      'test.yaml:9:23: backup.triggers.events[0].source: unknown event source "ap" (did you mean "app"?)',
    ]);
    expect(
      await issues(`jobs: [{name: app, exec: [x]}]
vault:
  secrets: [{name: backup-key, path: secret/k}]
backup:
  sources: [{path: /data}]
  store: {s3: {bucket: b, credentials: {vault: {secret: s3}}}}
  encryption: {key: {vault: {secret: backupkey, field: key}}}
`),
    ).toEqual([
      'test.yaml:6:57: backup.store.s3.credentials.vault.secret: unknown vault secret "s3"',
      'test.yaml:7:38: backup.encryption.key.vault.secret: unknown vault secret "backupkey" (did you mean "backup-key"?)',
    ]);
  });

  it('names the word a typo in a list of fixed words meant, with or without a message of its own', async () => {
    const out = await issues(`jobs:
  - name: a
    exec: [x]
    stopSignal: SIGTREM
    logging: rwa
    when: {source: pilotfish, once: startpu}
`);
    expect(out.find((l) => l.includes('stopSignal'))).toMatch(/: jobs\[0\]\.stopSignal: expected a signal name: SIGHUP, .* \(did you mean "SIGTERM"\?\)$/);
    expect(out.find((l) => l.includes('logging'))).toMatch(/: jobs\[0\]\.logging: expected one of wrapped, raw \(did you mean "raw"\?\)$/);
    expect(out.find((l) => l.includes('once'))).toMatch(/: jobs\[0\]\.when\.once: expected an event: .* \(did you mean "startup"\?\)$/);
  });

  it('rejects YAML syntax errors with a position', async () => {
    const out = await issues('jobs:\n  - name: [unclosed\n');
    expect(out[0]).toMatch(/^test\.yaml:\d+:\d+: /);
  });

  it('rejects inconsistent when clauses', async () => {
    const out = await issues(`jobs:
  - name: a
    exec: [x]
    when: {interval: 5s, source: pilotfish}
`);
    expect(out[0]).toMatch(/jobs\[0\]\.when: set exactly one of source, interval or all/);
  });

  it('generates a draft-07 JSON Schema that rejects unknown keys', async () => {
    const schema = jsonSchema() as { $schema: string; additionalProperties: boolean; properties: Record<string, unknown> };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['jobs', 'logging', 'signals', 'stopTimeout']));
  });
});
