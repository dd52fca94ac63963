// Reload restarts only the jobs whose definition changed; 200 reloads neither deadlock nor leak.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { ReloadResult } from '../../src/subsystem/contract.js';
import { killAll } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { alive, cli, startControlled } from './harness.js';

afterEach(killAll);

const sleeper = (name: string, extra: Record<string, unknown> = {}) => ({ name, exec: ['sleep', '1000'], ...extra });

function rewrite(file: string, change: (config: Record<string, unknown>) => void): void {
  const text = readFileSync(file, 'utf8');
  const config = parse(text) as Record<string, unknown>;
  change(config);
  writeFileSync(file, stringify(config));
}

describe('reload', () => {
  it('restarts the changed job only, adds new jobs, stops removed ones', async () => {
    const pf = await startControlled({ jobs: [sleeper('a', { main: true }), sleeper('b'), sleeper('c')] });
    const before = await pf.status();
    const pid = (name: string) => before.jobs.find((j) => j.name === name)?.pid as number;
    rewrite(pf.configFile, (c) => {
      const jobs = c.jobs as Array<Record<string, unknown>>;
      (jobs[1] as Record<string, unknown>).env = { CHANGED: '1' };
      jobs.splice(2, 1); // remove c
      jobs.push(sleeper('d'));
    });
    const r = await pf.api<ReloadResult>('POST', '/v1/reload');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ restarted: ['b'], added: ['d'], removed: ['c'], unchanged: ['a'], applied: [], needsRestart: [] });
    const after = await pf.status();
    const now = (name: string) => after.jobs.find((j) => j.name === name);
    expect(now('a')?.pid).toBe(pid('a'));
    expect(now('b')?.pid).toBeGreaterThan(0);
    expect(now('b')?.pid).not.toBe(pid('b'));
    expect(alive(pid('b'))).toBe(false);
    expect(now('c')).toBeUndefined();
    expect(alive(pid('c'))).toBe(false);
    expect(now('d')?.state).toBe('running');
    expect(after.jobs.map((j) => j.name)).toEqual(['a', 'b', 'd']);
    expect(after.events.reloaded).toBe(1);
    expect(after.reloads).toBe(1);
    expect(now('b')?.state).toBe('running');
  });

  it('refuses an invalid config and changes nothing', async () => {
    const pf = await startControlled({ jobs: [sleeper('a', { main: true }), sleeper('b')] });
    const before = await pf.status();
    const good = readFileSync(pf.configFile, 'utf8');
    writeFileSync(pf.configFile, `${good}\nbogus: 1\n`);
    const r = await cli(['reload'], { PILOTFISH_SOCKET: pf.socket });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/reload refused, nothing changed/);
    expect(r.stderr).toMatch(/pilotfish\.yaml:\d+:\d+: .*unknown key "bogus"/);
    const after = await pf.status();
    expect(after.jobs.map((j) => j.pid)).toEqual(before.jobs.map((j) => j.pid));
    expect(after.reloads).toBe(0);
  });

  it('applies templates and backup live; a template that does not parse refuses the reload, changing nothing', async () => {
    const pf = await startControlled((dir) => ({
      jobs: [sleeper('app', { main: true })],
      templates: [
        { name: 'a.conf', template: 'A1', destination: `${dir}/a.conf` },
        { name: 'b.conf', template: 'B1', destination: `${dir}/b.conf` },
      ],
      backup: { sources: [{ path: `${dir}/data` }], store: { local: { path: `${dir}/repo1` } }, restore: { policy: 'never' } },
    }));
    const file = (name: string) => {
      try {
        return readFileSync(`${pf.dir}/${name}`, 'utf8');
      } catch {
        return undefined;
      }
    };
    await waitFor(() => file('a.conf') === 'A1' && file('b.conf') === 'B1', { message: 'the first renders' });
    const inode = (name: string) => statSync(`${pf.dir}/${name}`).ino;
    const bInode = inode('b.conf');

    rewrite(pf.configFile, (c) => {
      (c.templates as Array<Record<string, unknown>>)[0]!.template = 'A2';
      (c.backup as { store: unknown }).store = { local: { path: `${pf.dir}/repo2` } };
    });
    const r = await pf.api<ReloadResult>('POST', '/v1/reload');
    expect(r.body).toMatchObject({ applied: ['backup', 'templates'], needsRestart: [], unchanged: ['app'] });
    await waitFor(() => file('a.conf') === 'A2', { message: 'a.conf rendered again' });
    expect(inode('b.conf')).toBe(bInode); // an unchanged template is not rewritten
    // The new store is the one backups go to now.
    expect((await pf.api('POST', '/v1/backup')).status).toBe(200);
    expect(readdirSync(`${pf.dir}/repo2/snapshots`)).toHaveLength(1);
    expect(existsSync(`${pf.dir}/repo1/snapshots`) ? readdirSync(`${pf.dir}/repo1/snapshots`) : []).toEqual([]);

    rewrite(pf.configFile, (c) => {
      (c.templates as Array<Record<string, unknown>>)[0]!.template = 'A3 {{ unclosed';
      (c.backup as { store: unknown }).store = { local: { path: `${pf.dir}/repo3` } };
    });
    const refused = await pf.api<{ error: { message: string } }>('POST', '/v1/reload');
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.body.error.message).toMatch(/reload refused: templates cannot apply its new templates: .*a\.conf/);
    expect(file('a.conf')).toBe('A2');
    expect((await pf.status()).reloads).toBe(1);
    expect((await pf.api('POST', '/v1/backup')).status).toBe(200);
    expect(readdirSync(`${pf.dir}/repo2/snapshots`)).toHaveLength(2);
  });

  it('applies new signal routes', async () => {
    const pf = await startControlled((dir) => ({
      jobs: [sleeper('a', { main: true }), { name: 'hup', exec: ['sh', '-c', `trap 'echo HUP >> ${dir}/hup.out' HUP; while :; do sleep 0.05; done`] }],
    }));
    rewrite(pf.configFile, (c) => {
      c.signals = { SIGHUP: { to: ['hup'] } };
    });
    expect((await pf.api('POST', '/v1/reload')).status).toBe(200);
    await pf.signal('SIGHUP');
    await waitFor(
      () => {
        try {
          return readFileSync(`${pf.dir}/hup.out`, 'utf8') === 'HUP\n';
        } catch {
          return false;
        }
      },
      { message: 'the reloaded route to deliver SIGHUP to hup' },
    );
  });

  it('200 reloads back to back neither deadlock nor leak', async () => {
    const pf = await startControlled({
      jobs: [
        sleeper('a', { main: true }),
        sleeper('b', { env: { N: '0' } }),
        { name: 'checked', exec: ['sleep', '1000'], health: { exec: ['true'], interval: '50ms' } },
        { name: 'tick', exec: ['true'], when: { interval: '20ms' } },
      ],
    });
    const text = readFileSync(pf.configFile, 'utf8');
    let current = 0;
    const reloadWith = async (n: number): Promise<void> => {
      writeFileSync(pf.configFile, text.replace("N: '0'", `N: '${n}'`).replace('N: "0"', `N: "${n}"`));
      const r = await pf.api<ReloadResult>('POST', '/v1/reload');
      expect(r.status).toBe(200);
      expect(r.body.restarted).toEqual(n === current ? [] : ['b']);
      current = n;
    };
    // n = 0,0,1,1,0,0,...: every other reload changes job b, the rest change nothing
    for (let i = 0; i < 6; i++) await reloadWith(Math.floor(i / 2) % 2); // warm up
    const before = await pf.status();
    const aPid = before.jobs[0]?.pid;
    const started = Date.now();
    for (let i = 6; i < 206; i++) await reloadWith(Math.floor(i / 2) % 2);
    const elapsed = Date.now() - started;
    // Concurrent reloads queue behind each other instead of interleaving.
    const burst = await Promise.all(Array.from({ length: 10 }, () => pf.api<ReloadResult>('POST', '/v1/reload')));
    expect(burst.every((r) => r.status === 200)).toBe(true);
    const after = await pf.status();
    expect(after.reloads).toBe(before.reloads + 210);
    expect(after.jobs[0]?.pid).toBe(aPid);
    expect(after.jobs.find((j) => j.name === 'b')?.state).toBe('running');
    // Handles: processes, pipes and timers come and go with the jobs; allow the jitter of a
    // health check or interval run in flight, not a growth per reload.
    const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    expect(total(after.runtime.resources)).toBeLessThanOrEqual(total(before.runtime.resources) + 8);
    expect(after.runtime.resources.ProcessWrap ?? 0).toBeLessThanOrEqual((before.runtime.resources.ProcessWrap ?? 0) + 2);
    expect(after.runtime.subscribers).toBe(before.runtime.subscribers);
    expect(after.runtime.processListeners).toBe(before.runtime.processListeners);
    expect(after.runtime.heapUsedBytes).toBeLessThan(before.runtime.heapUsedBytes + 40 * 1024 * 1024);
    const warnings = pf.logs.filter((l) => /MaxListenersExceeded|slow subscriber/.test(l.msg ?? ''));
    expect(warnings).toEqual([]);
    expect(pf.output()).not.toMatch(/MaxListenersExceededWarning/);
    console.log(
      `200 reloads (100 restarting job b) in ${elapsed} ms; listeners ${before.runtime.processListeners} -> ${after.runtime.processListeners}; resources ${JSON.stringify(before.runtime.resources)} -> ${JSON.stringify(after.runtime.resources)}; heap ${(before.runtime.heapUsedBytes / 1e6).toFixed(1)} -> ${(after.runtime.heapUsedBytes / 1e6).toFixed(1)} MB`,
    );
  }, 120_000);
});
