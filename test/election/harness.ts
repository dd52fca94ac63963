/**
 * Election test harness: Pilotfish instances whose app is a sleeper and whose elected/demoted
 * hook jobs write the role (with PILOTFISH_* values) to a file, a role checker that samples
 * every instance every 100 ms and records any moment with two primaries, and (for the
 * cluster tests) a Consul client agent in each host namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPilotfish, type Running } from '../helpers/pilotfish.js';
import { readProc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

export interface InstanceSpec {
  name: string;
  consul: string;
  port: number;
  netns?: string;
  /** Extra `election:` settings. */
  election?: Record<string, unknown>;
  /** Health check TTL in Consul (the session's service check). */
  checkTtl?: string;
  /** Health and candidate gate read files the test creates and removes (setHealthy/setCandidate). */
  gated?: boolean;
  /** election.rank prints the number in a file the test writes (setRank); extra rank settings. */
  ranked?: Record<string, unknown>;
}

const made: string[] = [];

/** Remove every temp dir the harness made (instances and agents); call after killing them. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export class Instance {
  run: Running | undefined;
  /** Set just before a kill -9: a dead instance is no primary, whatever its file says. */
  killed = false;
  readonly dir: string;

  constructor(readonly spec: InstanceSpec) {
    this.dir = mkdtempSync(join(tmpdir(), `pf-el-${spec.name}-`));
    made.push(this.dir);
    if (spec.gated) {
      this.setHealthy(true);
      this.setCandidate(true);
    }
  }

  get roleFile(): string {
    return join(this.dir, 'role');
  }

  get socket(): string {
    return join(this.dir, 'control.sock');
  }

  start(): Running {
    const s = this.spec;
    // Atomic write: the checker never reads half a file.
    const write = (what: string): string[] => ['/bin/sh', '-c', `echo "${what}" > ${this.roleFile}.tmp && mv ${this.roleFile}.tmp ${this.roleFile}`];
    const healthFile = join(this.dir, 'healthy');
    const candidateFile = join(this.dir, 'candidate');
    const config = {
      logging: { level: 'debug', format: 'json' },
      stopTimeout: '5s',
      consul: { address: s.consul, requestTimeout: '3s' },
      control: { socket: this.socket },
      election: {
        ttl: '10s',
        lockDelay: '1s',
        ...(s.gated ? { candidate: { exec: ['test', '-f', candidateFile], interval: '500ms' } } : {}),
        ...(s.ranked ? { rank: { exec: ['cat', join(this.dir, 'rank')], interval: '500ms', ...s.ranked } } : {}),
        ...s.election,
      },
      jobs: [
        {
          name: 'app',
          main: true,
          exec: ['sleep', '100000'],
          port: s.port,
          serviceId: `app-${s.name}`,
          interfaces: ['eth0', 'inet', 'lo'],
          health: { exec: s.gated ? ['test', '-f', healthFile] : 'true', interval: '1s', ttl: s.checkTtl ?? '5s' },
        },
        {
          name: 'on-elected',
          when: { source: 'election', each: 'elected' },
          timeout: '5s',
          exec: write('$PILOTFISH_ROLE $PILOTFISH_FENCING_TOKEN $PILOTFISH_PRIMARY_ADDR'),
        },
        { name: 'on-demoted', when: { source: 'election', each: 'demoted' }, timeout: '5s', exec: write('$PILOTFISH_ROLE') },
      ],
    };
    this.killed = false;
    writeFileSync(this.roleFile, 'none\n');
    this.run = startPilotfish(config, { dir: this.dir, pid1: true, ...(s.netns ? { netns: s.netns } : {}) });
    return this.run;
  }

  setHealthy(on: boolean): void {
    this.#flag('healthy', on);
  }

  setCandidate(on: boolean): void {
    this.#flag('candidate', on);
  }

  /** The rank this instance's rank command prints; undefined makes the command fail. */
  setRank(rank: number | undefined): void {
    if (rank === undefined) rmSync(join(this.dir, 'rank'), { force: true });
    else writeFileSync(join(this.dir, 'rank'), `${rank}\n`);
  }

  #flag(name: string, on: boolean): void {
    if (on) writeFileSync(join(this.dir, name), '');
    else rmSync(join(this.dir, name), { force: true });
  }

  /** The role as the app sees it: the last hook's line, unless the instance is gone. */
  role(): { role: string; token: string; primary: string } {
    const none = { role: 'down', token: '', primary: '' };
    if (!this.run || this.killed || this.run.child.exitCode !== null || this.run.child.signalCode !== null) return none;
    let text: string;
    try {
      text = readFileSync(this.roleFile, 'utf8').trim();
    } catch {
      return none;
    }
    const [role = 'none', token = '', primary = ''] = text.split(/\s+/);
    return { role, token, primary };
  }

  /** The election's status from the control socket (undefined while it does not answer). */
  async electionStatus(): Promise<Record<string, unknown> | undefined> {
    const { call } = await import('../../src/cli/client.js');
    const reply = await call<{ subsystems?: { election?: Record<string, unknown> } }>(this.socket, 'GET', '/v1/status').catch(() => undefined);
    return reply?.body?.subsystems?.election;
  }

  isPrimary(): boolean {
    return this.role().role === 'primary';
  }

  async kill9(): Promise<void> {
    this.killed = true;
    await this.run?.signal('SIGKILL');
    await this.run?.exited;
  }
}

/** Samples every instance's role every 100 ms; `violations` lists moments with two primaries. */
export class RoleChecker {
  readonly violations: string[] = [];
  samples = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly instances: Instance[]) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.samples++;
      const primaries = this.instances.filter((i) => i.isPrimary()).map((i) => i.spec.name);
      if (primaries.length > 1) this.violations.push(`${new Date().toISOString()}: ${primaries.join(', ')} are all primary`);
    }, 100);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}

export function primaries(instances: Instance[]): Instance[] {
  return instances.filter((i) => i.isPrimary());
}

/** Waits for exactly one primary and returns it, and when (ms) it was seen. */
export async function onePrimary(instances: Instance[], timeout: number, not?: Instance): Promise<Instance> {
  return waitFor(
    () => {
      const p = primaries(instances);
      return p.length === 1 && p[0] !== not ? p[0] : undefined;
    },
    {
      timeout,
      interval: 50,
      message: `exactly one primary${not ? ` other than ${not.spec.name}` : ''} (roles: ${instances.map((i) => `${i.spec.name}=${i.role().role}`).join(' ')})`,
    },
  );
}

export function consulBinary(): string {
  const base = join(process.env.PILOTFISH_CACHE ?? join(homedir(), '.cache/pilotfish'), 'services');
  const dir = readdirSync(base).find((d) => d.startsWith('consul-'));
  if (!dir) throw new Error(`no consul binary under ${base} (run: scripts/services install)`);
  return join(base, dir, 'consul');
}

/** A Consul client agent inside a host namespace, listening on 127.0.0.1:8500 there. */
export class ClientAgent {
  #child: ChildProcess;
  readonly #output: string[] = [];
  readonly #configFile: string;

  constructor(
    readonly node: string,
    readonly netns: string,
    ip: string,
    servers: string[],
  ) {
    const dir = mkdtempSync(join(tmpdir(), `pf-agent-${node}-`));
    made.push(dir);
    mkdirSync(join(dir, 'data'));
    const config = {
      node_name: node,
      datacenter: 'dc1',
      server: false,
      data_dir: join(dir, 'data'),
      bind_addr: ip,
      advertise_addr: ip,
      client_addr: '127.0.0.1',
      retry_join: servers,
      retry_interval: '1s',
      disable_update_check: true,
      log_level: 'WARN',
      ports: { grpc: -1, grpc_tls: -1, https: -1, dns: -1 },
    };
    this.#configFile = join(dir, 'config.json');
    writeFileSync(this.#configFile, JSON.stringify(config));
    this.#child = this.#spawn();
  }

  #spawn(): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.netns, consulBinary(), 'agent', `-config-file=${this.#configFile}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => this.#output.push(c.toString()));
    child.stderr?.on('data', (c: Buffer) => this.#output.push(c.toString()));
    return child;
  }

  /** Wait until the servers list this node as alive. */
  async joined(serverAddr: string): Promise<void> {
    await waitFor(
      async () => {
        const res = await fetch(`${serverAddr}/v1/health/node/${this.node}`, { signal: AbortSignal.timeout(2_000) });
        const checks = (await res.json()) as Array<{ CheckID: string; Status: string }>;
        return checks.some((c) => c.CheckID === 'serfHealth' && c.Status === 'passing');
      },
      { timeout: 30_000, interval: 250, message: `consul agent ${this.node} to join (${this.#output.join('').slice(-1000)})` },
    );
  }

  /** Ends the agent with `signal` (SIGKILL: a crash; SIGTERM: a client agent leaves the cluster). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    const pid = child.pid;
    if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    // ip netns exec execs the agent: this pid is the agent itself.
    if (readProc(pid)) child.kill(signal);
    await new Promise((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(undefined);
      }, 5_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve(undefined);
      });
    });
  }

  /** Starts the agent again with the same data dir (its node ID and persisted services). */
  restart(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) throw new Error(`agent ${this.node} is still running`);
    this.#child = this.#spawn();
  }
}

/** Runs the CLI's stepdown against an instance's control socket. */
export async function stepdown(instance: Instance): Promise<{ code: number | null; output: string }> {
  const { CLI } = await import('../helpers/pilotfish.js');
  const child = spawn(process.execPath, [CLI, 'stepdown', '--socket', instance.socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}
