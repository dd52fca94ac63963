// AppRole login against the real Vault, then a KV v2 secret to a job's environment (and to no
// other job's), to a 0600 file and a 0600 template; a new KV version re-delivers everything and
// signals the app (same pid, SIGHUP recorded by the fixture).
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAll, ROOT, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { createAppRole, kvPut, setPolicy, unique, vaultApi, wrappedSecretId } from './http.js';
import { readText as read } from '../helpers/files.js';

const APP = join(ROOT, 'test/vault/fixtures/app.sh');
afterEach(killAll);

describeWithServices('vault: secrets to jobs, files and templates', ['vault'], () => {
  it('AppRole → env of its job only, a 0600 file and a 0600 template; a new version re-delivers and sends SIGHUP', async () => {
    const id = unique('pf-deliver');
    await setPolicy(id, [`secret/data/${id}/*`]);
    const role = await createAppRole(id, [id]);
    const password = unique('pw');
    await kvPut(`secret/${id}/db`, { user: 'app', password });
    const dir = role.dir;
    const pf = startPilotfish(
      {
        control: { enabled: false },
        vault: {
          address: services().VAULT_ADDR,
          auth: { approle: { roleIdFile: role.roleIdFile, secretIdFile: role.secretIdFile } },
          secrets: [{ name: 'db', path: `secret/${id}/db`, refresh: '300ms' }],
          files: [{ secret: 'db', field: 'password', path: join(dir, 'out/db.pw'), job: 'app' }],
        },
        templates: [
          {
            name: 'app.conf',
            template: 'user={{ db.user }}\npassword={{ pw }}\n',
            data: { db: 'secret:db', pw: 'secret:db#password' },
            destination: join(dir, 'app.conf'),
          },
        ], // no mode: secret data makes a new file 0600
        jobs: [
          { name: 'app', exec: [APP, join(dir, 'app.env')], secrets: { DB_PASSWORD: 'db#password', DB_USER: 'db#user' }, onSecretChange: { signal: 'SIGHUP' } },
          { name: 'other', exec: [APP, join(dir, 'other.env')] },
        ],
      },
      { env: { VAULT_TOKEN: 'must-not-be-used' } },
    );

    await waitFor(() => read(join(dir, 'app.env')).includes('DB_PASSWORD='), { timeout: 20_000, message: `app's env; output:\n${pf.output()}` });
    const env = read(join(dir, 'app.env'));
    expect(env).toContain(`DB_PASSWORD=${password}\n`);
    expect(env).toContain('DB_USER=app\n');
    expect(env).not.toContain('VAULT_TOKEN'); // Pilotfish's own token variable is not inherited
    await waitFor(() => read(join(dir, 'other.env')), { message: "the other job's env" });
    expect(read(join(dir, 'other.env'))).not.toContain(password);
    expect(read(join(dir, 'other.env'))).not.toMatch(/^DB_/m);

    expect(read(join(dir, 'out/db.pw'))).toBe(password);
    expect(statSync(join(dir, 'out/db.pw')).mode & 0o777).toBe(0o600);
    await waitFor(() => read(join(dir, 'app.conf')), { message: 'the template' });
    expect(read(join(dir, 'app.conf'))).toBe(`user=app\npassword=${password}\n`);
    expect(statSync(join(dir, 'app.conf')).mode & 0o777).toBe(0o600);
    const pid = read(join(dir, 'app.env.pid')).trim();

    // Rotation: a new KV version.
    const rotated = unique('pw2');
    const version = await kvPut(`secret/${id}/db`, { user: 'app', password: rotated });
    expect(version).toBe(2);
    await waitFor(() => read(join(dir, 'out/db.pw')) === rotated, { timeout: 10_000, message: 'the file to be rewritten' });
    await waitFor(() => read(join(dir, 'app.conf')).includes(rotated), { timeout: 10_000, message: 'the template to be re-rendered' });
    const signals = await waitFor(() => read(join(dir, 'app.env.signals')).trim(), { timeout: 10_000, message: 'SIGHUP to reach the app' });
    expect(signals.split('\n')[0]).toBe(`HUP ${pid}`); // the same process: signalled, not restarted
    expect(read(join(dir, 'app.env.pid')).trim()).toBe(pid);
    expect(pf.logs.some((l) => l.msg === 'vault: secret db changed' && l.version === 2)).toBe(true);
    await pf.waitForLog('vault: secret db changed: sent SIGHUP to job app', 5_000);
    expect(pf.logs.filter((l) => l.msg === 'job app started')).toHaveLength(1);
    expect(pf.output()).not.toContain(password);
    expect(pf.output()).not.toContain(rotated);
    expect(pf.output()).not.toContain(role.secretId);
  });

  it('a response-wrapped secret_id is unwrapped once; KV v1 and a pinned KV v2 version are read', async () => {
    const id = unique('pf-wrap');
    await setPolicy(id, [`secret/data/${id}/*`, `kv1/${id}/*`]);
    const role = await createAppRole(id, [id]);
    const wrapping = await wrappedSecretId(id);
    writeFileSync(role.secretIdFile, wrapping);
    await kvPut(`secret/${id}/app`, { key: 'version-one' });
    await kvPut(`secret/${id}/app`, { key: 'version-two' });
    await vaultApi('POST', `kv1/${id}/legacy`, { token: 'kv1-value' });
    const dir = role.dir;
    const pf = startPilotfish({
      control: { enabled: false },
      vault: {
        address: services().VAULT_ADDR,
        auth: { approle: { roleId: role.roleId, secretIdFile: role.secretIdFile, wrapped: true } },
        secrets: [
          { name: 'pinned', path: `secret/${id}/app`, version: 1 },
          { name: 'latest', path: `secret/${id}/app` },
          { name: 'legacy', path: `kv1/${id}/legacy`, engine: 'kv1' },
        ],
      },
      jobs: [{ name: 'app', exec: [APP, join(dir, 'app.env')], secrets: { PINNED: 'pinned#key', LATEST: 'latest#key', LEGACY: 'legacy#token' } }],
    });
    await waitFor(() => read(join(dir, 'app.env')).includes('PINNED='), { timeout: 20_000, message: `app's env; output:\n${pf.output()}` });
    const env = read(join(dir, 'app.env'));
    expect(env).toContain('PINNED=version-one\n');
    expect(env).toContain('LATEST=version-two\n');
    expect(env).toContain('LEGACY=kv1-value\n');
    expect(pf.output()).not.toContain(wrapping);
  });

  it('fields declared plain (a user name) are not masked in logs; every other string is', async () => {
    const id = unique('pf-plain');
    await setPolicy(id, [`secret/data/${id}/*`]);
    const role = await createAppRole(id, [id]);
    const user = unique('dbuser');
    const password = unique('pw');
    await kvPut(`secret/${id}/db`, { user, password });
    const secret = (plain: string[]) => ({ name: 'db', path: `secret/${id}/db`, plain });
    const run = (plain: string[]) =>
      startPilotfish({
        control: { enabled: false },
        vault: {
          address: services().VAULT_ADDR,
          auth: { approle: { roleIdFile: role.roleIdFile, secretIdFile: role.secretIdFile } },
          secrets: [secret(plain)],
        },
        jobs: [
          { name: 'say', exec: ['sh', '-c', 'echo "connecting as $DB_USER with $DB_PASSWORD"'], secrets: { DB_USER: 'db#user', DB_PASSWORD: 'db#password' } },
        ],
      });
    const plainUser = run(['user']);
    expect((await plainUser.waitForLog((l) => l.job === 'say' && l.msg.startsWith('connecting'), 20_000)).msg).toBe(`connecting as ${user} with [REDACTED]`);
    await plainUser.exited;
    const masked = run([]);
    expect((await masked.waitForLog((l) => l.job === 'say' && l.msg.startsWith('connecting'), 20_000)).msg).toBe('connecting as [REDACTED] with [REDACTED]');
  });
});
