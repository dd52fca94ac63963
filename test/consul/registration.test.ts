// Registration against the real Consul: the catalog entry, the TTL check fed by the health
// check (pass, then fail with its output), and deregistration before the app gets SIGTERM.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAll, ROOT, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { agentCheck, catalogService, consulGet, consulPut } from './http.js';

const APP = join(ROOT, 'test/consul/fixtures/app.mjs');

afterEach(killAll);

function setup(): { name: string; id: string; state: string; addr: string } {
  const name = `reg-${Math.random().toString(36).slice(2, 8)}`;
  const state = mkdtempSync(join(tmpdir(), 'pf-consul-reg-'));
  return { name, id: `${name}-test`, state, addr: services().CONSUL_HTTP_ADDR };
}

describeWithServices('consul registration', ['consul'], () => {
  it('registers the job, passes its TTL check, fails it with the output, and deregisters before SIGTERM', async () => {
    const { name, id, state, addr } = setup();
    writeFileSync(join(state, 'healthy'), '');
    const pf = startPilotfish(
      {
        control: { enabled: false },
        consul: { address: addr, startup: { timeout: '10s' } },
        jobs: [
          {
            name,
            exec: [process.execPath, APP],
            env: { APP_STATE: state, SERVICE_ID: id, CONSUL_HTTP_ADDR: addr },
            port: 8123,
            serviceId: id,
            interfaces: ['static:10.9.8.7'],
            tags: ['blue', 'v1'],
            meta: { version: '1.2.3' },
            enableTagOverride: true,
            health: { exec: `sh -c 'test -f ${state}/healthy && echo fine || { echo "disk on fire"; exit 1; }'`, shell: false, interval: '300ms', ttl: '3s' },
            main: true,
          },
        ],
      },
      { env: { CONSUL_HTTP_ADDR: addr } },
    );
    try {
      const entry = await waitFor(async () => (await catalogService(addr, name))[0], { timeout: 15_000, message: 'the service in the catalog' });
      expect(entry.ServiceID).toBe(id);
      expect(entry.ServiceAddress).toBe('10.9.8.7');
      expect(entry.ServicePort).toBe(8123);
      expect(entry.ServiceTags).toEqual(['blue', 'v1']);
      expect(entry.ServiceMeta).toEqual({ version: '1.2.3' });
      expect(entry.ServiceEnableTagOverride).toBe(true);

      const passing = await waitFor(
        async () => {
          const c = await agentCheck(addr, `service:${id}`);
          return c?.Status === 'passing' ? c : undefined;
        },
        { timeout: 10_000, message: 'the TTL check to pass' },
      );
      expect(passing.Output).toContain('fine');

      // Fail the health check: the TTL check turns critical at the next check (well within
      // the 3 s TTL, which would only lapse later), carrying the check's output.
      rmSync(join(state, 'healthy'));
      const t0 = Date.now();
      const critical = await waitFor(
        async () => {
          const c = await agentCheck(addr, `service:${id}`);
          return c?.Status === 'critical' ? c : undefined;
        },
        { timeout: 3_000, message: 'the TTL check to turn critical within the TTL' },
      );
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(critical.Output).toContain('disk on fire');

      // SIGTERM: the app checks the agent when it receives its own SIGTERM.
      await pf.signal('SIGTERM');
      const exit = await pf.exited;
      expect(exit.code).toBe(0);
      expect(readFileSync(join(state, 'term'), 'utf8').trim()).toBe('404');
      expect(await catalogService(addr, name)).toEqual([]);
      const order = pf.logs.map((l) => l.msg);
      const dereg = order.findIndex((m) => m.startsWith(`deregistered service ${id}`));
      const stopping = order.findIndex((m) => m.startsWith(`stopping job ${name}`));
      expect(dereg).toBeGreaterThanOrEqual(0);
      expect(dereg).toBeLessThan(stopping);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('fails the check at once when the job exits (no waiting for the TTL)', async () => {
    const { name, id, addr } = setup();
    startPilotfish({
      control: { enabled: false },
      consul: { address: addr },
      jobs: [
        { name: 'keeper', exec: 'sleep 600', main: true },
        {
          name,
          exec: ['sh', '-c', 'sleep 1; exit 3'],
          port: 8126,
          serviceId: id,
          initialStatus: 'passing',
          health: { exec: 'true', interval: '200ms', ttl: '60s' },
        },
      ],
    });
    const check = await waitFor(
      async () => {
        const c = await agentCheck(addr, `service:${id}`);
        return c?.Status === 'critical' ? c : undefined;
      },
      { timeout: 10_000, message: 'critical after the exit' },
    );
    expect(check.Output).toBe(`job ${name} exited with code 3`);
    await consulPut(addr, `/agent/service/deregister/${id}`);
  });

  it('registers again when the agent lost the service (ContainerPilot #577)', async () => {
    const { name, id, state, addr } = setup();
    const pf = startPilotfish(
      {
        control: { enabled: false },
        consul: { address: addr, resync: '500ms' },
        jobs: [
          {
            name,
            exec: [process.execPath, APP],
            env: { APP_STATE: state, SERVICE_ID: id },
            port: 8124,
            serviceId: id,
            health: { exec: 'true', interval: '200ms' },
          },
          // A job without a health check has no heartbeat: the resync loop restores it.
          { name: `${name}-plain`, exec: [process.execPath, APP], env: { APP_STATE: state, SERVICE_ID: `${id}-plain` }, port: 8125, serviceId: `${id}-plain` },
        ],
      },
      { env: { CONSUL_HTTP_ADDR: addr } },
    );
    try {
      await waitFor(async () => (await agentCheck(addr, `service:${id}`))?.Status === 'passing', { timeout: 15_000, message: 'passing' });
      await waitFor(async () => (await consulGet(addr, `/agent/service/${id}-plain`)).status === 200, { timeout: 10_000, message: 'plain registered' });
      // What an agent restart with lost data looks like to Pilotfish: the services are gone.
      await fetch(`${addr.replace(/^(?!http)/, 'http://')}/v1/agent/service/deregister/${id}`, { method: 'PUT' });
      await fetch(`${addr.replace(/^(?!http)/, 'http://')}/v1/agent/service/deregister/${id}-plain`, { method: 'PUT' });
      await pf.waitForLog(`Consul lost service ${id}`, 10_000);
      await waitFor(async () => (await agentCheck(addr, `service:${id}`))?.Status === 'passing', { timeout: 10_000, message: 'passing again' });
      await waitFor(async () => (await consulGet(addr, `/agent/service/${id}-plain`)).status === 200, { timeout: 10_000, message: 'plain registered again' });
      await pf.signal('SIGTERM');
      await pf.exited;
      expect(existsSync(join(state, 'term'))).toBe(true);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('fails clearly at start when Consul cannot be reached, and starts anyway when optional', async () => {
    const dead = '127.0.0.1:9'; // discard port: nothing listens
    const strict = startPilotfish({
      control: { enabled: false },
      consul: { address: dead, startup: { timeout: '1s' } },
      jobs: [{ name: 'app', exec: 'sleep 30', port: 80 }],
    });
    const exit = await strict.exited;
    expect(exit.code).not.toBe(0);
    const fatal = strict.logs.find((l) => l.level === 'fatal');
    expect(fatal?.msg).toContain('cannot reach Consul at http://127.0.0.1:9');
    expect(fatal?.msg).toContain('consul.startup.optional');

    const lax = startPilotfish({
      control: { enabled: false },
      consul: { address: dead, startup: { timeout: '500ms', optional: true } },
      jobs: [{ name: 'app', exec: 'sleep 30', port: 80, main: true }],
    });
    await lax.waitForLog('starting without it (consul.startup.optional)');
    await lax.waitForLog('job app started');
    await lax.signal('SIGTERM');
    expect((await lax.exited).code).toBe(143); // sleep's own death by SIGTERM, passed on
  });
});
