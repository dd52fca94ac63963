/**
 * Dead space under in-place changes: a 256 MiB file (random, like a database file) rewritten
 * in 1 MiB pieces at scattered offsets between backups, with retention keeping the last 3.
 * Repository size after each round for Pilotfish with repacking (the default), without it
 * (`gc.maxUnused: 1`), and restic 0.14 (`forget --keep-last 3 --prune`), same data, same
 * run. Local stores: no S3 needed. Needs a built dist/ (npm run build).
 *
 *   npx tsx bench/backup/churn.ts [--dir /var/tmp/pf-churn] [--rounds 12] [--pieces 8]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';

const MIB = 1024 * 1024;
const { values: opts } = parseArgs({
  options: { dir: { type: 'string', default: '/var/tmp/pf-churn' }, rounds: { type: 'string', default: '12' }, pieces: { type: 'string', default: '8' } },
});
const DIR = opts.dir;
const ROUNDS = Number(opts.rounds);
const PIECES = Number(opts.pieces);
const SIZE = 256 * MIB;
const KEEP = 3;
const CLI = join(resolve(import.meta.dirname, '../..'), 'dist/cli/main.js');
const src = join(DIR, 'src');
const file = join(src, 'db.bin');
process.env.RESTIC_PASSWORD = 'churn';

/** Deterministic bytes (SHA-256 in counter mode): the same in every run. */
function bytes(size: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let off = 0, i = 0; off < size; off += 32, i++) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

function du(path: string): number {
  return Number(execFileSync('du', ['-sb', path]).toString().split('\t')[0]);
}

/** Bytes of the packs a repack retired, still stored until their mark is older than the margin (the next run here). */
function retiredBytes(repo: string): number {
  const dir = join(repo, 'retired');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, pack) => n + (statSync(join(repo, 'packs', pack.slice(0, 2), pack), { throwIfNoEntry: false })?.size ?? 0), 0);
}

function pilotfish(name: string, maxUnused: number): { backup(): number; repo: string } {
  const repo = join(DIR, name);
  const config = join(DIR, `${name}.yaml`);
  writeFileSync(
    config,
    stringify({
      jobs: [{ name: 'app', exec: 'true' }],
      logging: { level: 'warn' },
      backup: {
        sources: [{ path: src, name: 'data' }],
        store: { local: { path: repo } },
        retention: { keepLast: KEEP, hourly: 0, daily: 0 },
        gc: { safetyMargin: '0s', maxUnused },
      },
    }),
  );
  return {
    repo,
    backup() {
      const t = performance.now();
      execFileSync(process.execPath, [CLI, 'backup', '--config', config, '--json'], { stdio: ['ignore', 'ignore', 'inherit'] });
      return (performance.now() - t) / 1000;
    },
  };
}

rmSync(DIR, { recursive: true, force: true });
mkdirSync(src, { recursive: true });
writeFileSync(file, bytes(SIZE, 'base'));
const withRepack = pilotfish('pf-repack', 0.1);
const without = pilotfish('pf-no-repack', 1);
const restic = join(DIR, 'restic');
execFileSync('restic', ['init', '-q', '-r', restic]);
const resticBackup = (): number => {
  const t = performance.now();
  execFileSync('restic', ['-q', '-r', restic, 'backup', src]);
  execFileSync('restic', ['-q', '-r', restic, 'forget', '--keep-last', String(KEEP), '--prune']);
  return (performance.now() - t) / 1000;
};

console.log(`### ${SIZE / MIB} MiB file, ${PIECES} × 1 MiB rewritten per round, keep last ${KEEP}\n`);
console.log('Repository size in MiB after each backup (seconds for backup + GC/prune in brackets). Snapshots start to expire at round 3.\n');
console.log('| round | Pilotfish, repack (default) | of which retired packs awaiting deletion | Pilotfish, no repack | restic 0.14 |');
console.log('|---|---|---|---|---|');
const mib = (n: number): string => (n / MIB).toFixed(0);
for (let round = 0; round <= ROUNDS; round++) {
  if (round > 0) {
    const fh = await open(file, 'r+');
    for (let i = 0; i < PIECES; i++) {
      const at = Number(createHash('sha256').update(`offset:${round}:${i}`).digest().readBigUInt64LE(0) % BigInt(SIZE / MIB)) * MIB;
      await fh.write(bytes(MIB, `round:${round}:${i}`), 0, MIB, at);
    }
    await fh.close();
  }
  const a = withRepack.backup();
  const b = without.backup();
  const c = resticBackup();
  console.log(
    `| ${round} | ${mib(du(withRepack.repo))} (${a.toFixed(1)} s) | ${mib(retiredBytes(withRepack.repo))} | ${mib(du(without.repo))} (${b.toFixed(1)} s) | ${mib(du(restic))} (${c.toFixed(1)} s) |`,
  );
}
