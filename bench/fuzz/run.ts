/**
 * The long fuzz run (issue 18): ≥ 10,000 config cases in child processes with a per-case
 * timeout (a case that does not finish in time is a hang: the worker is killed and the run goes
 * on), a sample through the real CLI with its peak RSS, and control-socket requests against a
 * real Pilotfish. Reports internal errors, hangs, the slowest case and peak memory.
 *
 *   npx tsx bench/fuzz/run.ts [--cases 10000] [--seed 1] [--timeout-ms 10000] [--cli 200] [--requests 3000]
 *
 * Needs `node scripts/build.mjs` first (the CLI sample and the control run use dist/).
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { corpus, FUZZ_ENV, makeCase } from '../../test/fuzz/engine.js';
import { acceptable, makeRequest, send } from '../../test/fuzz/requests.js';
import { startControlled } from '../../test/control/harness.js';
import { CLI, killAll } from '../../test/helpers/pilotfish.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    'timeout-ms': { type: 'string', default: '10000' },
    cli: { type: 'string', default: '200' },
    requests: { type: 'string', default: '3000' },
  },
});
const CASES = Number(values.cases);
const SEED = Number(values.seed);
const TIMEOUT = Number(values['timeout-ms']);
const CLI_CASES = Number(values.cli);
const REQUESTS = Number(values.requests);

interface Report {
  outcomes: Record<string, number>;
  internal: string[];
  hangs: string[];
  slowest: { name: string; ms: number };
  maxRssKiB: number;
}

/** Runs cases [0, CASES) in workers; a case silent for TIMEOUT ms is a hang, and the next worker goes on after it. */
async function configCases(): Promise<Report> {
  const report: Report = { outcomes: {}, internal: [], hangs: [], slowest: { name: '', ms: 0 }, maxRssKiB: 0 };
  let next = 0;
  while (next < CASES) {
    next = await new Promise<number>((resolve) => {
      const worker: ChildProcess = fork(join(import.meta.dirname, 'worker.ts'), [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      let current = next;
      let timer: NodeJS.Timeout | undefined;
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          report.hangs.push(`case ${current} (seed ${SEED}): no result within ${TIMEOUT}ms`);
          worker.kill('SIGKILL');
          resolve(current + 1);
        }, TIMEOUT);
      };
      worker.on('message', (m: { type: string; i: number; name: string; ms: number; outcome: string; error?: string; maxRssKiB: number }) => {
        if (m.type === 'start') {
          current = m.i;
          arm();
        } else if (m.type === 'done') {
          report.outcomes[m.outcome] = (report.outcomes[m.outcome] ?? 0) + 1;
          if (m.error) report.internal.push(`${m.name}: ${m.error.split('\n').slice(0, 4).join(' | ')}`);
          if (m.ms > report.slowest.ms) report.slowest = { name: m.name, ms: Math.round(m.ms) };
          if ((m.i + 1) % 1000 === 0) process.stderr.write(`  ${m.i + 1} cases\n`);
        } else if (m.type === 'end') {
          clearTimeout(timer);
          report.maxRssKiB = Math.max(report.maxRssKiB, m.maxRssKiB);
          resolve(CASES);
        }
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (code !== 0 && code !== null) {
          report.internal.push(`worker died with exit ${code} at case ${current}`);
          resolve(current + 1);
        }
      });
      worker.send({ from: next, to: CASES, seed: SEED });
      arm();
    });
  }
  return report;
}

/** A sample through `pilotfish validate`, each under /usr/bin/time for its peak RSS. */
async function cliCases(): Promise<{ bad: string[]; maxRssKiB: number; outcomes: Record<string, number> }> {
  const seeds = corpus();
  const dir = mkdtempSync(join(tmpdir(), 'pf-fuzz-bench-'));
  const bad: string[] = [];
  const outcomes: Record<string, number> = {};
  let maxRssKiB = 0;
  for (let i = 0; i < CLI_CASES; i += 2) {
    await Promise.all(
      [i, i + 1]
        .filter((k) => k < CLI_CASES)
        .map((k) => {
          const c = makeCase(seeds, SEED * 7_919 + k);
          const file = join(dir, `case-${k}.yaml`);
          writeFileSync(file, c.bytes);
          return new Promise<void>((resolve) => {
            execFile(
              '/usr/bin/time',
              ['-f', 'RSS %M', process.execPath, CLI, 'validate', '--config', file],
              { env: { ...process.env, ...FUZZ_ENV }, timeout: TIMEOUT * 3 },
              (error, _out, stderr) => {
                const code = error ? (typeof error.code === 'number' ? error.code : `signal ${error.signal}`) : 0;
                outcomes[String(code)] = (outcomes[String(code)] ?? 0) + 1;
                const rss = /RSS (\d+)/.exec(stderr);
                if (rss) maxRssKiB = Math.max(maxRssKiB, Number(rss[1]));
                if (!(code === 0 || (code === 1 && !/internal error|\n\s+at /.test(stderr)))) bad.push(`${c.name}: exit ${code}: ${stderr.slice(0, 300)}`);
                resolve();
              },
            );
          });
        }),
    );
  }
  return { bad, maxRssKiB, outcomes };
}

async function controlRequests(): Promise<{ bad: string[]; outcomes: Record<string, number>; alive: boolean; rssKiB: number }> {
  const pf = await startControlled({
    jobs: [
      { name: 'app', exec: ['sleep', '100000'], restarts: 'unlimited' },
      { name: 'tick', exec: ['true'], when: { interval: '200ms' } },
    ],
  });
  const routes = (await pf.api<{ endpoints: string[] }>('GET', '/v1')).body.endpoints ?? [];
  const outcomes: Record<string, number> = {};
  const bad: string[] = [];
  for (let i = 0; i < REQUESTS; i += 16) {
    const batch = Array.from({ length: 16 }, (_, k) => makeRequest([...routes, 'POST /v1/environ', 'POST /v1/environ'], SEED * 104_729 + i + k));
    const results = await Promise.all(batch.map((r) => send(pf.socket, r)));
    results.forEach((o, k) => {
      outcomes[o] = (outcomes[o] ?? 0) + 1;
      const r = batch[k];
      if (r && !acceptable(o, r)) bad.push(`${r.method} ${r.path.slice(0, 80)}: ${o}`);
    });
  }
  const alive = (await pf.api('GET', '/v1/ping')).status === 200;
  const rssKiB = Math.round(((await pf.status()).runtime.rssBytes ?? 0) / 1024);
  await killAll();
  return { bad, outcomes, alive, rssKiB };
}

const started = Date.now();
process.stderr.write(`config: ${CASES} cases, seed ${SEED}, ${TIMEOUT} ms per case\n`);
const config = await configCases();
process.stderr.write(`cli: ${CLI_CASES} cases\n`);
const cli = await cliCases();
process.stderr.write(`control: ${REQUESTS} requests\n`);
const control = await controlRequests();
const summary = {
  seed: SEED,
  node: process.version,
  seconds: Math.round((Date.now() - started) / 1000),
  config: { cases: CASES, ...config, internal: config.internal.length, hangs: config.hangs.length, peakRssMiB: Math.round(config.maxRssKiB / 1024) },
  cli: { cases: CLI_CASES, outcomes: cli.outcomes, bad: cli.bad.length, peakRssMiB: Math.round(cli.maxRssKiB / 1024) },
  control: {
    requests: REQUESTS,
    outcomes: control.outcomes,
    bad: control.bad.length,
    aliveAfter: control.alive,
    rssAfterMiB: Math.round(control.rssKiB / 1024),
  },
};
console.log(JSON.stringify(summary, null, 2));
for (const line of [...config.internal, ...config.hangs, ...cli.bad, ...control.bad].slice(0, 50)) console.log(line);
process.exit(config.internal.length + config.hangs.length + cli.bad.length + control.bad.length === 0 && control.alive ? 0 : 1);
