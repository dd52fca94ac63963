// vitest global setup: real Consul, Vault, S3 (MinIO) and MariaDB, once per run.
//
// 1. A set already running (PILOTFISH_SERVICES_DIR and its variables in the
//    environment, e.g. after `eval "$(scripts/services up)"`) is used as is.
// 2. Otherwise, if `scripts/services check` says everything is installed, a
//    fresh set is started in a temp dir and stopped at the end of the run
//    (or by its watchdog, should this process die without tearing down).
// 3. Otherwise the tests that need services fail under CI=true and are
//    skipped locally (see test/helpers/services.ts), with a notice.
// PILOTFISH_SERVICES=off skips starting them (the tests then count as missing).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
export const SERVICES_SCRIPT = resolve(import.meta.dirname, '../../scripts/services');

/** The variables `scripts/services up` prints, by service. */
export const SERVICE_VARIABLES = {
  consul: ['CONSUL_HTTP_ADDR'],
  vault: ['VAULT_ADDR', 'VAULT_TOKEN'],
  s3: ['AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'PILOTFISH_TEST_BUCKET'],
  mariadb: ['MARIADB_SOCKET', 'MARIADB_HOST', 'MARIADB_PORT', 'MARIADB_USER', 'MARIADB_PASSWORD'],
} as const;

export type ServiceName = keyof typeof SERVICE_VARIABLES;

export interface ServicesState {
  /** ready: env holds a running set; missing: not installed or turned off; failed: installed but did not start. */
  status: 'ready' | 'missing' | 'failed';
  /** Where the set came from, when ready. */
  source?: 'environment' | 'started';
  /** Why the set is not ready, with what to do about it. */
  reason?: string;
  /** All binaries and packages are installed (a cluster can be started). */
  installed: boolean;
  env: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pilotfishServices: ServicesState;
  }
}

/** Parses `export KEY=VALUE` lines; VALUE is bare or single-quoted ('\'' escapes). */
export function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match?.[1]) continue;
    const raw = match[2] ?? '';
    env[match[1]] = raw.startsWith("'") ? raw.slice(1, -1).replaceAll("'\\''", "'") : raw;
  }
  return env;
}

const ALL_VARIABLES: readonly string[] = [
  ...Object.values(SERVICE_VARIABLES).flat(),
  'CONSUL_CLUSTER_ADDRS',
  'PILOTFISH_NET_BRIDGE',
  'PILOTFISH_NET_GATEWAY',
  'PILOTFISH_SERVICES_DIR',
];

function fromEnvironment(): Record<string, string> | undefined {
  if (!process.env.PILOTFISH_SERVICES_DIR) return undefined;
  const env: Record<string, string> = {};
  for (const key of ALL_VARIABLES) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

async function isInstalled(): Promise<{ installed: boolean; detail: string }> {
  try {
    const { stdout } = await run(SERVICES_SCRIPT, ['check']);
    return { installed: true, detail: stdout.trim() };
  } catch (error) {
    const out = (error as { stdout?: string }).stdout?.trim();
    return { installed: false, detail: out || String(error) };
  }
}

function notice(lines: string[]): void {
  const bar = '='.repeat(72);
  console.warn(['', bar, ...lines.map((l) => `  ${l}`), bar, ''].join('\n'));
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const { installed, detail } = await isInstalled();
  const existing = fromEnvironment();
  let state: ServicesState;
  let startedDir: string | undefined;

  if (existing) {
    state = { status: 'ready', source: 'environment', installed, env: existing };
  } else if (process.env.PILOTFISH_SERVICES === 'off') {
    state = { status: 'missing', installed, env: {}, reason: 'services turned off by PILOTFISH_SERVICES=off' };
  } else if (!installed) {
    state = {
      status: 'missing',
      installed,
      env: {},
      reason: `services not installed (${detail}); run: scripts/services install`,
    };
  } else {
    startedDir = await mkdtemp(join(tmpdir(), 'pilotfish-services-'));
    try {
      const { stdout } = await run(SERVICES_SCRIPT, ['up', '--dir', startedDir, '--owner-pid', String(process.pid), '--ephemeral'], {
        timeout: 240_000,
        maxBuffer: 1 << 20,
      });
      state = { status: 'ready', source: 'started', installed, env: parseExports(stdout) };
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? String(error);
      state = {
        status: 'failed',
        installed,
        env: {},
        reason: `scripts/services up failed:\n${stderr.trim().split('\n').slice(-25).join('\n')}`,
      };
    }
  }

  if (state.status === 'ready') {
    Object.assign(process.env, state.env);
  } else {
    const ci = process.env.CI === 'true';
    notice([
      `Pilotfish services: ${state.reason}`,
      ci ? 'CI=true: every test that needs Consul, Vault, S3 or MariaDB will FAIL.' : 'Tests that need Consul, Vault, S3 or MariaDB are SKIPPED in this run.',
    ]);
  }
  project.provide('pilotfishServices', state);

  if (!startedDir) return undefined;
  const dir = startedDir;
  return async () => {
    await run(SERVICES_SCRIPT, ['down', '--dir', dir], { timeout: 60_000 });
    await rm(dir, { recursive: true, force: true });
  };
}
