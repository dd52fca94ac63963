/**
 * Soak: one Pilotfish (PID 1 of its own PID namespace) with 10 jobs, each registered in Consul
 * with a health check every second, and an election, while the Consul dev agent flaps: up for
 * `--up`, stopped for `--down`, again and again (each start is a Consul with lost state, so
 * every flap means re-registering ten services and a new election session). Every `--sample`
 * the Pilotfish process's RSS, open fds and process count are read from /proc.
 *
 * At the end: the ten services must be registered and passing again after the last flap, then
 * SIGTERM; the figures at the start (after `--warmup`), the middle and the end, and the
 * least-squares slope of RSS and fds after the warm-up.
 *
 * Needs `scripts/services install` and a built dist/; root (PID namespace).
 *
 *   npx tsx bench/faults/soak.ts --duration 60m [--up 45s --down 15s --sample 10s --warmup 5m]
 *                                [--cli PATH/TO/dist/cli/main.js] [--node PATH/TO/node] [--out samples.jsonl]
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { stringify } from 'yaml';
import { childrenOf, descendants, readProc } from '../../test/helpers/proc.js';
import { waitFor } from '../../test/helpers/wait.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60m' },
    up: { type: 'string', default: '45s' },
    down: { type: 'string', default: '15s' },
    sample: { type: 'string', default: '10s' },
    warmup: { type: 'string', default: '5m' },
    jobs: { type: 'string', default: '10' },
    cli: { type: 'string', default: resolve(import.meta.dirname, '../../dist/cli/main.js') },
    node: { type: 'string', default: process.execPath },
    out: { type: 'string', default: '' },
  },
});
/** 90s, 5m, 1h, 500ms (a bench argument, not a config value). */
function ms(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s.trim());
  if (!m) throw new Error(`not a duration: ${s} (e.g. 90s, 5m, 1h)`);
  return Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
const DURATION = ms(values.duration);
const UP = ms(values.up);
const DOWN = ms(values.down);
const SAMPLE = ms(values.sample);
const WARMUP = Math.min(ms(values.warmup), DURATION / 4);
const JOBS = Number(values.jobs);
const SERVICES = resolve(import.meta.dirname, '../../scripts/services');
const run = promisify(execFile);
const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

interface Sample {
  t: number;
  rssKiB: number;
  fds: number;
  procs: number;
  consul: boolean;
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

/** Least-squares slope of y over t (per millisecond). */
function slope(points: Array<{ t: number; y: number }>): number {
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.t - mt) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pf-soak-'));
  const services = async (args: string[]): Promise<string> => (await run(SERVICES, [...args, '--dir', dir], { timeout: 120_000 })).stdout;
  const out = await services(['up', '--only', 'consul']);
  const consul = /CONSUL_HTTP_ADDR=(\S+)/.exec(out)?.[1] as string;
  const jobs = Array.from({ length: JOBS }, (_, i) => ({
    name: `app${i}`,
    ...(i === 0 ? { main: true } : {}),
    exec: ['sleep', '1000000'],
    port: 9100 + i,
    interfaces: ['lo'],
    health: { exec: 'true', interval: '1s', timeout: '1s', ttl: '5s' },
  }));
  const config = {
    logging: { level: 'info', format: 'json' },
    stopTimeout: '5s',
    consul: { address: consul, requestTimeout: '3s' },
    control: { socket: join(dir, 'control.sock') },
    election: { job: 'app0', ttl: '10s', lockDelay: '1s' },
    jobs,
  };
  const configFile = join(dir, 'pilotfish.yaml');
  writeFileSync(configFile, stringify(config));
  const logFile = values.out ? `${values.out}.pilotfish.log` : join(dir, 'pilotfish.log');
  const log = openSync(logFile, 'a');
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', values.node, values.cli, 'run', '--config', configFile], {
    stdio: ['ignore', log, log],
  });
  const stopAll = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await services(['down']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stopAll().finally(() => process.exit(130)));

  try {
    const pid = await waitFor(() => childrenOf(child.pid as number).find((p) => readProc(p)?.comm === 'node' || readProc(p)?.comm === 'MainThread'), {
      timeout: 10_000,
      message: 'the Pilotfish process',
    });
    const passing = async (): Promise<number> => {
      const res = await fetch(`${consul}/v1/health/state/passing`, { signal: AbortSignal.timeout(2_000) });
      const checks = (await res.json()) as Array<{ ServiceName: string }>;
      return new Set(checks.filter((c) => /^app\d+$/.test(c.ServiceName)).map((c) => c.ServiceName)).size;
    };
    await waitFor(async () => (await passing()) === JOBS, { timeout: 60_000, interval: 250, message: `${JOBS} passing services in Consul` });

    const samples: Sample[] = [];
    let consulUp = true;
    let flaps = 0;
    const t0 = performance.now();
    const sampler = setInterval(() => {
      if (!readProc(pid)) return;
      const s: Sample = {
        t: Math.round(performance.now() - t0),
        rssKiB: rssKiB(pid),
        fds: readdirSync(`/proc/${pid}/fd`).length,
        procs: descendants(pid).length,
        consul: consulUp,
      };
      samples.push(s);
      if (values.out) appendFileSync(values.out, `${JSON.stringify(s)}\n`);
    }, SAMPLE);

    // Consul flaps on a fixed cycle until the end.
    while (performance.now() - t0 < DURATION - UP) {
      await sleep(UP);
      await services(['stop', 'consul']);
      consulUp = false;
      await sleep(DOWN);
      await services(['start', 'consul']);
      consulUp = true;
      flaps++;
      if (!readProc(pid)) throw new Error('Pilotfish is gone');
      process.stderr.write(
        `${new Date().toISOString()} flap ${flaps}: rss ${samples.at(-1)?.rssKiB} KiB, fds ${samples.at(-1)?.fds}, processes ${samples.at(-1)?.procs}\n`,
      );
    }
    // After the last flap, everything must come back by itself.
    const back0 = performance.now();
    await waitFor(async () => (await passing()) === JOBS, { timeout: 60_000, interval: 250, message: `${JOBS} passing services after the last flap` });
    const backMs = Math.round(performance.now() - back0);
    const leader = await waitFor(
      async () => {
        const res = await fetch(`${consul}/v1/kv/service/app0/primary`, { signal: AbortSignal.timeout(2_000) });
        if (res.status !== 200) return undefined;
        const [kv] = (await res.json()) as Array<{ Session?: string; LockIndex: number }>;
        return kv?.Session ? kv : undefined;
      },
      { timeout: 60_000, interval: 250, message: 'the election key held again after the last flap' },
    );
    clearInterval(sampler);
    const wallMs = Math.round(performance.now() - t0);

    process.kill(pid, 'SIGTERM'); // Pilotfish itself: unshare exits with its status
    const exit = await new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const logText = readFileSync(logFile, 'utf8').split('\n');
    const levels = (lvl: string): number => logText.filter((l) => l.includes(`"level":"${lvl}"`)).length;

    const after = samples.filter((s) => s.t >= WARMUP);
    const at = (t: number): Sample => after.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best), after[0] as Sample);
    const first = after[0] as Sample;
    const middle = at(first.t + (wallMs - first.t) / 2);
    const last = after.at(-1) as Sample;
    const perHour = 3_600_000;
    const rssSlope = slope(after.map((s) => ({ t: s.t, y: s.rssKiB }))) * perHour;
    const fdSlope = slope(after.map((s) => ({ t: s.t, y: s.fds }))) * perHour;
    const rss = after.map((s) => s.rssKiB);
    const fds = after.map((s) => s.fds);
    const mins = (t: number): string => `${(t / 60_000).toFixed(1)} min`;
    console.log(
      `Soak: Node ${execFileSync(values.node, ['-v'], { encoding: 'utf8' }).trim()}, ${mins(wallMs)}, ${JOBS} jobs with 1 s health checks, ${flaps} Consul flaps (up ${values.up}, down ${values.down}), ${samples.length} samples every ${values.sample}, warm-up ${mins(WARMUP)}`,
    );
    console.log('\n| | Start (after warm-up) | Middle | End | Min / max after warm-up | Slope after warm-up |\n|---|---|---|---|---|---|');
    console.log(`| At | ${mins(first.t)} | ${mins(middle.t)} | ${mins(last.t)} | | |`);
    console.log(
      `| RSS | ${(first.rssKiB / 1024).toFixed(1)} MiB | ${(middle.rssKiB / 1024).toFixed(1)} MiB | ${(last.rssKiB / 1024).toFixed(1)} MiB | ${(Math.min(...rss) / 1024).toFixed(1)} / ${(Math.max(...rss) / 1024).toFixed(1)} MiB | ${(rssSlope / 1024).toFixed(2)} MiB/h |`,
    );
    console.log(`| Open fds | ${first.fds} | ${middle.fds} | ${last.fds} | ${Math.min(...fds)} / ${Math.max(...fds)} | ${fdSlope.toFixed(2)} /h |`);
    console.log(
      `| Processes under Pilotfish | ${first.procs} | ${middle.procs} | ${last.procs} | ${Math.min(...after.map((s) => s.procs))} / ${Math.max(...after.map((s) => s.procs))} | |`,
    );
    console.log(`\nFirst sample (${mins(samples[0]?.t ?? 0)}): RSS ${((samples[0]?.rssKiB ?? 0) / 1024).toFixed(1)} MiB, ${samples[0]?.fds} fds`);
    console.log(`After the last flap: ${JOBS} services passing after ${backMs} ms, election key held (LockIndex ${leader.LockIndex})`);
    console.log(
      `Log: ${levels('warn')} warn, ${levels('error')} error, ${levels('fatal')} fatal lines (${logFile}); exit on SIGTERM: code ${exit.code} signal ${exit.signal}`,
    );
  } finally {
    await stopAll();
  }
}

await main();
