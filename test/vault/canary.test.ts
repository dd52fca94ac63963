// Canary: a whole lifecycle at trace level with unique secret values (AppRole login, env, file,
// template, a job that prints its secret through wrapped logging, a failing job that prints it to
// stderr, rotation with restart, a revoked token, a policy change that denies a read while running,
// status over the control socket and HTTP, metrics, shutdown, then a start that fails on permission denied), and
// not one of the values (nor the secret_id, role_id or tokens) in Pilotfish's stdout or stderr.
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { CLI, killAll, ROOT, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { accessorsOf, createAppRole, kvPut, revokeAccessor, setPolicy, unique } from './http.js';
import { readText as read } from '../helpers/files.js';

const APP = join(ROOT, 'test/vault/fixtures/app.sh');
afterEach(killAll);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describeWithServices('vault: canary', ['vault'], () => {
  it('no secret value ever reaches Pilotfish output, at trace level, through failures', async () => {
    const addr = services().VAULT_ADDR;
    const id = unique('pf-canary');
    const canary1 = unique('CANARY1');
    const canary2 = unique('CANARY2');
    const canary3 = unique('CANARY3');
    await setPolicy(id, [`secret/data/${id}/*`]);
    const role = await createAppRole(id, [id], '6s', '1h');
    await kvPut(`secret/${id}/db`, { password: canary1, user: 'app' });
    await kvPut(`secret/${id}/gone`, { token: canary3 });
    const dir = role.dir;
    const socket = join(dir, 'pf.sock');
    const port = await freePort();
    const vault = {
      address: addr,
      auth: { approle: { roleIdFile: role.roleIdFile, secretIdFile: role.secretIdFile } },
      refresh: '300ms',
      retry: { backoff: { initial: '100ms', max: '500ms' } },
      secrets: [
        { name: 'db', path: `secret/${id}/db` },
        { name: 'gone', path: `secret/${id}/gone` },
      ],
      files: [{ secret: 'db', path: join(dir, 'db.json') }],
    };
    const pf = startPilotfish({
      logging: { level: 'trace', format: 'json' },
      control: { socket },
      telemetry: { port, address: '127.0.0.1' },
      vault,
      templates: [
        {
          name: 'conf',
          template: 'pw={{ pw }} t={{ t }}',
          data: { pw: 'secret:db#password', t: 'secret:gone#token' },
          destination: join(dir, 'conf'),
          mode: '0600',
        },
      ],
      jobs: [
        {
          name: 'leaky',
          exec: [APP, join(dir, 'leaky.env'), 'print'],
          secrets: { DB_PASSWORD: 'db#password' },
          onSecretChange: { restart: true },
          logging: 'wrapped',
        },
        { name: 'failing', exec: [APP, join(dir, 'failing.env'), 'fail'], secrets: { DB_PASSWORD: 'db#password' }, restarts: 1, logging: 'wrapped' },
      ],
    });
    await pf.waitForLog((l) => l.job === 'leaky' && /my password is/.test(l.msg), 20_000);
    expect(read(join(dir, 'leaky.env'))).toContain(`DB_PASSWORD=${canary1}`); // the value did reach the job
    await pf.waitForLog((l) => l.job === 'failing' && /failing with password/.test(l.msg));

    // Rotation → the leaky job restarts and prints the new value.
    await kvPut(`secret/${id}/db`, { password: canary2, user: 'app' });
    await waitFor(() => read(join(dir, 'leaky.env')).includes(canary2), { timeout: 10_000, message: 'the restarted job with the new value' });
    await waitFor(() => pf.logs.filter((l) => l.job === 'leaky' && /my password is/.test(l.msg)).length >= 2, { message: 'the second print' });
    await waitFor(() => read(join(dir, 'conf')).includes(canary2), { message: 'the re-rendered template' });

    // A revoked token, then a policy that no longer allows one of the secrets.
    for (const a of await accessorsOf(id)) await revokeAccessor(a);
    await pf.waitForLog('vault: logged in again (approle)', 15_000);
    await setPolicy(id, [`secret/data/${id}/db`]);
    await pf.waitForLog(/cannot refresh secret gone, keeping its last value/, 15_000);

    // Status over the control socket: names and versions, no values.
    const status = execFileSync(process.execPath, [CLI, 'status', '--json', '--socket', socket], { encoding: 'utf8' });
    const vaultStatus = (JSON.parse(status) as { subsystems: { vault: { secrets: Array<{ name: string; version: number }> } } }).subsystems.vault;
    expect(vaultStatus.secrets.find((s) => s.name === 'db')?.version).toBe(2);
    for (const v of [canary1, canary2, canary3, role.secretId]) expect(status).not.toContain(v);
    // Metrics and HTTP status: counters by operation, no values.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^pilotfish_vault_errors_total\{operation="read"\} [1-9]/m);
    const httpStatus = await (await fetch(`http://127.0.0.1:${port}/status`)).text();
    for (const v of [canary1, canary2, canary3, role.secretId]) expect(metrics + httpStatus).not.toContain(v);

    await pf.signal('SIGTERM');
    await pf.exited;

    // A start that fails: the first secret is read (and must stay hidden), the second is denied.
    const failed = startPilotfish({ logging: { level: 'trace', format: 'json' }, control: { enabled: false }, vault, jobs: [{ name: 'x', exec: 'true' }] });
    const { code } = await failed.exited;
    expect(code).toBe(1);
    expect(failed.output()).toContain('permission denied');

    const output = pf.output() + failed.output();
    expect(output).toContain('[REDACTED]'); // the job's lines were there, masked
    for (const secret of [canary1, canary2, canary3, role.secretId, role.roleId]) expect(output).not.toContain(secret);
    expect(pf.logs.some((l) => l.level === 'trace' || l.level === 'debug')).toBe(true);
  });
});
