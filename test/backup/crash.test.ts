/**
 * kill -9 the real CLI (`pilotfish backup`) at random moments, then restore: every time the
 * result must be exactly the tree of one complete backup, never older than the last backup
 * that finished, and no half-written snapshot is ever visible.
 */
import * as valibot from 'valibot';
import { spawn } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { backupSchema } from '../../src/backup/config.js';
import { StoreLease } from '../../src/backup/lease.js';
import { BackupService, createStore } from '../../src/backup/service.js';
import { describeWithServices, services } from '../helpers/services.js';
import { CLI } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { log, makeTree, pseudoRandom, rawConfigFor, removeTempDirs, tempDir, treeDigest, useS3Env, type StoreKind } from './helpers.js';

const ROUNDS = Number(process.env.PF_BACKUP_CRASH_ROUNDS ?? 20);

function runCli(configFile: string, env: NodeJS.ProcessEnv): { exited: Promise<number | null>; kill: () => void; started: number } {
  const child = spawn(process.execPath, [CLI, 'backup', '--config', configFile, '--json'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { exited, kill: () => child.kill('SIGKILL'), started: Date.now() };
}

async function mutate(src: string, round: number): Promise<void> {
  await writeFile(join(src, 'VERSION'), String(round));
  for (let k = 0; k < 5; k++) await appendFile(join(src, 'many', `f${(round * 7 + k * 13) % 150}.txt`), `round ${round}\n`);
  await writeFile(join(src, `round-${round}.bin`), pseudoRandom(150_000 + round * 1000, round));
  const big = pseudoRandom(2 * 1024 * 1024, 1);
  pseudoRandom(50_000, 1000 + round).copy(big, (round * 97_003) % (big.length - 50_000));
  await writeFile(join(src, 'big.bin'), big);
}

function crashSuite(kind: StoreKind): void {
  it(`restores the last complete snapshot after kill -9 during backups (${ROUNDS} rounds)`, async () => {
    const env: NodeJS.ProcessEnv = {};
    if (kind === 's3') {
      useS3Env();
      const s = services();
      Object.assign(env, {
        AWS_ACCESS_KEY_ID: s.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: s.AWS_SECRET_ACCESS_KEY,
        AWS_REGION: s.AWS_REGION,
        AWS_ENDPOINT_URL_S3: s.AWS_ENDPOINT_URL_S3,
      });
    }
    const src = join(tempDir(), 'src');
    const dst = join(tempDir(), 'dst');
    const raw = rawConfigFor(kind, src, { chunking: { avgSize: 64 * 1024 }, lease: { ttl: '1s' }, retention: { keepLast: 1000, hourly: 0, daily: 0 } });
    const config = valibot.parse(backupSchema, raw);
    const configFile = join(tempDir(), 'pilotfish.yaml');
    await writeFile(configFile, stringify({ jobs: [{ name: 'app', exec: 'true' }], backup: raw }));
    const reader = new BackupService({ ...config, sources: [{ path: dst, name: 'data', exclude: [] }] }, log);
    const store = createStore(config);
    const probe = new StoreLease(store, 1000);
    await makeTree(src, { small: 150, bigBytes: 0 });

    const digests: Array<Record<string, string>> = [];
    let lastCompleted = -1;
    let typical = 1500;
    let killed = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await mutate(src, round);
        digests[round] = await treeDigest(src);
        await waitFor(async () => (await probe.holder()) === undefined, { timeout: 10_000, message: 'the killed backup lease to expire' });
        const run = runCli(configFile, env);
        // Round 0 runs whole; after that, kill somewhere in [0, 1.1 × the last whole run].
        const delay = round === 0 ? Infinity : Math.random() * typical * 1.1;
        const outcome = await Promise.race([run.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), delay === Infinity ? 60_000 : delay))]);
        if (outcome === 'timeout') {
          run.kill();
          await run.exited;
          killed++;
        } else {
          expect(outcome).toBe(0);
          lastCompleted = round;
          typical = Date.now() - run.started;
        }
        const listed = await reader.snapshots();
        expect(listed.every((s) => s.readable)).toBe(true);
        const restored = await reader.restore({ policy: 'always' });
        expect(restored.skipped).toEqual([]);
        const version = Number(await readFile(join(dst, 'VERSION'), 'utf8'));
        expect(version).toBeGreaterThanOrEqual(lastCompleted);
        expect(version).toBeLessThanOrEqual(round);
        expect(await treeDigest(dst)).toEqual(digests[version]);
        if (version === round) lastCompleted = round; // it finished just before the kill
      }
    } finally {
      reader.close();
      store.close?.();
    }
    // Some rounds must really have been interrupted, or the test proves nothing.
    expect(killed).toBeGreaterThan(ROUNDS / 4);
  }, 240_000);
}

afterAll(removeTempDirs);

describe('backup crash safety (local store)', () => crashSuite('local'));
describeWithServices('backup crash safety (S3)', ['s3'], () => crashSuite('s3'));
