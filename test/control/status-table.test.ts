// `pilotfish status` on a terminal: a readable line per subsystem, not raw JSON (issue 18 item 11).
import { describe, expect, it } from 'vitest';
import { describeSubsystem, render, span } from '../../src/cli/commands/status.js';
import type { SupervisorStatus } from '../../src/subsystem/contract.js';

const NOW = Date.parse('2026-12-04T08:00:00Z');

// Shapes as the subsystems' status() return them.
const subsystems = {
  backup: { running: false, lastSuccess: '2026-12-04T07:55:00Z', backups: 3, failures: 1, lastError: 'store unreachable' },
  election: {
    role: 'primary',
    key: 'service/db/leader',
    session: 'abc',
    lockIndex: 7,
    primary: '10.0.0.1:3306',
    lastRenewalAgeMs: 2000,
    ttlMs: 10_000,
    elections: 1,
    demotions: 0,
    watchdog: null,
  },
  consul: {
    address: 'http://127.0.0.1:8500',
    services: [{ serviceId: 'db-host1', service: 'db', registered: true, maintenance: false, check: 'passing' }],
    watches: [{}, {}],
    kvEnv: {},
  },
  vault: {
    address: 'http://127.0.0.1:8200',
    auth: { method: 'approle', loggedIn: true, ttlSeconds: 3720, renewable: true, lastError: null },
    secrets: [{ name: 'db', lastError: null }],
    files: [],
  },
  control: { socket: '/var/run/pilotfish.sock' },
  templates: [{ name: 'conf', waitingFor: ['kv:app/x'], lastError: null }],
  other: { enabled: true, nested: { hidden: 1 } },
};

const status: SupervisorStatus = {
  pid: 1,
  uptimeMs: 3_725_000,
  stopping: false,
  maintenance: false,
  mainJob: 'app',
  jobs: [
    {
      name: 'app',
      state: 'running',
      pid: 42,
      main: true,
      runs: 1,
      restarts: 0,
      health: 'unhealthy',
      healthReason: 'exit code 3: db: connection refused',
      lastExit: null,
    },
    {
      name: 'setup',
      state: 'failed',
      pid: null,
      main: false,
      runs: 1,
      restarts: 0,
      health: null,
      lastExit: { code: 127, signal: null, at: new Date(NOW - 5000).toISOString(), error: 'cannot run "setup.sh": no such file' },
    },
  ],
  environ: [],
  reloads: 0,
  jobTotals: {},
  events: {},
  subsystems,
  runtime: { resources: {}, subscribers: 0, processListeners: 0, rssBytes: 0, heapUsedBytes: 0 },
};

describe('status table', () => {
  it('gives each subsystem one readable line', () => {
    expect(describeSubsystem('backup', subsystems.backup, NOW)).toBe(
      'last backup 2026-12-04T07:55:00Z (5m ago); 3 backups, 1 failure; error: store unreachable',
    );
    expect(describeSubsystem('election', subsystems.election, NOW)).toBe(
      'primary (lock index 7); lease renewed 2s ago, 8s of its 10s TTL left; key service/db/leader',
    );
    expect(describeSubsystem('election', { role: 'replica', primary: '10.0.0.1:3306', lastRenewalAgeMs: null }, NOW)).toBe('replica; primary is 10.0.0.1:3306');
    expect(describeSubsystem('consul', subsystems.consul, NOW)).toBe('http://127.0.0.1:8500; db-host1 registered, check passing; 2 watches');
    expect(describeSubsystem('vault', subsystems.vault, NOW)).toBe('logged in (approle); token TTL 62m, renewable; 1 secret');
    expect(describeSubsystem('control', subsystems.control, NOW)).toBe('/var/run/pilotfish.sock');
    expect(describeSubsystem('templates', subsystems.templates, NOW)).toBe('1 template; conf waits for kv:app/x');
    expect(describeSubsystem('other', subsystems.other, NOW)).toBe('enabled true');
    expect(describeSubsystem('backup', { running: false }, NOW)).toBe('not running');
    expect(describeSubsystem('vault', 'garbage', NOW)).toBe('-');
  });

  it('renders jobs, reasons and subsystems as tables, no JSON', () => {
    const text = render(status, NOW);
    expect(text).toMatch(/^pilotfish pid 1, up 62m$/m);
    expect(text).toMatch(/^app\*\s+running\s+42\s+unhealthy\s+1\s+0$/m);
    expect(text).toMatch(/^ {2}app: unhealthy: exit code 3: db: connection refused$/m);
    expect(text).toMatch(/^ {2}setup: cannot run "setup.sh": no such file$/m);
    expect(text).toMatch(/^SUBSYSTEM\s+STATE$/m);
    expect(text).toMatch(/^election\s+primary \(lock index 7\)/m);
    expect(text).not.toMatch(/[{}]/);
  });

  it('spans read as people say them', () => {
    expect([span(5000), span(300_000), span(7_800_000), span(3 * 86_400_000 + 3_600_000)]).toEqual(['5s', '5m', '2h10m', '3d1h']);
  });
});
