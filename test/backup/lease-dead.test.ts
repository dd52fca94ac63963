/**
 * The writer lease of a dead local holder: a `pilotfish backup` killed with -9 while it holds
 * the lease (in its pre hook) does not block the next backup on this host for the lease's TTL;
 * a live holder, a holder on another machine and one from before this version still do.
 */
import * as valibot from 'valibot';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, expect, it } from 'vitest';
import { backupSchema } from '../../src/backup/config.js';
import { LOCK_KEY } from '../../src/backup/format.js';
import { selfProcess } from '../../src/backup/holder.js';
import { StoreLease } from '../../src/backup/lease.js';
import { BackupService, createStore } from '../../src/backup/service.js';
import { CLI } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { log, makeTree, rawConfigFor, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const TTL = 120_000; // far longer than the test may take: only a release at once passes

it('a backup killed with -9 while holding the lease does not block the next one for the TTL', async () => {
  const src = join(tempDir(), 'src');
  await makeTree(src, { small: 5, bigBytes: 0 });
  const hookPid = join(tempDir(), 'hook.pid');
  const raw = rawConfigFor('local', src, {
    lease: { ttl: `${TTL / 1000}s` },
    hooks: { pre: { command: `echo $$$$ > ${hookPid}; exec sleep 600`, shell: true, timeout: '10m' } },
  }); // $$ is a literal $ in a config
  const config = valibot.parse(backupSchema, raw);
  const configFile = join(tempDir(), 'pilotfish.yaml');
  await writeFile(configFile, stringify({ jobs: [{ name: 'app', exec: 'true' }], backup: raw }));
  const store = createStore(config);
  const probe = new StoreLease(store, TTL);

  const child = spawn(process.execPath, [CLI, 'backup', '--direct', '--config', configFile], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const holder = await waitFor(() => probe.holder(), { timeout: 30_000, message: 'the backup to hold the lease' });
  expect(holder).toContain(`/${child.pid}/`);
  await waitFor(() => readFile(hookPid, 'utf8').catch(() => ''), { message: 'the pre hook to run' });
  // While it lives, the lease is its own: refused, naming it.
  const service = new BackupService({ ...config, hooks: {} }, log); // same repository, no hook
  await expect(service.backupNow('test')).rejects.toMatchObject({ code: 'PF_BACKUP_BUSY', message: expect.stringContaining(holder) });

  child.kill('SIGKILL');
  await exited;
  process.kill(Number(await readFile(hookPid, 'utf8')), 'SIGKILL'); // the hook outlives it (own process group)

  // Dead: the next backup takes the lease at once, not after 120 s.
  expect(await probe.holder()).toBeUndefined();
  await expect(service.backupNow('test')).resolves.toMatchObject({ stats: { files: 8 } });
  service.close();
  store.close?.();
}, 60_000);

it('takes over a reused pid (start time changed); never a live holder, one of another machine or one of an earlier version', async () => {
  const src = join(tempDir(), 'src');
  const config = valibot.parse(backupSchema, rawConfigFor('local', src));
  const store = createStore(config);
  const me = selfProcess();
  expect(me).toBeDefined();
  const put = (body: object): Promise<unknown> =>
    store.put(LOCK_KEY, Buffer.from(JSON.stringify({ owner: 'elsewhere/1/abc', expires: Date.now() + TTL, ...body })));
  const acquire = async (): Promise<boolean> => {
    const lease = await new StoreLease(store, TTL).tryAcquire();
    await lease?.release();
    return lease !== undefined;
  };
  // Our pid, another start time: the process that held it is gone and the pid was reused.
  await put({ proc: { ...me, start: '1' } });
  expect(await acquire()).toBe(true);
  // A live process of ours (this one, through another lease object): refused.
  const live = await new StoreLease(store, TTL).tryAcquire();
  expect(await acquire()).toBe(false);
  await live?.release();
  // The same pid on another machine (another boot), or in another PID namespace: refused.
  await put({ proc: { ...me, boot: '00000000-0000-0000-0000-000000000000', pid: 999_999 } });
  expect(await acquire()).toBe(false);
  await put({ proc: { ...me, pidns: 'pid:[1]', pid: 999_999 } });
  expect(await acquire()).toBe(false);
  // A body without `proc` (an earlier version): the TTL decides, as before.
  await put({});
  expect(await acquire()).toBe(false);
  store.close?.();
});
