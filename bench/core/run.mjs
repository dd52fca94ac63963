#!/usr/bin/env node
// Core benchmarks, each side by side with its peer in the same run:
//   start:  exec → first instruction of the main job; pilotfish vs bare `node -e` (spawning the
//           same job) vs tini
//   rss:    idle RSS with one job and a 1 s health check, vs a bare idle Node process
//   reap:   10,000 orphans reaped as PID 1 (own PID namespace); pilotfish vs tini
// Usage: npm run build && node bench/core/run.mjs [--runs N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const RUNS = Number(values.runs);
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'pf-bench-'));
const now = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)); // ns, realtime

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
const fmt = (ms) => `${ms.toFixed(1)} ms`;

function run(argv, env = {}) {
  return new Promise((res) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: 'ignore', env: { ...process.env, ...env } });
    c.on('exit', (code) => res(code));
  });
}

// --- start ------------------------------------------------------------------
async function startBench() {
  const mark = join(dir, 'mark');
  const job = ['/bin/sh', '-c', `date +%s%N > ${mark}`];
  const config = join(dir, 'start.yaml');
  writeFileSync(config, JSON.stringify({ logging: { level: 'warn' }, jobs: [{ name: 'app', main: true, exec: job }] }));
  const contenders = {
    pilotfish: [process.execPath, CLI, 'run', '--config', config],
    'bare node -e': [process.execPath, '-e', `require('child_process').spawn(${JSON.stringify(job[0])}, ${JSON.stringify(job.slice(1))}, {stdio: 'inherit'})`],
    tini: ['tini', '-s', '--', ...job],
  };
  const results = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, argv] of Object.entries(contenders)) {
      rmSync(mark, { force: true });
      const t0 = now();
      await run(argv);
      const t1 = BigInt(readFileSync(mark, 'utf8').trim());
      results[name].push(Number(t1 - t0) / 1e6);
    }
  }
  return Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, { p50: quantile(xs, 0.5), p90: quantile(xs, 0.9) }]));
}

// --- idle rss -----------------------------------------------------------------
function rssKiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]);
}
async function rssBench() {
  const config = join(dir, 'rss.yaml');
  writeFileSync(
    config,
    JSON.stringify({ logging: { level: 'warn' }, jobs: [{ name: 'app', main: true, exec: ['sleep', '1000'], health: { exec: ['true'], interval: '1s' } }] }),
  );
  const pf = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: 'ignore' });
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const samples = { pilotfish: [], 'bare node': [] };
  await new Promise((r) => setTimeout(r, 5000)); // let both settle, health checks running
  for (let i = 0; i < 10; i++) {
    samples.pilotfish.push(rssKiB(pf.pid) / 1024);
    samples['bare node'].push(rssKiB(bare.pid) / 1024);
    await new Promise((r) => setTimeout(r, 1000));
  }
  pf.kill('SIGTERM');
  bare.kill('SIGTERM');
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, { max: Math.max(...xs), p50: quantile(xs, 0.5) }]));
}

// --- reap ---------------------------------------------------------------------
// A job makes 10,000 children that exit at once, then exits itself: all 10,000 zombies are
// re-parented to PID 1. We time from the job's exit (it writes a mark) to zero zombies left,
// measured inside the namespace by the last job.
async function reapBench() {
  const out = {};
  const N = 10_000;
  const script = join(dir, 'orphans.sh');
  const mark = join(dir, 'reap-mark');
  const done = join(dir, 'reap-done');
  writeFileSync(
    script,
    // perl forks N children that exit at once and never reaps them: when perl exits, all N
    // zombies are re-parented to PID 1 together.
    `#!/bin/sh
perl -e 'for (1..${N}) { my $p = fork; exit 0 if $p == 0; die "fork: $!" unless defined $p } system("date +%s%N > ${mark}")'
exit 0
`,
  );
  spawnSync('chmod', ['+x', script]);
  // The watcher polls /proc inside the namespace until no zombie remains, then records the time.
  const watcher = join(dir, 'watch.sh');
  writeFileSync(
    watcher,
    `#!/bin/sh
while [ ! -s ${mark} ]; do sleep 0.01; done
while grep -qs '^State:.Z' /proc/[0-9]*/status; do :; done
date +%s%N > ${done}
`,
  );
  spawnSync('chmod', ['+x', watcher]);
  const config = join(dir, 'reap.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      logging: { level: 'warn' },
      jobs: [
        { name: 'watch', main: true, exec: [watcher] },
        { name: 'orphans', exec: [script] },
      ],
    }),
  );
  const tiniScript = join(dir, 'tini-both.sh');
  writeFileSync(tiniScript, `#!/bin/sh\n${script} &\nexec ${watcher}\n`);
  spawnSync('chmod', ['+x', tiniScript]);
  const contenders = {
    pilotfish: ['unshare', '--pid', '--fork', '--mount-proc', process.execPath, CLI, 'run', '--config', config],
    tini: ['unshare', '--pid', '--fork', '--mount-proc', 'tini', '-s', '--', tiniScript],
  };
  for (const [name, argv] of Object.entries(contenders)) {
    const times = [];
    for (let i = 0; i < 3; i++) {
      rmSync(mark, { force: true });
      rmSync(done, { force: true });
      await run(argv);
      if (!existsSync(done)) throw new Error(`${name}: the watcher did not finish`);
      times.push(Number(BigInt(readFileSync(done, 'utf8').trim()) - BigInt(readFileSync(mark, 'utf8').trim())) / 1e6);
    }
    out[name] = { p50: quantile(times, 0.5), max: Math.max(...times) };
  }
  return out;
}

const results = { machine: `${cpus().length} cores, ${cpus()[0]?.model}`, node: process.version, runs: RUNS };
results.start = await startBench();
results.rss = await rssBench();
results.reap = await reapBench();
console.log(JSON.stringify(results, null, 2));
const s = results.start;
console.log(`\nstart (exec → first instruction of the main job), ${RUNS} runs each, interleaved:`);
for (const [k, v] of Object.entries(s)) console.log(`  ${k.padEnd(14)} p50 ${fmt(v.p50)}  p90 ${fmt(v.p90)}`);
console.log(`  pilotfish / bare node p50: ${(s.pilotfish.p50 / s['bare node -e'].p50).toFixed(2)}× (target ≤ 3×)`);
console.log(
  `idle RSS: pilotfish ${results.rss.pilotfish.max.toFixed(1)} MiB, bare node ${results.rss['bare node'].max.toFixed(1)} MiB, ratio ${(results.rss.pilotfish.max / results.rss['bare node'].max).toFixed(2)}× (target ≤ 1.5×)`,
);
console.log(
  `reap 10,000 orphans: pilotfish p50 ${fmt(results.reap.pilotfish.p50)} (max ${fmt(results.reap.pilotfish.max)}), tini p50 ${fmt(results.reap.tini.p50)} (target ≤ 2 s, 0 left)`,
);
rmSync(dir, { recursive: true, force: true });
