/**
 * Election under faults: many fault runs against three Pilotfish instances (each PID 1 in its
 * own network namespace with a Consul client agent) and a three-server Consul cluster, with
 * every instance sampled every 100 ms for two primaries (test/election/faults.ts has the
 * definitions and the fault steps; bench/failover has the timings of planned hand-overs).
 *
 *   kill9           kill -9 of the primary's Pilotfish (PID 1: its app dies with it)
 *   sigstop         SIGSTOP of the primary's Pilotfish (its app keeps running) until another
 *                   instance is primary, plus 0–3 s, then SIGCONT
 *   sigstop-short   SIGSTOP for 3 s, below the stall watchdog's 4 s threshold
 *   cut             the primary's network namespace cut off, healed after the failover
 *   server-restart  the raft leader (a Consul server) stopped for 0–12 s, then started
 *   consul-restart  all three Consul servers stopped until the primary demoted, plus 0–3 s,
 *                   then started (raft state kept)
 *   agent-restart   kill -9 of the primary's local Consul client agent; started again once the
 *                   primary demoted, plus 0–3 s
 *
 * Root only; needs `scripts/services install` and a built dist/ (node scripts/build.mjs).
 *
 *   npx tsx bench/faults/election.ts [--runs 105] [--kinds kill9,cut] [--seed 1] [--out FILE.jsonl]
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { killAll } from '../../test/helpers/pilotfish.js';
import { removeTempDirs } from '../../test/election/harness.js';
import {
  addHosts,
  FAULT_KINDS,
  FaultSampler,
  runFault,
  STRICT_KINDS,
  type FaultCluster,
  type FaultKind,
  type FaultResult,
} from '../../test/election/faults.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '105' },
    kinds: { type: 'string', default: FAULT_KINDS.join(',') },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: '' },
  },
});
const RUNS = Number(values.runs);
const KINDS = values.kinds.split(',').filter(Boolean) as FaultKind[];
for (const k of KINDS) if (!FAULT_KINDS.includes(k)) throw new Error(`unknown fault kind ${k} (kinds: ${FAULT_KINDS.join(', ')})`);
const SERVICES = resolve(import.meta.dirname, '../../scripts/services');
const run = promisify(execFile);

/** mulberry32: a small seeded generator, so a run's random freezes can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quantile(xs: number[], q: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

const sec = (ms: number | undefined): string => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);
const range = (xs: number[]): string => (xs.length === 0 ? '–' : `${sec(quantile(xs, 0.5))} / ${sec(Math.max(...xs))}`);

function table(results: FaultResult[]): string {
  const rows = [
    '| Fault | Runs | Two primaries (unfenced) | Runs with a fenced overlap, total | Failovers | New primary p50 / max | Old steps down p50 / max | After SIGCONT p50 / max | No primary p50 / max |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const kind of FAULT_KINDS) {
    const rs = results.filter((r) => r.kind === kind);
    if (rs.length === 0) continue;
    const nums = (f: (r: FaultResult) => number | undefined): number[] => rs.map(f).filter((x): x is number => x !== undefined);
    const overlaps = rs.filter((r) => r.overlapMs > 0);
    rows.push(
      `| ${kind} | ${rs.length} | ${rs.reduce((n, r) => n + r.violations.length, 0)} | ${overlaps.length} (${sec(overlaps.reduce((n, r) => n + r.overlapMs, 0))}) | ${nums((r) => r.newPrimaryMs).length} | ${range(nums((r) => r.newPrimaryMs))} | ${range(nums((r) => r.stepDownMs))} | ${range(nums((r) => r.afterResumeMs))} | ${range(rs.map((r) => r.noPrimaryMs))} |`,
    );
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pf-bench-faults-'));
  const services = async (args: string[]): Promise<string> => (await run(SERVICES, [...args, '--dir', dir], { timeout: 180_000 })).stdout;
  const rand = random(Number(values.seed));
  let cluster: FaultCluster | undefined;
  let sampler: FaultSampler | undefined;
  const cleanup = async (): Promise<void> => {
    sampler?.stop();
    await killAll();
    await Promise.all((cluster?.agents ?? []).map((a) => a.stop()));
    await services(['down']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    removeTempDirs();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  const results: FaultResult[] = [];
  const started = Date.now();
  try {
    const out = await services(['up', '--consul-cluster', '3', '--only', 'consul']);
    const addrs = (/CONSUL_CLUSTER_ADDRS=(\S+)/.exec(out)?.[1] ?? '').split(',');
    cluster = await addHosts(services, addrs);
    sampler = new FaultSampler(cluster.instances);
    sampler.start();
    for (let i = 0; i < RUNS; i++) {
      const kind = KINDS[i % KINDS.length] as FaultKind;
      const extra = Math.round(rand() * 3_000);
      const outage = Math.round(rand() * 12_000);
      const opts = kind === 'server-restart' ? { outageMs: outage } : ['sigstop', 'consul-restart', 'agent-restart'].includes(kind) ? { extraMs: extra } : {};
      let r: FaultResult;
      try {
        r = await runFault(cluster, sampler, kind, opts);
      } catch (error) {
        process.stderr.write(`run ${i + 1}/${RUNS} ${kind} FAILED: ${(error as Error).message}\n`);
        for (const inst of cluster.instances) {
          const lines = inst.run?.logs.filter((l) => l.component === 'election').slice(-15) ?? [];
          process.stderr.write(`--- ${inst.spec.name} (${inst.role().role}):\n${lines.map((l) => `${String(l.time)} ${l.level} ${l.msg}`).join('\n')}\n`);
        }
        throw error;
      }
      results.push(r);
      if (values.out) appendFileSync(values.out, `${JSON.stringify({ ...r, ...opts })}\n`);
      const bad = r.violations.length > 0 || (STRICT_KINDS.has(kind) && r.overlapMs > 0);
      process.stderr.write(
        `run ${i + 1}/${RUNS} ${kind} ${JSON.stringify(opts)}: old ${r.old} → ${r.again}; new primary ${sec(r.newPrimaryMs)}, step-down ${sec(r.stepDownMs)}${r.afterResumeMs !== undefined ? ` (${sec(r.afterResumeMs)} after SIGCONT)` : ''}, back ${sec(r.recoveredMs)} after the fault ended, no primary ${sec(r.noPrimaryMs)}, overlap ${r.overlapMs} ms, violations ${r.violations.length}${bad ? '  <-- BAD' : ''}\n`,
      );
      if (r.violations.length > 0) process.stderr.write(`${r.violations.join('\n')}\n`);
    }
    sampler.stop();
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    console.log(
      `${results.length} runs in ${minutes} min, ${sampler.samples} samples (every 100 ms), TTL 10 s, lock-delay 1 s, service check TTL 5 s, health every 1 s\n`,
    );
    console.log(table(results));
    console.log(`\nTwo primaries (unfenced), all runs: ${sampler.violations.length}`);
  } finally {
    await cleanup();
  }
}

await main();
