// Templates fed by the real Consul: the job waits for the first render, a KV change re-renders
// and sends SIGHUP (same pid, no restart), and missing keys either wait (saying so) or fail.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { consulDelete, consulPut } from '../consul/http.js';
import { killAll, ROOT, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { readText as read } from '../helpers/files.js';

const APP = join(ROOT, 'test/consul/fixtures/app.mjs');
afterEach(killAll);

describeWithServices('templates from Consul', ['consul'], () => {
  it('renders before the app starts, and a KV change re-renders and sends SIGHUP without a restart', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const prefix = `tmpl-${Math.random().toString(36).slice(2, 8)}`;
    const dir = mkdtempSync(join(tmpdir(), 'pf-tmpl-'));
    const dest = join(dir, 'app.conf');
    await consulPut(addr, `/kv/${prefix}/db`, 'db-1');
    await consulPut(addr, `/kv/${prefix}/cfg/pool`, '5');
    const pf = startPilotfish(
      {
        control: { enabled: false },
        consul: { address: addr },
        templates: [
          {
            name: 'app.conf',
            template: 'db={{ db }}\npool={{ cfg.pool }}\nhome={{ env.PF_TEST_HOME }}\n',
            destination: dest,
            data: { db: `key:${prefix}/db`, cfg: `tree:${prefix}/cfg` },
            mode: '0640',
            onChange: { signal: { job: 'app', signal: 'SIGHUP' } },
          },
        ],
        jobs: [
          {
            name: 'app',
            exec: [process.execPath, APP],
            env: { APP_STATE: dir, SERVICE_ID: 'none' },
            when: { source: 'app.conf', once: 'rendered' },
            main: true,
          },
        ],
      },
      { env: { PF_TEST_HOME: '/home/test' } },
    );
    try {
      await waitFor(() => read(join(dir, 'starts')).trim(), { timeout: 15_000, message: 'the app to start' });
      // The file existed before the app started: the app waited for `rendered`.
      expect(read(dest)).toBe('db=db-1\npool=5\nhome=/home/test\n');
      expect(statSync(dest).mode & 0o777).toBe(0o640);
      const pid = read(join(dir, 'starts')).trim();

      await consulPut(addr, `/kv/${prefix}/db`, 'db-2');
      await waitFor(() => read(dest).includes('db=db-2'), { message: 'the re-render' });
      await waitFor(() => read(join(dir, 'hups')).trim(), { message: 'SIGHUP to the app' });
      expect(read(join(dir, 'hups')).trim()).toBe(pid);
      expect(read(join(dir, 'starts')).trim()).toBe(pid); // one start only: not restarted

      // A rewrite of the same value changes nothing: no write, no signal.
      const wrote = (): number => pf.logs.filter((l) => l.msg === `template app.conf wrote ${dest}`).length;
      const writes = wrote();
      await consulPut(addr, `/kv/${prefix}/db`, 'db-2');
      await consulPut(addr, `/kv/${prefix}/cfg/pool`, '6');
      await waitFor(() => read(dest).includes('pool=6'), { message: 'the second re-render' });
      // The file is renamed into place before its log line reaches us: wait for the line. A
      // write for the unchanged value would have been logged before it, and counted here.
      await waitFor(() => wrote() > writes, { message: 'the log of the second re-render' });
      expect(wrote()).toBe(writes + 1);
    } finally {
      await pf.kill();
      await consulDelete(addr, `/kv/${prefix}?recurse=true`);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('onChange runs its command and restarts a job on a real change', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const key = `tmpl-restart-${Math.random().toString(36).slice(2, 8)}`;
    const dir = mkdtempSync(join(tmpdir(), 'pf-tmpl-'));
    await consulPut(addr, `/kv/${key}`, 'a');
    const pf = startPilotfish({
      control: { enabled: false },
      consul: { address: addr },
      templates: [
        {
          name: 'r',
          template: 'v={{ v }}',
          destination: join(dir, 'out'),
          data: { v: `key:${key}` },
          onChange: { exec: ['sh', '-c', `cat ${join(dir, 'out')} >> ${join(dir, 'hook')}`], restart: 'app' },
        },
      ],
      jobs: [
        { name: 'keeper', exec: 'sleep 600', main: true },
        { name: 'app', exec: [process.execPath, APP], env: { APP_STATE: dir, SERVICE_ID: 'none' }, when: { source: 'r', once: 'rendered' } },
      ],
    });
    try {
      await waitFor(() => read(join(dir, 'starts')).trim(), { timeout: 15_000, message: 'the app to start' });
      expect(read(join(dir, 'hook'))).toBe(''); // not on the first render
      await consulPut(addr, `/kv/${key}`, 'b');
      await waitFor(() => read(join(dir, 'starts')).trim().split('\n').length === 2, { message: 'a restart' });
      expect(read(join(dir, 'hook'))).toBe('v=b');
      const [first, second] = read(join(dir, 'starts')).trim().split('\n');
      expect(second).not.toBe(first);
    } finally {
      await pf.kill();
      await consulDelete(addr, `/kv/${key}`);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('missing: wait says what it waits for and renders when the key appears', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const key = `tmpl-missing-${Math.random().toString(36).slice(2, 8)}`;
    const dir = mkdtempSync(join(tmpdir(), 'pf-tmpl-'));
    const dest = join(dir, 'out');
    const pf = startPilotfish({
      control: { enabled: false },
      consul: { address: addr },
      templates: [{ name: 'w', template: 'v={{ v }}', destination: dest, data: { v: `key:${key}` }, logEvery: '300ms' }],
      jobs: [{ name: 'keeper', exec: 'sleep 600', main: true }],
    });
    try {
      const line = await pf.waitForLog(`template w is waiting for key:${key} (missing)`);
      expect(line.level).toBe('warn');
      await waitFor(() => pf.logs.filter((l) => l.msg?.startsWith('template w is waiting')).length >= 2, { message: 'a repeated line' });
      await consulPut(addr, `/kv/${key}`, 'here');
      await waitFor(() => read(dest) === 'v=here', { message: 'the render' });
    } finally {
      await pf.kill();
      await consulDelete(addr, `/kv/${key}`);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('missing: fail stops the start with a clear error', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const key = `tmpl-absent-${Math.random().toString(36).slice(2, 8)}`;
    const pf = startPilotfish({
      control: { enabled: false },
      consul: { address: addr },
      templates: [{ name: 'f', template: '{{ v }}', destination: '/tmp/never-written', data: { v: `key:${key}` }, missing: 'fail' }],
      jobs: [{ name: 'app', exec: 'sleep 600', when: { source: 'f', once: 'rendered' } }],
    });
    const exit = await pf.exited;
    expect(exit.code).toBe(1);
    const err = pf.logs.find((l) => l.code === 'PF_TEMPLATE_MISSING');
    expect(err?.msg).toBe(`template f: key:${key} does not exist (missing: fail)`);
  });
});
