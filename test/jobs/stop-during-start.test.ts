// A stop that arrives while Pilotfish is still starting is a clean stop (issue 17 item 5): exit 0,
// no "cannot start … FATAL", whatever was starting at the time.
import { afterEach, expect, it } from 'vitest';
import { killAll, startPilotfish } from '../helpers/pilotfish.js';

afterEach(killAll);

it('SIGTERM while a subsystem is still starting (Consul not reachable yet) exits 0, without a fatal line', async () => {
  const pf = startPilotfish(
    {
      consul: { address: '127.0.0.1:1', startup: { timeout: '60s' } },
      jobs: [{ name: 'app', main: true, exec: ['sleep', '1000'] }],
    },
    { pid1: true },
  );
  await pf.waitForLog('pilotfish starting');
  await pf.signal('SIGTERM');
  const exit = await pf.exited;
  expect(pf.logs.filter((l) => l.level === 'fatal')).toEqual([]);
  expect(exit.code).toBe(0);
});
