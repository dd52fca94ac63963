// Access to the real services started by test/setup/services.ts.
//
//   describeWithServices('kv sync', ['consul', 'vault'], () => { ... })
//   const env = services();            // typed variables of the running set
//   await stopService('consul');       // same ports on startService('consul')
//
// A missing service skips the block locally (with the reason in its name) and
// fails it under CI=true. 'consul-cluster' asks for what startConsulCluster()
// needs: installed binaries, root and iproute2.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, inject, it } from 'vitest';
import { SERVICE_VARIABLES, SERVICES_SCRIPT, parseExports, type ServiceName, type ServicesState } from '../setup/services.js';

export type { ServiceName, ServicesState } from '../setup/services.js';
export type Need = ServiceName | 'consul-cluster';

const run = promisify(execFile);

/** The variables of a running set. Only those of the services it runs are set. */
export interface ServicesEnv {
  CONSUL_HTTP_ADDR: string;
  VAULT_ADDR: string;
  VAULT_TOKEN: string;
  AWS_ENDPOINT_URL_S3: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REGION: string;
  PILOTFISH_TEST_BUCKET: string;
  MARIADB_SOCKET: string;
  MARIADB_HOST: string;
  MARIADB_PORT: string;
  MARIADB_USER: string;
  MARIADB_PASSWORD: string;
  PILOTFISH_SERVICES_DIR: string;
}

/** The state handed over by the global setup. */
export function servicesState(): ServicesState {
  const provided = inject('pilotfishServices');
  if (provided) return provided;
  return {
    status: 'missing',
    installed: false,
    env: {},
    reason: 'test/setup/services.ts did not run (is it in vitest globalSetup?)',
  };
}

function missingReason(needs: readonly Need[]): string | undefined {
  const state = servicesState();
  const lacking: string[] = [];
  for (const need of needs) {
    if (need === 'consul-cluster') {
      if (!state.installed) lacking.push('consul-cluster (services not installed; run: scripts/services install)');
      else if (process.getuid?.() !== 0) lacking.push('consul-cluster (network namespaces need root)');
      continue;
    }
    if (state.status !== 'ready') return state.reason ?? `services ${state.status}`;
    const absent = SERVICE_VARIABLES[need].filter((key) => !state.env[key]);
    if (absent.length > 0) {
      lacking.push(`${need} (the running set in ${state.env.PILOTFISH_SERVICES_DIR} has no ${absent.join(', ')})`);
    }
  }
  return lacking.length > 0 ? `needs ${lacking.join('; ')}` : undefined;
}

/**
 * describe() that runs only when the listed services are available: skipped
 * locally with the reason in its title, a failing test under CI=true.
 */
export function describeWithServices(name: string, needs: readonly Need[], fn: () => void): void {
  const reason = missingReason(needs);
  if (!reason) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it(`has its services (${needs.join(', ')})`, () => {
        throw new Error(`${name}: ${reason}. Under CI=true a service test may not be skipped.`);
      });
    });
  } else {
    describe.skip(`${name} [skipped: ${reason}]`, fn);
  }
}

/** The variables of the running set; throws when services are not ready. */
export function services(): ServicesEnv {
  const state = servicesState();
  if (state.status !== 'ready') throw new Error(`services not available: ${state.reason}`);
  return state.env as unknown as ServicesEnv;
}

/** Runs scripts/services with the running set's dir (or `dir`); returns stdout. */
export async function servicesCommand(args: readonly string[], dir?: string): Promise<string> {
  const target = dir ?? services().PILOTFISH_SERVICES_DIR;
  const { stdout } = await run(SERVICES_SCRIPT, [...args, '--dir', target], { timeout: 180_000 });
  return stdout;
}

/** Stops one service (consul, vault, minio, mariadb) or cluster server (c1..). */
export async function stopService(name: string, dir?: string): Promise<void> {
  await servicesCommand(['stop', name], dir);
}

/** Starts it again on the same ports and waits until it is ready (dev state is empty again). */
export async function startService(name: string, dir?: string): Promise<void> {
  await servicesCommand(['start', name], dir);
}

export interface ConsulCluster {
  dir: string;
  env: Record<string, string>;
  /** http://IP:8500 of each server, c1 first. */
  addrs: string[];
  /** Takes one member's link down (cut) or up (heal). */
  cut(name: string): Promise<void>;
  heal(name: string): Promise<void>;
  /** A namespace on the cluster's bridge for a Pilotfish instance; run in it with `ip netns exec NETNS`. */
  addHost(name: string, ip?: string): Promise<{ netns: string; ip: string }>;
  delHost(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a Consul server cluster in its own dir and network namespaces
 * (`scripts/services up --consul-cluster N --only consul`). Call stop().
 */
export async function startConsulCluster(size = 3): Promise<ConsulCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotfish-cluster-'));
  const stop = async (): Promise<void> => {
    await servicesCommand(['down'], dir);
    await rm(dir, { recursive: true, force: true });
  };
  let env: Record<string, string>;
  try {
    env = parseExports(await servicesCommand(['up', '--consul-cluster', String(size), '--only', 'consul'], dir));
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return {
    dir,
    env,
    addrs: (env.CONSUL_CLUSTER_ADDRS ?? '').split(',').filter(Boolean),
    cut: async (name) => void (await servicesCommand(['netns-cut', name], dir)),
    heal: async (name) => void (await servicesCommand(['netns-heal', name], dir)),
    addHost: async (name, ip) => {
      const out = await servicesCommand(['host', 'add', name, ...(ip ? [ip] : [])], dir);
      const [netns = '', address = ''] = out.trim().split(/\s+/);
      return { netns, ip: address };
    },
    delHost: async (name) => void (await servicesCommand(['host', 'del', name], dir)),
    stop,
  };
}
