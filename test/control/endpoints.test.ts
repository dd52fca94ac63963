// Every control endpoint and CLI command against a running Pilotfish.
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../src/cli/commands/status.js';
import { killAll } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { alive, cli, startControlled, type Controlled } from './harness.js';

let pf: Controlled;
let env: NodeJS.ProcessEnv;
const file = (name: string): string => join(pf.dir, name);

beforeAll(async () => {
  pf = await startControlled((dir) => ({
    jobs: [
      { name: 'app', exec: ['sleep', '1000'], main: true },
      {
        name: 'checked',
        exec: ['sleep', '1000'],
        health: { exec: ['sh', '-c', 'test ! -e "$PF_DIR/down"'], interval: '100ms' },
        env: { PF_DIR: dir },
      },
      { name: 'printer', exec: ['sh', '-c', 'echo "FOO=$${FOO:-unset}" >> "$PF_DIR/printer.out"; exec sleep 1000'], env: { PF_DIR: dir } },
      { name: 'trapper', exec: ['sh', '-c', 'trap \'echo HUP >> "$PF_DIR/trapper.out"\' HUP; while :; do sleep 0.05; done'], env: { PF_DIR: dir } },
    ],
  }));
  env = { PILOTFISH_SOCKET: pf.socket };
}, 60_000);

afterAll(killAll);

describe('control endpoints', () => {
  it('ping and the endpoint list', async () => {
    const ping = await pf.api('GET', '/v1/ping');
    expect(ping.status).toBe(200);
    expect(ping.body).toMatchObject({ ok: true, pid: await pf.pid() });
    const list = await pf.api<{ endpoints: string[] }>('GET', '/v1');
    expect(list.body.endpoints).toEqual(expect.arrayContaining(['POST /v1/reload', 'POST /v1/jobs/:name/restart', 'GET /v1/status']));
  });

  it('answers unknown paths, wrong methods and bad bodies with clear errors', async () => {
    expect((await pf.api('GET', '/v1/nope')).status).toBe(404);
    const wrong = await pf.api<{ error: { message: string } }>('GET', '/v1/reload');
    expect(wrong.status).toBe(405);
    const bad = await pf.api<{ error: { message: string } }>('POST', '/v1/environ', {});
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/JSON object of variables/);
  });

  it('status as JSON when piped, with jobs, health and subsystems', async () => {
    await waitFor(async () => (await pf.status()).jobs.find((j) => j.name === 'checked')?.health === 'healthy', { message: 'checked to be healthy' });
    const r = await cli(['status'], env);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.jobs.map((j: { name: string }) => j.name)).toEqual(['app', 'checked', 'printer', 'trapper']);
    expect(s.subsystems.control.socket).toBe(pf.socket);
    expect(s.mainJob).toBe('app');
    // the table form (what a terminal gets)
    const table = render(s);
    expect(table).toMatch(/^JOB\s+STATE\s+PID\s+HEALTH/m);
    expect(table).toMatch(/^app\*\s+running\s+\d+/m);
    expect(table).toMatch(/^checked\s+running\s+\d+\s+healthy/m);
  });

  it('health exits 0 when healthy and 1 when a checked job fails', async () => {
    expect((await cli(['health'], env)).code).toBe(0);
    writeFileSync(join(pf.dir, 'down'), '');
    await waitFor(async () => (await pf.status()).jobs.find((j) => j.name === 'checked')?.health === 'unhealthy', { message: 'unhealthy' });
    const r = await cli(['health'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/job checked is unhealthy/);
    rmSync(join(pf.dir, 'down'));
    await waitFor(async () => (await cli(['health', '-q'], env)).code === 0, { message: 'healthy again' });
  });

  it('maintenance on and off publish their events once each', async () => {
    expect((await cli(['maintenance', 'on'], env)).stdout).toBe('maintenance on\n');
    await cli(['maintenance', 'on'], env); // idempotent
    let s = await pf.status();
    expect(s.maintenance).toBe(true);
    expect(s.events.enterMaintenance).toBe(1);
    expect((await cli(['maintenance', 'off'], env)).code).toBe(0);
    s = await pf.status();
    expect(s.maintenance).toBe(false);
    expect(s.events.exitMaintenance).toBe(1);
    expect((await cli(['maintenance', 'sideways'], env)).code).toBe(2);
  });

  it('putenv reaches processes started afterwards; values never show in status', async () => {
    await waitFor(() => existsSync(file('printer.out')), { message: 'printer output' });
    expect(readFileSync(file('printer.out'), 'utf8')).toBe('FOO=unset\n');
    expect((await cli(['putenv', 'FOO=bar baz', 'OTHER=1'], env)).code).toBe(0);
    expect((await cli(['putenv', '--unset', 'OTHER'], env)).code).toBe(0);
    const s = await pf.status();
    expect(s.environ).toEqual(['FOO']);
    expect(JSON.stringify(s)).not.toContain('bar baz');
    expect((await cli(['job', 'restart', 'printer'], env)).code).toBe(0);
    await waitFor(() => readFileSync(file('printer.out'), 'utf8').includes('FOO=bar baz\n'), { message: 'the new value' });
    const bad = await cli(['putenv', 'NOEQUALS'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected KEY=VALUE/);
  });

  it('job signal sends to the job only', async () => {
    const r = await cli(['job', 'signal', 'trapper', 'HUP'], env);
    expect(r).toMatchObject({ code: 0, stdout: 'signalled trapper with HUP\n' });
    await waitFor(() => existsSync(file('trapper.out')) && readFileSync(file('trapper.out'), 'utf8') === 'HUP\n', { message: 'HUP' });
    const bogus = await cli(['job', 'signal', 'trapper', 'SIGBOGUS'], env);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toMatch(/unknown signal "SIGBOGUS"/);
  });

  it('job restart gives a new pid; job stop leaves the job stopped', async () => {
    const before = (await pf.pidOf('trapper')) as number;
    expect((await cli(['job', 'restart', 'trapper'], env)).stdout).toBe('restarted trapper\n');
    const after = await pf.pidOf('trapper');
    expect(after).not.toBe(before);
    expect(after).toBeGreaterThan(0);
    expect(alive(before)).toBe(false);
    expect((await cli(['job', 'stop', 'trapper'], env)).stdout).toBe('stopped trapper\n');
    const s = await pf.status();
    expect(s.jobs.find((j) => j.name === 'trapper')).toMatchObject({ state: 'stopped', pid: null });
    expect(alive(after as number)).toBe(false);
    const notRunning = await cli(['job', 'signal', 'trapper', 'HUP'], env);
    expect(notRunning.stderr).toMatch(/trapper is not running/);
    // and back
    expect((await cli(['job', 'restart', 'trapper'], env)).code).toBe(0);
    expect(await pf.pidOf('trapper')).toBeGreaterThan(0);
  });

  it('names the jobs there are when one is unknown', async () => {
    const r = await cli(['job', 'stop', 'nope'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no job named "nope"; jobs: app, checked, printer, trapper/);
  });

  it('endpoints of subsystems that are not configured say so', async () => {
    const step = await cli(['stepdown'], env);
    expect(step.code).toBe(1);
    expect(step.stderr).toMatch(/election is not configured/);
    const metric = await cli(['putmetric', 'x=1'], env);
    expect(metric.stderr).toMatch(/telemetry is not configured/);
    const backup = await pf.api<{ error: { message: string } }>('POST', '/v1/backup');
    expect(backup.status).toBe(404);
    expect(backup.body.error.message).toMatch(/backup is not configured/);
  });

  it('reload answers through the CLI', async () => {
    const r = await cli(['reload'], env); // piped: JSON
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      restarted: [],
      added: [],
      removed: [],
      unchanged: ['app', 'checked', 'printer', 'trapper'],
      applied: [],
      needsRestart: [],
    });
  });

  it('the CLI explains a missing socket', async () => {
    const r = await cli(['status', '--socket', join(pf.dir, 'missing.sock')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no control socket at .*missing\.sock: is pilotfish running\? is --socket/);
    const health = await cli(['health', '--socket', join(pf.dir, 'missing.sock')]);
    expect(health.code).toBe(1);
  });
});
