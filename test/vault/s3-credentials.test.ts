// The S3 store's credentials from a Vault secret (backup.store.s3.credentials.vault), with no AWS
// credentials in the environment: a running Pilotfish backs up to the real MinIO with them, and
// the standalone `pilotfish snapshots` reads them from Vault itself. Neither prints them.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { CLI, killAll, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { createAppRole, kvPut, setPolicy, unique } from './http.js';

afterEach(killAll);

const run = promisify(execFile);

describeWithServices('vault: S3 credentials', ['vault', 's3'], () => {
  it('backs up to S3 with credentials read from Vault, none in the environment', async () => {
    const id = unique('pf-s3cred');
    await setPolicy(id, [`secret/data/${id}/*`]);
    const role = await createAppRole(id, [id]);
    const env = services();
    await kvPut(`secret/${id}/s3`, { access_key: env.AWS_ACCESS_KEY_ID, secret_key: env.AWS_SECRET_ACCESS_KEY });
    const data = join(role.dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'hello.txt'), 'hello');
    const noAwsCredentials = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined };
    const pf = startPilotfish(
      {
        control: { enabled: false },
        vault: {
          address: env.VAULT_ADDR,
          auth: { approle: { roleIdFile: role.roleIdFile, secretIdFile: role.secretIdFile } },
          secrets: [{ name: 's3', path: `secret/${id}/s3` }],
        },
        backup: {
          sources: [{ path: data }],
          store: { s3: { bucket: env.PILOTFISH_TEST_BUCKET, prefix: `${id}/`, endpoint: env.AWS_ENDPOINT_URL_S3, credentials: { vault: { secret: 's3' } } } },
          restore: { policy: 'never' },
          triggers: { events: [{ source: 'flush', on: 'exitSuccess' }] },
        },
        jobs: [
          { name: 'app', exec: 'sleep 3600' },
          { name: 'flush', exec: 'true' },
        ],
      },
      { env: { ...noAwsCredentials, VAULT_TOKEN: undefined } },
    );
    const done = await pf.waitForLog((l) => /^backed up|^backup failed/.test(l.msg), 20_000);
    expect(done.msg).toMatch(/^backed up 1 files/);
    await pf.signal('SIGTERM');
    await pf.exited;

    const listed = await run(process.execPath, [CLI, 'snapshots', '--config', pf.configFile, '--json'], {
      env: { ...process.env, ...noAwsCredentials, VAULT_TOKEN: '' },
    });
    expect(JSON.parse(listed.stdout)).toMatchObject([{ readable: true, reason: 'exitSuccess from flush' }]);
    for (const out of [pf.output(), listed.stdout, listed.stderr]) expect(out).not.toContain(env.AWS_SECRET_ACCESS_KEY);
    // The AWS SDK's Node-version notice is about our pinned dependency, not for users' logs.
    for (const out of [pf.output(), listed.stderr]) expect(out).not.toMatch(/NodeVersionSupportWarning/);
  });
});
