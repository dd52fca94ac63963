// The container suite's access to podman: whether it can run containers here at all, the
// project's images (scripts/images), containers started by a test and removed by id, and the
// Docker-compatible socket that docker-compose talks to (scripts/containers/provision.sh).
//
// Skips only when podman cannot run a container at all, saying why; under CI=true it fails
// instead. Everything else (a missing image, a failed build) is a failure.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { ROOT } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';

const exec = promisify(execFile);
export const PROBE_IMAGE = 'docker.io/library/debian:bookworm-slim';

function probe(): string | undefined {
  const which = spawnSync('podman', ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8', timeout: 30_000 });
  if (which.error) return `podman is not installed (${which.error.message}); run scripts/containers/provision.sh`;
  const r = spawnSync('podman', ['run', '--rm', '--pull=never', PROBE_IMAGE, 'true'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) return `podman cannot run containers here: ${(r.stderr || r.error?.message || '').trim()}; run scripts/containers/provision.sh`;
  return undefined;
}
let probed: { why: string | undefined } | undefined;
export function podmanMissing(): string | undefined {
  probed ??= { why: probe() };
  return probed.why;
}

/** A describe block that needs podman: skipped (with the reason) where it cannot run, failed under CI. */
export function describeWithPodman(name: string, fn: () => void): void {
  const why = podmanMissing();
  if (!why) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('podman runs containers (required under CI)', () => {
        throw new Error(why);
      });
    });
    return;
  }
  console.warn(`${name}: skipped: ${why}`);
  describe.skip(`${name} [skipped: ${why}]`, fn);
}

export async function podman(args: string[], timeout = 120_000): Promise<string> {
  try {
    const { stdout } = await exec('podman', args, { timeout, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`podman ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: error });
  }
}

/** Builds (or finds current) the named images of scripts/images; returns their image names. */
export function ensureImages(...names: string[]): Record<string, string> {
  execFileSync(join(ROOT, 'scripts/images'), ['build', ...names], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 1_500_000 });
  const list = execFileSync(join(ROOT, 'scripts/images'), ['list'], { cwd: ROOT, encoding: 'utf8' });
  return Object.fromEntries(
    list
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string])
      .map(([n, image]) => [n, image]),
  );
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Containers (and networks) a test file started, removed by id at the end. */
export class Started {
  readonly containers: string[] = [];
  readonly networks: string[] = [];
  async run(args: string[]): Promise<string> {
    const id = await podman(['run', '-d', '--pull=never', ...args]);
    this.containers.push(id);
    return id;
  }
  async cleanup(): Promise<void> {
    for (const id of this.containers.splice(0)) await podman(['rm', '-f', '-v', '-t', '0', id]).catch(() => {});
    for (const n of this.networks.splice(0)) await podman(['network', 'rm', '-f', n]).catch(() => {});
  }
}

export async function inspect<T = string>(id: string, format: string): Promise<T> {
  const out = await podman(['inspect', '--format', format, id]);
  return (format.startsWith('{{json') ? JSON.parse(out) : out) as T;
}

export interface Health {
  Status: string;
  FailingStreak: number;
  Log: Array<{ ExitCode: number; Output: string }> | null;
}

/** Runs the container's HEALTHCHECK now (no systemd timers here) and returns its state. */
export async function checkHealth(id: string): Promise<Health> {
  await podman(['healthcheck', 'run', id]).catch(() => {});
  return inspect<Health>(id, '{{json .State.Health}}');
}

/** Runs the HEALTHCHECK until the container's health is `status`. */
export async function waitHealth(id: string, status: 'healthy' | 'unhealthy', timeout = 180_000): Promise<Health> {
  let last: unknown;
  try {
    return await waitFor(
      async () => {
        const h = await checkHealth(id).catch((error: Error) => ({ error: error.message }));
        last = h;
        return 'Status' in h && h.Status === status ? h : undefined;
      },
      { timeout, interval: 500 },
    );
  } catch {
    const state = await inspect(id, '{{.State.Status}} {{.State.ExitCode}}').catch((error: Error) => error.message);
    throw new Error(
      `container ${id.slice(0, 12)} not ${status} after ${timeout} ms (state: ${state}; last health: ${JSON.stringify(last)})\n${(await logs(id).catch(() => '')).slice(-3000)}`,
    );
  }
}

export async function logs(id: string): Promise<string> {
  const { stdout, stderr } = await exec('podman', ['logs', id], { maxBuffer: 64 * 1024 * 1024 });
  // podman's own complaints about systemd timers (there is none here) are not the container's
  return (stdout + stderr)
    .split('\n')
    .filter((l) => !l.includes('systemd connection'))
    .join('\n');
}

/** The pid (in the container) of the first process whose command line contains `needle`. */
export async function pidOf(id: string, needle: string): Promise<number | undefined> {
  const out = await podman([
    'exec',
    id,
    'sh',
    '-c',
    'for p in /proc/[0-9]*; do printf "%s %s\\n" "${p#/proc/}" "$(tr "\\0" " " < $p/cmdline 2>/dev/null)"; done',
  ]);
  const line = out.split('\n').find((l) => l.includes(needle) && !l.includes('for p in'));
  return line ? Number(line.split(' ')[0]) : undefined;
}

/**
 * Processes in the container in state Z (zombies) that PID 1 has to reap, as "pid ppid comm".
 * A process with parent 0 came in through `podman exec` (the HEALTHCHECK's `pilotfish health`,
 * a test's own exec): its parent is conmon, outside the container, which reaps it; one that has
 * just exited is a zombie for a moment, and not PID 1's.
 */
export async function zombies(id: string): Promise<string[]> {
  const out = await podman(['exec', id, 'sh', '-c', 'for s in /proc/[0-9]*/stat; do cat $s 2>/dev/null; echo; done']);
  return out
    .split('\n')
    .map((l) => /^(\d+) \((.*)\) (\S) (\d+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && m[3] === 'Z' && m[4] !== '0')
    .map((m) => `${m[1]} ${m[4]} ${m[2]}`);
}

/** The Docker-compatible API socket and the health-check ticker; the environment for docker-compose. */
export function composeEnv(): NodeJS.ProcessEnv {
  const out = execFileSync(join(ROOT, 'scripts/containers/provision.sh'), ['--socket'], {
    encoding: 'utf8',
    timeout: 1_800_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1] as string] = m[2];
  if (!env.DOCKER_HOST) throw new Error(`provision.sh --socket printed no DOCKER_HOST: ${out}`);
  return env;
}

/** The stand-ins of the service images the compose demos use (hashicorp/consul, hashicorp/vault,
 * minio/minio, minio/mc), built from scripts/services' binaries; the wordpress:*-apache stand-in. */
export function ensureStandins(...extra: Array<'wordpress'>): void {
  const opts = { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] as ['ignore', 'inherit', 'inherit'], timeout: 1_500_000 };
  execFileSync(join(ROOT, 'scripts/containers/standins.sh'), [], opts);
  if (extra.includes('wordpress')) execFileSync(join(ROOT, 'scripts/containers/wordpress/build.sh'), [], opts);
}
