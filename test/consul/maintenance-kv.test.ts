// Maintenance through the control socket puts the service in Consul maintenance and back; KV
// keys become a job's environment (envconsul-style) at start.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { CLI, killAll, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { consulDelete, consulGet, consulPut } from './http.js';

const run = promisify(execFile);
afterEach(killAll);

describeWithServices('consul maintenance and KV environment', ['consul'], () => {
  it('enterMaintenance / exitMaintenance toggle Consul service maintenance', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const dir = mkdtempSync(join(tmpdir(), 'pf-maint-'));
    const socket = join(dir, 'pf.sock');
    const id = `maint-${Math.random().toString(36).slice(2, 8)}`;
    const pf = startPilotfish({
      control: { socket },
      consul: { address: addr },
      jobs: [{ name: 'app', exec: 'sleep 600', port: 7000, serviceId: id, health: { exec: 'true', interval: '300ms' }, main: true }],
    });
    const maintCheck = async (): Promise<boolean> => {
      const { body } = await consulGet<Record<string, { ServiceID: string; CheckID: string }>>(addr, '/agent/checks');
      return Object.values(body ?? {}).some((c) => c.ServiceID === id && c.CheckID.startsWith('_service_maintenance'));
    };
    try {
      await pf.waitForLog(`registered service ${id}`);
      await run(process.execPath, [CLI, 'maintenance', 'on', '--socket', socket]);
      await waitFor(maintCheck, { message: 'the maintenance check' });
      const { body } = await consulGet<unknown[]>(addr, `/health/service/app?passing=true&filter=${encodeURIComponent(`Service.ID == "${id}"`)}`);
      expect(body).toEqual([]); // out of rotation
      await run(process.execPath, [CLI, 'maintenance', 'off', '--socket', socket]);
      await waitFor(async () => !(await maintCheck()), { message: 'maintenance to end' });
    } finally {
      await pf.kill();
      await consulPut(addr, `/agent/service/deregister/${id}`);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('KV keys become environment variables of the chosen jobs only', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const prefix = `env-${Math.random().toString(36).slice(2, 8)}`;
    const dir = mkdtempSync(join(tmpdir(), 'pf-kvenv-'));
    await consulPut(addr, `/kv/${prefix}/config/db.host`, 'db.internal');
    await consulPut(addr, `/kv/${prefix}/config/max-conns`, '20');
    await consulPut(addr, `/kv/${prefix}/secret`, 'hunter22');
    const dump = (name: string) => ['sh', '-c', `env | grep -E '^(APP_|DB_PASS)' | sort > ${join(dir, name)}`];
    const pf = startPilotfish({
      control: { enabled: false },
      consul: {
        address: addr,
        kv: [
          { prefix: `${prefix}/config/`, jobs: ['app'], envPrefix: 'APP_' },
          { key: `${prefix}/secret`, name: 'DB_PASS', jobs: ['app', 'printer'], secret: true },
        ],
      },
      jobs: [
        { name: 'app', exec: dump('app.env') },
        { name: 'other', exec: dump('other.env') },
        { name: 'printer', exec: ['sh', '-c', 'echo "pass is $DB_PASS"'] },
      ],
    });
    try {
      await waitFor(
        () => {
          try {
            return readFileSync(join(dir, 'app.env'), 'utf8') && readFileSync(join(dir, 'other.env'), 'utf8') !== undefined;
          } catch {
            return false;
          }
        },
        { message: 'both jobs to run' },
      );
      expect(readFileSync(join(dir, 'app.env'), 'utf8')).toBe('APP_DB_HOST=db.internal\nAPP_MAX_CONNS=20\nDB_PASS=hunter22\n');
      expect(readFileSync(join(dir, 'other.env'), 'utf8')).toBe('');
      // secret: true — the value never reaches a log line, even when the app prints it.
      await pf.waitForLog('pass is');
      expect(pf.output()).toContain('pass is [REDACTED]');
      expect(pf.output()).not.toContain('hunter22');
    } finally {
      await pf.kill();
      await consulDelete(addr, `/kv/${prefix}?recurse=true`);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
