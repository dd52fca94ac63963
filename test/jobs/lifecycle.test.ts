// Jobs chained by events, restarts with backoff (e), and interval overrun (f), as PID 1.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FIXTURES, killAll, startPilotfish } from '../helpers/pilotfish.js';
import { alive, hostPid } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

afterEach(killAll);

const tmp = () => mkdtempSync(join(tmpdir(), 'pf-jobs-'));
const words = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0])
    : [];

it('(e) restarts with exponential backoff, then gives up and exits with the last code', async () => {
  const pf = startPilotfish(
    { jobs: [{ name: 'app', main: true, exec: [`${FIXTURES}/exit-with.sh`, '3'], restarts: { max: 3, backoff: { initial: '50ms', factor: 2, max: '1s' } } }] },
    { pid1: true },
  );
  expect((await pf.exited).code).toBe(3);
  const delays = pf.logs.filter((l) => l.msg.startsWith('restarting job app')).map((l) => l.delayMs);
  expect(delays).toEqual([50, 100, 200]);
  expect(pf.logs.filter((l) => l.msg === 'job app exited with 3')).toHaveLength(4);
});

it('(f) an interval task that overruns its timeout has its whole process group killed', async () => {
  const dir = tmp();
  const pidsFile = join(dir, 'pids');
  const pf = startPilotfish(
    {
      stopTimeout: '200ms',
      jobs: [
        { name: 'app', main: true, exec: ['sleep', '1000'] },
        { name: 'tick', exec: [`${FIXTURES}/group-spawner.sh`], env: { PIDS_FILE: pidsFile }, when: { interval: '300ms' }, timeout: '400ms' },
      ],
    },
    { pid1: true },
  );
  // The pids the script saw are namespace pids: map them to host pids while they live.
  const root = await pf.pid();
  const nsPids: number[] = await waitFor(() =>
    existsSync(pidsFile) ? readFileSync(pidsFile, 'utf8').trim().split('\n')[0]?.split(' ').map(Number) : undefined,
  );
  expect(nsPids).toHaveLength(2);
  const first = nsPids.map((p) => hostPid(root, p));
  expect(first.every((p) => typeof p === 'number')).toBe(true);
  const line = await pf.waitForLog((l) => l.job === 'tick' && String(l.msg).includes('ran past its timeout'));
  expect(line.level).toBe('warn');
  // Both the leader (which ignores TERM) and its helper in the same group are gone.
  await waitFor(() => first.every((p) => !alive(p as number)), { timeout: 5000, message: 'the whole group to be killed' });
  await pf.waitForLog((l) => l.job === 'tick' && l.code === 137);
});

it('chains jobs: preStart → app on exitSuccess; all: waits for several; when.timeout publishes timerExpired', async () => {
  const dir = tmp();
  const log = join(dir, 'order');
  const step = (name: string, when?: object) => ({
    name,
    exec: [`${FIXTURES}/append.sh`, name],
    env: { LOG_FILE: log },
    ...(when ? { when } : {}),
  });
  const pf = startPilotfish(
    {
      jobs: [
        { name: 'app', main: true, exec: ['sleep', '1000'], when: { source: 'preStart', once: 'exitSuccess' } },
        step('preStart'),
        step('other'),
        step('afterBoth', {
          all: [
            { source: 'preStart', once: 'exitSuccess' },
            { source: 'other', once: 'exitSuccess' },
          ],
        }),
        step('never', { source: 'app', once: 'exitFailed', timeout: '200ms' }),
        step('onExpired', { source: 'never', once: 'timerExpired' }),
      ],
    },
    { pid1: false },
  );
  await waitFor(() => words(log).includes('afterBoth') && words(log).includes('onExpired'), { message: 'the chain to complete' });
  expect(words(log)).not.toContain('never');
  await pf.waitForLog((l) => l.job === 'app' && l.msg === 'job app started');
  const order = words(log);
  expect(order.indexOf('afterBoth')).toBeGreaterThan(Math.max(order.indexOf('preStart'), order.indexOf('other')));
});

it('wraps child output lines with job name and pid; raw passes them through', async () => {
  const pf = startPilotfish({
    jobs: [
      { name: 'wrapped', exec: ['echo', 'hello from wrapped'] },
      { name: 'raw', exec: ['echo', 'hello from raw'], logging: 'raw' },
      { name: 'app', main: true, exec: ['sleep', '1000'] },
    ],
  });
  const line = await pf.waitForLog('hello from wrapped');
  expect(line).toMatchObject({ job: 'wrapped', stream: 'stdout', level: 'info' });
  expect(typeof line.pid).toBe('number');
  await waitFor(() => pf.output().split('\n').includes('hello from raw'), { message: 'the raw line, unwrapped' });
});

it('health checks publish transitions once, not on every heartbeat', async () => {
  const dir = tmp();
  const flag = join(dir, 'healthy');
  const pf = startPilotfish({
    jobs: [
      { name: 'app', main: true, exec: ['sleep', '1000'], health: { exec: `test -e ${flag}`, interval: '50ms' } },
      { name: 'onHealthy', exec: ['true'], when: { source: 'app', each: 'healthy' } },
    ],
  });
  await pf.waitForLog((l) => l.msg.startsWith('job app is unhealthy: exit code 1'));
  (await import('node:fs')).writeFileSync(flag, '');
  await pf.waitForLog((l) => l.msg === 'job app is healthy');
  await pf.waitForLog((l) => l.job === 'onHealthy' && l.msg === 'job onHealthy exited');
  // Many heartbeats later there is still just one transition.
  await waitFor(() => pf.logs.filter((l) => l.job === 'app.health').length >= 0 && pf.logs.length > 0);
  expect(pf.logs.filter((l) => l.msg === 'job app is healthy')).toHaveLength(1);
});

it('drops privileges to `user`, runs in `cwd`, and adds the job env and PILOTFISH_JOB', async () => {
  const pf = startPilotfish({
    jobs: [
      {
        name: 'who',
        exec: `id -u; id -g; pwd; echo "$GREETING $PILOTFISH_JOB"`,
        shell: true,
        user: 'nobody',
        cwd: '/tmp',
        env: { GREETING: 'hello' },
      },
      { name: 'app', main: true, exec: ['sleep', '1000'] },
    ],
  });
  await pf.waitForLog((l) => l.job === 'who' && l.msg === 'job who exited');
  const lines = pf.logs.filter((l) => l.job === 'who' && l.stream === 'stdout').map((l) => l.msg);
  expect(lines).toEqual(['65534', '65534', '/tmp', 'hello who']);
});
