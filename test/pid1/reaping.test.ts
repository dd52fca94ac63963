// (a) zombie storm and (b) no stolen exits, with Pilotfish as PID 1 of its own PID namespace.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FIXTURES, killAll, startPilotfish } from '../helpers/pilotfish.js';
import { descendants } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

afterEach(killAll);

it('(a) zombie storm: 100 orphans are reaped within 2 s, and only the expected processes remain', async () => {
  const pf = startPilotfish(
    {
      jobs: [
        { name: 'app', main: true, exec: ['sleep', '1000'] },
        { name: 'storm', exec: [`${FIXTURES}/zombie-storm.sh`] },
      ],
    },
    { pid1: true },
  );
  const pid = await pf.pid();
  await pf.waitForLog((l) => l.job === 'storm' && l.msg === 'job storm exited');
  // Within 2 s of the storm, nothing is a zombie and only the main job's sleep is left.
  const left = await waitFor(
    () => {
      const procs = descendants(pid);
      return procs.every((p) => p.state !== 'Z') && procs.length === 1 ? procs : undefined;
    },
    { timeout: 2000, interval: 20, message: 'every orphan to be reaped' },
  );
  expect(left.map((p) => p.comm)).toEqual(['sleep']);
});

it('(b) no stolen exits: 1000 short runs while orphans die, every exit code observed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pf-exits-'));
  const countFile = join(dir, 'count');
  const pf = startPilotfish(
    {
      logging: { level: 'info', format: 'json' },
      jobs: [
        { name: 'app', main: true, exec: ['sleep', '1000'], health: { exec: ['true'], interval: '20ms' } },
        {
          name: 'worker',
          exec: [`${FIXTURES}/counted-exit.sh`],
          env: { COUNT_FILE: countFile },
          restarts: { max: 999, backoff: { initial: '1ms', max: '1ms', factor: 1 } },
        },
      ],
    },
    { pid1: true },
  );
  const exits = () => pf.logs.filter((l) => l.job === 'worker' && typeof l.code === 'number');
  await waitFor(() => exits().length === 1000, { timeout: 120_000, interval: 100, message: '1000 worker exits' });
  const codes = exits().map((l) => l.code);
  const expected = Array.from({ length: 1000 }, (_, i) => i % 3);
  expect(codes).toEqual(expected);
  expect(readFileSync(countFile, 'utf8').trim()).toBe('1000');
  // No zombie was left behind either.
  const pid = await pf.pid();
  await waitFor(() => descendants(pid).every((p) => p.state !== 'Z'), { timeout: 2000, message: 'no zombies' });
}, 180_000);
