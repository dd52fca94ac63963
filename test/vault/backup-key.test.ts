// The backup encryption key from a Vault secret (backup.encryption.key: {vault: {secret, field}}):
// a running Pilotfish backs up with it; the snapshot opens with that key and not with another;
// the key never appears in Pilotfish's output.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { backupSchema } from '../../src/backup/config.js';
import { BackupService } from '../../src/backup/service.js';
import { createLogger } from '../../src/log/logger.js';
import { killAll, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { createAppRole, kvPut, setPolicy, unique } from './http.js';

afterEach(killAll);

describeWithServices('vault: backup key', ['vault'], () => {
  it('backs up with the key from Vault; only that key opens the repository', async () => {
    const id = unique('pf-bkey');
    await setPolicy(id, [`secret/data/${id}/*`]);
    const role = await createAppRole(id, [id]);
    const key = randomBytes(32).toString('hex');
    await kvPut(`secret/${id}/backup`, { key });
    const data = join(role.dir, 'data');
    const repo = join(role.dir, 'repo');
    mkdirSync(data);
    writeFileSync(join(data, 'hello.txt'), 'hello');
    const backup = {
      sources: [{ path: data }],
      store: { local: { path: repo } },
      encryption: { key: { vault: { secret: 'backup-key', field: 'key' } } },
      restore: { policy: 'never' },
      triggers: { events: [{ source: 'flush', on: 'exitSuccess' }] },
    };
    const pf = startPilotfish({
      control: { enabled: false },
      vault: {
        address: services().VAULT_ADDR,
        auth: { approle: { roleIdFile: role.roleIdFile, secretIdFile: role.secretIdFile } },
        secrets: [{ name: 'backup-key', path: `secret/${id}/backup` }],
      },
      backup,
      jobs: [
        { name: 'app', exec: 'sleep 3600' },
        { name: 'flush', exec: 'true' },
      ],
    });
    await pf.waitForLog(/^backed up/, 20_000);
    await pf.signal('SIGTERM');
    await pf.exited;
    expect(pf.output()).not.toContain(key);

    const log = createLogger({ level: 'silent' });
    const keyFile = join(role.dir, 'key');
    writeFileSync(keyFile, key);
    const withKey = new BackupService(backupSchema.parse({ ...backup, encryption: { key: { file: keyFile } } }), log);
    expect((await withKey.snapshots()).filter((s) => s.readable)).toHaveLength(1);
    const otherFile = join(role.dir, 'other');
    writeFileSync(otherFile, randomBytes(32).toString('hex'));
    const withOther = new BackupService(backupSchema.parse({ ...backup, encryption: { key: { file: otherFile } } }), log);
    await expect(withOther.snapshots().then((list) => list.filter((s) => s.readable))).rejects.toThrow();
  });
});
