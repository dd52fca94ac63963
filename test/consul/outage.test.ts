// A Consul outage while Pilotfish runs: Consul (dev mode, so it forgets everything) stops for
// 30 s and starts again. The app keeps running, warnings are logged, the service is registered
// again and the watch resumes. Uses its own Consul so other tests are not disturbed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseExports } from '../setup/services.js';
import { killAll, ROOT, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, servicesCommand, startService, stopService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { agentCheck, consulPut } from './http.js';

const APP = join(ROOT, 'test/consul/fixtures/app.mjs');
const OUTAGE_MS = 30_000;

let dir = '';
let addr = '';

describeWithServices('consul outage', ['consul'], () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pf-consul-outage-'));
    const env = parseExports(await servicesCommand(['up', '--only', 'consul'], dir));
    addr = env.CONSUL_HTTP_ADDR as string;
  });
  afterAll(async () => {
    await killAll();
    await servicesCommand(['down'], dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the app running, re-registers and resumes watches after Consul lost its data', async () => {
    const state = mkdtempSync(join(tmpdir(), 'pf-outage-app-'));
    const changes = join(state, 'changes');
    const pf = startPilotfish({
      control: { enabled: false },
      consul: { address: addr, resync: '1s' },
      watches: [{ name: 'flag', key: 'outage/flag', blockingWait: '5s' }],
      jobs: [
        {
          name: 'app',
          exec: [process.execPath, APP],
          env: { APP_STATE: state, SERVICE_ID: 'app-outage' },
          port: 9000,
          serviceId: 'app-outage',
          health: { exec: 'true', interval: '500ms' },
          main: true,
        },
        { name: 'onflag', exec: ['sh', '-c', `echo "$(date +%s%N)" >> ${changes}`], when: { source: 'flag', each: 'changed' } },
      ],
    });
    const count = (): number => {
      try {
        return readFileSync(changes, 'utf8').split('\n').filter(Boolean).length;
      } catch {
        return 0;
      }
    };
    try {
      await waitFor(async () => (await agentCheck(addr, 'service:app-outage'))?.Status === 'passing', { timeout: 15_000, message: 'passing' });
      await consulPut(addr, '/kv/outage/flag', 'before');
      await waitFor(() => count() === 1, { message: 'the first change' });
      const pid = readFileSync(join(state, 'starts'), 'utf8').trim();

      const before = pf.logs.filter((l) => l.msg === 'watch flag changed').length;
      await stopService('consul', dir);
      const downAt = Date.now();
      await pf.waitForLog((l) => l.level === 'warn' && /cannot reach Consul|cannot update the TTL check/.test(l.msg), 15_000);
      await waitFor(() => Date.now() - downAt >= OUTAGE_MS, { timeout: OUTAGE_MS + 5_000, interval: 500, message: 'the outage to last' });
      // Warnings are rate-limited: a handful over 30 s, not one per failed request.
      const warnings = pf.logs.filter((l) => l.level === 'warn' && /Consul/.test(l.msg)).length;
      expect(warnings).toBeLessThan(30);
      expect(pf.child.exitCode).toBeNull();
      await startService('consul', dir);

      // Re-registered from scratch (dev Consul forgot it), and the check passes again.
      await waitFor(async () => (await agentCheck(addr, 'service:app-outage'))?.Status === 'passing', { timeout: 20_000, message: 'passing after the outage' });
      // The key vanished with Consul's data (a change), and a new value is seen (the watch resumed).
      await consulPut(addr, '/kv/outage/flag', 'after');
      await waitFor(() => count() >= 2 && pf.logs.filter((l) => l.msg === 'watch flag changed').length > before, {
        timeout: 20_000,
        message: `the watch to resume; logs: ${pf.logs
          .filter((l) => l.watch === 'watch flag')
          .map((l) => l.msg)
          .slice(-5)
          .join(' | ')}`,
      });
      expect(readFileSync(join(state, 'starts'), 'utf8').trim()).toBe(pid); // the app was never restarted
      await pf.signal('SIGTERM');
      expect((await pf.exited).code).toBe(0);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  }, 120_000);

  it('with startup.optional, starts without Consul and registers once it appears', async () => {
    await stopService('consul', dir);
    const pf = startPilotfish({
      control: { enabled: false },
      consul: { address: addr, resync: '500ms', startup: { timeout: '500ms', optional: true } },
      jobs: [{ name: 'late', exec: 'sleep 600', port: 9001, serviceId: 'late-1', health: { exec: 'true', interval: '300ms' }, main: true }],
    });
    await pf.waitForLog('starting without it (consul.startup.optional)');
    await pf.waitForLog('job late started');
    await startService('consul', dir);
    await waitFor(async () => (await agentCheck(addr, 'service:late-1'))?.Status === 'passing', { timeout: 20_000, message: 'registered and passing' });
    await pf.kill();
  }, 60_000);
});
