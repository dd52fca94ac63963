// A leased (generic) secret from the real Vault's database engine on the real MariaDB: the lease
// is renewed before it ends, and when its max TTL stops renewal, new credentials are read, the
// job restarts with them (onSecretChange: restart), and `changed` is published.
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAll, ROOT, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { createAppRole, setPolicy, unique, vaultApi } from './http.js';
import { readText as read } from '../helpers/files.js';

const APP = join(ROOT, 'test/vault/fixtures/app.sh');
afterEach(killAll);

describeWithServices('vault: leased secrets', ['vault', 'mariadb'], () => {
  it('renews a database lease, then reads new credentials at its max TTL and restarts the job', async () => {
    const env = services();
    const id = unique('pf-lease');
    await vaultApi('POST', `sys/mounts/${id}`, { type: 'database' });
    await vaultApi('POST', `${id}/config/mariadb`, {
      plugin_name: 'mysql-database-plugin',
      connection_url: `{{username}}:{{password}}@tcp(${env.MARIADB_HOST}:${env.MARIADB_PORT})/`,
      username: env.MARIADB_USER,
      password: env.MARIADB_PASSWORD,
      allowed_roles: ['app'],
      verify_connection: true,
    });
    await vaultApi('POST', `${id}/roles/app`, {
      db_name: 'mariadb',
      creation_statements: ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';"],
      default_ttl: '3s',
      max_ttl: '7s',
    });
    await setPolicy(id, [`${id}/creds/app`]);
    const role = await createAppRole(id, [id]);
    const dir = role.dir;
    const pf = startPilotfish({
      control: { enabled: false },
      vault: {
        address: env.VAULT_ADDR,
        auth: { approle: { roleIdFile: role.roleIdFile, secretIdFile: role.secretIdFile } },
        secrets: [{ name: 'creds', path: `${id}/creds/app`, engine: 'generic' }],
      },
      jobs: [
        {
          name: 'app',
          exec: [APP, join(dir, 'app.env')],
          secrets: { DB_USER: 'creds#username', DB_PASS: 'creds#password' },
          onSecretChange: { restart: true },
        },
        { name: 'on-change', exec: ['sh', '-c', `echo changed >> ${join(dir, 'changes')}`], when: { source: 'creds', each: 'changed' } },
      ],
    });
    await waitFor(() => read(join(dir, 'app.env')).includes('DB_USER='), { timeout: 20_000, message: `the job's env; output:\n${pf.output()}` });
    const firstUser = /^DB_USER=(.*)$/m.exec(read(join(dir, 'app.env')))?.[1];
    expect(firstUser).toMatch(/^v-/);
    await pf.waitForLog('vault: lease of creds renewed', 10_000);
    const changed = await pf.waitForLog('vault: secret creds changed', 15_000);
    expect(changed.path).toBe(`${id}/creds/app`);
    await waitFor(
      () => {
        const user = /^DB_USER=(.*)$/m.exec(read(join(dir, 'app.env')))?.[1];
        return user && user !== firstUser;
      },
      { timeout: 10_000, message: 'the restarted job with new credentials' },
    );
    await waitFor(() => read(join(dir, 'changes')).includes('changed'), { message: 'a job started by the changed event' });
    const status = pf.logs.filter((l) => /restarting job app|secret creds changed: restarting job app/.test(l.msg));
    expect(status.length).toBeGreaterThan(0);
  });
});
