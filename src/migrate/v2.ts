/**
 * ContainerPilot 2 → Pilotfish, through what each construct became in ContainerPilot 3:
 *
 *   the app (ContainerPilot's command line)  → the main job, named after the first service
 *   preStart (onStart)                       → a job at start-up; the app and coprocesses wait for its exitSuccess
 *   services[0]                              → the main job's port, health (poll/ttl/timeout), tags, interfaces
 *   services[1..]                            → jobs with a stand-in process, so the services stay registered
 *   backends[]                               → a watch, and its onChange as a job on each `changed`
 *   coprocesses[]                            → jobs started with the app, with their restarts
 *   tasks[]                                  → jobs `when: {interval: frequency}`, timeout defaulting to it
 *   preStop / postStop                       → jobs on the app's `stopping` / `stopped`
 *   telemetry.sensors[]                      → metrics, and a periodic job feeding each with `pilotfish putmetric`
 *   stopTimeout (seconds; -1 = kill at once) → stopTimeout
 */
import {
  POLL_NOTE,
  STAND_IN,
  nameOf,
  safeName,
  noteEnvironment,
  noteRestarts,
  noteTimeouts,
  command,
  duration,
  isObj,
  type Context,
  type Obj,
} from './common.js';
import { V2_KEYS } from './detect.js';
import { consul, logging, telemetry } from './sections.js';

const SERVICE_KEYS = ['name', 'port', 'health', 'interfaces', 'poll', 'ttl', 'timeout', 'tags', 'consul'];

/** A service's registration and health check, as job keys. */
function service(cp: Obj, ctx: Context, path: string): Obj {
  ctx.notes.unknown(cp, SERVICE_KEYS, path);
  const out: Obj = {};
  if (cp.port !== undefined) out.port = cp.port;
  if (cp.health !== undefined) {
    const h: Obj = { exec: command(cp.health, ctx, `${path}.health`) ?? 'true' };
    if (cp.poll !== undefined) h.interval = duration(cp.poll, ctx, `${path}.poll`);
    if (cp.ttl !== undefined) h.ttl = duration(cp.ttl, ctx, `${path}.ttl`);
    if (cp.timeout !== undefined) h.timeout = duration(cp.timeout, ctx, `${path}.timeout`);
    else
      ctx.notes.add(
        `${path}.timeout`,
        'not set: ContainerPilot 2 waited for the health check indefinitely; Pilotfish kills it after the poll interval (as ContainerPilot 3 does)',
      );
    out.health = h;
  }
  for (const k of ['tags', 'interfaces'] as const) if (cp[k] !== undefined) out[k] = cp[k];
  if (isObj(cp.consul)) {
    ctx.notes.unknown(cp.consul, ['enableTagOverride', 'deregisterCriticalServiceAfter'], `${path}.consul`);
    if (cp.consul.enableTagOverride !== undefined) out.enableTagOverride = cp.consul.enableTagOverride;
    const dereg = duration(cp.consul.deregisterCriticalServiceAfter, ctx, `${path}.consul.deregisterCriticalServiceAfter`);
    if (dereg !== undefined) out.deregisterCriticalServiceAfter = dereg;
  }
  return out;
}

export function convertV2(cp: Obj, ctx: Context, app: string[] | undefined): Obj {
  ctx.notes.unknown(cp, V2_KEYS, '');
  const out: Obj = {};
  const log = logging(cp.logging, ctx);
  if (log && Object.keys(log).length > 0) out.logging = log;
  const stop = typeof cp.stopTimeout === 'number' && cp.stopTimeout < 0 ? 0 : (cp.stopTimeout ?? 5);
  out.stopTimeout = duration(stop === 0 ? 0 : stop, ctx, 'stopTimeout');
  const c = consul(cp.consul, ctx);
  if (c) out.consul = c;
  if (cp.etcd !== undefined)
    ctx.notes.add('etcd', 'Pilotfish discovers services through Consul only; etcd registration and backends are not converted (add a consul section)');

  const jobs: Obj[] = [];
  const preStartCmd = cp.preStart ?? cp.onStart;
  if (cp.onStart !== undefined)
    ctx.notes.add(
      'onStart',
      cp.preStart === undefined ? 'the old name of preStart; converted as preStart' : 'ignored, as ContainerPilot 2 did when preStart is set',
    );
  const after = preStartCmd !== undefined ? { source: 'preStart', once: 'exitSuccess' } : undefined;
  if (preStartCmd !== undefined) {
    jobs.push({ name: 'preStart', exec: command(preStartCmd, ctx, 'preStart') });
    ctx.notes.add(
      'preStart',
      'when it fails ContainerPilot 2 exited at once; Pilotfish does not start the app and keeps running (see `pilotfish status`) until it is stopped',
    );
  }
  for (const [i, co] of (Array.isArray(cp.coprocesses) ? cp.coprocesses : []).entries()) {
    const path = `coprocesses[${i}]`;
    if (!isObj(co)) continue;
    ctx.notes.unknown(co, ['name', 'command', 'restarts'], path);
    const exec = command(co.command, ctx, `${path}.command`);
    const job: Obj = { name: typeof co.name === 'string' && co.name !== '' ? safeName(co.name, ctx, `${path}.name`) : nameOf(exec, `coprocess-${i}`), exec };
    if (after) job.when = after;
    if (co.restarts !== undefined) job.restarts = co.restarts;
    jobs.push(job);
  }

  const services = (Array.isArray(cp.services) ? cp.services : []).filter(isObj);
  const first = services[0];
  const main: Obj = { name: typeof first?.name === 'string' ? first.name : 'app', exec: app && app.length > 0 ? app : STAND_IN, main: true };
  if (!app || app.length === 0)
    ctx.notes.add(
      'app',
      "ContainerPilot 2 ran the app given on its command line; none was given, so the main job runs a stand-in: put the app's command in its exec (or: pilotfish migrate FILE -- APP ARGS...)",
    );
  if (after) main.when = after;
  if (first) Object.assign(main, service(first, ctx, 'services[0]'));
  if (cp.preStop !== undefined) jobs.push({ name: 'preStop', exec: command(cp.preStop, ctx, 'preStop'), when: { source: main.name, once: 'stopping' } });
  jobs.push(main);
  if (cp.postStop !== undefined) {
    jobs.push({ name: 'postStop', exec: command(cp.postStop, ctx, 'postStop'), when: { source: main.name, once: 'stopped' } });
    ctx.notes.add('postStop', "when it fails ContainerPilot 2 exited with its code instead of the app's; Pilotfish always exits with the app's code");
  }
  services.slice(1).forEach((s, k) => {
    const job: Obj = { name: s.name, exec: STAND_IN, ...service(s, ctx, `services[${k + 1}]`) };
    if (after) job.when = after;
    jobs.push(job);
    ctx.notes.add(
      `services[${k + 1}]`,
      'a service with no process of its own: Pilotfish registers a service while its job runs, so this one runs a stand-in that sleeps',
    );
  });

  const names = new Set(jobs.map((j) => j.name));
  const watches: Obj[] = [];
  for (const [i, b] of (Array.isArray(cp.backends) ? cp.backends : []).entries()) {
    const path = `backends[${i}]`;
    if (!isObj(b) || typeof b.name !== 'string') continue;
    ctx.notes.unknown(b, ['name', 'poll', 'onChange', 'timeout', 'tag', 'dc'], path);
    const watchName = names.has(b.name) ? `watch.${b.name}` : b.name;
    const w: Obj = { name: watchName, service: b.name };
    if (b.tag !== undefined) w.tag = b.tag;
    if (b.dc !== undefined) w.datacenter = b.dc;
    watches.push(w);
    if (b.onChange !== undefined) {
      const job: Obj = { name: `onChange-${b.name}`, exec: command(b.onChange, ctx, `${path}.onChange`), when: { source: watchName, each: 'changed' } };
      if (b.timeout !== undefined) job.timeout = duration(b.timeout, ctx, `${path}.timeout`);
      jobs.push(job);
    }
  }
  for (const [i, t] of (Array.isArray(cp.tasks) ? cp.tasks : []).entries()) {
    const path = `tasks[${i}]`;
    if (!isObj(t)) continue;
    ctx.notes.unknown(t, ['name', 'command', 'frequency', 'timeout'], path);
    const exec = command(t.command, ctx, `${path}.command`);
    const job: Obj = {
      name: typeof t.name === 'string' && t.name !== '' ? safeName(t.name, ctx, `${path}.name`) : nameOf(exec, `task-${i}`),
      exec,
      when: { interval: duration(t.frequency, ctx, `${path}.frequency`) },
    };
    if (t.timeout !== undefined) job.timeout = duration(t.timeout, ctx, `${path}.timeout`);
    jobs.push(job);
    if (after) ctx.notes.add(path, 'ContainerPilot 2 started tasks after preStart; Pilotfish starts periodic jobs at start-up');
  }
  if (watches.length > 0) ctx.notes.add('backends', POLL_NOTE);
  const t = telemetry(cp.telemetry, ctx, c !== undefined);
  if (t.section) out.telemetry = t.section;
  out.jobs = [...jobs, ...t.jobs];
  noteRestarts(out.jobs as Obj[], ctx);
  noteTimeouts(out.jobs as Obj[], ctx);
  noteEnvironment(out.jobs as Obj[], ctx, 2);
  if (watches.length > 0) out.watches = watches;
  const taken = new Set<unknown>();
  for (const j of out.jobs as Obj[]) {
    while (taken.has(j.name)) j.name = `${String(j.name)}-2`;
    taken.add(j.name);
  }
  return out;
}
