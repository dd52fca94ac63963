/**
 * One job's service registration: register with a TTL check, push every health result to the
 * check (pass, or fail with the check's output), restore the registration when the agent has
 * lost it (ContainerPilot #577), maintenance on and off, and deregistration.
 *
 * Every Consul call of a registration runs through one queue, so a heartbeat can never
 * re-register a service that is being deregistered.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { RateLimiter } from '../kernel/backoff.js';
import { formatDuration } from '../kernel/duration.js';
import type { Logger } from '../kernel/logger.js';
import { isLostRegistration, reasonOf, type ConsulClient } from './client.js';

export interface ServiceSpec {
  job: string;
  name: string;
  id: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  /** TTL of the check in ms; no check when undefined (the job has no health check). */
  ttl?: number;
  initialStatus: 'passing' | 'warning' | 'critical';
  deregisterCriticalServiceAfter?: number;
  enableTagOverride: boolean;
}

/**
 * The container's id, from the engine's per-container /etc/hostname mount in
 * /proc/self/mountinfo (Docker: .../containers/<id>/hostname; podman:
 * .../overlay-containers/<id>/userdata/hostname); undefined outside a container.
 */
export function containerId(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f[4] !== '/etc/hostname') continue;
    const id = /(?:^|\/)([0-9a-f]{64})(?:\/|$)/.exec(f[3] ?? '')?.[1];
    if (id) return id;
  }
  return undefined;
}

function readMountinfo(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}

/**
 * This instance's name in default service ids (`<job>-<instance>`): the hostname, plus the
 * container's short id when the hostname is not already that id. With `--network host`, or a
 * hostname set alike on every clone, containers share their hostname; their ids still differ.
 * With `env`, a $HOSTNAME that differs from the kernel's hostname names the instance instead.
 */
export function instanceName(host = hostname(), mountinfo = readMountinfo(), env: NodeJS.ProcessEnv = {}): string {
  // Named by its environment: $HOSTNAME set to something other than the kernel's hostname, as
  // for nodes that share one host's hostname (network namespaces on one machine).
  if (env.HOSTNAME && env.HOSTNAME !== host) return env.HOSTNAME;
  const id = containerId(mountinfo);
  if (!id || id.startsWith(host)) return host;
  return `${host}-${id.slice(0, 12)}`;
}

interface Papi {
  _put(req: Record<string, unknown>, next?: unknown): Promise<unknown>;
}

/** Consul's duration format, e.g. "1m30s" or "500ms". */
function goDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export class Registration {
  readonly checkId: string;
  #registered = false;
  /** Set between `stopping` and `stopped`: heartbeats must not bring the service back. */
  #parked = false;
  #maintenance: string | undefined;
  /** Never registered yet (Consul was down at start): the resync loop keeps trying. */
  #pendingInitial = true;
  #queue: Promise<unknown> = Promise.resolve();
  #lastStatus: 'passing' | 'critical' | undefined;
  /** The latest health result not yet pushed: a slow Consul gets the newest only, never a backlog. */
  #pendingBeat: { ok: boolean; output: string } | undefined;
  /** The election's role tag (`primary`/`replica`), shown beside the job's own tags. */
  #role: string | undefined;
  readonly #warn = new RateLimiter(10_000);

  constructor(
    readonly spec: ServiceSpec,
    private readonly client: ConsulClient,
    private readonly log: Logger,
    private readonly token: string | undefined,
    /** Timeout of each call; a deregistration uses at most 3 s of it, so a stop is never held long. */
    private readonly timeoutMs = 5_000,
  ) {
    this.checkId = `service:${spec.id}`;
  }

  get registered(): boolean {
    return this.#registered;
  }

  get parked(): boolean {
    return this.#parked;
  }

  get pendingInitial(): boolean {
    return this.#pendingInitial;
  }

  get inMaintenance(): boolean {
    return this.#maintenance !== undefined;
  }

  status(): Record<string, unknown> {
    return {
      serviceId: this.spec.id,
      service: this.spec.name,
      address: this.spec.address,
      port: this.spec.port,
      registered: this.#registered,
      maintenance: this.inMaintenance,
      check: this.#lastStatus ?? null,
    };
  }

  /** Register (idempotent on the agent's side). Failures are logged; the next heartbeat or resync retries. */
  register(): Promise<boolean> {
    return this.#run(async () => {
      if (this.#parked) return false;
      return this.#tryRegister();
    });
  }

  /** Push a health result to the TTL check, registering first if needed. */
  heartbeat(ok: boolean, output: string): Promise<void> {
    const queued = this.#pendingBeat !== undefined;
    this.#pendingBeat = { ok, output };
    if (queued) return this.#queue.then(() => undefined); // the queued push will send this result
    return this.#run(async () => {
      const beat = this.#pendingBeat;
      this.#pendingBeat = undefined;
      if (!beat || this.#parked || this.spec.ttl === undefined) return;
      const { ok, output } = beat;
      if (!this.#registered && !(await this.#tryRegister())) return;
      try {
        await this.#update(ok, output);
      } catch (error) {
        if (!isLostRegistration(error)) return this.#problem('cannot update the TTL check of', error);
        this.log.warn({ job: this.spec.job, serviceId: this.spec.id }, `Consul lost service ${this.spec.id}; registering it again`);
        this.#registered = false;
        if (!(await this.#tryRegister())) return;
        try {
          await this.#update(ok, output);
        } catch (again) {
          this.#problem('cannot update the TTL check of', again);
        }
      }
    });
  }

  /** Deregister and park until {@link unpark}: heartbeats in between are ignored. */
  deregister(reason: string): Promise<void> {
    return this.#run(async () => {
      this.#parked = true;
      this.#pendingInitial = false;
      if (!this.#registered) return;
      try {
        await this.client.agent.service.deregister({ id: this.spec.id, timeout: Math.min(this.timeoutMs, 3_000) } as never);
        this.log.info({ job: this.spec.job, serviceId: this.spec.id }, `deregistered service ${this.spec.id} (${reason})`);
      } catch (error) {
        this.#problem('cannot deregister', error);
      }
      this.#registered = false;
    });
  }

  /** The job stopped: its next run registers again with its first heartbeat. */
  unpark(): void {
    this.#parked = false;
  }

  maintenance(enable: boolean, reason: string): Promise<void> {
    return this.#run(async () => {
      this.#maintenance = enable ? reason : undefined;
      if (!this.#registered) return;
      try {
        await this.client.agent.service.maintenance({ id: this.spec.id, enable, reason, timeout: this.timeoutMs } as never);
        this.log.info({ serviceId: this.spec.id }, `service ${this.spec.id} ${enable ? 'entered' : 'left'} maintenance`);
      } catch (error) {
        this.#problem('cannot change maintenance of', error);
      }
    });
  }

  /** Show the election role as a tag: re-registers (same ID and check, check status kept). */
  setRole(role: 'primary' | 'replica'): Promise<void> {
    return this.#run(async () => {
      if (this.#role === role) return;
      this.#role = role;
      if (this.#registered && !this.#parked) await this.#tryRegister();
    });
  }

  /** Re-register if the agent no longer lists the service (no heartbeat needed to notice). */
  resync(known: ReadonlySet<string>): Promise<void> {
    return this.#run(async () => {
      if (this.#parked || !this.#registered || known.has(this.spec.id)) return;
      this.log.warn({ job: this.spec.job, serviceId: this.spec.id }, `Consul lost service ${this.spec.id}; registering it again`);
      this.#registered = false;
      await this.#tryRegister();
    });
  }

  /** Wait for every queued call. */
  settled(): Promise<void> {
    return this.#queue.then(() => undefined);
  }

  #run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #tryRegister(): Promise<boolean> {
    const s = this.spec;
    const body: Record<string, unknown> = {
      ID: s.id,
      Name: s.name,
      Address: s.address,
      Port: s.port,
      Tags: this.#role ? [...s.tags.filter((t) => t !== 'primary' && t !== 'replica'), this.#role] : s.tags,
      Meta: s.meta,
      EnableTagOverride: s.enableTagOverride,
    };
    if (s.ttl !== undefined) {
      const check: Record<string, unknown> = {
        CheckID: this.checkId,
        Name: `${s.name} health (pilotfish)`,
        TTL: goDuration(s.ttl),
        Status: this.#lastStatus ?? s.initialStatus,
        Notes: `TTL check fed by the health check of job ${s.job}`,
      };
      if (s.deregisterCriticalServiceAfter !== undefined) check.DeregisterCriticalServiceAfter = goDuration(s.deregisterCriticalServiceAfter);
      body.Check = check;
    }
    try {
      await (this.client as unknown as Papi)._put(
        {
          name: 'agent.service.register',
          path: '/agent/service/register',
          type: 'json',
          body,
          headers: this.token ? { 'x-consul-token': this.token } : {},
          query: {},
          timeout: this.timeoutMs,
        },
        (request: { err?: Error }, next: (a: boolean, err?: Error) => void) => next(false, request.err),
      );
    } catch (error) {
      this.#problem('cannot register', error);
      return false;
    }
    this.#registered = true;
    this.#pendingInitial = false;
    this.#warn.clear('warn');
    const ttl = s.ttl !== undefined ? ` with a ${formatDuration(s.ttl)} TTL check` : '';
    this.log.info({ job: s.job, serviceId: s.id, address: s.address, port: s.port }, `registered service ${s.id}${ttl}`);
    if (this.#maintenance !== undefined) {
      await this.client.agent.service
        .maintenance({ id: s.id, enable: true, reason: this.#maintenance })
        .catch((error: unknown) => this.#problem('cannot restore maintenance of', error));
    }
    return true;
  }

  async #update(ok: boolean, output: string): Promise<void> {
    const note = output.slice(-4096);
    const timeout = this.timeoutMs;
    if (ok) await this.client.agent.check.pass({ id: this.checkId, note, timeout } as never);
    else await this.client.agent.check.fail({ id: this.checkId, note: note || 'health check failed', timeout } as never);
    if (this.#lastStatus !== (ok ? 'passing' : 'critical')) {
      this.#lastStatus = ok ? 'passing' : 'critical';
      this.log.debug({ serviceId: this.spec.id, status: this.#lastStatus }, `TTL check of ${this.spec.id} is ${this.#lastStatus}`);
    }
    this.#warn.clear('warn');
  }

  #problem(what: string, error: unknown): void {
    const held = this.#warn.allow('warn');
    if (held === undefined) return;
    this.log.warn(
      { job: this.spec.job, serviceId: this.spec.id, err: reasonOf(error), ...(held > 0 ? { suppressed: held } : {}) },
      `${what} service ${this.spec.id} in Consul: ${reasonOf(error)} (will retry)`,
    );
  }
}
