/**
 * kill -9 at random points of backups and restores, one round at a time, checked after each:
 * what test/backup/faults.test.ts runs a few dozen times and bench/faults/backup-kill.ts
 * a thousand.
 *
 * A round is one of:
 *   backup   the source changes (a VERSION file says which round), then `pilotfish backup
 *            --direct` runs and is killed after a random delay (or not, when it finishes
 *            first). Afterwards every snapshot in the store must read, the newest must be the
 *            tree of a round no older than the last backup that finished and no newer than
 *            this one, and a restore must bring back exactly that tree.
 *   restore  `pilotfish restore --policy always` into the target, killed after a random
 *            delay. Afterwards the target must hold exactly the tree it held before or the
 *            newest snapshot's (never a mix, never missing), and the next restore must
 *            bring back the newest snapshot and leave nothing of the killed one behind.
 * Retention keeps the last 3 snapshots, so garbage collection and repacking run (and are
 * killed) too. The delays come from a seeded generator: a seed replays the same schedule
 * (the machine's timing still decides where each kill lands).
 */
import * as valibot from 'valibot';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { backupSchema } from '../../src/backup/config.js';
import { StoreLease } from '../../src/backup/lease.js';
import { BackupService, createStore } from '../../src/backup/service.js';
import type { Store } from '../../src/backup/store/types.js';
import { CLI } from '../helpers/pilotfish.js';
import { services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { log, makeTree, pseudoRandom, rawConfigFor, tempDir, treeDigest, useS3Env, type StoreKind } from './helpers.js';

export type RoundKind = 'backup' | 'restore';

export interface RoundResult {
  round: number;
  kind: RoundKind;
  /** The kill's delay after the start, ms (Infinity: let it finish). */
  delayMs: number;
  killed: boolean;
  /** backup: the round whose tree the newest snapshot holds; restore: the round whose tree the target holds after the kill. */
  version: number;
  /** restore: the target still held the tree from before the killed restore. */
  old?: boolean;
  ms: number;
  /** Empty when every check held. */
  errors: string[];
}

/** mulberry32: a small seeded generator, so a seed replays a schedule. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runCli(args: string[], env: NodeJS.ProcessEnv): { exited: Promise<number | null>; kill: () => void; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { exited, kill: () => child.kill('SIGKILL'), stderr: () => err };
}

/** Run `args`, kill -9 it after `delayMs` unless it exits first. */
async function runKilled(
  args: string[],
  env: NodeJS.ProcessEnv,
  delayMs: number,
): Promise<{ killed: boolean; code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  const run = runCli(args, env);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([run.exited, new Promise<'kill'>((resolve) => (timer = setTimeout(() => resolve('kill'), Math.min(delayMs, 600_000))))]);
  clearTimeout(timer);
  if (outcome === 'kill') {
    run.kill();
    await run.exited;
    return { killed: true, code: null, stderr: run.stderr(), ms: Date.now() - started };
  }
  return { killed: false, code: outcome, stderr: run.stderr(), ms: Date.now() - started };
}

export interface HarnessOptions {
  store: StoreKind;
  seed: number;
  /** Small files in the tree (it also gets a 2 MiB file and a file per round). */
  files?: number;
  /** Share of restore rounds (the rest are backups). */
  restoreShare?: number;
}

export class KillHarness {
  readonly #random: () => number;
  readonly #env: NodeJS.ProcessEnv = {};
  readonly src = join(tempDir('pf-kill-'), 'src');
  readonly dst = join(tempDir('pf-kill-'), 'dst');
  #configFile = '';
  #restoreFile = '';
  #reader!: BackupService;
  #store!: Store;
  #probe!: StoreLease;
  /** The tree of each round's source, by round. */
  readonly #digests: Array<Record<string, string>> = [];
  #lastCompleted = -1;
  #dstVersion = -1;
  #typical: Record<RoundKind, number> = { backup: 2000, restore: 1000 };
  #round = 0;

  constructor(readonly options: HarnessOptions) {
    this.#random = seeded(options.seed);
  }

  async setup(): Promise<void> {
    // Outside vitest (the bench), S3 comes from the environment of `scripts/services up`.
    const fromEnv = this.options.store === 's3' && process.env.PILOTFISH_TEST_BUCKET && process.env.AWS_ENDPOINT_URL_S3;
    if (this.options.store === 's3' && !fromEnv) {
      useS3Env();
      const s = services();
      Object.assign(this.#env, {
        AWS_ACCESS_KEY_ID: s.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: s.AWS_SECRET_ACCESS_KEY,
        AWS_REGION: s.AWS_REGION,
        AWS_ENDPOINT_URL_S3: s.AWS_ENDPOINT_URL_S3,
      });
    }
    const keyFile = join(tempDir('pf-kill-'), 'key');
    await writeFile(keyFile, pseudoRandom(32, this.options.seed));
    const extra = {
      chunking: { avgSize: 64 * 1024 },
      lease: { ttl: '2s' },
      retention: { keepLast: 3, hourly: 0, daily: 0 },
      gc: { safetyMargin: '0s', maxUnused: 0.1 },
      encryption: { key: { file: keyFile } },
    };
    const raw = fromEnv
      ? {
          ...rawConfigFor('local', this.src, extra),
          store: {
            s3: {
              bucket: process.env.PILOTFISH_TEST_BUCKET,
              prefix: `backup-kill/${randomBytes(6).toString('hex')}/`,
              endpoint: process.env.AWS_ENDPOINT_URL_S3,
            },
          },
        }
      : rawConfigFor(this.options.store, this.src, extra);
    const config = valibot.parse(backupSchema, raw);
    const restoreRaw = { ...raw, sources: [{ path: this.dst, name: 'data' }] };
    this.#configFile = join(tempDir('pf-kill-'), 'backup.yaml');
    this.#restoreFile = join(tempDir('pf-kill-'), 'restore.yaml');
    const app = [{ name: 'app', exec: 'true' }];
    await writeFile(this.#configFile, stringify({ jobs: app, logging: { level: 'error' }, backup: raw }));
    await writeFile(this.#restoreFile, stringify({ jobs: app, logging: { level: 'error' }, backup: restoreRaw }));
    this.#reader = new BackupService({ ...config, sources: [{ path: this.dst, name: 'data', exclude: [] }] }, log);
    this.#store = createStore(config);
    this.#probe = new StoreLease(this.#store, 2000);
    await makeTree(this.src, { small: this.options.files ?? 120, bigBytes: 0 });
  }

  close(): void {
    this.#reader?.close();
    this.#store?.close?.();
  }

  /** Change the source for round `round`: VERSION, a few small files, a new file, part of a big one. */
  async #mutate(round: number): Promise<void> {
    const files = this.options.files ?? 120;
    await writeFile(join(this.src, 'VERSION'), String(round));
    for (let k = 0; k < 4; k++) await appendFile(join(this.src, 'many', `f${(round * 7 + k * 13) % files}.txt`), `round ${round}\n`);
    await writeFile(join(this.src, `round-${round % 6}.bin`), pseudoRandom(100_000 + (round % 50) * 1000, round));
    const big = pseudoRandom(2 * 1024 * 1024, 1);
    pseudoRandom(40_000, 1000 + round).copy(big, (round * 97_003) % (big.length - 40_000));
    await writeFile(join(this.src, 'big.bin'), big);
    this.#digests[round] = await treeDigest(this.src);
  }

  async #versionOf(dir: string): Promise<number> {
    return Number(await readFile(join(dir, 'VERSION'), 'utf8'));
  }

  /** Leftovers of a restore beside the target. */
  async #leftovers(): Promise<string[]> {
    return (await readdir(dirname(this.dst))).filter((n) => n.startsWith(`.${basename(this.dst)}.pilotfish-restore-`));
  }

  /** Restore (not killed) and check it is the newest snapshot, whole, with nothing skipped. */
  async #verifyRestore(errors: string[], min: number, max: number): Promise<number> {
    const restored = await this.#reader.restore({ policy: 'always' });
    if (restored.skipped.length > 0) errors.push(`restore skipped ${JSON.stringify(restored.skipped)}`);
    const version = await this.#versionOf(this.dst);
    if (version < min || version > max) errors.push(`restored round ${version}, expected ${min}..${max}`);
    const digest = await treeDigest(this.dst);
    if (JSON.stringify(digest) !== JSON.stringify(this.#digests[version])) errors.push(`restored tree differs from round ${version}'s`);
    const left = await this.#leftovers();
    if (left.length > 0) errors.push(`restore left ${left.join(', ')}`);
    this.#dstVersion = version;
    return version;
  }

  /** The first round: a backup that runs whole, and a restore of it. */
  async first(): Promise<RoundResult> {
    const started = Date.now();
    await this.#mutate(0);
    const errors: string[] = [];
    const run = await runKilled(['backup', '--direct', '--config', this.#configFile], this.#env, Infinity);
    if (run.code !== 0) errors.push(`first backup exited ${run.code}: ${run.stderr}`);
    this.#typical.backup = run.ms;
    this.#lastCompleted = 0;
    const r = await runKilled(['restore', '--policy', 'always', '--config', this.#restoreFile], this.#env, Infinity);
    if (r.code !== 0) errors.push(`first restore exited ${r.code}: ${r.stderr}`);
    this.#typical.restore = r.ms;
    await this.#verifyRestore(errors, 0, 0);
    this.#round = 1;
    return { round: 0, kind: 'backup', delayMs: Infinity, killed: false, version: 0, ms: Date.now() - started, errors };
  }

  async next(): Promise<RoundResult> {
    const round = this.#round++;
    const kind: RoundKind = this.#random() < (this.options.restoreShare ?? 0.5) ? 'restore' : 'backup';
    // Anywhere from the start to a little past a typical whole run.
    const delayMs = Math.floor(this.#random() * this.#typical[kind] * 1.15);
    return kind === 'backup' ? this.#backupRound(round, delayMs) : this.#restoreRound(round, delayMs);
  }

  async #backupRound(round: number, delayMs: number): Promise<RoundResult> {
    const started = Date.now();
    const errors: string[] = [];
    await this.#mutate(round);
    // A killed writer's lease is released at once now (same host, pid gone): no waiting.
    const busy = await this.#probe.holder();
    if (busy) errors.push(`lease still held by ${busy} before the round`);
    const run = await runKilled(['backup', '--direct', '--config', this.#configFile], this.#env, delayMs);
    if (!run.killed) {
      if (run.code === 0) {
        this.#lastCompleted = round;
        this.#typical.backup = run.ms;
      } else errors.push(`backup exited ${run.code}: ${run.stderr}`);
    }
    const listed = await this.#reader.snapshots();
    const unreadable = listed.filter((s) => !s.readable);
    if (unreadable.length > 0) errors.push(`unreadable snapshots: ${unreadable.map((s) => `${s.name} (${s.error})`).join('; ')}`);
    const version = await this.#verifyRestore(errors, this.#lastCompleted, round);
    if (version === round) this.#lastCompleted = round; // it finished just before the kill
    return { round, kind: 'backup', delayMs, killed: run.killed, version, ms: Date.now() - started, errors };
  }

  async #restoreRound(round: number, delayMs: number): Promise<RoundResult> {
    const started = Date.now();
    const errors: string[] = [];
    // The target differs from every snapshot (a file the app wrote), so "old" and "new" differ.
    await writeFile(join(this.dst, `local-${round}`), pseudoRandom(1000, round));
    const oldDigest = JSON.stringify(await treeDigest(this.dst));
    const newDigest = JSON.stringify(this.#digests[this.#lastCompleted]);
    const run = await runKilled(['restore', '--policy', 'always', '--config', this.#restoreFile], this.#env, delayMs);
    if (!run.killed) {
      if (run.code === 0) this.#typical.restore = run.ms;
      else errors.push(`restore exited ${run.code}: ${run.stderr}`);
    }
    let version = -1;
    let old: boolean | undefined;
    try {
      const digest = JSON.stringify(await treeDigest(this.dst));
      old = digest === oldDigest;
      version = old ? this.#dstVersion : await this.#versionOf(this.dst);
      if (!old && digest !== newDigest)
        errors.push(`after the kill the target holds neither its old tree nor round ${this.#lastCompleted}'s (VERSION ${version})`);
    } catch (error) {
      errors.push(`after the kill the target cannot be read: ${(error as Error).message}`);
    }
    // The next restore clears what the killed one left and brings back the newest snapshot.
    await this.#verifyRestore(errors, this.#lastCompleted, this.#lastCompleted);
    return { round, kind: 'restore', delayMs, killed: run.killed, version, old, ms: Date.now() - started, errors };
  }

  /** Wait for a killed writer's lease to go (only needed where the holder is not local). */
  async leaseFree(timeout = 10_000): Promise<void> {
    await waitFor(async () => (await this.#probe.holder()) === undefined, { timeout, message: 'the lease to be free' });
  }
}
