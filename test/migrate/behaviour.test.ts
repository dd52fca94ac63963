// A ContainerPilot 2 and a 3 config, run by Pilotfish as PID 1 against the real Consul, three
// ways: migrated to YAML and run, given to `run --config` as it is, and found through
// $CONTAINERPILOT (`file://` form) with no --config at all. Each run must start the same jobs in
// the same order on the same events: preStart/setup before the app, coprocesses restarted, tasks
// on their frequency, onChange on a real backend change in Consul, preStop then postStop on stop.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { migrate } from '../../src/migrate/containerpilot.js';
import { CLI, ROOT, killAll, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { childrenOf } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { consulPut } from '../consul/http.js';

afterEach(killAll);

const V3 = `{
  consul: "{{ .CONSUL_HTTP_ADDR }}",
  logging: { level: "DEBUG", format: "json" },
  stopTimeout: 5,
  control: { socket: "{{ .DIR }}/cp.sock" },
  jobs: [
    { name: "setup", exec: ["sh", "-c", "echo setup >> {{ .LOG }}"] },
    { name: "app", exec: ["sh", "-c", "echo app >> {{ .LOG }}; exec sleep 600"], when: { source: "setup", once: "exitSuccess" } },
    { name: "coprocess", exec: ["sh", "-c", "echo co >> {{ .LOG }}; exit 1"], restarts: "unlimited" },
    { name: "task", exec: ["sh", "-c", "echo task >> {{ .LOG }}"], when: { interval: "300ms" } },
    { name: "on-change", exec: ["sh", "-c", "echo changed >> {{ .LOG }}"], when: { source: "watch.{{ .UPSTREAM }}", each: "changed" } },
    { name: "pre-stop", exec: ["sh", "-c", "echo preStop >> {{ .LOG }}"], when: { source: "app", once: "stopping" } },
    { name: "post-stop", exec: ["sh", "-c", "echo postStop >> {{ .LOG }}"], when: { source: "app", once: "stopped" } },
  ],
  watches: [{ name: "{{ .UPSTREAM }}", interval: 1 }],
}`;

// ContainerPilot 2: the app came from the command line; without one the main job is a stand-in,
// and its service's health check (which runs only while the main job runs) says it started.
const V2 = `{
  "consul": "{{ .CONSUL_HTTP_ADDR }}",
  "logging": { "level": "DEBUG", "format": "json" },
  "preStart": ["sh", "-c", "echo setup >> {{ .LOG }}"],
  "services": [{ "name": "{{ .SERVICE }}", "port": 8080, "health": ["sh", "-c", "echo app >> {{ .LOG }}"], "poll": 1, "ttl": 5, "timeout": "2s" }],
  "coprocesses": [{ "name": "coprocess", "command": ["sh", "-c", "echo co >> {{ .LOG }}; exit 1"], "restarts": "unlimited" }],
  "tasks": [{ "name": "task", "command": ["sh", "-c", "echo task >> {{ .LOG }}"], "frequency": "300ms" }],
  "backends": [{ "name": "{{ .UPSTREAM }}", "poll": 1, "onChange": ["sh", "-c", "echo changed >> {{ .LOG }}"] }],
  "preStop": ["sh", "-c", "echo preStop >> {{ .LOG }}"],
  "postStop": ["sh", "-c", "echo postStop >> {{ .LOG }}"]
}`;

interface Run {
  lines(): string[];
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** `CONTAINERPILOT=file://… pilotfish run` as PID 1, with no --config. */
function runDropIn(file: string, env: NodeJS.ProcessEnv, log: string, app: string[] = []): Run {
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, CLI, 'run', ...(app.length ? ['--', ...app] : [])], {
    cwd: ROOT,
    env: { ...process.env, PILOTFISH_CONFIG: '', ...env, CONTAINERPILOT: `file://${file}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    lines: () => lines(log),
    logs: () =>
      out.split('\n').flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    async stop() {
      // Pilotfish is PID 1 of the namespace: unshare's only child.
      const [pid] = await waitFor(() => {
        const c = childrenOf(child.pid as number);
        return c.length > 0 ? c : undefined;
      });
      process.kill(pid as number, 'SIGTERM');
      return exited;
    },
  };
}

/** What the run did, in order: the first time each job acted, and how often the repeating ones did. */
async function exercise(run: Run, addr: string, upstream: string): Promise<string[]> {
  await waitFor(() => run.lines().filter((l) => l === 'co').length >= 3, { timeout: 20_000, message: 'the coprocess restarted twice' });
  await waitFor(() => run.lines().filter((l) => l === 'task').length >= 3, { timeout: 10_000, message: 'three task runs' });
  await waitFor(() => run.lines().includes('app'), { message: 'the app (after setup)' });
  const before = run.lines().filter((l) => l === 'changed').length;
  expect(await consulPut(addr, '/agent/service/register', { Name: upstream, ID: `${upstream}-1`, Port: 81, Address: '10.0.0.1' })).toBe(200);
  await waitFor(() => run.lines().filter((l) => l === 'changed').length > before, { timeout: 15_000, message: 'onChange after a backend change' });
  expect(await run.stop()).toBe(0);
  const seen = run.lines();
  expect(seen.indexOf('setup')).toBeLessThan(seen.indexOf('app'));
  expect(seen.indexOf('preStop')).toBeGreaterThan(-1);
  expect(seen.indexOf('preStop')).toBeLessThan(seen.indexOf('postStop'));
  return [...new Set(seen.filter((l) => l !== 'co' && l !== 'task'))];
}

describeWithServices('ContainerPilot configs run as PID 1', ['consul'], () => {
  for (const [version, source] of [
    ['3', V3],
    ['2', V2],
  ] as const) {
    it(`a ContainerPilot ${version} config behaves the same migrated, given as --config, and through $CONTAINERPILOT`, { timeout: 180_000 }, async () => {
      const addr = services().CONSUL_HTTP_ADDR;
      const orders: string[][] = [];
      const ways = ['migrated', '--config', '$CONTAINERPILOT', ...(version === '2' ? ['$CONTAINERPILOT run -- APP'] : [])];
      for (const way of ways) {
        const dir = mkdtempSync(join(tmpdir(), 'pf-cp-'));
        const id = Math.random().toString(36).slice(2, 8);
        const env = { CONSUL_HTTP_ADDR: addr, LOG: join(dir, 'events'), DIR: dir, UPSTREAM: `up-${id}`, SERVICE: `svc-${id}` };
        const cpFile = join(dir, 'containerpilot.json5');
        writeFileSync(cpFile, source);
        let run: Run;
        // ContainerPilot 2's app, from the command line as it was: it says "app" itself.
        const app = ['sh', '-c', `trap 'exit 0' TERM; echo app >> ${env.LOG}; touch ${dir}/app-ran; sleep 600 & wait`];
        if (way.startsWith('$CONTAINERPILOT')) run = runDropIn(cpFile, env, env.LOG, way.endsWith('APP') ? app : []);
        else {
          const text = way === 'migrated' ? migrate(source, { file: cpFile, env }).yaml : source;
          const pf = startPilotfish(text, { pid1: true, env, dir });
          run = { lines: () => lines(env.LOG), logs: () => pf.logs, stop: async () => (await pf.signal('SIGTERM'), (await pf.exited).code) };
        }
        try {
          orders.push(await exercise(run, addr, env.UPSTREAM));
        } catch (error) {
          throw new Error(`${way}: ${(error as Error).message}; events: ${run.lines().join(' ')}`, { cause: error });
        }
        expect(existsSync(join(dir, 'app-ran'))).toBe(way.endsWith('APP'));
        const warned = run.logs().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('ContainerPilot config: '));
        if (way === 'migrated') expect(warned).toEqual([]);
        else {
          expect(warned.length).toBeGreaterThan(0); // the notes, once each
          expect(new Set(warned.map((l) => l.msg)).size).toBe(warned.length);
        }
      }
      for (const order of orders.slice(1)) expect(order).toEqual(orders[0]);
      expect(orders[0]?.slice(0, 2)).toEqual(['setup', 'app']);
    });
  }
});
