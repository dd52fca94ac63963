/**
 * Failover benchmark: three Pilotfish instances, each PID 1 in its own network namespace with
 * a Consul client agent, against a three-server Consul cluster (scripts/services). Each run
 * measures the time from the fault (or request) until the new primary's `elected` hook has
 * written its role file, polled every 10 ms.
 *
 *   planned-sigterm   SIGTERM to the primary's Pilotfish
 *   planned-stepdown  POST /v1/stepdown on the primary's control socket (what `pilotfish stepdown`
 *                     sends; the CLI's own Node start-up, ~0.3 s here, is not included)
 *   unplanned-check   kill -9 of the primary's Pilotfish (and so its app); the session carries
 *                     the service's TTL check (5 s), which Consul turns critical first
 *   unplanned-ttl     the same with `checks: []`: only the session TTL frees the lock
 *
 * Root only. Needs `scripts/services install` and a built dist/ (npm run build).
 *
 *   npx tsx bench/failover/run.ts [--runs 10] [--only planned-sigterm,unplanned-ttl]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { call } from '../../src/cli/client.js';
import { killAll } from '../../test/helpers/pilotfish.js';
import { waitFor } from '../../test/helpers/wait.js';
import { ClientAgent, Instance, onePrimary, primaries, removeTempDirs, RoleChecker } from '../../test/election/harness.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, only: { type: 'string', default: '' } } });
const RUNS = Number(values.runs);
const SCENARIOS = ['planned-sigterm', 'planned-stepdown', 'unplanned-check', 'unplanned-ttl'] as const;
const only = values.only ? values.only.split(',') : [...SCENARIOS];
const SERVICES = resolve(import.meta.dirname, '../../scripts/services');
const TTL_S = 10;
const LOCK_DELAY_S = 1;

function services(args: string[], dir: string): string {
  return execFileSync(SERVICES, [...args, '--dir', dir], { encoding: 'utf8', timeout: 180_000 });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pf-bench-failover-'));
  const agents: ClientAgent[] = [];
  let checker: RoleChecker | undefined;
  const cleanup = async (): Promise<void> => {
    checker?.stop();
    await killAll();
    await Promise.all(agents.map((a) => a.stop()));
    try {
      services(['down'], dir);
    } catch {
      // already down
    }
    rmSync(dir, { recursive: true, force: true });
    removeTempDirs();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  try {
    const out = services(['up', '--consul-cluster', '3', '--only', 'consul'], dir);
    const addrs = (/CONSUL_CLUSTER_ADDRS=(\S+)/.exec(out)?.[1] ?? '').split(',');
    const servers = addrs.map((a) => new URL(a).hostname);
    const hosts = ['h1', 'h2', 'h3'].map((name) => {
      const [netns = '', ip = ''] = services(['host', 'add', name], dir).trim().split(/\s+/);
      agents.push(new ClientAgent(name, netns, ip, servers));
      return { name, netns };
    });
    await Promise.all(agents.map((a) => a.joined(addrs[0] as string)));

    const results: Record<string, number[]> = {};
    for (const scenario of SCENARIOS) {
      if (!only.includes(scenario)) continue;
      const election = scenario === 'unplanned-ttl' ? { checks: [] } : {};
      const instances = hosts.map((h, i) => new Instance({ name: h.name, consul: 'http://127.0.0.1:8500', port: 8300 + i, netns: h.netns, election }));
      checker = new RoleChecker(instances);
      checker.start();
      const times: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        for (const i of instances) if (i.role().role === 'down') i.start();
        const old = await onePrimary(instances, 60_000);
        await waitFor(() => instances.every((i) => ['primary', 'replica'].includes(i.role().role)), { timeout: 30_000 });
        await sleep(1_500); // let a restarted instance's first health results and session settle
        const t0 = performance.now();
        if (scenario === 'planned-sigterm') await old.run?.signal('SIGTERM');
        else if (scenario === 'planned-stepdown')
          void call(old.socket, 'POST', '/v1/stepdown'); // the control API, as `pilotfish stepdown` sends it
        else await old.kill9();
        await waitFor(() => primaries(instances).some((p) => p !== old), { timeout: 60_000, interval: 10, message: 'a new primary' });
        const ms = performance.now() - t0;
        times.push(ms);
        process.stderr.write(`${scenario} run ${run + 1}/${RUNS}: ${(ms / 1000).toFixed(3)} s\n`);
        if (scenario === 'planned-sigterm') await old.run?.exited;
      }
      checker.stop();
      if (checker.violations.length > 0) throw new Error(`two primaries seen in ${scenario}: ${checker.violations.slice(0, 3).join('; ')}`);
      results[scenario] = times;
      await killAll();
    }

    const rows = Object.entries(results).map(([name, t]) => {
      const f = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
      return `| ${name} | ${t.length} | ${f(quantile(t, 0.5))} | ${f(quantile(t, 0.99))} | ${f(Math.min(...t))} | ${f(Math.max(...t))} |`;
    });
    console.log(`TTL ${TTL_S} s, lock-delay ${LOCK_DELAY_S} s, health interval 1 s, service check TTL 5 s, ${RUNS} runs each\n`);
    console.log('| Scenario | Runs | p50 | p99 | min | max |\n|---|---|---|---|---|---|');
    console.log(rows.join('\n'));
    console.log('\nRaw (ms):');
    for (const [name, t] of Object.entries(results)) console.log(`${name}: ${t.map((x) => Math.round(x)).join(', ')}`);
  } finally {
    await cleanup();
  }
}

await main();
