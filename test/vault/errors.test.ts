// Start-up failures against the real Vault: each is a clear error naming the address, the path
// and the reason, then exit code 1. Without failFast, Pilotfish waits and starts once the secret exists.
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAll, startPilotfish, type Running } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { createAppRole, kvPut, setPolicy, unique } from './http.js';
import { readText as read } from '../helpers/files.js';

afterEach(killAll);

async function failure(pf: Running): Promise<{ code: number | null; fatal: string }> {
  const { code } = await pf.exited;
  const fatal = pf.logs.find((l) => l.level === 'fatal')?.msg ?? '';
  return { code, fatal };
}

describeWithServices('vault: start-up errors', ['vault'], () => {
  it('permission denied, a missing path and an unreachable Vault: address + path + reason, exit 1', async () => {
    const addr = services().VAULT_ADDR;
    const id = unique('pf-err');
    await setPolicy(id, [`secret/data/${id}/*`]);
    const role = await createAppRole(id, [id]);
    await kvPut(`secret/${id}-other/db`, { password: 'not-yours-123' });
    const approle = { approle: { roleIdFile: role.roleIdFile, secretIdFile: role.secretIdFile } };
    const job = [{ name: 'app', exec: 'sleep 3600' }];

    const denied = startPilotfish({
      control: { enabled: false },
      vault: { address: addr, auth: approle, secrets: [{ name: 'db', path: `secret/${id}-other/db` }] },
      jobs: job,
    });
    const missing = startPilotfish({
      control: { enabled: false },
      vault: { address: addr, auth: approle, secrets: [{ name: 'db', path: `secret/${id}/nothing` }] },
      jobs: job,
    });
    const down = startPilotfish(
      {
        control: { enabled: false },
        vault: { address: 'http://127.0.0.1:9', retry: { attempts: 2, backoff: { initial: '50ms' } }, secrets: [{ name: 'db', path: 'secret/x' }] },
        jobs: job,
      },
      { env: { VAULT_TOKEN: 'some-token-value' } },
    );
    const badRole = startPilotfish({
      control: { enabled: false },
      vault: {
        address: addr,
        auth: { approle: { roleId: 'no-such-role-id', secretIdFile: role.secretIdFile } },
        secrets: [{ name: 'db', path: `secret/${id}/db` }],
      },
      jobs: job,
    });

    const d = await failure(denied);
    expect(d.code).toBe(1);
    expect(d.fatal).toContain(`Vault at ${addr}: cannot read secret/data/${id}-other/db: permission denied (HTTP 403)`);
    expect(d.fatal).toMatch(/policies do not allow reading this path/);

    const m = await failure(missing);
    expect(m.code).toBe(1);
    expect(m.fatal).toContain(`Vault at ${addr}: cannot read secret/data/${id}/nothing:`);
    expect(m.fatal).toContain('(HTTP 404)');

    const u = await failure(down);
    expect(u.code).toBe(1);
    expect(u.fatal).toContain('Vault at http://127.0.0.1:9: cannot look up the token at auth/token/lookup-self: unreachable (ECONNREFUSED)');

    const b = await failure(badRole);
    expect(b.code).toBe(1);
    expect(b.fatal).toContain(`Vault at ${addr}: cannot log in at auth/approle/login:`);
    expect(b.fatal).toMatch(/HTTP 400/);

    for (const pf of [denied, missing, down, badRole]) {
      expect(pf.logs.some((l) => l.msg.includes('job app started'))).toBe(false); // no job ran
      expect(pf.output()).not.toContain(role.secretId);
    }
    expect(down.output()).not.toContain('some-token-value');
  });

  it('with startup.failFast false, waits with backoff (saying why) and starts once the secret exists', async () => {
    const addr = services().VAULT_ADDR;
    const id = unique('pf-wait');
    await setPolicy(id, [`secret/data/${id}/*`]);
    const role = await createAppRole(id, [id]);
    const pf = startPilotfish({
      control: { enabled: false },
      vault: {
        address: addr,
        auth: { approle: { roleIdFile: role.roleIdFile, secretIdFile: role.secretIdFile } },
        startup: { failFast: false, timeout: '60s' },
        retry: { backoff: { initial: '200ms', max: '500ms' } },
        secrets: [{ name: 'db', path: `secret/${id}/db` }],
      },
      jobs: [{ name: 'app', exec: ['sh', '-c', `echo "$DB" > ${join(role.dir, 'out')}; sleep 3600`], secrets: { DB: 'db#password' } }],
    });
    const waiting = await pf.waitForLog(/vault: not ready, waiting/, 20_000);
    expect(waiting.msg).toContain(`cannot read secret/data/${id}/db`);
    await kvPut(`secret/${id}/db`, { password: 'arrived-later' });
    await pf.waitForLog(/job app started/, 15_000);
    await waitFor(() => read(join(role.dir, 'out')) === 'arrived-later\n', { message: 'the job to get the late secret' });
  });
});
