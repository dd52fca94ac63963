// A reload against the real Consul: a job whose port changed is registered again with the new
// port, a removed job's service is deregistered, an unchanged one is left alone, and a new watch
// starts (its `changed` starts a job added by the same reload) while the old one stops.
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { writeFileSync } from 'node:fs';
import type { ReloadResult } from '../../src/subsystem/contract.js';
import { startControlled } from '../control/harness.js';
import { killAll } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { catalogService, consulPut } from './http.js';

afterEach(killAll);

describeWithServices('consul on reload', ['consul'], () => {
  it('re-registers a changed service, deregisters a removed one, swaps watches', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const tag = Math.random().toString(36).slice(2, 8);
    const [web, api, keep] = [`web-${tag}`, `api-${tag}`, `keep-${tag}`];
    const key = `pf-reload/${tag}`;
    const pf = await startControlled(() => ({
      consul: { address: addr },
      jobs: [
        { name: web, main: true, exec: ['sleep', '1000'], port: 18001 },
        { name: api, exec: ['sleep', '1000'], port: 18002 },
        { name: keep, exec: ['sleep', '1000'], port: 18003 },
      ],
      watches: [{ name: 'old-key', key: `${key}/old` }],
    }));
    const port = async (name: string) => (await catalogService(addr, name))[0]?.ServicePort;
    await waitFor(async () => (await port(web)) === 18001 && (await port(api)) === 18002 && (await port(keep)) === 18003, { message: 'the three services' });
    const keepIndex = (await catalogService(addr, keep))[0]?.ModifyIndex;

    const config = parse(readFileSync(pf.configFile, 'utf8')) as { jobs: Array<Record<string, unknown>>; watches: unknown[] };
    config.jobs[0]!.port = 18011; // web moves
    config.jobs.splice(1, 1); // api goes
    config.watches = [{ name: 'new-key', key: `${key}/new` }];
    config.jobs.push({ name: 'on-new', exec: ['sh', '-c', `echo seen >> ${pf.dir}/new.out`], when: { source: 'new-key', each: 'changed' } });
    writeFileSync(pf.configFile, stringify(config));
    const r = await pf.api<ReloadResult>('POST', '/v1/reload');
    expect(r.body).toMatchObject({ restarted: [web], added: ['on-new'], removed: [api], applied: ['watches'], needsRestart: [] });

    await waitFor(async () => (await port(web)) === 18011, { message: `${web} on its new port` });
    await waitFor(async () => (await catalogService(addr, api)).length === 0, { message: `${api} deregistered` });
    expect((await catalogService(addr, keep))[0]?.ModifyIndex).toBe(keepIndex);
    const watches = ((await pf.status()) as unknown as { subsystems: { consul: { watches: Array<{ name: string }> } } }).subsystems.consul.watches;
    expect(watches.map((w) => w.name)).toEqual(['new-key']);

    await consulPut(addr, `/kv/${key}/new`, 'v1');
    await waitFor(
      () => {
        try {
          return readFileSync(`${pf.dir}/new.out`, 'utf8').includes('seen');
        } catch {
          return false;
        }
      },
      { message: 'the new watch starting on-new' },
    );
  });
});
