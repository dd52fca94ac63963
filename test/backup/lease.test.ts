/**
 * The writer lock as a Consul session lock, against the real Consul: one holder at a time, the
 * holder named in the refusal, a lock lost when Consul ends the session, and a BackupService
 * that uses it when the config has a consul: section (lease.backend auto).
 */
import * as valibot from 'valibot';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { consulSchema } from '../../src/consul/config.js';
import { SessionClient } from '../../src/consul/session.js';
import { consulAccess } from '../../src/consul/access.js';
import { ConsulLease, defaultLockKey, sessionTtl, writerLock, StoreLease } from '../../src/backup/lease.js';
import { BackupService } from '../../src/backup/service.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { configFor, log, makeTree, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

describeWithServices('backup writer lock on Consul', ['consul'], () => {
  const consul = () => valibot.parse(consulSchema, { address: services().CONSUL_HTTP_ADDR });

  it('one holder at a time; the refusal names the holder; a session ended by Consul aborts the writer', async () => {
    const client = new SessionClient(consul());
    const key = `test/backup-lock/${Date.now()}`;
    const a = new ConsulLease(client, key, 10_000);
    const b = new ConsulLease(client, key, 10_000);
    const held = await a.tryAcquire();
    expect(held).toBeDefined();
    expect(await b.tryAcquire()).toBeUndefined();
    expect(await b.holder()).toBe(a.owner);
    await held?.release();
    expect(await a.holder()).toBeUndefined();

    const second = await b.tryAcquire();
    expect(second?.owner).toBe(b.owner);
    // Consul ends the session (an operator, a failed node check): the writer is told to stop.
    const { state } = await client.readKey(key, { index: 0, waitMs: 0 });
    await client.destroySession(state?.session as string, 5_000);
    await waitFor(() => second?.lost.aborted, { timeout: 10_000, message: 'the lease to be lost' });
    await second?.release();
    expect(await a.tryAcquire().then((l) => l?.release().then(() => true))).toBe(true);
  }, 30_000);

  it('lease.backend auto uses Consul when consul: is configured, the store otherwise', async () => {
    const data = join(tempDir(), 'data');
    await makeTree(data, { small: 3, bigBytes: 0 });
    const config = configFor('local', data);
    expect(writerLock(config, {} as never)).toBeInstanceOf(StoreLease);
    expect(writerLock(config, {} as never, consulAccess(consul(), false))).toBeInstanceOf(ConsulLease);
    expect(writerLock(configFor('local', data, { lease: { backend: 'store' } }), {} as never, consulAccess(consul(), false))).toBeInstanceOf(StoreLease);
    // Consul keeps a session up to 2 × its TTL: half the lease, in whole seconds, at least 10 s.
    expect([sessionTtl(30_000), sessionTtl(45_000), sessionTtl(5_000), sessionTtl(120_000)]).toEqual([15_000, 23_000, 10_000, 60_000]);

    // Another instance holds the Consul lock for this store: a backup is refused, naming it.
    const other = new ConsulLease(new SessionClient(consul()), defaultLockKey(config), 10_000);
    const held = await other.tryAcquire();
    const service = new BackupService(config, log, { consul: consulAccess(consul(), false) });
    await expect(service.backupNow('test')).rejects.toMatchObject({ code: 'PF_BACKUP_BUSY', message: expect.stringContaining(other.owner) });
    await held?.release();
    await expect(service.backupNow('test')).resolves.toMatchObject({ stats: { files: 6 } });
    service.close();
  }, 30_000);
});
