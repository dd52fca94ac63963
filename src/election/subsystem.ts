/**
 * The election subsystem: wires an {@link Elector} to the rest of Pilotfish.
 *
 * - Health: the elected job's health events decide whether this instance may hold the lock.
 * - Events: `elected` / `demoted` (source `election`, data: key, lockIndex, job, role). One
 *   `demoted` with `initial: true` is published at startup, so the app starts read-only and
 *   the service is tagged `replica`; the Consul subsystem sets the `primary`/`replica` tag
 *   from these events.
 * - Environment: PILOTFISH_ROLE, PILOTFISH_PRIMARY_ADDR, PILOTFISH_FENCING_TOKEN for every job.
 * - Shutdown: the primary demotes and releases the key while `shutdown` is handled, before any
 *   job is stopped. `POST /v1/stepdown` (pilotfish stepdown) does the same without stopping.
 * - The stall watchdog demotes (or kills the job) after an event-loop stall near the lease.
 */
import { hostname } from 'node:os';
import { chooseAddress } from '../jobs/address.js';
import type { ConsulAccess } from '../subsystem/capabilities.js';
import { ControlError } from '../subsystem/routes.js';
import { PilotfishError } from '../kernel/errors.js';
import { GLOBAL_SOURCE } from '../kernel/events.js';
import type { CommonConfig, Subsystem, SubsystemContext } from '../subsystem/contract.js';
import type { JobConfig } from '../jobs/config.js';
import { ELECTION_SOURCE, type ElectionConfig } from './config.js';
import { Elector } from './elector.js';
import { StallWatchdog } from './watchdog.js';

/** How long a stepped-down primary stays out of the race (plus its candidate gate's timeout). */
const STEPDOWN_HOLD_MS = 2_000;

/** Events of the elected job that change whether it may hold the lock. */
const HEALTH_CODES = new Set(['healthPassed', 'healthFailed', 'healthy', 'unhealthy', 'stopped', 'exitSuccess', 'exitFailed']);

/** The sections the election reads. */
export interface ElectionView extends CommonConfig {
  election: ElectionConfig;
}

export class ElectionSubsystem implements Subsystem {
  readonly name = 'election';
  readonly #config: ElectionConfig;
  #elector: Elector | undefined;
  #watchdog: StallWatchdog | undefined;
  #healthy = false;
  readonly #cleanup: Array<() => void> = [];

  constructor(
    private readonly root: ElectionView,
    private readonly consul: ConsulAccess,
  ) {
    this.#config = root.election;
  }

  async start(ctx: SubsystemContext): Promise<void> {
    const log = ctx.log.child({ component: 'election' });
    const cfg = this.#config;
    const job = this.#electedJob();
    // The job's service and its TTL check, when the Consul subsystem registers them.
    const spec = this.consul.serviceOf(job);
    const key = cfg.key ?? `service/${job.name}/primary`;
    const wanted = cfg.checks ?? (spec?.ttl !== undefined ? ['service'] : []);
    const checks = wanted.map((c) => {
      if (c !== 'service') return c;
      if (spec?.ttl === undefined)
        throw new PilotfishError(
          'PF_ELECTION_CONFIG',
          `election.checks names "service", but job ${job.name} has no Consul service with a TTL check; give it a port and a health check (and a consul: section), or drop "service"`,
        );
      return `service:${spec.id}`;
    });
    const serviceCheck = spec?.ttl !== undefined && checks.includes(`service:${spec.id}`) ? spec.ttl : undefined;
    // How long after the last sign of life Consul may hand the lock on, at the earliest.
    const leaseMs = Math.min(cfg.ttl, serviceCheck !== undefined ? serviceCheck + cfg.lockDelay : Infinity);
    const identity = {
      id: spec?.id ?? `${job.name}-${hostname()}`,
      address: spec?.address ?? chooseAddress(job.interfaces),
      ...(job.port !== undefined ? { port: job.port } : {}),
      node: hostname(),
      ...cfg.meta,
    };
    const elector: Elector = new Elector({
      config: cfg,
      consul: this.consul.sessions(),
      bus: ctx.bus,
      log,
      key,
      job: job.name,
      identity,
      session: { name: `pilotfish ${identity.id} ${key}`, ttlMs: cfg.ttl, lockDelayMs: cfg.lockDelay, behavior: cfg.behavior, checks },
      requestTimeout: this.consul.requestTimeout,
      eligible: () => this.#eligible(ctx, job),
      gateEnv: (): Record<string, string> => ({ ...(process.env as Record<string, string>), ...elector.env() }),
    });
    this.#elector = elector;

    this.#cleanup.push(
      ctx.bus.subscribe(
        'election:health',
        (ev) => {
          this.#healthy = ev.code === 'healthPassed' || ev.code === 'healthy';
          elector.kick();
        },
        (ev) => ev.source === job.name && HEALTH_CODES.has(ev.code),
      ),
      ctx.bus.subscribe(
        'election:startup',
        () => {
          ctx.bus.publish({ code: 'demoted', source: ELECTION_SOURCE, data: { key, job: job.name, role: 'replica', initial: true } });
          elector.begin();
        },
        (ev) => ev.code === 'startup' && ev.source === GLOBAL_SOURCE,
      ),
      ctx.bus.subscribe(
        'election:shutdown',
        (ev) => ev.waitUntil?.(elector.shutdown()),
        (ev) => ev.code === 'shutdown' && ev.source === GLOBAL_SOURCE,
      ),
      ctx.routes.add('POST', '/v1/stepdown', async () => {
        if (!elector.isPrimary()) {
          const primary = elector.status().primary;
          throw new ControlError(409, `this instance is not the primary${primary ? `; the primary is ${String(primary)}` : ''}`, 'PF_ELECTION_NOT_PRIMARY');
        }
        const status = elector.status();
        // Out of the race long enough for a watching replica to take over (its rank and candidate
        // gate included), short enough that the role comes back when nobody else can take it.
        await elector.stepDown('step-down requested', Math.min(cfg.ttl, STEPDOWN_HOLD_MS + (cfg.candidate?.timeout ?? 0) + (cfg.rank?.timeout ?? 0)));
        return { steppedDown: true, key, lockIndex: status.lockIndex };
      }),
    );

    const threshold = Math.max(500, leaseMs - cfg.watchdog.margin);
    this.#watchdog = new StallWatchdog(threshold, (stalledMs) => {
      if (elector.role !== 'primary') return log.warn({ stalledMs }, `the event loop stalled for ${stalledMs}ms`);
      log.error(
        { stalledMs, thresholdMs: threshold, action: cfg.watchdog.action },
        `the event loop stalled for ${stalledMs}ms (lease ${leaseMs}ms): ${cfg.watchdog.action}`,
      );
      if (cfg.watchdog.action === 'kill') this.#killJob(ctx, job.name);
      void elector.lose(`the event loop stalled for ${stalledMs}ms`);
    });
    this.#watchdog.start();
    elector.start();
    log.info(
      { key, ttlMs: cfg.ttl, lockDelayMs: cfg.lockDelay, checks, leaseMs, watchdogMs: threshold, consul: this.consul.address },
      `election for job ${job.name} on ${key}`,
    );
  }

  async stop(): Promise<void> {
    for (const undo of this.#cleanup.splice(0)) undo();
    this.#watchdog?.stop();
    this.#elector?.stop();
  }

  env(_job: JobConfig): Record<string, string> {
    return this.#elector?.env() ?? { PILOTFISH_ROLE: 'replica', PILOTFISH_PRIMARY_ADDR: '', PILOTFISH_FENCING_TOKEN: '' };
  }

  status(): unknown {
    return { ...this.#elector?.status(), watchdog: this.#watchdog?.status() ?? null };
  }

  #electedJob(): JobConfig {
    const name = this.#config.job;
    const job = name !== undefined ? this.root.jobs.find((j) => j.name === name) : this.root.jobs.find((j) => j.main);
    if (!job) {
      throw new PilotfishError(
        'PF_ELECTION_CONFIG',
        name !== undefined ? `election.job names "${name}", but there is no such job` : 'election needs a job: set election.job, or mark one job main: true',
      );
    }
    return job;
  }

  #eligible(ctx: SubsystemContext, job: JobConfig): boolean {
    const status = ctx.jobs().find((j) => j.name === job.name);
    if (status?.state !== 'running') return false;
    return job.health ? this.#healthy : true;
  }

  #killJob(ctx: SubsystemContext, name: string): void {
    const pid = ctx.jobs().find((j) => j.name === name)?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function createElection(config: ElectionView, caps: { consul: ConsulAccess }): Subsystem {
  return new ElectionSubsystem(config, caps.consul);
}
