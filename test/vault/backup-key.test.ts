// The backup encryption key from a Vault secret (backup.encryption.key: {vault: {secret, field}}):
// a running Pilotfish backs up with it; the snapshot opens with that key and not with another;
// the key never appears in Pilotfish's output. `pilotfish backup` asks the running Pilotfish
// through its control socket; with none running, the standalone commands log in to Vault
// themselves with the same vault: section.
import * as valibot from 'valibot';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { backupSchema } from '../../src/backup/config.js';
import { BackupService } from '../../src/backup/service.js';
import { createLogger } from '../../src/kernel/logger.js';
import { CLI, killAll, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { createAppRole, kvPut, setPolicy, unique } from './http.js';

afterEach(killAll);

const run = promisify(execFile);
const cli = async (...args: string[]): Promise<{ stdout: string; stderr: string }> => run(process.execPath, [CLI, ...args]);

describeWithServices('vault: backup key', ['vault'], () => {
  it('backs up with the key from Vault; only that key opens the repository; the CLI asks the running Pilotfish, or Vault itself', async () => {
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
    const socket = join(role.dir, 'pf.sock');
    const pf = startPilotfish({
      control: { socket },
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
    // By hand, through the running Pilotfish (its key, its lock, its metrics).
    const asked = await cli('backup', '--socket', socket, '--json');
    const bySocket = JSON.parse(asked.stdout) as { snapshot: string };
    expect(pf.logs.some((l) => /^backed up/.test(l.msg) && l.reason === 'control' && l.snapshot === bySocket.snapshot)).toBe(true);
    await pf.signal('SIGTERM');
    await pf.exited;
    expect(pf.output()).not.toContain(key);

    // Nothing runs now: the standalone commands read the key from Vault with the same config.
    const direct = await cli('backup', '--config', pf.configFile, '--direct', '--json');
    expect(JSON.parse(direct.stdout)).toMatchObject({ stats: { files: 1 } });
    const listed = await cli('snapshots', '--config', pf.configFile, '--json');
    const list = JSON.parse(listed.stdout) as Array<{ readable: boolean; reason: string }>;
    expect(list.map((s) => [s.readable, s.reason])).toEqual([
      [true, 'manual'],
      [true, 'control'],
      [true, 'exitSuccess from flush'],
    ]);
    expect(direct.stderr + listed.stderr).not.toContain(key);

    const log = createLogger({ level: 'silent' });
    const keyFile = join(role.dir, 'key');
    writeFileSync(keyFile, key);
    const withKey = new BackupService(valibot.parse(backupSchema, { ...backup, encryption: { key: { file: keyFile } } }), log);
    expect((await withKey.snapshots()).filter((s) => s.readable)).toHaveLength(3);
    const otherFile = join(role.dir, 'other');
    writeFileSync(otherFile, randomBytes(32).toString('hex'));
    const withOther = new BackupService(valibot.parse(backupSchema, { ...backup, encryption: { key: { file: otherFile } } }), log);
    await expect(withOther.snapshots().then((list) => list.filter((s) => s.readable))).rejects.toThrow();
  });
});
