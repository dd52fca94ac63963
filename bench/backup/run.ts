/**
 * The backup benchmark: Pilotfish vs restic vs rclone vs raw parallel S3 PUT/GET, same machine,
 * same MinIO, same run. Needs the S3 variables of a running set (eval "$(scripts/services up --only minio)"),
 * a built dist/ (npm run build), and restic and rclone on the PATH: bench/backup/peers.sh builds
 * restic 0.18.1 and rclone from the Go module proxy into the cache and prints their directory.
 *
 *   PATH="$(bench/backup/peers.sh):$PATH" npx tsx bench/backup/run.ts [--dir /var/tmp/pf-bench]
 *       [--only big|stream|many|watch] [--files 100000] [--compression lz4|brotli|deflate|none]
 *
 * Prints markdown tables; results are recorded in bench/backup/README.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { pool } from '../../src/backup/limit.js';

const MIB = 1024 * 1024;
const { values: opts } = parseArgs({
  options: {
    dir: { type: 'string', default: '/var/tmp/pf-bench' },
    only: { type: 'string' },
    files: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '16' },
    compression: { type: 'string', default: 'lz4' },
  },
});
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
/**
 * Node's flags as the images' launcher gives them (Dockerfile): Node 24's V8 lets the young
 * generation grow far larger than Node 22's did, which cost a 100,000-file backup about 145 MiB of
 * peak RSS (bench/backup/README.md).
 */
const NODE_FLAGS = ['--max-semi-space-size=16'];
const DIR = opts.dir;
const CONC = Number(opts.concurrency);
const BUCKET = need('PILOTFISH_TEST_BUCKET');
const ENDPOINT = need('AWS_ENDPOINT_URL_S3');
const RUN = `bench-${Date.now().toString(36)}`;
const KEY = join(DIR, 'key');
process.env.RESTIC_PASSWORD = 'bench-password';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: eval "$(scripts/services up --only minio)" first`);
  return v;
}

interface Measured {
  seconds: number;
  rssMiB: number;
  stdout: string;
}

/** Run a command under /usr/bin/time: wall seconds and peak RSS. */
function measure(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'PFTIME %e %M', ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => {
      const m = /PFTIME ([\d.]+) (\d+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`${argv.join(' ')} failed (${code}): ${err.slice(-2000)}`));
      resolveRun({ seconds: Number(m[1]), rssMiB: Number(m[2]) / 1024, stdout: out });
    });
  });
}

/** `source`: a directory, or a stream source (`{name, command, restore}`). */
function pilotfishConfig(name: string, src: string | Record<string, unknown>): string {
  const file = join(DIR, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      jobs: [{ name: 'app', exec: 'true' }],
      logging: { level: 'warn' },
      backup: {
        sources: [typeof src === 'string' ? { path: src, name: 'data' } : src],
        store: { s3: { bucket: BUCKET, prefix: `${RUN}/${name}/`, endpoint: ENDPOINT } },
        encryption: { key: { file: KEY } },
        compression: { algorithm: opts.compression },
        concurrency: CONC,
      },
    }),
  );
  return file;
}

async function pfBackup(config: string): Promise<Measured & { uploaded: number; files: number }> {
  const m = await measure([process.execPath, ...NODE_FLAGS, CLI, 'backup', '--config', config, '--json']);
  const r = JSON.parse(m.stdout) as { stats: { uploadedBytes: number; files: number } };
  return { ...m, uploaded: r.stats.uploadedBytes, files: r.stats.files };
}

function pfRestore(config: string): Promise<Measured> {
  return measure([process.execPath, ...NODE_FLAGS, CLI, 'restore', '--config', config, '--json']);
}

/** `restic 0.18.1` (from `restic version`), for the tables' headings. */
const RESTIC =
  execFileSync('restic', ['version'])
    .toString()
    .match(/restic (\d+\.\d+\.\d+)/)?.[1] ?? '?';
const RESTIC_LABEL = `restic ${RESTIC}`;
const RCLONE =
  execFileSync('rclone', ['version'])
    .toString()
    .match(/rclone v(\S+)/)?.[1] ?? '?';

/** rclone's remote `pfs3:` on the same MinIO, configured through its environment variables. */
const RCLONE_ENV: NodeJS.ProcessEnv = {
  RCLONE_CONFIG_PFS3_TYPE: 's3',
  RCLONE_CONFIG_PFS3_PROVIDER: 'Minio',
  RCLONE_CONFIG_PFS3_ENDPOINT: ENDPOINT,
  RCLONE_CONFIG_PFS3_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
  RCLONE_CONFIG_PFS3_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
  RCLONE_CONFIG_PFS3_REGION: process.env.AWS_REGION ?? 'us-east-1',
};
const rcloneCopy = (from: string, to: string): Promise<Measured> =>
  measure(['rclone', 'copy', '--transfers', String(CONC), '--checkers', String(CONC), from, to], RCLONE_ENV);

const resticRepo = (name: string): string => `s3:${ENDPOINT}/${BUCKET}/${RUN}/restic-${name}`;

async function resticBackup(name: string, src: string): Promise<Measured & { uploaded: number }> {
  const m = await measure(['restic', '-r', resticRepo(name), 'backup', '--json', src]);
  const summary = m.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((o) => o.message_type === 'summary');
  return { ...m, uploaded: Number(summary?.data_added ?? 0) };
}

/** The same bytes as objects of ≤ 1 MiB (Pilotfish's average chunk), PUT with the same concurrency. */
async function rawPut(src: string, prefix: string): Promise<{ seconds: number; keys: Array<[string, string, number]> }> {
  const s3 = new S3Client({
    endpoint: ENDPOINT,
    forcePathStyle: true,
    region: process.env.AWS_REGION ?? 'us-east-1',
    requestHandler: { httpAgent: { maxSockets: 64 } },
  });
  const files = listFiles(src);
  const keys: Array<[string, string, number]> = [];
  const t = performance.now();
  await pool(files, CONC, async (f) => {
    const fh = await open(join(src, f));
    try {
      const size = (await fh.stat()).size;
      for (let off = 0; off === 0 || off < size; off += MIB) {
        const buf = Buffer.allocUnsafe(Math.min(MIB, size - off));
        await fh.read(buf, 0, buf.length, off);
        const key = `${prefix}/${f}@${off}`;
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: buf }));
        keys.push([key, f, off]);
      }
    } finally {
      await fh.close();
    }
  });
  const seconds = (performance.now() - t) / 1000;
  s3.destroy();
  return { seconds, keys };
}

async function rawGet(keys: Array<[string, string, number]>, dst: string): Promise<number> {
  const s3 = new S3Client({
    endpoint: ENDPOINT,
    forcePathStyle: true,
    region: process.env.AWS_REGION ?? 'us-east-1',
    requestHandler: { httpAgent: { maxSockets: 64 } },
  });
  const dirs = new Set(keys.map(([, f]) => join(dst, f, '..')));
  for (const d of dirs) mkdirSync(d, { recursive: true });
  const t = performance.now();
  await pool(new Set(keys.map(([, f]) => f)), CONC, (f) => writeFile(join(dst, f), ''));
  await pool(keys, CONC, async ([key, f, off]) => {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = await out.Body?.transformToByteArray();
    const fh = await open(join(dst, f), 'r+');
    try {
      if (bytes) await fh.write(bytes, 0, bytes.length, off);
    } finally {
      await fh.close();
    }
  });
  execFileSync('sync', ['-f', dst]); // one syncfs, as Pilotfish's restore does
  s3.destroy();
  return (performance.now() - t) / 1000;
}

function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** Text-like content (compressible about 4:1), deterministic per seed. */
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

/**
 * Seconds until what a restore wrote is on disk. Pilotfish and the raw GET sync before they
 * return; restic does not (0.14 left ~1 GiB dirty here, 2.3 s to write back), so its
 * restore is also reported with this added: the same guarantee, like for like.
 */
function syncSeconds(dir: string): number {
  const t = performance.now();
  execFileSync('sync', ['-f', dir]);
  return (performance.now() - t) / 1000;
}

/** Progress on stderr, so a partial run still says what it measured. */
function note(what: string, m: { seconds: number; rssMiB?: number; uploaded?: number }): void {
  process.stderr.write(
    `# ${what}: ${m.seconds.toFixed(1)} s${m.rssMiB ? `, RSS ${m.rssMiB.toFixed(0)} MiB` : ''}${m.uploaded !== undefined ? `, uploaded ${(m.uploaded / MIB).toFixed(1)} MiB` : ''}\n`,
  );
}

const mib = (b: number): string => (b / MIB).toFixed(1);
const rate = (bytes: number, s: number): string => `${(bytes / MIB / s).toFixed(0)} MiB/s`;

async function bigDataset(): Promise<void> {
  const src = join(DIR, 'big-src');
  const smallCount = 10_000;
  const bigSize = 512 * MIB;
  const pfDst = join(DIR, 'big-restore-pf');
  const rsDst = join(DIR, 'big-restore-restic');
  const rawDst = join(DIR, 'big-restore-raw');
  const rcDst = join(DIR, 'big-restore-rclone');
  // Remove an earlier run's trees now, not just before the restores: ext4 skips inodes freed in
  // the last seconds (minutes while their table block is dirty) when it allocates new ones, and
  // scanning past 10,000 of them made file creation several times slower for whichever restore
  // came first (Pilotfish's). Best: a fresh --dir per run.
  for (const d of [src, pfDst, rsDst, rawDst, rcDst]) rmSync(d, { recursive: true, force: true });
  execFileSync('sync');
  mkdirSync(src, { recursive: true });
  // One large file (random: a database file or media) and 10,000 small files (text-like) ≈ 1 GiB.
  const bigFh = await open(join(src, 'large.bin'), 'w');
  for (let off = 0; off < bigSize; off += 8 * MIB) await bigFh.write(randomBytes(8 * MIB));
  await bigFh.close();
  let smallBytes = 0;
  for (let i = 0; i < smallCount; i++) {
    const dir = join(src, `d${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(dir, { recursive: true });
    const size = 4096 + ((i * 7919) % 100_000);
    smallBytes += size;
    await writeFile(join(dir, `f${i}.json`), textish(size, i));
  }
  const total = bigSize + smallBytes;
  console.log(
    `\n### Data set: 1 file of ${mib(bigSize)} MiB (random) + ${smallCount} files of ${mib(smallBytes)} MiB (text) = ${mib(total)} MiB; concurrency ${CONC}\n`,
  );

  const pf = pilotfishConfig('big', src);
  const pfFull = await pfBackup(pf);
  note('pilotfish full backup', pfFull);
  const rsFull = await measure(['restic', '-r', resticRepo('big'), 'init']).then(() => resticBackup('big', src));
  note('restic full backup', rsFull);
  const raw = await rawPut(src, `${RUN}/raw`);
  note('raw PUT', { seconds: raw.seconds });
  const rcUp = await rcloneCopy(src, `pfs3:${BUCKET}/${RUN}/rclone`);
  note('rclone copy up', rcUp);

  // 1%: 100 small files rewritten, and 5 MiB overwritten in the middle of the large file.
  let changed = 0;
  for (let i = 0; i < smallCount; i += 100) {
    const file = join(src, `d${Math.floor(i / 500)}`, `f${i}.json`);
    const size = statSync(file).size;
    await writeFile(file, textish(size, i + 1_000_000));
    changed += size;
  }
  const fh = await open(join(src, 'large.bin'), 'r+');
  await fh.write(randomBytes(5 * MIB), 0, 5 * MIB, 200 * MIB);
  await fh.close();
  changed += 5 * MIB;
  const pfIncr = await pfBackup(pf);
  note('pilotfish 1% backup', pfIncr);
  const rsIncr = await resticBackup('big', src);
  note('restic 1% backup', rsIncr);

  const pfRestoreCfg = pilotfishConfig('big', pfDst);
  // Each restore starts with nothing dirty: the backups just before leave MinIO's writes (1 GiB
  // of restic's, last) to be written back, which would slow whichever restore came first.
  execFileSync('sync');
  const pfRes = await pfRestore(pfRestoreCfg);
  note('pilotfish restore', pfRes);
  execFileSync('diff', ['-r', '-q', src, pfDst]);
  execFileSync('sync');
  const rsRes = await measure(['restic', '-r', resticRepo('big'), 'restore', 'latest', '--target', rsDst]);
  const rsSync = syncSeconds(rsDst);
  note('restic restore', rsRes);
  note('restic restore + sync', { seconds: rsRes.seconds + rsSync });
  execFileSync('sync');
  const rawGetS = await rawGet(raw.keys, rawDst);
  note('raw GET', { seconds: rawGetS });
  execFileSync('sync');
  const rcDown = await rcloneCopy(`pfs3:${BUCKET}/${RUN}/rclone`, rcDst);
  const rcSync = syncSeconds(rcDst);
  note('rclone copy down + sync', { seconds: rcDown.seconds + rcSync });

  console.log(`| step | Pilotfish | ${RESTIC_LABEL} | rclone ${RCLONE} (copy, no dedup) | raw S3 client |`);
  console.log('|---|---|---|---|---|');
  console.log(
    `| full backup | ${pfFull.seconds.toFixed(1)} s (${rate(total, pfFull.seconds)}), RSS ${pfFull.rssMiB.toFixed(0)} MiB | ${rsFull.seconds.toFixed(1)} s (${rate(total, rsFull.seconds)}), RSS ${rsFull.rssMiB.toFixed(0)} MiB | ${rcUp.seconds.toFixed(1)} s (${rate(total, rcUp.seconds)}), RSS ${rcUp.rssMiB.toFixed(0)} MiB | PUT ${raw.seconds.toFixed(1)} s (${rate(total, raw.seconds)}) |`,
  );
  console.log(`| uploaded by the full backup | ${mib(pfFull.uploaded)} MiB | ${mib(rsFull.uploaded)} MiB | ${mib(total)} MiB | ${mib(total)} MiB |`);
  console.log(
    `| backup after a 1% change (${mib(changed)} MiB) | ${pfIncr.seconds.toFixed(1)} s, uploaded ${mib(pfIncr.uploaded)} MiB (${(pfIncr.uploaded / changed).toFixed(2)}× changed) | ${rsIncr.seconds.toFixed(1)} s, uploaded ${mib(rsIncr.uploaded)} MiB (${(rsIncr.uploaded / changed).toFixed(2)}×) | — | — |`,
  );
  console.log(
    `| full restore | ${pfRes.seconds.toFixed(1)} s (${rate(total, pfRes.seconds)}), RSS ${pfRes.rssMiB.toFixed(0)} MiB | ${rsRes.seconds.toFixed(1)} s (${rate(total, rsRes.seconds)}), RSS ${rsRes.rssMiB.toFixed(0)} MiB | ${rcDown.seconds.toFixed(1)} s, RSS ${rcDown.rssMiB.toFixed(0)} MiB | GET+write ${rawGetS.toFixed(1)} s (${rate(total, rawGetS)}) |`,
  );
  console.log(
    `| full restore until on disk (restic, rclone: + \`sync -f\`) | ${pfRes.seconds.toFixed(1)} s (${rate(total, pfRes.seconds)}) | ${(rsRes.seconds + rsSync).toFixed(1)} s (${rate(total, rsRes.seconds + rsSync)}) | ${(rcDown.seconds + rcSync).toFixed(1)} s (${rate(total, rcDown.seconds + rcSync)}) | ${rawGetS.toFixed(1)} s |`,
  );
  console.log(
    `| restore vs raw GET | ${((rawGetS / pfRes.seconds) * 100).toFixed(0)}% | ${((rawGetS / rsRes.seconds) * 100).toFixed(0)}% | ${((rawGetS / rcDown.seconds) * 100).toFixed(0)}% | 100% |`,
  );
}

/**
 * A command-stream source (how databases are backed up: `mariadb-backup --stream`), 512 MiB
 * (half random, half text), against restic's `backup --stdin` and `dump`. Both restores write
 * into a file and are timed until it is on disk.
 */
async function streamDataset(): Promise<void> {
  const input = join(DIR, 'stream.bin');
  const pfOut = join(DIR, 'stream-pf.out');
  const rsOut = join(DIR, 'stream-restic.out');
  const fh = await open(input, 'w');
  for (let i = 0; i < 32; i++) await fh.write(randomBytes(8 * MIB));
  for (let i = 0; i < 32; i++) await fh.write(textish(8 * MIB, i));
  await fh.close();
  const size = statSync(input).size;
  console.log(`\n### A command-stream source: ${mib(size)} MiB (half random, half text)\n`);
  const pf = pilotfishConfig('stream', { name: 'db', command: ['cat', input], restore: ['sh', '-c', `cat > ${pfOut} && sync -f ${pfOut}`] });
  const pfB = await pfBackup(pf);
  const rsB = await measure(['restic', '-r', resticRepo('stream'), 'init']).then(() =>
    measure(['sh', '-c', `restic -r ${resticRepo('stream')} backup -q --stdin --stdin-filename db.bin < ${input}`]),
  );
  execFileSync('sync');
  const pfR = await pfRestore(pf);
  execFileSync('sync');
  const rsR = await measure(['sh', '-c', `restic -r ${resticRepo('stream')} dump latest db.bin > ${rsOut} && sync -f ${rsOut}`]);
  execFileSync('cmp', [input, pfOut]);
  execFileSync('cmp', [input, rsOut]);
  console.log(`| step | Pilotfish | ${RESTIC_LABEL} |`);
  console.log('|---|---|---|');
  console.log(
    `| backup | ${pfB.seconds.toFixed(1)} s (${rate(size, pfB.seconds)}), RSS ${pfB.rssMiB.toFixed(0)} MiB | ${rsB.seconds.toFixed(1)} s (${rate(size, rsB.seconds)}) |`,
  );
  console.log(
    `| restore into a file, until on disk | ${pfR.seconds.toFixed(1)} s (${rate(size, pfR.seconds)}), RSS ${pfR.rssMiB.toFixed(0)} MiB | ${rsR.seconds.toFixed(1)} s (${rate(size, rsR.seconds)}) |`,
  );
}

async function manyDataset(): Promise<void> {
  const count = Number(opts.files);
  const src = join(DIR, 'many-src');
  const pfDst = join(DIR, 'many-restore-pf');
  const rsDst = join(DIR, 'many-restore-restic');
  for (const d of [src, pfDst, rsDst]) rmSync(d, { recursive: true, force: true });
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0) mkdirSync(join(src, `d${i / 1000}`), { recursive: true });
    writeFileSync(join(src, `d${Math.floor(i / 1000)}`, `f${i}`), textish(200 + (i % 1800), i));
  }
  console.log(`\n### ${count} small files (200 B – 2 KiB, text) in ${count / 1000} directories\n`);
  const pf = pilotfishConfig('many', src);
  const full = await pfBackup(pf);
  const again = await pfBackup(pf);
  const rs = await measure(['restic', '-r', resticRepo('many'), 'init']).then(() => resticBackup('many', src));
  const rsAgain = await resticBackup('many', src);
  execFileSync('sync');
  const pfRes = await pfRestore(pilotfishConfig('many', pfDst));
  execFileSync('sync');
  const rsRes = await measure(['restic', '-r', resticRepo('many'), 'restore', 'latest', '--target', rsDst]);
  const rsSync = syncSeconds(rsDst);
  console.log(`| step | Pilotfish | ${RESTIC_LABEL} |`);
  console.log('|---|---|---|');
  console.log(
    `| first backup | ${full.seconds.toFixed(1)} s, peak RSS ${full.rssMiB.toFixed(0)} MiB | ${rs.seconds.toFixed(1)} s, peak RSS ${rs.rssMiB.toFixed(0)} MiB |`,
  );
  console.log(
    `| unchanged re-run | ${again.seconds.toFixed(1)} s, peak RSS ${again.rssMiB.toFixed(0)} MiB, uploaded ${mib(again.uploaded)} MiB | ${rsAgain.seconds.toFixed(1)} s, peak RSS ${rsAgain.rssMiB.toFixed(0)} MiB |`,
  );
  console.log(
    `| full restore | ${pfRes.seconds.toFixed(1)} s, peak RSS ${pfRes.rssMiB.toFixed(0)} MiB | ${rsRes.seconds.toFixed(1)} s, peak RSS ${rsRes.rssMiB.toFixed(0)} MiB |`,
  );
  console.log(`| full restore until on disk (restic: + \`sync -f\`) | ${pfRes.seconds.toFixed(1)} s | ${(rsRes.seconds + rsSync).toFixed(1)} s |`);
}

/** The activity watcher's cost on the 100k tree: Pilotfish's TreeWatcher, and chokidar 4 for comparison. */
async function watchCost(): Promise<void> {
  const src = join(DIR, 'many-src');
  const script = join(DIR, 'watch.mts');
  const chokidar = join(ROOT, 'node_modules/chokidar/esm/index.js');
  const treeWatcher = join(ROOT, 'src/backup/watch.ts');
  await writeFile(
    script,
    `const kind = process.argv[2];
const before = process.memoryUsage().rss;
const t = performance.now();
let ready; let onEvent = () => {};
if (kind === 'chokidar') {
  const { watch } = await import(${JSON.stringify(chokidar)});
  const w = watch(${JSON.stringify(src)}, { ignoreInitial: true, followSymlinks: false });
  w.on('all', () => onEvent());
  ready = new Promise((r) => w.on('ready', r));
} else {
  const { TreeWatcher } = await import(${JSON.stringify(treeWatcher)});
  const w = new TreeWatcher([${JSON.stringify(src)}], () => onEvent());
  ready = w.start();
}
await ready;
const readyMs = performance.now() - t;
const t2 = performance.now();
onEvent = () => { console.log(JSON.stringify({ ready: readyMs, rssMiB: (process.memoryUsage().rss - before) / 1048576, eventMs: performance.now() - t2 })); process.exit(0); };
(await import('node:fs')).writeFileSync(${JSON.stringify(join(src, 'd0', 'touched'))}, String(Date.now()));
`,
  );
  const count = listFiles(src).length;
  console.log(`\n### Activity watcher on ${count} files in ${readdirSync(src).length} directories\n`);
  console.log('| watcher | ready after initial scan | RSS added by the watcher | process peak RSS | first event after a write |');
  console.log('|---|---|---|---|---|');
  for (const kind of ['treewatcher', 'chokidar']) {
    const m = await measure([process.execPath, '--import', 'tsx', script, kind]);
    const r = JSON.parse(m.stdout) as { ready: number; rssMiB: number; eventMs: number };
    console.log(
      `| ${kind === 'chokidar' ? 'chokidar 4' : 'Pilotfish TreeWatcher (inotify per directory)'} | ${(r.ready / 1000).toFixed(2)} s | ${r.rssMiB.toFixed(0)} MiB | ${m.rssMiB.toFixed(0)} MiB | ${r.eventMs.toFixed(0)} ms |`,
    );
  }
}

mkdirSync(DIR, { recursive: true });
writeFileSync(KEY, randomBytes(32).toString('hex'));
console.log(
  `run ${RUN}: node ${process.version}, ${execFileSync('restic', ['version']).toString().trim()}, rclone ${RCLONE}, ${(await readFile('/proc/cpuinfo', 'utf8')).match(/model name\s*:\s*(.*)/)?.[1] ?? 'cpu'} × ${execFileSync('nproc').toString().trim()}`,
);
if (!opts.only || opts.only === 'big') await bigDataset();
if (!opts.only || opts.only === 'stream') await streamDataset();
if (!opts.only || opts.only === 'many') await manyDataset();
if (!opts.only || opts.only === 'watch' || opts.only === 'many') await watchCost();
