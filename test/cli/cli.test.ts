// The CLI's consistency: every command answers --help (its usage, exit 0, touching nothing),
// validate and migrate take their file the same way, ContainerPilot's control flags map to
// Pilotfish's commands, and $CONTAINERPILOT / file:// find the config.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath } from '../../src/cli/args.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { fromContainerPilotFlags } from '../../src/cli/compat.js';
import { CLI } from '../helpers/pilotfish.js';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, PILOTFISH_CONFIG: '', CONTAINERPILOT: '', ...env }, timeout: 30_000 });

const dir = mkdtempSync(join(tmpdir(), 'pf-cli-'));
const CP = join(dir, 'containerpilot.json5');
writeFileSync(CP, '{ consul: "localhost:8500", jobs: [{ name: "app", exec: "/bin/app {{ .ARG }}", restarts: "unlimited" }] }');
const YAML = join(dir, 'pilotfish.yaml');
writeFileSync(YAML, 'jobs:\n  - { name: app, exec: /bin/app }\n');

describe('--help', () => {
  it.each(Object.keys(COMMANDS))('pilotfish %s --help prints its usage and exits 0', (name) => {
    const r = cli([name, '--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`usage: pilotfish ${name}\\b`));
  });

  it('help COMMAND, and an unknown topic is a usage error', () => {
    expect(cli(['help', 'migrate']).stdout).toMatch(/^convert a ContainerPilot 2 or 3 config/);
    const r = cli(['help', 'nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "nope"/);
  });
});

describe('validate and migrate take the file the same way', () => {
  for (const args of [[YAML], ['--config', YAML], ['-c', YAML]])
    it(`validate ${args.join(' ')}`, () => {
      const r = cli(['validate', ...args]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${YAML}: valid (1 job)\n`);
    });

  for (const args of [[CP], ['--config', CP], [`file://${CP}`]])
    it(`migrate ${args.join(' ')}`, () => {
      const r = cli(['migrate', ...args, '--env', 'ARG=x']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('exec:\n      - /bin/app\n      - ${ARG:-}\n');
    });

  it('validate checks a ContainerPilot config as converted, and lists the notes', () => {
    const r = cli(['validate', CP]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${CP}: valid (1 job, a ContainerPilot 3 config as converted)\n`);
    expect(r.stderr).toMatch(/^note: restarts: Pilotfish waits before each restart/m);
  });

  it('both refuse two files, or a file given twice', () => {
    for (const cmd of ['validate', 'migrate']) {
      expect(cli([cmd, YAML, CP]).stderr).toMatch(/name one config file, not 2/);
      expect(cli([cmd, YAML, '--config', CP]).status).toBe(2);
    }
  });

  it('$CONTAINERPILOT names the file when nothing else does, with or without file://', () => {
    expect(configPath(undefined, { CONTAINERPILOT: 'file:///etc/cp.json' })).toBe('/etc/cp.json');
    expect(configPath(undefined, { CONTAINERPILOT: '/etc/cp.json5', PILOTFISH_CONFIG: '/p.yaml' })).toBe('/p.yaml');
    expect(configPath('file:///x.json', {})).toBe('/x.json');
    expect(configPath(undefined, {})).toBe('/etc/pilotfish.yaml');
    expect(cli(['validate'], { CONTAINERPILOT: `file://${CP}` }).stdout).toMatch(/valid \(1 job, a ContainerPilot 3 config/);
    // Any JSON object in the file $CONTAINERPILOT names is ContainerPilot's, even one Pilotfish could read.
    const plain = join(dir, 'plain.json');
    writeFileSync(plain, '{"jobs": [{"name": "a", "exec": "/bin/a"}]}');
    expect(cli(['validate'], { CONTAINERPILOT: plain }).stdout).toMatch(/valid \(1 job, a ContainerPilot 3 config/);
    expect(cli(['validate', plain]).stdout).toBe(`${plain}: valid (1 job)\n`);
    // ContainerPilot 2 also took the JSON itself in the variable.
    expect(cli(['validate'], { CONTAINERPILOT: '{"consul": "c:8500", "preStart": "/bin/setup"}' }).stdout).toMatch(/valid \(2 jobs, a ContainerPilot 2 config/);
  });

  it('a ContainerPilot config ContainerPilot refused is a config error naming file and line', () => {
    const bad = join(dir, 'bad.json5');
    writeFileSync(bad, '{\n  jobs: [{ name: "a", exec: "{{ .A | nope }}" }]\n}');
    const r = cli(['validate', bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`${bad}:2:0: template: function "nope" not defined\n`);
    expect(cli(['migrate', bad]).stderr).toBe(`pilotfish: ${bad}:2: template: function "nope" not defined\n`);
  });
});

describe("ContainerPilot's control flags", () => {
  it.each([
    [['-reload'], ['reload']],
    [
      ['-maintenance', 'enable'],
      ['maintenance', 'enable'],
    ],
    [['-maintenance=disable'], ['maintenance', 'disable']],
    [
      ['-putenv', 'A=1', '-putenv', 'B=two', '-putenv', 'C', '-putenv', 'D='],
      ['putenv', 'A=1', 'B=two', '--unset', 'C', '--unset', 'D'],
    ],
    [
      ['-putmetric', 'm=1', '--putmetric=n=2.5'],
      ['putmetric', 'm=1', 'n=2.5'],
    ],
    [['-ping'], ['status', '--ping']],
    [['-version'], ['version']],
  ])('%j → %j', (argv, expected) => {
    expect(fromContainerPilotFlags(argv)).toEqual(expected);
  });

  it.each([[['run']], [['--version']], [['-config', '/etc/cp.json']], [[]]])('leaves %j alone', (argv) => {
    expect(fromContainerPilotFlags(argv)).toBeUndefined();
  });

  it('refuses mixtures and missing values', () => {
    expect(() => fromContainerPilotFlags(['-reload', '-ping'])).toThrow(/one of -reload, -ping/);
    expect(() => fromContainerPilotFlags(['-putmetric'])).toThrow(/-putmetric needs a value/);
  });

  it('-ping reaches the control socket like status does', () => {
    const r = cli(['-ping'], { PILOTFISH_SOCKET: join(dir, 'none.sock') });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no control socket at .*none\.sock/);
  });
});
