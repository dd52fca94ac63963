// ContainerPilot 2 and 3 → Pilotfish: our own corpus (test/migrate/fixtures, written from
// ContainerPilot's documented format), each config migrated and validated under two
// environments (a local Consul agent, and none), with what each construct became.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/top/config.js';
import JSON5 from 'json5';
import { isContainerPilot, migrate } from '../../src/migrate/containerpilot.js';
import { renderTemplate } from '../../src/migrate/render.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const CORPUS = ['v2', 'v3'].flatMap((v) => readdirSync(join(FIXTURES, v)).map((f) => `${v}/${f}`));

const AGENT = {
  CONSUL_AGENT: '1',
  CONSUL: 'consul.example',
  PORT: '8080',
  PEERS: 'db1,db2',
  NAME: 'my_app1',
  MODE: 'primary',
  WORKER_1: 'w1',
  EXTRA: 'x y',
  BACKUP_CMD: '/bin/backup',
  BACKENDS: 'db,cache-1',
  BACKUP_FREQUENCY: '10m',
  ROLE: 'primary',
  WATCHES: 'a,b',
  HOME: '/root',
};
const NO_AGENT = { CONSUL: 'consul.example', MODE: 'replica' };
const ENVS = { 'with a Consul agent': AGENT, 'without an agent': NO_AGENT, 'with nothing set (CONSUL unset too)': {} } as const;

const load = async (name: string, env: Record<string, string>, app?: string[]) => {
  const r = migrate(fixture(name), { file: name, env, ...(app ? { app } : {}) });
  return { ...r, parsed: await parseConfig(r.yaml, `${name}.yaml`, env) };
};

describe('the corpus migrates to valid configs', () => {
  for (const name of CORPUS)
    for (const [label, env] of Object.entries(ENVS))
      it(`${name} ${label}`, async () => {
        expect(isContainerPilot(fixture(name))).toBe(true);
        const { parsed, version } = await load(name, env, ['/bin/app']);
        expect(version).toBe(name.startsWith('v2') ? 2 : 3);
        expect(parsed.jobs.length).toBeGreaterThan(0);
      });
});

/** What ContainerPilot itself would have run: the config rendered for the environment, parsed. */
function asContainerPilot(name: string, env: Record<string, string>): Record<string, unknown> {
  return JSON5.parse(renderTemplate(fixture(name), { env, version: name.startsWith('v2') ? 2 : 3, translate: false, at: 'migrate' }).text);
}

describe('nothing is lost: every job, service, backend, task, coprocess and hook is kept', () => {
  type Entry = Record<string, unknown>;
  const list = (v: unknown): Entry[] => (Array.isArray(v) ? (v as Entry[]) : []);
  for (const name of CORPUS)
    for (const [label, env] of Object.entries(ENVS))
      it(`${name} ${label}`, async () => {
        const cp = asContainerPilot(name, env);
        const { parsed } = await load(name, env, ['/bin/app']);
        const jobs = new Set(parsed.jobs.map((j) => j.name));
        const watched = new Set(parsed.watches.map((w) => w.service));
        const execs = parsed.jobs.map((j) => JSON.stringify(j.exec));
        const hasCommand = (c: unknown) => {
          const argv = typeof c === 'string' ? c.trim().split(/\s+/) : (c as string[]);
          return execs.some((e) => argv.every((a) => e.includes(JSON.stringify(a).slice(1, -1))));
        };
        if (name.startsWith('v3')) {
          for (const j of list(cp.jobs)) expect(j.name === undefined ? hasCommand(j.exec) : jobs.has(j.name as string), JSON.stringify(j)).toBe(true);
          for (const w of list(cp.watches)) expect(watched.has(w.name as string)).toBe(true);
        } else {
          for (const s of list(cp.services)) expect(jobs.has(s.name as string)).toBe(true);
          for (const b of list(cp.backends)) {
            expect(watched.has(b.name as string)).toBe(true);
            if (b.onChange) expect(hasCommand(b.onChange)).toBe(true);
          }
          for (const t of [...list(cp.tasks), ...list(cp.coprocesses)]) expect(hasCommand(t.command), JSON.stringify(t)).toBe(true);
          for (const hook of ['preStart', 'preStop', 'postStop']) if (cp[hook] !== undefined) expect(jobs.has(hook)).toBe(true);
          for (const s of list((cp.telemetry as Entry | undefined)?.sensors))
            if (['counter', 'gauge'].includes(s.type as string)) expect(hasCommand(s.check)).toBe(true);
        }
      });
});

const everyField = await load('v3/every-field.json5', { PORT: '9999' });
describe('ContainerPilot 3, every field', () => {
  const { parsed: c, notes, yaml } = everyField;
  const job = (name: string) => c.jobs.find((j) => j.name === name);

  it('keeps simple templates as ${VAR} (unset renders empty, as in ContainerPilot)', async () => {
    expect(yaml).toContain('address: http://${CONSUL:-consul}:8500');
    expect(yaml).toContain('token: ${CONSUL_HTTP_TOKEN:-}');
    expect(c.consul?.address).toBe('http://consul:8500');
    expect(c.consul?.token).toBe('');
    expect(job('app')?.port).toBe(9999);
    expect((await parseConfig(yaml, 'x', {})).jobs.find((j) => j.name === 'app')?.port).toBe(8080);
    expect(job('app')?.exec).toEqual(['/usr/local/bin/app', '--port', '9999', '--name', '']);
    expect(job('setup')?.exec).toEqual(['/usr/local/bin/setup.sh', '']);
  });

  it('maps jobs key by key', async () => {
    expect(c.stopTimeout).toBe(7000);
    expect(c.logging).toEqual({ level: 'info', format: 'json' });
    expect(c.control.socket).toBe('/var/run/containerpilot.socket');
    // so that `containerpilot -putmetric` in a job (Pilotfish's CLI) finds it, as it found ContainerPilot's
    for (const j of c.jobs) expect(j.env.PILOTFISH_SOCKET).toBe('/var/run/containerpilot.socket');
    expect(job('setup')).toMatchObject({ timeout: 90_000, restarts: { max: 0 } });
    expect(job('app')).toMatchObject({
      interfaces: ['eth0', 'static:10.1.1.1'],
      initialStatus: 'warning',
      tags: ['http', 'dev'],
      stopTimeout: 10_000,
      logging: 'raw',
      when: { source: 'setup', once: 'exitSuccess', timeout: 60_000 },
      health: { interval: 5000, ttl: 15_000, timeout: 2000 },
      enableTagOverride: true,
      deregisterCriticalServiceAfter: 600_000,
    });
    expect(job('app')?.restarts.max).toBe(Infinity);
    expect(job('retried')?.restarts.max).toBe(3);
    expect(job('registration-only')).toMatchObject({ port: 9000, exec: ['/bin/sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait; done"] });
    expect(job('preStop')).toMatchObject({ when: { source: 'app', once: 'stopping' }, timeout: 20_000, exec: ['/usr/local/bin/drain.sh', '$PORT'] });
    expect(job('postStop')?.when).toMatchObject({ source: 'app', once: 'stopped' });
    expect(job('on-unhealthy')?.when).toMatchObject({ source: 'app', each: 'unhealthy' });
    expect(job('reload-upstreams')?.when).toMatchObject({ source: 'upstream', each: 'changed' });
    expect(job('upstream-down')?.when).toMatchObject({ source: 'watch.app', each: 'unhealthy' }); // a job is called app too
    expect(job('on-hup')?.when).toMatchObject({ source: 'SIGHUP', each: 'signal' });
    expect(job('on-usr2')?.when).toMatchObject({ source: 'SIGUSR2', each: 'signal' });
    expect(job('at-start')?.when).toMatchObject({ source: 'pilotfish', once: 'startup' });
    expect(job('at-stop')?.when).toMatchObject({ source: 'pilotfish', once: 'shutdown' });
    expect(job('maint-on')?.when).toMatchObject({ source: 'pilotfish', each: 'enterMaintenance' });
    expect(job('sensor')).toMatchObject({ when: { interval: 5000 }, timeout: 4000 });
    expect(job('counted')?.when?.interval).toBe(1500);
    expect(c.watches).toMatchObject([
      { name: 'upstream', service: 'upstream', tag: 'primary', datacenter: 'dc1' },
      { name: 'watch.app', service: 'app' },
    ]);
  });

  it('registers telemetry as ContainerPilot did, and keeps the metrics Pilotfish has', async () => {
    expect(c.telemetry).toMatchObject({ port: 9090, interface: 'eth0' });
    expect(c.telemetry?.metrics.map((m) => m.name)).toEqual(['requests_total', 'idle']);
    expect(job('containerpilot')).toMatchObject({ port: 9090, tags: ['metrics'], health: { exec: 'true', interval: 5000, ttl: 15_000 } });
  });

  it('notes true differences only', async () => {
    const expected = [
      /^consul\.tls: .*CONSUL_CACERT/,
      /^jobs\[2\]\.exec: a job with no process/,
      /^jobs\[18\]\.restarts: ContainerPilot stopped this periodic job after 3 run/,
      /^telemetry\.metrics\[2\]: type histogram/,
      /^telemetry\.metrics\[3\]: type summary/,
      /^jobs: periodic jobs/,
      /^watches: Pilotfish watches Consul with blocking queries/,
      /^restarts: Pilotfish waits before each restart/,
      /^timeout: a run past its timeout got SIGKILL at once from ContainerPilot/,
      /^environment: ContainerPilot gave every process CONTAINERPILOT_APP_IP, CONTAINERPILOT_REGISTRATION_ONLY_IP, CONTAINERPILOT_PID; Pilotfish does not set them/,
    ];
    expect(notes).toHaveLength(expected.length);
    for (const re of expected) expect(notes.some((n) => re.test(n))).toBe(true);
    for (const n of notes) expect(yaml).toContain(`# NOTE: ${n}`);
  });
});

describe('ContainerPilot 3, templates with control flow', () => {
  it('decides if/range for the environment, names the variables (not their values), keeps simple ones as ${VAR}', async () => {
    const agent = await load('v3/templates.json5', AGENT);
    expect(agent.parsed.consul?.address).toBe('localhost:8500');
    expect(agent.parsed.jobs.map((j) => j.name)).toEqual(['consul-agent', 'app', 'worker-1', 'extra', 'uses-default-dollar', 'backup']);
    const app = agent.parsed.jobs[1];
    expect(app?.when).toMatchObject({ source: 'consul-agent', once: 'healthy' });
    expect(app?.exec).toEqual(['/usr/local/bin/app', '--peers', 'db1;db2', '--name', 'my-app1', '--tag', 'myapp']);
    expect(app?.health?.exec).toBe('/usr/local/bin/check localhost:8080');
    expect(agent.parsed.jobs[2]?.exec).toBe('/usr/local/bin/worker w1');
    expect(agent.parsed.jobs[3]?.exec).toBe('/usr/local/bin/extra x of 2');
    expect(agent.parsed.jobs[4]?.exec).toEqual(['sh', '-c', "'echo", 'hi', "$HOME'"]); // ContainerPilot split on spaces, no quotes
    expect(agent.parsed.jobs[5]).toMatchObject({ exec: '/bin/backup', when: { interval: 3_600_000 } });
    expect(agent.parsed.watches.map((w) => [w.name, w.interval])).toEqual([
      ['a', undefined],
      ['b', undefined],
    ]);
    expect(agent.parsed.logging.level).toBe('info');
    expect(
      agent.notes.some((n) => /^v3\/templates\.json5:4: the branch taken at \{\{ if \.CONSUL_AGENT \}\} was decided by .* \(CONSUL_AGENT set\)/.test(n)),
    ).toBe(true);
    expect(agent.notes.join('\n')).not.toContain('consul.example'); // values never reach a note

    const remote = await load('v3/templates.json5', NO_AGENT);
    expect(remote.parsed.consul?.address).toBe('consul.example:8500');
    expect(remote.parsed.jobs.map((j) => j.name)).toEqual(['app', 'uses-default-dollar']);
    expect(remote.parsed.jobs[0]?.when).toMatchObject({ source: 'primary', once: 'healthy' });
    expect(remote.parsed.jobs[0]?.restarts.max).toBe(Infinity);
    expect(remote.parsed.watches.map((w) => w.service)).toEqual(['primary']);
    expect(remote.yaml).toContain('port: ${PORT:-8080}');
    expect((await parseConfig(remote.yaml, 'x', { ...NO_AGENT, PORT: '81' })).jobs[0]?.port).toBe(81);
  });

  it('renders the whole config when a template stands for a key', async () => {
    const r = migrate('{ jobs: [{ name: "a", exec: "x", {{ .KEY | default "port" }}: 80, health: { exec: "true", interval: 1, ttl: 2 } }] }', { env: {} });
    expect(r.notes[0]).toMatch(/the whole config was rendered for the environment/);
    expect(r.config.jobs).toMatchObject([{ port: 80 }]);
  });

  it('refuses what ContainerPilot refused, naming file and line', async () => {
    expect(() => migrate('{\n  jobs: [{ name: "a", exec: "{{ .A | nope }}" }]\n}', { file: 'cp.json5', env: {} })).toThrow(
      /^cp\.json5:2: template: function "nope" not defined$/,
    );
    expect(() => migrate('{\n  jobs: [ { name: "a" ]\n}', { file: 'cp.json5', env: {} })).toThrow(/^cp\.json5:2:\d+: not valid JSON5/);
    expect(() => migrate('[1]', { file: 'cp.json5', env: {} })).toThrow(/a ContainerPilot config is an object/);
  });
});

describe('ContainerPilot 2', () => {
  it('maps every construct to its v3-era job, with the app from the command line as main', async () => {
    const { parsed: c, notes } = await load('v2/every-field.json', {}, ['/usr/local/bin/app', '--serve']);
    const job = (name: string) => c.jobs.find((j) => j.name === name);
    expect(c.jobs.map((j) => j.name)).toEqual([
      'preStart',
      'consul-template',
      'metrics-agent',
      'one-shot',
      'preStop',
      'app',
      'postStop',
      'app-admin',
      'onChange-nginx',
      'onChange-app',
      'backup',
      'rotate-logs.sh',
      'sensor-free_bytes',
      'sensor-jobs_total',
      'containerpilot',
    ]);
    expect(job('preStart')?.exec).toEqual(['/usr/local/bin/preStart.sh', '']);
    expect(job('app')).toMatchObject({
      main: true,
      exec: ['/usr/local/bin/app', '--serve'],
      when: { source: 'preStart', once: 'exitSuccess' },
      port: 8080,
      health: { exec: '/usr/bin/curl --fail -s http://localhost:8080/health', interval: 5000, ttl: 15_000, timeout: 3000 },
      tags: ['web', 'dev'],
      interfaces: ['eth0', 'inet'],
      enableTagOverride: true,
      deregisterCriticalServiceAfter: 90 * 60_000,
    });
    expect(job('consul-template')).toMatchObject({ when: { source: 'preStart', once: 'exitSuccess' } });
    expect(job('consul-template')?.restarts.max).toBe(Infinity);
    expect(job('metrics-agent')?.restarts.max).toBe(3);
    expect(job('one-shot')?.restarts.max).toBe(0);
    expect(job('preStop')?.when).toMatchObject({ source: 'app', once: 'stopping' });
    expect(job('postStop')).toMatchObject({ exec: ['/usr/local/bin/postStop.sh', '--all'], when: { source: 'app', once: 'stopped' } });
    expect(job('app-admin')).toMatchObject({ port: 8081, health: { interval: 10_000, ttl: 30_000 } });
    expect(job('onChange-nginx')).toMatchObject({ when: { source: 'nginx', each: 'changed' }, timeout: 30_000 });
    expect(job('onChange-app')?.when).toMatchObject({ source: 'watch.app', each: 'changed' });
    expect(c.watches.map((w) => [w.name, w.service])).toEqual([
      ['nginx', 'nginx'],
      ['watch.app', 'app'],
    ]);
    expect(job('backup')).toMatchObject({ exec: ['/usr/local/bin/backup.sh', 'incremental'], when: { interval: 1500 }, timeout: 100 });
    expect(job('rotate-logs.sh')?.when?.interval).toBe(3_600_000);
    const sensor = job('sensor-free_bytes');
    expect(sensor?.when?.interval).toBe(5000);
    expect(sensor?.timeout).toBe(2000);
    expect((sensor?.exec as string[]).slice(3)).toEqual(['sensor', '/usr/local/bin/free.sh']);
    expect((sensor?.exec as string[])[2]).toContain('putmetric "app_mem_free_bytes=$(echo $value)"');
    expect(c.telemetry?.metrics.map((m) => m.name)).toEqual(['free_bytes', 'jobs_total']);
    expect(c.stopTimeout).toBe(8000);
    expect(c.logging).toEqual({ level: 'debug', format: 'text' });
    expect(c.consul?.address).toBe('consul:8500');
    for (const re of [
      /^onStart: ignored/,
      /^preStart: when it fails/,
      /^postStop: when it fails/,
      /^services\[1\]\.timeout: not set/,
      /^telemetry\.sensors\[2\]: type histogram/,
      /^tasks\[0\]: ContainerPilot 2 started tasks after preStart/,
      /^logging\.output/,
    ])
      expect(
        notes.some((n) => re.test(n)),
        String(re),
      ).toBe(true);
    expect(notes.some((n) => n.startsWith('app:'))).toBe(false);
  });

  it('without an app, the main job is a stand-in, and says so', async () => {
    const { parsed, notes } = await load('v2/templates.json', NO_AGENT);
    expect(parsed.jobs.find((j) => j.main)).toMatchObject({
      name: 'nginx',
      exec: ['/bin/sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait; done"],
      port: 80,
    });
    expect(notes.some((n) => n.startsWith('app: ContainerPilot 2 ran the app given on its command line'))).toBe(true);
  });

  it('names Pilotfish refuses are renamed, and the events they are the source of follow', async () => {
    const r = migrate('{ jobs: [{ name: "set up!", exec: "/bin/s" }, { name: "app", exec: "/bin/a", when: { source: "set up!", once: "exitSuccess" } }] }', {
      env: {},
    });
    const c = await parseConfig(r.yaml, 'x', {});
    expect(c.jobs.map((j) => j.name)).toEqual(['set-up', 'app']);
    expect(c.jobs[1]?.when).toMatchObject({ source: 'set-up', once: 'exitSuccess' });
    expect(r.notes).toContain(
      'jobs[0].name: "set up!" is not a name Pilotfish accepts (letters, digits, _ . -); renamed "set-up", and the events it is the source of with it',
    );
  });

  it('stopTimeout -1 kills at once; onStart alone is preStart', async () => {
    const c = migrate('{"consul": "c:8500", "onStart": "/bin/setup", "stopTimeout": -1}', { env: {}, app: ['app'] }).config as {
      jobs: Array<{ name: string }>;
      stopTimeout: unknown;
    };
    expect(c.stopTimeout).toBe(0);
    expect(c.jobs.map((j) => j.name)).toEqual(['preStart', 'app']);
  });
});

describe('detection by content', () => {
  it.each([
    ['jobs:\n  - {name: a, exec: x}', false],
    ['{"jobs": [{"name": "a", "exec": "x", "main": true}]}', false],
    ['{"jobs": [{"name": "a", "exec": "x"}]}', false],
    ['{ jobs: [{ name: "a", exec: "x" }] } // JSON5', false],
    ['{"consul": "localhost:8500", "jobs": [{"name": "a", "exec": "x"}]}', true],
    ['{"services": [], "preStart": "x"}', true],
    ['/* c */ {"jobs": [{"name": "a", "exec": "{{ .X }}"}]}', true],
    ['{"jobs": [{"name": "a", "exec": "x", "initial_status": "passing"}]}', true],
    ['{"jobs": [{"name": "a", "exec": "x", "when": {"source": "watch.b", "each": "changed"}}]}', true],
    ['{"watches": [{"name": "b", "interval": 3}], "jobs": []}', true],
  ])('%s → %s', (text, expected) => {
    expect(isContainerPilot(text)).toBe(expected);
  });
});
