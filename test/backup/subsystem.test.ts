/**
 * The subsystem inside a running Pilotfish: restore before the jobs that wait for it, then
 * backups on an event and after filesystem activity has been quiet for the configured time.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_PREFIX } from '../../src/backup/format.js';
import { BackupService } from '../../src/backup/service.js';
import { killAll, startPilotfish, type LogLine } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { configFor, log, makeTree, rawConfigFor, removeTempDirs, tempDir } from './helpers.js';

afterAll(async () => {
  await killAll();
  removeTempDirs();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

describe('backup subsystem', () => {
  it('restores before `restored`, then backs up on an event and after a quiet period of activity', async () => {
    const seed = join(tempDir(), 'seed');
    await makeTree(seed, { small: 5, bigBytes: 0 });
    const repoId = `sub-${Date.now()}`;
    const seeder = new BackupService(configFor('local', seed, {}, repoId), log);
    await seeder.backupNow('seed');

    const data = join(tempDir(), 'data');
    const quiet = 800;
    const backup = rawConfigFor(
      'local',
      data,
      {
        triggers: { activity: { quiet: `${quiet}ms`, maxDelay: '30s' }, events: [{ source: 'flush', on: 'exitSuccess' }] },
      },
      repoId,
    );
    const port = await freePort();
    const pf = startPilotfish({
      telemetry: { port, address: '127.0.0.1' },
      jobs: [
        { name: 'app', exec: 'sleep 1000', main: true },
        { name: 'reader', exec: ['cat', join(data, 'hello.txt')], when: { source: 'backup', once: 'restored' } },
        { name: 'flush', exec: 'true', when: { source: 'backup', once: 'restored' } },
      ],
      backup,
    });
    // The job that waits for `restored` sees the restored file.
    await pf.waitForLog((l) => l.job === 'reader' && l.msg === 'hello');
    await pf.waitForLog(/^restored snapshot/);

    // The flush job's success triggers a backup.
    const first = await pf.waitForLog((l) => /^backed up/.test(l.msg) && l.reason === 'exitSuccess from flush');
    await pf.waitForLog('watching for activity');

    // Activity: several writes, then quiet. The backup comes after the quiet period, not before.
    const before = pf.logs.filter((l) => /^backed up/.test(l.msg)).length;
    let lastWrite = 0;
    for (let i = 0; i < 5; i++) {
      await writeFile(join(data, `new-${i}.txt`), `written ${i}`);
      lastWrite = Date.now();
      await new Promise((r) => setTimeout(r, 100)); // spacing the writes inside the quiet period
    }
    const fired = (await waitFor(() => pf.logs.slice(before).find((l) => /^backed up/.test(l.msg) && l.reason === 'activity'), {
      timeout: 20_000,
      message: 'an activity backup',
    })) as LogLine;
    expect(Number(fired.time)).toBeGreaterThanOrEqual(lastWrite + quiet - 50);
    expect(first.snapshot).not.toBe(fired.snapshot);

    const reader = new BackupService(configFor('local', data, {}, repoId), log);
    const manifest = await (await reader.open()).readManifest(SNAPSHOT_PREFIX + String(fired.snapshot));
    expect(manifest.entries.map((e) => e.p)).toContain('new-4.txt');
    // Metrics: bytes, duration, chunks reused, time of the last success.
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^pilotfish_backup_last_success_timestamp_seconds \d/m);
    expect(text).toMatch(/^pilotfish_backup_duration_seconds_count\{result="success"\} [2-9]/m);
    expect(text).toMatch(/^pilotfish_backup_chunks_reused_total \d/m);
    expect(text).toMatch(/^pilotfish_backup_bytes_total [1-9]/m);
    expect(text).toMatch(/^pilotfish_restore_duration_seconds_count\{result="success"\} 1/m);
    seeder.close();
    reader.close();
  }, 60_000);
});
