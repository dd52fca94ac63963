// Watches against the real Consul: a service watch starts an onChange job on a real change
// only, publishes healthy/unhealthy on 0 ↔ >0 instances, and a KV prefix watch ignores writes
// that change nothing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAll, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { consulDelete, consulIndex, consulPut } from './http.js';
import type { Running } from '../helpers/pilotfish.js';

/** Wait until the watch has answered at an index that includes every write made so far. */
async function barrier(pf: Running, watch: string, addr: string, path: string): Promise<void> {
  const index = await consulIndex(addr, path);
  await waitFor(() => pf.logs.some((l) => l.watch === `watch ${watch}` && typeof l.index === 'number' && l.index >= index), {
    message: `watch ${watch} to reach index ${index}`,
  });
}

afterEach(killAll);

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describeWithServices('consul watches', ['consul'], () => {
  it('a service watch starts its onChange job on real changes only, with healthy/unhealthy transitions', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const svc = `upstream-${Math.random().toString(36).slice(2, 8)}`;
    const dir = mkdtempSync(join(tmpdir(), 'pf-consul-watch-'));
    const log = join(dir, 'events');
    const pf = startPilotfish({
      logging: { level: 'trace', format: 'json' },
      control: { enabled: false },
      consul: { address: addr },
      watches: [{ name: 'up', service: svc, blockingWait: '10s' }],
      jobs: [
        { name: 'keeper', exec: 'sleep 600', main: true },
        { name: 'onchange', exec: ['sh', '-c', `echo changed >> ${log}`], when: { source: 'up', each: 'changed' } },
        { name: 'onhealthy', exec: ['sh', '-c', `echo healthy >> ${log}`], when: { source: 'up', each: 'healthy' } },
        { name: 'onunhealthy', exec: ['sh', '-c', `echo unhealthy >> ${log}`], when: { source: 'up', each: 'unhealthy' } },
      ],
    });
    try {
      await pf.waitForLog('connected to Consul');
      const reg = (id: string, port: number, tags: string[] = []) =>
        consulPut(addr, '/agent/service/register', { Name: svc, ID: id, Port: port, Address: '10.0.0.1', Tags: tags });
      expect(await reg(`${svc}-1`, 81)).toBe(200);
      await waitFor(() => lines(log).includes('changed') && lines(log).includes('healthy'), { message: 'changed + healthy' });

      // The same registration again: Consul's index moves, the content does not.
      expect(await reg(`${svc}-1`, 81)).toBe(200);
      await barrier(pf, 'up', addr, `/health/service/${svc}`);
      expect(pf.logs.filter((l) => l.msg === 'watch up changed').length).toBe(1);
      // A real change (a tag) after it: exactly one more `changed`.
      expect(await reg(`${svc}-1`, 81, ['b', 'a'])).toBe(200);
      await waitFor(() => lines(log).filter((l) => l === 'changed').length === 2, { message: 'a second changed' });
      // Same tags in another order: no change.
      expect(await reg(`${svc}-1`, 81, ['a', 'b'])).toBe(200);
      await barrier(pf, 'up', addr, `/health/service/${svc}`);
      expect(pf.logs.filter((l) => l.msg === 'watch up changed').length).toBe(2);
      expect(await reg(`${svc}-2`, 82)).toBe(200);
      await waitFor(() => lines(log).filter((l) => l === 'changed').length === 3, { message: 'a third changed' });
      expect(lines(log).filter((l) => l === 'changed').length).toBe(3);

      await consulPut(addr, `/agent/service/deregister/${svc}-1`);
      await consulPut(addr, `/agent/service/deregister/${svc}-2`);
      await waitFor(() => lines(log).includes('unhealthy'), { message: 'unhealthy' });
      expect(lines(log).filter((l) => l === 'healthy').length).toBe(1);
      const changes = pf.logs.filter((l) => l.msg === 'watch up changed').length;
      expect(changes).toBeGreaterThanOrEqual(4); // the two deregistrations may be seen apart
      expect(changes).toBeLessThanOrEqual(5);
    } finally {
      await pf.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a KV prefix watch reacts to a new value and not to a rewrite of the same value', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const prefix = `watch-${Math.random().toString(36).slice(2, 8)}/`;
    const pf = startPilotfish({
      logging: { level: 'trace', format: 'json' },
      control: { enabled: false },
      consul: { address: addr },
      watches: [{ name: 'cfg', prefix, blockingWait: '10s' }],
      jobs: [{ name: 'keeper', exec: 'sleep 600', main: true }],
    });
    try {
      await pf.waitForLog('connected to Consul');
      await consulPut(addr, `/kv/${prefix}a`, '1');
      await pf.waitForLog('watch cfg changed');
      await consulPut(addr, `/kv/${prefix}a`, '1');
      await barrier(pf, 'cfg', addr, `/kv/${prefix}?recurse=true`);
      expect(pf.logs.filter((l) => l.msg === 'watch cfg changed').length).toBe(1);
      await consulPut(addr, `/kv/${prefix}b`, '2');
      await waitFor(() => pf.logs.filter((l) => l.msg === 'watch cfg changed').length === 2, { message: 'second change' });
      await consulPut(addr, `/kv/${prefix}b`, '2');
      await barrier(pf, 'cfg', addr, `/kv/${prefix}?recurse=true`);
      expect(pf.logs.filter((l) => l.msg === 'watch cfg changed').length).toBe(2);
    } finally {
      await consulDelete(addr, `/kv/${prefix}?recurse=true`);
    }
  });

  it('quiescence turns a burst into one change; a tag filter sees only its instances', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const run = Math.random().toString(36).slice(2, 8);
    const prefix = `quiet-${run}/`;
    const svc = `tagged-${run}`;
    const pf = startPilotfish({
      logging: { level: 'trace', format: 'json' },
      control: { enabled: false },
      consul: { address: addr },
      watches: [
        { name: 'burst', prefix, blockingWait: '10s', wait: { min: '1s', max: '5s' } },
        { name: 'v2', service: svc, tag: 'v2', blockingWait: '10s' },
      ],
      jobs: [{ name: 'keeper', exec: 'sleep 600', main: true }],
    });
    const count = (w: string): number => pf.logs.filter((l) => l.msg === `watch ${w} changed`).length;
    try {
      await pf.waitForLog('connected to Consul');
      await barrier(pf, 'burst', addr, `/kv/${prefix}?recurse=true`);
      for (let i = 0; i < 5; i++) await consulPut(addr, `/kv/${prefix}k${i}`, String(i));
      await waitFor(() => count('burst') === 1, { message: 'one change for the burst' });
      await barrier(pf, 'burst', addr, `/kv/${prefix}?recurse=true`);
      expect(count('burst')).toBe(1);

      await consulPut(addr, '/agent/service/register', { Name: svc, ID: `${svc}-1`, Port: 1, Tags: ['v1'] });
      await barrier(pf, 'v2', addr, `/health/service/${svc}`);
      expect(count('v2')).toBe(0);
      await consulPut(addr, '/agent/service/register', { Name: svc, ID: `${svc}-2`, Port: 2, Tags: ['v2'] });
      await waitFor(() => count('v2') === 1, { message: 'the v2 instance' });
    } finally {
      await pf.kill();
      await consulDelete(addr, `/kv/${prefix}?recurse=true`);
      await consulPut(addr, `/agent/service/deregister/${svc}-1`);
      await consulPut(addr, `/agent/service/deregister/${svc}-2`);
    }
  });
});
