// Spawn-time limits and messages that say what is wrong (issue 18 items 3 and 8, issue 17 item 5),
// through the real CLI as PID 1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execProblem, MAX_ARG_STRLEN } from '../../src/config/limits.js';
import { killAll } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { cli, startControlled } from '../control/harness.js';

afterEach(killAll);

const tmp = () => mkdtempSync(join(tmpdir(), 'pf-limits-'));

describe('execProblem', () => {
  it('finds a NUL byte, a string over MAX_ARG_STRLEN and a total over the limit', () => {
    expect(execProblem(['echo', 'a\0b'], {})?.message).toMatch(/^argument 1 contains a NUL byte/);
    expect(execProblem(['echo'], { BIG: 'x'.repeat(MAX_ARG_STRLEN) })?.message).toMatch(/^variable BIG is 131077 bytes, more than the 131072/);
    expect(execProblem(['echo'], { A: 'x'.repeat(100_000), B: 'y'.repeat(100_000) }, 150_000)?.message).toMatch(
      /^arguments and environment take 200\d\d\d bytes, more than the kernel's limit of 150000 \(E2BIG\); the largest variable is [AB]/,
    );
    expect(execProblem(['echo', 'hi'], { A: 'b' })).toBeUndefined();
  });
});

describe('jobs', () => {
  it('a putenv value too large for any process is refused, and later spawns still work', async () => {
    const dir = tmp();
    const pf = await startControlled({
      jobs: [
        { name: 'app', main: true, exec: ['sleep', '1000'] },
        { name: 'tick', exec: ['true'], when: { interval: '100ms' } },
      ],
    });
    const big = await pf.api('POST', '/v1/environ', { BIG: 'x'.repeat(200_000) });
    expect(big.status).toBe(400);
    expect(JSON.stringify(big.body)).toMatch(/BIG=… is 200005 bytes, more than the 131072 one argument or variable may have/);
    const nul = await pf.api('POST', '/v1/environ', { NUL: 'a\u0000b' });
    expect(nul.status).toBe(400);
    // Many values that fit one by one but not together: refused once the total would not fit.
    let refused = 0;
    for (let i = 0; i < 40 && refused === 0; i++) {
      const r = await pf.api('POST', '/v1/environ', { [`V${i}`]: 'v'.repeat(120_000) });
      if (r.status !== 200) {
        refused++;
        expect(JSON.stringify(r.body)).toMatch(/the environment of future processes would take \d+ bytes, more than the \d+ putenv may use/);
      }
    }
    expect(refused).toBe(1);
    const runs = (await pf.status()).jobTotals.tick?.runs ?? 0;
    await waitFor(async () => ((await pf.status()).jobTotals.tick?.runs ?? 0) > runs + 2, { message: 'the interval job still starting' });
    const failed = pf.logs.filter((l) => l.job === 'tick' && /cannot run/.test(l.msg));
    expect(failed).toEqual([]);
    void dir;
  });

  it('a missing cwd is named as such, not as a missing binary', async () => {
    const pf = await startControlled({
      jobs: [
        { name: 'app', main: true, exec: ['sleep', '1000'] },
        { name: 'lost', exec: ['sh', '-c', 'true'], cwd: '/nonexistent/dir' },
      ],
    });
    const line = await pf.waitForLog((l) => l.job === 'lost' && l.level === 'error');
    expect(line.msg).toBe('cannot start in cwd "/nonexistent/dir": no such directory');
  });

  it('a health check whose binary is missing says so in the log, in `pilotfish health` and in `status`', async () => {
    const pf = await startControlled({
      jobs: [{ name: 'app', main: true, exec: ['sleep', '1000'], health: { exec: ['/nonexistent/check'], interval: '100ms' } }],
    });
    const line = await pf.waitForLog((l) => l.msg.startsWith('job app is unhealthy'));
    expect(line.msg).toBe('job app is unhealthy: cannot run "/nonexistent/check": no such file or directory (is it installed and on PATH?)');
    const health = await cli(['health', '--socket', pf.socket]);
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/unhealthy: job app is unhealthy: cannot run "\/nonexistent\/check": no such file/);
    const status = await pf.status();
    expect(status.jobs[0]?.healthReason).toMatch(/cannot run "\/nonexistent\/check"/);
    // Logged once, on the transition, not on every failed check.
    const checks = (await pf.status()).jobs[0];
    await waitFor(async () => pf.logs.filter((l) => l.job === 'app.health' || l.msg.includes('unhealthy')).length > 0);
    expect(pf.logs.filter((l) => l.msg.startsWith('job app is unhealthy'))).toHaveLength(1);
    void checks;
  });

  it('the unhealthy line gives the exit code and the tail of the output, once', async () => {
    const dir = tmp();
    const script = join(dir, 'check.sh');
    writeFileSync(script, '#!/bin/sh\necho "db: connection refused" >&2\nexit 3\n', { mode: 0o755 });
    const pf = await startControlled({ jobs: [{ name: 'app', main: true, exec: ['sleep', '1000'], health: { exec: [script], interval: '50ms' } }] });
    const line = await pf.waitForLog((l) => l.msg.startsWith('job app is unhealthy'));
    expect(line.msg).toBe('job app is unhealthy: exit code 3: db: connection refused');
    await waitFor(async () => ((await pf.status()).jobs[0]?.healthReason ?? '') !== '' && pf.logs.filter((l) => l.job === 'app.health').length >= 5, {
      message: 'several failed checks',
    });
    expect(pf.logs.filter((l) => l.msg.startsWith('job app is unhealthy'))).toHaveLength(1);
  });
});
