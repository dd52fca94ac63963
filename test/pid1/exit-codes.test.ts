// (d) The main job's exit code becomes Pilotfish's, as PID 1 and as a plain subreaper.
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, killAll, startPilotfish } from '../helpers/pilotfish.js';

afterEach(killAll);

const mainJob = (exec: string[]) => ({ jobs: [{ name: 'app', main: true, exec }] });

describe.each([
  ['as PID 1', true],
  ['as a subreaper', false],
])('exit codes %s', (_label, pid1) => {
  it.each([0, 1, 2, 255])('main job exits %i → pilotfish exits the same', async (code) => {
    const pf = startPilotfish(mainJob([`${FIXTURES}/exit-with.sh`, String(code)]), { pid1 });
    expect((await pf.exited).code).toBe(code);
  });

  it('main job killed by SIGKILL → 137', async () => {
    const pf = startPilotfish(mainJob([`${FIXTURES}/exit-with.sh`, 'signal', 'KILL']), { pid1 });
    expect((await pf.exited).code).toBe(137);
  });

  it('a missing binary → 127 and a clear message', async () => {
    const pf = startPilotfish(mainJob(['/no/such/binary', '--flag']), { pid1 });
    expect((await pf.exited).code).toBe(127);
    const line = pf.logs.find((l) => l.level === 'error' && l.job === 'app');
    expect(line?.msg).toBe('cannot run "/no/such/binary": no such file or directory (is it installed and on PATH?)');
  });
});

it('an invalid config exits 1 and names the file and line', async () => {
  const pf = startPilotfish('jobs:\n  - name: app\n    exce: [true]\n');
  expect((await pf.exited).code).toBe(1);
  expect(pf.output()).toMatch(/pilotfish\.yaml:3:5: jobs\[0\]\.exce: unknown key "exce" \(did you mean "exec"\?\)/);
});
