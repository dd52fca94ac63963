// A Vault outage while Pilotfish runs, on a Vault of its own (so other tests are not disturbed):
// Vault stops; the job keeps running with its last values, the file keeps its content, and the
// warnings are rate-limited. Vault (dev mode: it forgot everything) comes back with a new role and
// a new value: Pilotfish logs in again with the re-read credentials and delivers the new value.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, ROOT, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, servicesCommand, startService, stopService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { parseExports } from '../setup/services.js';
import { readText as read } from '../helpers/files.js';

const APP = join(ROOT, 'test/vault/fixtures/app.sh');
let dir = '';
let addr = '';

async function api(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${addr}/v1/${path}`, { method, headers: { 'X-Vault-Token': 'root' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, any>) : {};
}

/** Policy, role (credentials written to files) and the secret, as on a fresh dev Vault. */
async function provision(state: string, value: string): Promise<void> {
  await api('PUT', 'sys/policies/acl/app', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' });
  await api('POST', 'auth/approle/role/app', { token_policies: ['app'], token_ttl: '1h' });
  writeFileSync(join(state, 'role-id'), (await api('GET', 'auth/approle/role/app/role-id')).data.role_id);
  writeFileSync(join(state, 'secret-id'), (await api('POST', 'auth/approle/role/app/secret-id', {})).data.secret_id);
  await api('POST', 'secret/data/app/db', { data: { password: value } });
}

describeWithServices('vault outage', ['vault'], () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pf-vault-outage-'));
    addr = parseExports(await servicesCommand(['up', '--only', 'vault'], dir)).VAULT_ADDR as string;
  });
  afterAll(async () => {
    await killAll();
    await servicesCommand(['down'], dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the last values through an outage, then logs in again and delivers the new value', async () => {
    const state = mkdtempSync(join(tmpdir(), 'pf-vault-outage-app-'));
    await provision(state, 'before-outage');
    const file = join(state, 'db.pw');
    const pf = startPilotfish({
      control: { enabled: false },
      vault: {
        address: addr,
        auth: { approle: { roleIdFile: join(state, 'role-id'), secretIdFile: join(state, 'secret-id') } },
        timeout: '1s',
        retry: { attempts: 1, backoff: { initial: '200ms', max: '1s' } },
        secrets: [{ name: 'db', path: 'secret/app/db', refresh: '200ms' }],
        files: [{ secret: 'db', field: 'password', path: file, job: 'app' }],
      },
      jobs: [{ name: 'app', exec: [APP, join(state, 'app.env')], secrets: { DB_PASSWORD: 'db#password' }, onSecretChange: { signal: 'SIGHUP' } }],
    });
    await waitFor(() => read(join(state, 'app.env')).includes('DB_PASSWORD=before-outage'), { timeout: 20_000, message: 'the first delivery' });
    const pid = read(join(state, 'app.env.pid')).trim();

    await stopService('vault', dir);
    const outageStart = Date.now();
    await pf.waitForLog(/vault: cannot refresh secret db, keeping its last value and retrying/, 10_000);
    // Let the outage last: with a 200 ms refresh and backoff capped at 1 s, several retries fail.
    await waitFor(() => Date.now() - outageStart > 4000, { timeout: 6000, message: 'some seconds of outage' });
    expect(read(file)).toBe('before-outage');
    const warnings = pf.logs.filter((l) => l.level === 'warn' && /cannot refresh secret db/.test(l.msg));
    expect(warnings.length).toBe(1); // rate-limited: once a minute per secret, not once per retry

    await startService('vault', dir);
    await provision(state, 'after-outage'); // a new role_id and secret_id in the files, a new value
    await pf.waitForLog('vault: logged in again (approle)', 20_000);
    await waitFor(() => read(file) === 'after-outage', { timeout: 10_000, message: 'the new value after the outage' });
    await waitFor(() => read(join(state, 'app.env.signals')).includes(`HUP ${pid}`), { message: 'SIGHUP to the same process' });
    expect(pf.logs.some((l) => l.msg === 'job app started' && l.pid !== Number(pid))).toBe(false);
  });
});
