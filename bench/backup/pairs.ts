/**
 * Before/after pairs: two builds of Pilotfish (two dist/ directories) on the same MinIO and the
 * same data, each step a whole command, so any pairing timer can run them in turn (A B A B ...)
 * and report the ratio pair by pair (e.g. `/usr/bin/time -v` in a loop, or hyperfine).
 *
 *   npx tsx bench/backup/pairs.ts --dir /var/tmp/pf-pairs --a /path/to/before/dist --b dist [--files 100000]
 *                                 [--store s3|local]
 *
 * Makes the data sets (100,000 small files; 1 GiB: one 512 MiB random file and 10,000 text
 * files), one repository per build and data set (a full backup each, so a restore and an
 * unchanged re-run have something to work on), and prints, per step, the two commands:
 *
 *   first-many   a first backup of the 100k tree (a new prefix every run)
 *   again-many   an unchanged re-run of the 100k tree
 *   restore-many a full restore of the 100k tree (--policy always)
 *   restore-big  a full restore of the 1 GiB set
 *
 * With --store s3 (the default) it needs the S3 variables of a running MinIO (eval "$(scripts/services
 * up --only minio)"); --store local keeps each repository in a directory under --dir.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/var/tmp/pf-pairs' },
    a: { type: 'string' },
    b: { type: 'string' },
    files: { type: 'string', default: '100000' },
    store: { type: 'string', default: 's3' },
  },
});
const LOCAL = values.store === 'local';
const DIR = resolve(values.dir);
const BUILDS = { a: resolve(values.a ?? 'dist'), b: resolve(values.b ?? 'dist') };
const BUCKET = process.env.PILOTFISH_TEST_BUCKET ?? '';
const ENDPOINT = process.env.AWS_ENDPOINT_URL_S3 ?? '';
if (!LOCAL && (!BUCKET || !ENDPOINT)) throw new Error('the S3 variables are not set: eval "$(scripts/services up --only minio)" first');
const RUN = `pairs-${Date.now().toString(36)}`;
const MIB = 1024 * 1024;

/** Text-like content (compressible about 4:1), deterministic per seed (as bench/backup/run.ts). */
function textish(size: number, seed: number): Buffer {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'order', 'user', 'item', 'price', 'status', 'ok', 'error', 'ts'];
  const parts: string[] = [];
  let n = 0;
  let x = seed * 2654435761;
  while (n < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    const line = `{"${words[x % 12]}":${x % 100000},"${words[(x >> 8) % 12]}":"${(x >>> 3).toString(36)}"}\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

async function makeData(): Promise<void> {
  const many = join(DIR, 'many-src');
  if (!existsSync(many)) {
    const count = Number(values.files);
    for (let i = 0; i < count; i++) {
      if (i % 1000 === 0) mkdirSync(join(many, `d${i / 1000}`), { recursive: true });
      writeFileSync(join(many, `d${Math.floor(i / 1000)}`, `f${i}`), textish(200 + (i % 1800), i));
    }
  }
  const big = join(DIR, 'big-src');
  if (!existsSync(big)) {
    mkdirSync(big, { recursive: true });
    const fh = await open(join(big, 'large.bin'), 'w');
    for (let off = 0; off < 512 * MIB; off += 8 * MIB) await fh.write(randomBytes(8 * MIB));
    await fh.close();
    for (let i = 0; i < 10_000; i++) {
      const dir = join(big, `d${Math.floor(i / 500)}`);
      if (i % 500 === 0) mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `f${i}.json`), textish(4096 + ((i * 7919) % 100_000), i));
    }
  }
}

function config(name: string, path: string, prefix: string): string {
  const file = join(DIR, `${name}.yaml`);
  const backup = {
    sources: [{ path, name: 'data' }],
    store: LOCAL ? { local: { path: join(DIR, 'repos', prefix) } } : { s3: { bucket: BUCKET, prefix, endpoint: ENDPOINT } },
    encryption: { key: { file: join(DIR, 'key') } },
    concurrency: 16,
    // Long, so that on a loaded machine a build from before 2026-12-04 (renewals could overlap
    // and abort it) finishes its backups.
    lease: { ttl: '2m' },
  };
  writeFileSync(file, stringify({ jobs: [{ name: 'app', exec: 'true' }], logging: { level: 'warn' }, backup }));
  return file;
}

mkdirSync(DIR, { recursive: true });
if (!existsSync(join(DIR, 'key'))) writeFileSync(join(DIR, 'key'), randomBytes(32).toString('hex'));
await makeData();
type Side = Record<'a' | 'b', string>;
const steps: { 'first-many': Side; 'again-many': Side; 'restore-many': Side; 'restore-big': Side } = {
  'first-many': { a: '', b: '' },
  'again-many': { a: '', b: '' },
  'restore-many': { a: '', b: '' },
  'restore-big': { a: '', b: '' },
};
for (const side of ['a', 'b'] as const) {
  const cli = `${process.execPath} ${join(BUILDS[side], 'cli/main.js')}`;
  const many = config(`${side}-many`, join(DIR, 'many-src'), `${RUN}/${side}-many/`);
  const big = config(`${side}-big`, join(DIR, 'big-src'), `${RUN}/${side}-big/`);
  // Seed: one full backup of each, by this build.
  for (const c of [many, big]) execFileSync(process.execPath, [join(BUILDS[side], 'cli/main.js'), 'backup', '--direct', '--config', c], { stdio: 'inherit' });
  // `${PF_PAIRS_RUN}`: a new prefix for each run of the first backup.
  const fresh = config(`${side}-fresh`, join(DIR, 'many-src'), `${RUN}/${side}-fresh-\${PF_PAIRS_RUN}/`);
  steps['first-many'][side] = `sh -c 'PF_PAIRS_RUN=$(date +%s%N) exec ${cli} backup --direct --config ${fresh}'`;
  steps['again-many'][side] = `${cli} backup --direct --config ${many}`;
  steps['restore-many'][side] =
    `${cli} restore --policy always --config ${config(`${side}-many-restore`, join(DIR, `${side}-many-dst`), `${RUN}/${side}-many/`)}`;
  steps['restore-big'][side] = `${cli} restore --policy always --config ${config(`${side}-big-restore`, join(DIR, `${side}-big-dst`), `${RUN}/${side}-big/`)}`;
}
for (const [step, cmd] of Object.entries(steps)) console.log(`${step}\n  A: ${cmd.a}\n  B: ${cmd.b}`);
