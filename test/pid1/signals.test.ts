// (c) TERM/INT graceful stop with preStop and postStop; HUP/USR2 as events; signal routing.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, killAll, startPilotfish } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';

afterEach(killAll);

function files() {
  const dir = mkdtempSync(join(tmpdir(), 'pf-sig-'));
  return { dir, log: join(dir, 'hooks.log'), signals: join(dir, 'signals.log') };
}

const lines = (file: string): string[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[0] as string)
    : [];

function lifecycle(f: ReturnType<typeof files>, extra: object = {}) {
  return {
    stopTimeout: '30s',
    jobs: [
      { name: 'app', main: true, exec: [`${FIXTURES}/trap-term.sh`], env: { SIGNAL_FILE: f.signals } },
      { name: 'preStop', exec: [`${FIXTURES}/append.sh`, 'preStop'], env: { LOG_FILE: f.log }, when: { source: 'app', once: 'stopping' } },
      { name: 'postStop', exec: [`${FIXTURES}/append.sh`, 'postStop'], env: { LOG_FILE: f.log }, when: { source: 'app', once: 'stopped' } },
    ],
    ...extra,
  };
}

describe.each(['SIGTERM', 'SIGINT'] as const)('%s as PID 1', (signal) => {
  it('runs preStop, stops the app, runs postStop, exits with the app code, without waiting out stopTimeout', async () => {
    const f = files();
    const pf = startPilotfish(lifecycle(f), { pid1: true });
    await pf.waitForLog((l) => l.job === 'app' && l.msg === 'ready');
    await pf.signal(signal);
    // stopTimeout is 30 s; a prompt app must not make Pilotfish sleep it out.
    const exit = await Promise.race([pf.exited, new Promise((r) => setTimeout(() => r('too slow'), 10_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(lines(f.log)).toEqual(['preStop', 'postStop']);
    expect(lines(f.signals)).toEqual(['TERM']);
    // preStop finished before the app got its signal, postStop ran after it was gone.
    const at = (file: string, name: string) =>
      Number(
        readFileSync(file, 'utf8')
          .split('\n')
          .find((l) => l.startsWith(name))
          ?.split(' ')[1],
      );
    expect(at(f.log, 'preStop')).toBeLessThan(at(f.signals, 'TERM'));
    expect(at(f.signals, 'TERM')).toBeLessThan(at(f.log, 'postStop'));
  });
});

it('SIGKILLs a process group that ignores its stop signal once stopTimeout has passed', async () => {
  const f = files();
  const config = lifecycle(f, { stopTimeout: '500ms' });
  (config.jobs[0] as unknown as { env: Record<string, string> }).env.IGNORE_TERM = '1';
  const pf = startPilotfish(config, { pid1: true });
  await pf.waitForLog((l) => l.job === 'app' && l.msg === 'ready');
  await pf.signal('SIGTERM');
  expect((await pf.exited).code).toBe(137);
  expect(lines(f.signals)).toEqual(['TERM']);
  expect(lines(f.log)).toEqual(['preStop', 'postStop']);
});

it('SIGHUP and SIGUSR2 start jobs that wait on them, and are not forwarded by default', async () => {
  const f = files();
  const pf = startPilotfish(
    lifecycle(f, {
      jobs: [
        ...lifecycle(f).jobs.slice(0, 1),
        { name: 'onHup', exec: [`${FIXTURES}/append.sh`, 'hup'], env: { LOG_FILE: f.log }, when: { source: 'SIGHUP' } },
        { name: 'onUsr2', exec: [`${FIXTURES}/append.sh`, 'usr2'], env: { LOG_FILE: f.log }, when: { source: 'SIGUSR2', each: 'signal' } },
      ],
    }),
    { pid1: true },
  );
  await pf.waitForLog((l) => l.job === 'app' && l.msg === 'ready');
  await pf.signal('SIGHUP');
  await waitFor(() => lines(f.log).includes('hup'), { message: 'the SIGHUP job to run' });
  await pf.signal('SIGUSR2');
  await waitFor(() => lines(f.log).includes('usr2'), { message: 'the SIGUSR2 job to run' });
  await pf.signal('SIGHUP');
  await waitFor(() => lines(f.log).filter((l) => l === 'hup').length === 2, { message: 'a second SIGHUP run' });
  expect(lines(f.signals)).toEqual([]);
});

it('routes and rewrites signals per the signals map; QUIT goes to the main job by default', async () => {
  const f = files();
  const pf = startPilotfish(lifecycle(f, { signals: { SIGHUP: { to: ['app'], as: 'SIGUSR2' } } }), { pid1: true });
  await pf.waitForLog((l) => l.job === 'app' && l.msg === 'ready');
  await pf.signal('SIGHUP');
  await waitFor(() => lines(f.signals).includes('USR2'), { message: 'the app to get SIGUSR2 for SIGHUP' });
  await pf.signal('SIGQUIT');
  await waitFor(() => lines(f.signals).includes('QUIT'), { message: 'the app to get SIGQUIT' });
  expect(lines(f.signals)).not.toContain('HUP');
});
