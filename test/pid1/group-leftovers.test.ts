// Processes a job leaves in its process group when its main process exits on its own
// (`sh -c 'sleep 1000 & exit 0'`) get the job's stop signal, then SIGKILL after its stopTimeout.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAll, startPilotfish } from '../helpers/pilotfish.js';
import { alive } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

afterEach(killAll);

const tmp = () => mkdtempSync(join(tmpdir(), 'pf-leftover-'));
const pidIn = (file: string) =>
  waitFor(() => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || undefined : undefined), { message: `a pid in ${file}` });

it('a helper job that exits leaving a background process: the process is stopped', async () => {
  const dir = tmp();
  const file = join(dir, 'bg.pid');
  const pf = startPilotfish({
    jobs: [
      { name: 'app', main: true, exec: ['sleep', '1000'] },
      { name: 'leaver', exec: ['/bin/sh', '-c', `sleep 1000 & echo $! > ${file}; exit 0`] },
    ],
  });
  const bg = await pidIn(file);
  await pf.waitForLog((l) => l.job === 'leaver' && l.msg === 'job leaver exited');
  // The run is reported over only once its group is gone.
  expect(alive(bg)).toBe(false);
});

it('a leftover that ignores the stop signal gets SIGKILL once stopTimeout has passed', async () => {
  const dir = tmp();
  const file = join(dir, 'bg.pid');
  const pf = startPilotfish({
    jobs: [
      { name: 'app', main: true, exec: ['sleep', '1000'] },
      { name: 'leaver', stopTimeout: '300ms', exec: ['/bin/sh', '-c', `(trap '' TERM; exec sleep 1000) & echo $! > ${file}; exit 0`] },
    ],
  });
  const bg = await pidIn(file);
  const line = await pf.waitForLog((l) => l.job === 'leaver' && l.msg === 'job leaver exited');
  expect(alive(bg)).toBe(false);
  expect(line.code).toBe(0);
});

it('as a subreaper, a main job that exits leaving a background process: nothing outlives Pilotfish', async () => {
  const dir = tmp();
  const file = join(dir, 'bg.pid');
  const pf = startPilotfish({ jobs: [{ name: 'app', main: true, exec: ['/bin/sh', '-c', `sleep 1000 & echo $! > ${file}; exit 3`] }] });
  const bg = await pidIn(file);
  expect((await pf.exited).code).toBe(3);
  expect(alive(bg)).toBe(false);
});
