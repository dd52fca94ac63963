// ContainerPilot v3 → Pilotfish: our own ContainerPilot-style fixtures, converted and validated.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/top/config.js';
import { migrate } from '../../src/migrate/containerpilot.js';
import { convertExpression, convertTemplates } from '../../src/migrate/templates.js';
import { CLI } from '../helpers/pilotfish.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

describe('templates', () => {
  it.each([
    ['.PORT', '${PORT}'],
    [' .PORT ', '${PORT}'],
    ['- .PORT -', '${PORT}'],
    ['env "HOST"', '${HOST}'],
    ['.ADDR | default "consul:8500"', '${ADDR:-consul:8500}'],
    ['env "X" | default "y"', '${X:-y}'],
    ['default "5" .N', '${N:-5}'],
  ])('{{%s}} → %s', (expr, out) => {
    expect(convertExpression(expr)?.text).toBe(out);
  });

  it.each(['.PEERS | split ","', 'if .X', 'range .Y', '.A | default "}"'])('leaves {{%s}} alone', (expr) => {
    expect(convertExpression(expr)).toBeUndefined();
  });

  it('quotes bare templates, keeps comments, escapes other $ in strings', () => {
    const r = convertTemplates('{ // a {{ .C }} comment\n port: {{ .PORT }}, exec: "echo $HOME {{ .X | default \\"a\\" }}" }');
    expect(r.text).toBe('{ // a {{ .C }} comment\n port: "${PORT}", exec: "echo $$HOME ${X:-a}" }');
    expect(r.undefaulted).toEqual(['PORT']);
  });
});

describe('migrate', () => {
  const env = { PORT: '8080', CONSUL_HOST: 'consul', CONSUL_TOKEN: 't0ken', HOME: '/root' };

  it('converts a web app config into a valid Pilotfish config', () => {
    const r = migrate(fixture('web.json5'), 'web.json5');
    const config = parseConfig(r.yaml, 'pilotfish.yaml', env);
    expect(config.jobs.map((j) => j.name)).toEqual(['setup', 'web', 'reload-upstreams', 'sensor']);
    const web = config.jobs[1];
    expect(web).toMatchObject({
      exec: '/usr/local/bin/web --port 8080',
      port: 8080,
      tags: ['http', 'v2'],
      interfaces: ['eth0', 'inet'],
      when: { source: 'setup', once: 'exitSuccess' },
      stopTimeout: 10_000,
      health: { exec: 'curl -fs http://localhost:8080/health', interval: 5000, ttl: 15_000, timeout: 3000 },
    });
    expect(web?.restarts.max).toBe(Infinity);
    expect(config.jobs[0]?.restarts.max).toBe(0);
    expect(config.jobs[2]?.when).toMatchObject({ source: 'upstream', each: 'changed' });
    expect(config.jobs[3]?.when?.interval).toBe(10_000);
    expect(config.stopTimeout).toBe(5000);
    expect(config.control.socket).toBe('/tmp/containerpilot.socket');
    expect(config.consul?.address).toBe('consul:8500');
    expect(config.watches).toMatchObject([{ name: 'upstream', service: 'upstream', tag: 'primary' }]);
    expect(config.telemetry).toMatchObject({ port: 9090, interface: 'eth0' });
    expect(config.telemetry?.metrics).toEqual([
      { name: 'requests_total', help: 'Requests served', type: 'counter' },
      { namespace: 'web', subsystem: 'pool', name: 'idle', help: 'Idle connections', type: 'gauge' },
    ]);
    expect(config.logging.level).toBe('info');
    expect(parseConfig(r.yaml, 'pilotfish.yaml', { ...env, LOG_LEVEL: 'debug' }).logging.level).toBe('debug');
    expect(r.yaml).toMatch(/^# NOTE: telemetry\.metrics\[2\]: type histogram is not supported/m);
    expect(r.yaml).toMatch(/^# NOTE: environment: .*\$\{PORT\}/m);
  });

  it('converts a database config, noting everything it could not convert', () => {
    const r = migrate(fixture('database.json5'), 'database.json5');
    for (const expected of [
      /^# NOTE: database\.json5:34: template \{\{ \.PEERS \| split \\?",\\?" \}\} cannot be converted/m,
      /^# NOTE: nonsense: has no Pilotfish equivalent; dropped$/m,
      /^# NOTE: logging\.output: Pilotfish always logs to stdout/m,
      /^# NOTE: consul\.token: a token in the config file/m,
      /^# NOTE: consul\.tls: TLS client settings are not converted/m,
      /^# NOTE: jobs\[0\]\.consul\.deregisterCriticalServiceAfter: /m,
      /^# NOTE: jobs\[4\]\.frequency: has no Pilotfish equivalent/m,
      /^# NOTE: jobs\[4\]\.when\.each: event statusChanged does not exist in Pilotfish/m,
      /^# NOTE: telemetry\.tags: /m,
    ])
      expect(r.yaml).toMatch(expected);
    const config = parseConfig(r.yaml, 'pilotfish.yaml', env);
    const db = config.jobs[0];
    expect(db).toMatchObject({ logging: 'raw', initialStatus: 'warning', port: 3306, stopTimeout: 30_000 });
    expect(db?.health?.exec).toBe("sh -c 'mysqladmin ping -u $MYSQL_USER'"); // $ stays literal
    expect(config.jobs[1]?.exec).toEqual(['/usr/local/bin/flush.sh', 'fast']);
    expect(config.jobs[2]).toMatchObject({ exec: 'echo stopped at $(date)', when: { source: 'db', once: 'stopped' } });
    expect(config.jobs[3]?.when).toMatchObject({ source: 'pilotfish', once: 'startup', timeout: 60_000 });
    expect(config.consul).toMatchObject({ address: 'https://consul:8500', token: 't0ken' });
    expect(config.watches[0]).toMatchObject({ name: 'replicas', service: 'replicas', datacenter: 'dc2' });
    expect(config.telemetry).toMatchObject({ port: 9100, address: '10.0.0.5' });
    expect(config.logging).toEqual({ level: 'debug', format: 'text' });
  });

  it('refuses template control flow with a clear message', () => {
    expect(() => migrate(fixture('control-flow.json5'), 'control-flow.json5')).toThrow(/Template control flow .* cannot be converted: render it first/);
  });

  it('pilotfish migrate prints the YAML on stdout and a summary on stderr', () => {
    const file = join(FIXTURES, 'web.json5');
    const out = execFileSync(process.execPath, [CLI, 'migrate', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toBe(migrate(fixture('web.json5'), file).yaml);
    const missing = spawnSync(process.execPath, [CLI, 'migrate', join(FIXTURES, 'nope.json5')], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.json5/);
  });
});
