/**
 * The Consul subsystem: reach Consul at start (with backoff, or carry on if optional), load KV
 * environment, register every job that has a `port`, feed their TTL checks from health events,
 * deregister each one before its process is signalled, run the `watches:`, and offer Consul's
 * template data sources. While Consul is down the app keeps running; everything catches up.
 */
import { errorMessage } from '../kernel/errors.js';
import { GLOBAL_SOURCE, type BusEvent } from '../kernel/events.js';
import type { Capabilities } from '../subsystem/capabilities.js';
import type { CommonConfig, PreparedReload, Subsystem, SubsystemContext } from '../subsystem/contract.js';
import { sameConfig } from '../kernel/same.js';
import type { JobConfig } from '../jobs/config.js';
import { createClient, reasonOf, waitForConsul, type ConsulClient, type Endpoint } from './client.js';
import { consulDefaults, type ConsulConfig, type WatchConfig } from './config.js';
import { StartupGate } from '../subsystem/startup-gate.js';
import { KvEnvironment } from './kvenv.js';
import { Registration } from './register.js';
import { serviceSpec } from './service.js';
import { registerConsulSources } from './sources.js';
import { Watch, type Publish } from './watches.js';

/** The sections the Consul subsystem reads. */
export interface ConsulView extends CommonConfig {
  consul?: ConsulConfig | undefined;
  watches: WatchConfig[];
}

export class ConsulSubsystem implements Subsystem {
  readonly name = 'consul';
  /** A reload applies `watches:` and follows the jobs' registrations; `consul:` itself needs a restart. */
  readonly sections = ['watches', 'jobs'];
  readonly #config: ConsulConfig;
  #client: ConsulClient | undefined;
  #endpoint: Endpoint | undefined;
  #kv: KvEnvironment | undefined;
  #gate: StartupGate | undefined;
  readonly #registrations = new Map<string, Registration>();
  #watches: Watch[] = [];
  #makeWatch: ((wc: WatchConfig) => Watch) | undefined;
  #log: SubsystemContext['log'] | undefined;
  readonly #unsubscribe: Array<() => void> = [];
  readonly #abort = new AbortController();
  #resync: NodeJS.Timeout | undefined;

  constructor(
    private readonly root: ConsulView,
    private readonly caps: Pick<Capabilities, 'templateSources'>,
  ) {
    this.#config = root.consul ?? consulDefaults();
  }

  async start(ctx: SubsystemContext): Promise<void> {
    const log = ctx.log.child({ component: 'consul' });
    const { client, endpoint } = createClient(this.#config);
    this.#client = client;
    this.#endpoint = endpoint;
    const { timeout, optional } = this.#config.startup;
    let reachable = true;
    try {
      await waitForConsul(
        client,
        endpoint,
        timeout,
        (reason, attempt) => {
          if (attempt % 5 === 0) log.warn({ address: endpoint.address }, `waiting for Consul at ${endpoint.address}: ${reason}`);
        },
        this.#abort.signal,
      );
      log.info({ address: endpoint.address }, `connected to Consul at ${endpoint.address}`);
    } catch (error) {
      if (!optional) throw error;
      reachable = false;
      log.warn({ address: endpoint.address }, `${errorMessage(error)}; starting without it (consul.startup.optional)`);
    }

    registerConsulSources(this.caps.templateSources, client, log, this.#config.datacenter);

    if (this.#config.kv.length > 0) {
      this.#kv = new KvEnvironment(this.#config.kv, client, log, this.#config.datacenter);
      this.#kv.start();
      if (reachable && !(await this.#kv.loaded(this.#config.requestTimeout)))
        log.warn('Consul KV environment not loaded yet; jobs start without it and get it on their next start');
    }

    this.#log = log;
    for (const job of this.root.jobs) {
      if (job.port !== undefined) this.#registrations.set(job.name, this.#registration(job));
    }
    this.#subscribe(ctx);
    if (reachable) await Promise.all([...this.#registrations.values()].map((r) => r.register()));

    this.#gate = new StartupGate(ctx.bus);
    const gate = this.#gate;
    const publish: Publish = (code, source, data) => gate.publish({ code, source, ...(data ? { data } : {}) });
    this.#makeWatch = (wc) => new Watch(wc, client, log, publish, this.#config.requestTimeout);
    for (const wc of this.root.watches) {
      const watch = this.#makeWatch(wc);
      this.#watches.push(watch);
      watch.start();
    }

    // Jobs without a health check have no heartbeat to notice a lost registration: this does.
    this.#resync = setInterval(() => void this.#resyncOnce(log), this.#config.resync);
    this.#resync.unref();
  }

  #registration(job: JobConfig): Registration {
    const token = this.#config.token ?? process.env.CONSUL_HTTP_TOKEN;
    return new Registration(
      serviceSpec(job),
      this.#client as ConsulClient,
      this.#log as SubsystemContext['log'],
      token,
      Math.min(this.#config.requestTimeout, 5_000),
    );
  }

  /**
   * A reload: watches whose definition changed are replaced, new ones start, removed ones stop;
   * a job whose service definition (port, id, tags, check…) changed gets a new registration, a
   * removed job's service is deregistered. Unchanged watches and services are not touched.
   */
  async prepareReload(next: ConsulView): Promise<PreparedReload> {
    const makeWatch = this.#makeWatch;
    if (!makeWatch || !this.#client) throw new Error('not started');
    const watches = new Map(this.#watches.map((w) => [w.config.name, w]));
    const watchPlan = next.watches.map((wc) => {
      const current = watches.get(wc.name);
      return current && sameConfig(current.config, wc) ? { kept: current } : { fresh: makeWatch(wc) };
    });
    const regPlan = new Map<string, { kept?: Registration; fresh?: Registration }>();
    for (const job of next.jobs) {
      if (job.port === undefined) continue;
      const current = this.#registrations.get(job.name);
      regPlan.set(job.name, current && sameConfig(current.spec, serviceSpec(job)) ? { kept: current } : { fresh: this.#registration(job) });
    }
    return {
      apply: async () => {
        const keepWatches = new Set(watchPlan.flatMap((p) => (p.kept ? [p.kept] : [])));
        for (const w of this.#watches) if (!keepWatches.has(w)) w.stop();
        this.#watches = watchPlan.map((p) => p.kept ?? p.fresh);
        for (const p of watchPlan) p.fresh?.start();

        const gone = [...this.#registrations].filter(([name, reg]) => regPlan.get(name)?.kept !== reg);
        await Promise.allSettled(gone.map(([, reg]) => reg.deregister('changed or removed by a reload')));
        for (const [name] of gone) this.#registrations.delete(name);
        const fresh = [...regPlan].flatMap(([name, p]) => (p.fresh ? [[name, p.fresh] as const] : []));
        for (const [name, reg] of fresh) this.#registrations.set(name, reg);
        await Promise.allSettled(fresh.map(([, reg]) => reg.register()));
      },
      discard: () => undefined,
    };
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#resync) clearInterval(this.#resync);
    for (const u of this.#unsubscribe.splice(0)) u();
    for (const w of this.#watches) w.stop();
    this.#kv?.stop();
    this.#gate?.close();
    // Jobs that never ran (or whose stop hook timed out) are still registered: remove them now.
    await Promise.allSettled([...this.#registrations.values()].map((r) => r.deregister('Pilotfish is stopping')));
    this.#client?.destroy();
  }

  env(job: JobConfig): Record<string, string> {
    return this.#kv?.env(job.name) ?? {};
  }

  status(): unknown {
    return {
      address: this.#endpoint?.address ?? null,
      services: [...this.#registrations.values()].map((r) => r.status()),
      watches: this.#watches.map((w) => w.status()),
      kvEnv: this.#kv?.names() ?? {},
    };
  }

  #subscribe(ctx: SubsystemContext): void {
    const regs = this.#registrations; // the same map for the whole run (a reload changes its entries)
    this.#unsubscribe.push(
      ctx.bus.subscribe(
        'consul:heartbeat',
        (ev) => {
          const reg = regs.get(ev.source);
          const output = typeof ev.data?.output === 'string' ? ev.data.output : '';
          void reg?.heartbeat(ev.code === 'healthPassed', output);
        },
        (ev) => (ev.code === 'healthPassed' || ev.code === 'healthFailed') && regs.has(ev.source),
      ),
      ctx.bus.subscribe(
        'consul:deregister',
        (ev: BusEvent) => {
          const reg = regs.get(ev.source);
          if (!reg) return;
          if (ev.code === 'stopped') return reg.unpark();
          // A new run (after a restart by hand or by a reload): a job without a health check
          // has no heartbeat to register it again, so do it now.
          if (ev.code === 'started') return void (reg.registered || reg.parked ? undefined : reg.register());
          if (ev.code === 'exitSuccess' || ev.code === 'exitFailed') {
            // No more heartbeats from this run: say so now instead of letting the TTL lapse.
            const code = typeof ev.data?.code === 'number' ? ev.data.code : '?';
            return void reg.heartbeat(false, `job ${ev.source} exited with code ${code}`);
          }
          // The job's stop sequence waits for this before it signals the process.
          ev.waitUntil?.(reg.deregister(`job ${ev.source} is stopping`));
        },
        (ev) => ['started', 'stopping', 'stopped', 'exitSuccess', 'exitFailed'].includes(ev.code) && regs.has(ev.source),
      ),
      // The election's events (docs/election.md) carry the elected job and its role: tag it.
      ctx.bus.subscribe(
        'consul:role',
        (ev) => void regs.get(ev.data?.job as string)?.setRole(ev.code === 'elected' ? 'primary' : 'replica'), // best effort: a demotion never waits on it
        (ev) => (ev.code === 'elected' || ev.code === 'demoted') && ev.source === 'election' && regs.has(ev.data?.job as string),
      ),
      ctx.bus.subscribe(
        'consul:maintenance',
        (ev) => {
          const on = ev.code === 'enterMaintenance';
          const reason = typeof ev.data?.reason === 'string' ? ev.data.reason : 'pilotfish maintenance';
          return Promise.all([...regs.values()].map((r) => r.maintenance(on, reason))).then(() => undefined);
        },
        (ev) => (ev.code === 'enterMaintenance' || ev.code === 'exitMaintenance') && ev.source === GLOBAL_SOURCE,
      ),
    );
  }

  async #resyncOnce(log: SubsystemContext['log']): Promise<void> {
    const client = this.#client;
    if (!client || this.#registrations.size === 0) return;
    let known: Set<string>;
    try {
      const list = (await client.agent.service.list()) as Record<string, unknown>;
      known = new Set(Object.keys(list));
    } catch (error) {
      log.debug({ err: reasonOf(error) }, 'Consul resync skipped');
      return;
    }
    for (const reg of this.#registrations.values()) {
      if (reg.pendingInitial) await reg.register();
      else await reg.resync(known);
    }
  }
}

export function createConsul(config: ConsulView, caps: Capabilities): Subsystem {
  return new ConsulSubsystem(config, caps);
}
