#!/usr/bin/env node
// Start-up and idle cost of Pilotfish beside its peers, in one run, pair by pair (each round
// runs every contender once, in turn, so machine noise hits them alike):
//   exit   `run` of a config whose only job is a main job `/bin/true` → exit: wall time, CPU and
//          peak RSS (GNU time), vs bare `node -e 0` on the same Node, tini, ContainerPilot 3.8
//   first  exec → the job's first instruction (a static `mark` that writes the realtime clock):
//          vs bare Node spawning the same job, tini, ContainerPilot
//   idle   one `sleep` job and a `/bin/true` health check every 1 s: RSS after 5 s, and CPU of the
//          supervisor process over a window, extrapolated to an hour
//   spawn  start-to-start interval of a job that exits at once and is restarted at once, over
//          --spawns starts: vs a bare Node loop spawning it, ContainerPilot (tini restarts nothing)
// NODE_EXTRA_CA_CERTS is removed from every contender's environment: a container does not set it.
//
// Usage: node scripts/build.mjs && node bench/startup/run.mjs [--runs 15] [--idle-window 60]
//          [--spawns 1000] [--spawn-rounds 3] [--only exit,first,idle,spawn] [--json FILE]
// Peers: tini from PATH (Debian's), ContainerPilot from bench/startup/containerpilot.sh (built
// into the cache if missing) or $CONTAINERPILOT; a missing peer is left out, and said so.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    'idle-window': { type: 'string', default: '60' },
    'idle-rounds': { type: 'string', default: '3' },
    spawns: { type: 'string', default: '1000' },
    'spawn-rounds': { type: 'string', default: '3' },
    only: { type: 'string', default: 'exit,first,idle,spawn' },
    json: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
const IDLE_WINDOW_S = Number(values['idle-window']);
const IDLE_ROUNDS = Number(values['idle-rounds']);
const SPAWNS = Number(values.spawns);
const SPAWN_ROUNDS = Number(values['spawn-rounds']);
const ONLY = new Set(values.only.split(','));

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const NODE = process.execPath;
const dir = mkdtempSync(join(tmpdir(), 'pf-startup-'));
const ENV = { ...process.env };
delete ENV.NODE_EXTRA_CA_CERTS;
const nowNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// --- peers and the job ----------------------------------------------------------------------

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
const TINI = which('tini');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
if (!TIME) throw new Error('GNU time (/usr/bin/time, Debian package "time") is needed for CPU and peak RSS');
function containerPilot() {
  if (process.env.CONTAINERPILOT) return process.env.CONTAINERPILOT;
  const r = spawnSync(join(import.meta.dirname, 'containerpilot.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return r.status === 0 ? r.stdout.trim().split('\n').pop() : undefined;
}
const CP = containerPilot();
const MARK = join(dir, 'mark');
{
  const src = join(import.meta.dirname, 'mark.c');
  let r = spawnSync('cc', ['-O2', '-static', '-o', MARK, src], { stdio: 'inherit' });
  if (r.status !== 0) r = spawnSync('cc', ['-O2', '-o', MARK, src], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('cannot compile bench/startup/mark.c (cc is needed)');
}

const json = (name, value) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
};
// Every Pilotfish config gets its own control socket: a Pilotfish already running on the
// machine keeps the default one.
const pfConfig = (name, jobs) => json(`${name}.json`, { logging: { level: 'warn' }, control: { socket: join(dir, `${name}.sock`) }, jobs });
// ContainerPilot needs a Consul address even when nothing registers; stopTimeout 1 is its lowest
// (0 means its default, 5 s): it waits that long before exiting, whatever its jobs did.
const cpConfig = (name, jobs) => json(`${name}.json5`, { consul: '127.0.0.1:1', stopTimeout: 1, logging: { level: 'ERROR' }, jobs });

// --- measuring ------------------------------------------------------------------------------

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const median = (xs) => quantile(xs, 0.5);

/** Runs argv under GNU time; resolves {wallMs, cpuMs, peakKiB, code}. */
function timed(argv) {
  const out = join(dir, 'time.out');
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(TIME, ['-f', '%U %S %M', '-o', out, ...argv], { stdio: 'ignore', env: ENV });
    c.on('error', rej);
    c.on('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const [u, s, m] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      res({ wallMs, cpuMs: (u + s) * 1000, peakKiB: m, code });
    });
  });
}

function runPlain(argv) {
  return new Promise((res, rej) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: 'ignore', env: ENV });
    c.on('error', rej);
    c.on('exit', (code) => res(code));
  });
}

/** utime+stime (ms) and VmRSS (KiB) of one process. */
function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  const rss = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m);
  return { cpuMs, rssKiB: Number(rss?.[1] ?? NaN) };
}

/** Per-round ratios A/B of one figure, summarised as min / median / max. */
function ratios(a, b) {
  const r = a.map((x, i) => x / b[i]);
  return { min: Math.min(...r), median: median(r), max: Math.max(...r) };
}

const results = { node: process.version, date: new Date().toISOString(), runs: RUNS };
const contendersNote = [];
if (!TINI) contendersNote.push('tini not found: left out');
if (!CP) contendersNote.push('ContainerPilot not built: left out');

// --- exit -----------------------------------------------------------------------------------

async function exitBench() {
  const contenders = {
    pilotfish: [NODE, CLI, 'run', '--config', pfConfig('exit', [{ name: 'app', main: true, exec: ['/bin/true'] }])],
    'node -e 0': [NODE, '-e', '0'],
    ...(TINI ? { tini: [TINI, '-s', '--', '/bin/true'] } : {}),
    ...(CP ? { containerpilot: [CP, '-config', cpConfig('exit', [{ name: 'app', exec: '/bin/true' }])] } : {}),
  };
  const rows = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (const argv of Object.values(contenders)) await timed(argv); // warm-up: page cache, compile cache
  for (let i = 0; i < RUNS; i++) {
    for (const [name, argv] of Object.entries(contenders)) {
      const r = await timed(argv);
      if (r.code !== 0) throw new Error(`${name} exited ${r.code}`);
      rows[name].push(r);
    }
  }
  const figure = (name, key) => rows[name].map((r) => r[key]);
  const out = {};
  for (const name of Object.keys(rows)) {
    out[name] = { wallMs: median(figure(name, 'wallMs')), cpuMs: median(figure(name, 'cpuMs')), peakMiB: median(figure(name, 'peakKiB')) / 1024 };
  }
  out.ratioPilotfishToNode = {
    wall: ratios(figure('pilotfish', 'wallMs'), figure('node -e 0', 'wallMs')),
    cpu: ratios(figure('pilotfish', 'cpuMs'), figure('node -e 0', 'cpuMs')),
    peakRss: ratios(figure('pilotfish', 'peakKiB'), figure('node -e 0', 'peakKiB')),
  };
  return out;
}

// --- first instruction ----------------------------------------------------------------------

async function firstBench() {
  const mark = join(dir, 'first.mark');
  const job = [MARK, mark];
  const contenders = {
    pilotfish: [NODE, CLI, 'run', '--config', pfConfig('first', [{ name: 'app', main: true, exec: job }])],
    'bare node': [NODE, '-e', `require('child_process').spawn(${JSON.stringify(job[0])}, ${JSON.stringify(job.slice(1))}, { stdio: 'inherit' })`],
    ...(TINI ? { tini: [TINI, '-s', '--', ...job] } : {}),
    ...(CP ? { containerpilot: [CP, '-config', cpConfig('first', [{ name: 'app', exec: job }])] } : {}),
  };
  const rows = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let i = -1; i < RUNS; i++) {
    for (const [name, argv] of Object.entries(contenders)) {
      rmSync(mark, { force: true });
      const t0 = nowNs();
      await runPlain(argv);
      const t1 = BigInt(readFileSync(mark, 'utf8').trim());
      if (i >= 0) rows[name].push(Number(t1 - t0) / 1e6);
    }
  }
  const out = {};
  for (const [name, xs] of Object.entries(rows)) out[name] = { p50Ms: median(xs), p90Ms: quantile(xs, 0.9) };
  out.ratioPilotfishToNode = ratios(rows.pilotfish, rows['bare node']);
  return out;
}

// --- idle -----------------------------------------------------------------------------------

async function idleBench() {
  const contenders = {
    pilotfish: [
      NODE,
      CLI,
      'run',
      '--config',
      pfConfig('idle', [{ name: 'app', main: true, exec: ['sleep', '86400'], health: { exec: ['/bin/true'], interval: '1s' } }]),
    ],
    'bare node': [
      NODE,
      '-e',
      "const { spawn } = require('child_process'); spawn('sleep', ['86400'], { stdio: 'ignore' }); setInterval(() => spawn('/bin/true', { stdio: 'ignore' }), 1000)",
    ],
    ...(TINI ? { tini: [TINI, '-s', '--', 'sleep', '86400'] } : {}),
    // ContainerPilot's health checks report to Consul; a periodic job does the same exec.
    ...(CP
      ? {
          containerpilot: [
            CP,
            '-config',
            cpConfig('idle', [
              { name: 'app', exec: ['sleep', '86400'] },
              { name: 'check', exec: '/bin/true', when: { interval: '1s' } },
            ]),
          ],
        }
      : {}),
  };
  const rows = Object.fromEntries(Object.keys(contenders).map((k) => [k, { rssKiB: [], cpuMsPerHour: [] }]));
  for (let round = 0; round < IDLE_ROUNDS; round++) {
    // All side by side: they are idle, so they hardly disturb each other.
    const procs = Object.entries(contenders).map(([name, argv]) => [name, spawn(argv[0], argv.slice(1), { stdio: 'ignore', env: ENV, detached: true })]);
    try {
      await sleep(5000);
      const first = Object.fromEntries(procs.map(([name, c]) => [name, procStat(c.pid)]));
      await sleep(IDLE_WINDOW_S * 1000);
      for (const [name, c] of procs) {
        const last = procStat(c.pid);
        rows[name].rssKiB.push(first[name].rssKiB);
        rows[name].cpuMsPerHour.push(((last.cpuMs - first[name].cpuMs) * 3600) / IDLE_WINDOW_S);
      }
    } finally {
      for (const [, c] of procs) {
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
  const out = {};
  for (const [name, r] of Object.entries(rows)) out[name] = { rssMiB: median(r.rssKiB) / 1024, cpuSecondsPerHour: median(r.cpuMsPerHour) / 1000 };
  out.ratioPilotfishToNode = {
    rss: ratios(rows.pilotfish.rssKiB, rows['bare node'].rssKiB),
    cpu: ratios(rows.pilotfish.cpuMsPerHour, rows['bare node'].cpuMsPerHour),
  };
  out.windowSeconds = IDLE_WINDOW_S;
  out.rounds = IDLE_ROUNDS;
  return out;
}

// --- spawn ----------------------------------------------------------------------------------

async function spawnBench() {
  const mark = join(dir, 'spawn.mark');
  const job = [MARK, mark];
  const contenders = {
    pilotfish: [
      NODE,
      CLI,
      'run',
      '--config',
      pfConfig('spawn', [{ name: 'app', main: true, exec: job, restarts: { max: SPAWNS - 1, backoff: { initial: 0, max: 0 } } }]),
    ],
    'bare node': [
      NODE,
      '-e',
      `const { spawn } = require('child_process'); let n = ${SPAWNS}; const go = () => { if (n-- > 0) spawn(${JSON.stringify(job[0])}, ${JSON.stringify(job.slice(1))}, { stdio: 'ignore' }).on('exit', go); }; go();`,
    ],
    ...(CP ? { containerpilot: [CP, '-config', cpConfig('spawn', [{ name: 'app', exec: job, restarts: SPAWNS - 1 }])] } : {}),
  };
  const gaps = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  const p50s = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let round = 0; round < SPAWN_ROUNDS; round++) {
    for (const [name, argv] of Object.entries(contenders)) {
      rmSync(mark, { force: true });
      await runPlain(argv);
      const t = readFileSync(mark, 'utf8').trim().split('\n').map(BigInt);
      if (t.length !== SPAWNS) throw new Error(`${name}: ${t.length} starts, expected ${SPAWNS}`);
      const g = t.slice(1).map((x, i) => Number(x - t[i]) / 1e6);
      gaps[name].push(...g);
      p50s[name].push(median(g));
    }
  }
  const out = {};
  for (const [name, g] of Object.entries(gaps)) out[name] = { p50Ms: median(g), p99Ms: quantile(g, 0.99), maxMs: Math.max(...g) };
  out.ratioPilotfishToNodeP50 = ratios(p50s.pilotfish, p50s['bare node']);
  out.starts = SPAWNS;
  out.rounds = SPAWN_ROUNDS;
  return out;
}

// --- report ---------------------------------------------------------------------------------

const f1 = (x) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(x < 10 ? 2 : 1));
const fr = (r) => `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
try {
  if (ONLY.has('exit')) results.exit = await exitBench();
  if (ONLY.has('first')) results.first = await firstBench();
  if (ONLY.has('idle')) results.idle = await idleBench();
  if (ONLY.has('spawn')) results.spawn = await spawnBench();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const lines = [`Node ${process.version}, ${RUNS} runs per contender, pair by pair; ${contendersNote.join('; ') || 'all peers present'}`];
const names = (o) => Object.keys(o).filter((k) => !/^ratio|^window|^rounds|^starts/.test(k));
if (results.exit) {
  lines.push('', '| run → exit (median) | wall ms | CPU ms | peak RSS MiB |', '|---|---|---|---|');
  for (const n of names(results.exit)) lines.push(`| ${n} | ${f1(results.exit[n].wallMs)} | ${f1(results.exit[n].cpuMs)} | ${f1(results.exit[n].peakMiB)} |`);
  const r = results.exit.ratioPilotfishToNode;
  lines.push(`| **pilotfish / node -e 0**, per pair | ${fr(r.wall)} | ${fr(r.cpu)} | ${fr(r.peakRss)} |`);
}
if (results.first) {
  lines.push('', '| exec → first instruction of the job | p50 ms | p90 ms |', '|---|---|---|');
  for (const n of names(results.first)) lines.push(`| ${n} | ${f1(results.first[n].p50Ms)} | ${f1(results.first[n].p90Ms)} |`);
  lines.push(`| **pilotfish / bare node**, per pair | ${fr(results.first.ratioPilotfishToNode)} | |`);
}
if (results.idle) {
  lines.push(
    '',
    `| idle, one sleep job + 1 s health check (${results.idle.rounds} rounds) | RSS after 5 s MiB | CPU s per hour (from ${results.idle.windowSeconds} s) |`,
    '|---|---|---|',
  );
  for (const n of names(results.idle)) lines.push(`| ${n} | ${f1(results.idle[n].rssMiB)} | ${f1(results.idle[n].cpuSecondsPerHour)} |`);
  lines.push(`| **pilotfish / bare node**, per round | ${fr(results.idle.ratioPilotfishToNode.rss)} | ${fr(results.idle.ratioPilotfishToNode.cpu)} |`);
}
if (results.spawn) {
  lines.push('', `| restart → next start, ${results.spawn.starts} starts × ${results.spawn.rounds} | p50 ms | p99 ms | max ms |`, '|---|---|---|---|');
  for (const n of names(results.spawn)) lines.push(`| ${n} | ${f1(results.spawn[n].p50Ms)} | ${f1(results.spawn[n].p99Ms)} | ${f1(results.spawn[n].maxMs)} |`);
  lines.push(`| **pilotfish / bare node** p50, per round | ${fr(results.spawn.ratioPilotfishToNodeP50)} | | |`);
}
console.log(lines.join('\n'));
if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
