#!/usr/bin/env node
// Consul watch latency: from a change in Consul to the start of the job that reacts to it.
//   service: a new instance of a service registers (appears in /health/service, passing)
//   kv:      a KV put of a new value
// Each change is seen by two watches in the same Pilotfish, in the same run:
//   blocking  Pilotfish's blocking-query watch (quiescence off)
//   poll 5s   the same watch polling every 5 s (ContainerPilot's style)
// Each watch starts a job `when: {source: <watch>, each: changed}` that appends `date +%s%N`.
// Latency of a change = first reacting-job start after the change − the time just before the PUT.
//
// Usage: npm run build && node bench/consul-watch/run.mjs [--changes 100]
// Uses CONSUL_HTTP_ADDR if set, else starts its own dev Consul with scripts/services.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { changes: { type: 'string', default: '100' }, poll: { type: 'string', default: '5s' } } });
const N = Number(values.changes);
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const SERVICES = join(ROOT, 'scripts/services');
const dir = mkdtempSync(join(tmpdir(), 'pf-bench-consul-'));
const nowNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let addr = process.env.CONSUL_HTTP_ADDR;
let ownConsul;
if (!addr) {
  ownConsul = join(dir, 'services');
  const out = execFileSync(SERVICES, ['up', '--only', 'consul', '--dir', ownConsul], { encoding: 'utf8' });
  addr = /CONSUL_HTTP_ADDR=(\S+)/.exec(out)?.[1];
}
if (!/^https?:/.test(addr)) addr = `http://${addr}`;
const put = async (path, body) => {
  const res = await fetch(`${addr}/v1${path}`, { method: 'PUT', body: typeof body === 'string' ? body : JSON.stringify(body) });
  await res.text();
  if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status}`);
};

const run = Math.random().toString(36).slice(2, 8);
const SVC = `bench-${run}`;
const KEY = `bench-${run}/value`;
const marks = (w) => join(dir, `${w}.marks`);
const job = (w) => ({ name: `on-${w}`, exec: ['/bin/sh', '-c', `date +%s%N >> ${marks(w)}`], when: { source: w, each: 'changed' } });
const config = {
  logging: { level: 'warn', format: 'json' },
  control: { enabled: false },
  consul: { address: addr },
  watches: [
    { name: 'svc-block', service: SVC },
    { name: 'svc-poll', service: SVC, interval: values.poll },
    { name: 'kv-block', key: KEY },
    { name: 'kv-poll', key: KEY, interval: values.poll },
  ],
  jobs: [{ name: 'keeper', exec: 'sleep 100000', main: true }, ...['svc-block', 'svc-poll', 'kv-block', 'kv-poll'].map(job)],
};
writeFileSync(join(dir, 'pf.json'), JSON.stringify(config));
const logFile = join(dir, 'pilotfish.log');
const logFd = openSync(logFile, 'a');
const pf = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'pf.json')], { stdio: ['ignore', logFd, logFd] });
let pfExit;
pf.once('exit', (code, signal) => (pfExit = { code, signal }));

function readMarks(w) {
  if (!existsSync(marks(w))) return [];
  return readFileSync(marks(w), 'utf8').split('\n').filter(Boolean).map(BigInt);
}

async function waitForMarks(w, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pfExit) throw new Error(`pilotfish exited (${JSON.stringify(pfExit)}):\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    if (readMarks(w).length >= count) return true;
    await sleep(2);
  }
  return false;
}

/** Latency of each change: the first mark at or after it (ms); undefined if none. */
function latencies(changes, w) {
  const ms = readMarks(w);
  return changes.map((t) => {
    const first = ms.find((m) => m >= t);
    return first === undefined ? undefined : Number(first - t) / 1e6;
  });
}

function stats(xs) {
  const ok = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  const q = (p) => ok[Math.min(ok.length - 1, Math.ceil(p * ok.length) - 1)];
  return { n: ok.length, missed: xs.length - ok.length, p50: q(0.5), p99: q(0.99), max: ok[ok.length - 1] };
}

async function scenario(name, change) {
  const block = `${name}-block`;
  const times = [];
  // Warm-up (not measured): the watches have answered and the reacting job has run once.
  await change('warm');
  if (!(await waitForMarks(block, 1, 20_000))) throw new Error(`${block} never reacted`);
  for (let i = 0; i < N; i++) {
    const t = nowNs();
    await change(i);
    times.push(t);
    // Wait for the blocking watch's reaction, then a random gap so changes land at random
    // points of the poll cycle.
    await waitForMarks(block, i + 2, 5_000);
    await sleep(100 + Math.random() * 200);
  }
  const pollWindow = Number.parseFloat(values.poll) * 1000 + 2_000;
  await sleep(pollWindow); // the last poll reaction
  if (process.env.BENCH_DEBUG)
    console.log(
      name,
      latencies(times, block)
        .map((x) => x?.toFixed(0))
        .join(' '),
    );
  return { blocking: stats(latencies(times, block)), poll: stats(latencies(times, `${name}-poll`)) };
}

try {
  const svc = await scenario('svc', (i) =>
    put('/agent/service/register', { Name: SVC, ID: `${SVC}-${i}`, Port: i === 'warm' ? 9_999 : 10_000 + i, Address: '127.0.0.1' }),
  );
  const kv = await scenario('kv', (i) => put(`/kv/${KEY}`, `value-${i}`));
  const f = (x) => (x === undefined ? '–' : `${x.toFixed(0)} ms`);
  const rows = [
    ['service instance appears', 'blocking', svc.blocking],
    ['service instance appears', `poll ${values.poll}`, svc.poll],
    ['KV put', 'blocking', kv.blocking],
    ['KV put', `poll ${values.poll}`, kv.poll],
  ];
  console.log(`\n${N} changes each; latency = change → start of the reacting job\n`);
  console.log('| Change | Watch | p50 | p99 | max | reacted |');
  console.log('|---|---|---|---|---|---|');
  for (const [what, how, s] of rows) console.log(`| ${what} | ${how} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.max)} | ${s.n}/${N} |`);
} finally {
  if (!pfExit) {
    pf.kill('SIGTERM');
    await new Promise((r) => pf.once('exit', r));
  }
  for (const i of ['warm', ...Array.from({ length: N }, (_, k) => k)]) await put(`/agent/service/deregister/${SVC}-${i}`, '').catch(() => undefined);
  await fetch(`${addr}/v1/kv/bench-${run}?recurse=true`, { method: 'DELETE' }).catch(() => undefined);
  if (ownConsul) execFileSync(SERVICES, ['down', '--dir', ownConsul], { stdio: 'ignore' });
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
