// /metrics and /status of a running Pilotfish; custom metrics fed by putmetric.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposition, prometheusSink } from '../../src/telemetry/metrics.js';
import { METRICS } from '../../src/subsystem/metrics.js';
import { listenAddress } from '../../src/telemetry/subsystem.js';
import { cli, startControlled, type Controlled } from '../control/harness.js';
import { killAll } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { parsePrometheusText, valueOf } from './prom-text.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let pf: Controlled;
let base: string;
let env: NodeJS.ProcessEnv;

async function scrape() {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  pf = await startControlled({
    telemetry: {
      port,
      address: '127.0.0.1',
      metrics: [
        { name: 'bare_requests', help: 'No namespace, no subsystem (ContainerPilot #569).', type: 'counter' },
        { subsystem: 'queue', name: 'depth', help: 'Only a subsystem.', type: 'gauge' },
        { namespace: 'app', subsystem: 'db', name: 'lag_seconds', help: 'Both parts.', type: 'gauge' },
      ],
    },
    jobs: [
      { name: 'app', exec: ['sleep', '1000'], main: true },
      { name: 'checked', exec: ['sleep', '1000'], health: { exec: ['true'], interval: '50ms' } },
      { name: 'flaky', exec: ['false'], restarts: { max: 2, backoff: { initial: '10ms', max: '10ms' } } },
    ],
  });
  env = { PILOTFISH_SOCKET: pf.socket };
}, 60_000);

afterAll(killAll);

describe('telemetry', () => {
  it('serves /metrics in strict Prometheus text format with the built-in metrics', async () => {
    await waitFor(async () => (await pf.status()).jobs.find((j) => j.name === 'flaky')?.state === 'failed', { message: 'flaky to give up' });
    await waitFor(async () => (valueOf(await scrape(), 'pilotfish_health_checks_total', { job: 'checked', result: 'passed' }) ?? 0) >= 2, {
      message: 'health checks to be counted',
    });
    const f = await scrape();
    expect(valueOf(f, 'pilotfish_job_starts_total', { job: 'flaky' })).toBe(3);
    expect(valueOf(f, 'pilotfish_job_restarts_total', { job: 'flaky' })).toBe(2);
    expect(valueOf(f, 'pilotfish_job_exits_total', { job: 'flaky', result: 'failure' })).toBe(3);
    expect(valueOf(f, 'pilotfish_job_running', { job: 'app' })).toBe(1);
    expect(valueOf(f, 'pilotfish_job_running', { job: 'flaky' })).toBe(0);
    expect(valueOf(f, 'pilotfish_job_healthy', { job: 'checked' })).toBe(1);
    expect(valueOf(f, 'pilotfish_events_total', { code: 'startup' })).toBe(1);
    expect(valueOf(f, 'pilotfish_maintenance')).toBe(0);
    expect(f.get('pilotfish_build_info')?.type).toBe('gauge');
    for (const family of f.values()) {
      if (!family.name.startsWith('pilotfish_')) continue;
      if (family.type === 'counter') expect(family.name).toMatch(/_total$/);
      for (const s of family.samples) for (const k of Object.keys(s.labels)) expect(['job', 'result', 'code', 'version', 'operation', 'to', 'le']).toContain(k);
    }
  });

  it('custom metrics, with or without namespace and subsystem, are fed by putmetric', async () => {
    expect((await cli(['putmetric', 'bare_requests=2', 'queue_depth=7'], env)).code).toBe(0);
    expect((await cli(['putmetric', 'bare_requests=3', 'app_db_lag_seconds=0.25'], env)).code).toBe(0);
    const f = await scrape();
    expect(f.get('bare_requests')).toMatchObject({ type: 'counter', help: 'No namespace, no subsystem (ContainerPilot #569).' });
    expect(valueOf(f, 'bare_requests')).toBe(5);
    expect(valueOf(f, 'queue_depth')).toBe(7);
    expect(valueOf(f, 'app_db_lag_seconds')).toBe(0.25);
  });

  it('rejects unknown metrics, non-numbers and shrinking counters, changing nothing', async () => {
    const unknown = await cli(['putmetric', 'queue_depth=1', 'nope=1'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no metric named "nope" is declared in telemetry\.metrics \(declared: bare_requests, queue_depth, app_db_lag_seconds\)/);
    expect((await cli(['putmetric', 'queue_depth=lots'], env)).stderr).toMatch(/must be a number/);
    expect((await cli(['putmetric', 'bare_requests=-1'], env)).stderr).toMatch(/counter: its value can only grow/);
    const f = await scrape();
    expect(valueOf(f, 'queue_depth')).toBe(7);
  });

  it('serves /status as JSON, and counts maintenance and reloads', async () => {
    await cli(['maintenance', 'on'], env);
    await cli(['reload'], env);
    const res = await fetch(`${base}/status`);
    const s = (await res.json()) as { maintenance: boolean; subsystems: Record<string, { metrics?: string[] }> };
    expect(s.maintenance).toBe(true);
    expect(s.subsystems.telemetry?.metrics).toEqual(['bare_requests', 'queue_depth', 'app_db_lag_seconds']);
    const f = await scrape();
    expect(valueOf(f, 'pilotfish_maintenance')).toBe(1);
    expect(valueOf(f, 'pilotfish_reloads_total')).toBe(1);
    expect(valueOf(f, 'pilotfish_events_total', { code: 'enterMaintenance' })).toBe(1);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('a job counted before a restart keeps counting after it', async () => {
    const before = valueOf(await scrape(), 'pilotfish_job_starts_total', { job: 'app' }) as number;
    await cli(['job', 'restart', 'app'], env);
    const after = valueOf(await scrape(), 'pilotfish_job_starts_total', { job: 'app' });
    expect(after).toBe(before + 1);
  });
});

describe('metrics API for other subsystems', () => {
  it('declares well-named metrics that render in strict format', async () => {
    const metrics = prometheusSink();
    metrics.inc(METRICS.vaultErrors, { operation: 'read' });
    metrics.inc(METRICS.vaultErrors, { operation: 'read' }); // get-or-create: the same counter
    metrics.inc(METRICS.backupBytes, {}, 1024);
    metrics.inc(METRICS.backupChunksReused, {}, 3);
    metrics.observe(METRICS.backupDuration, 2.5, { result: 'success' });
    metrics.set(METRICS.backupLastSuccess, 1_700_000_000);
    metrics.observe(METRICS.restoreDuration, 1, { result: 'success' });
    const f = parsePrometheusText(await exposition());
    expect(valueOf(f, 'pilotfish_vault_errors_total', { operation: 'read' })).toBe(2);
    expect(valueOf(f, 'pilotfish_backup_bytes_total', {})).toBe(1024);
    expect(valueOf(f, 'pilotfish_backup_chunks_reused_total', {})).toBe(3);
    expect(valueOf(f, 'pilotfish_backup_duration_seconds_count', { result: 'success' })).toBe(1);
    expect(f.get('pilotfish_backup_duration_seconds')?.type).toBe('histogram');
    expect(valueOf(f, 'pilotfish_backup_last_success_timestamp_seconds', {})).toBe(1_700_000_000);
  });
});

describe('listen address', () => {
  it("takes an interface's IPv4 address, or the address, or all", () => {
    expect(listenAddress({ interface: 'lo' })).toBe('127.0.0.1');
    expect(listenAddress({ address: '127.0.0.2' })).toBe('127.0.0.2');
    expect(listenAddress({})).toBe('0.0.0.0');
    expect(() => listenAddress({ interface: 'nope0' })).toThrow(/network interface "nope0" has no IPv4 address \(interfaces: .*lo/);
  });
});
