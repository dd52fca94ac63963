/**
 * ContainerPilot 3 (`jobs`, `watches`, `telemetry.metrics`, `control`) → Pilotfish. A v3 job is
 * already a Pilotfish job; what differs is spelling (initial_status, consul options, watch.NAME
 * sources, Go durations) and a few defaults, each kept or noted here.
 */
import { EVENT_CODES } from '../kernel/events.js';
import {
  POLL_NOTE,
  STAND_IN,
  nameOf,
  safeName,
  noteEnvironment,
  noteRestarts,
  noteTimeouts,
  command,
  concrete,
  duration,
  isObj,
  type Context,
  type Obj,
} from './common.js';
import { V3_KEYS } from './detect.js';
import { consul, logging, telemetry } from './sections.js';

const JOB_KEYS = ['name', 'exec', 'port', 'interfaces', 'tags', 'consul', 'health', 'when', 'restarts', 'stopTimeout', 'timeout', 'logging', 'initial_status'];

/** Event sources: `watch.NAME` is the watch NAME (renamed when a job has that name); `global`/`containerpilot` is `pilotfish`. */
/** Renamed jobs (ContainerPilot name → Pilotfish name) and watches (service → Pilotfish name). */
interface Names {
  jobs: Map<string, string>;
  watches: Map<string, string>;
}

function source(value: unknown, names: Names): unknown {
  if (value === 'global' || value === 'containerpilot') return 'pilotfish';
  if (typeof value === 'string' && value.startsWith('watch.')) return names.watches.get(value.slice(6)) ?? value.slice(6);
  return typeof value === 'string' ? (names.jobs.get(value) ?? value) : value;
}

function when(cp: unknown, ctx: Context, path: string, names: Names): Obj | undefined {
  if (!isObj(cp)) return undefined;
  ctx.notes.unknown(cp, ['source', 'once', 'each', 'interval', 'timeout'], path);
  const out: Obj = {};
  if (cp.interval !== undefined) {
    out.interval = duration(cp.interval, ctx, `${path}.interval`);
    return out;
  }
  if (cp.source !== undefined) out.source = source(cp.source, names);
  for (const k of ['once', 'each'] as const) {
    const code = concrete(cp[k], ctx, `${path}.${k}`);
    if (code === undefined || code === '') continue;
    if (code === 'SIGHUP' || code === 'SIGUSR2') out[k] = 'signal';
    else if ((EVENT_CODES as readonly unknown[]).includes(code)) out[k] = code;
    else
      ctx.notes.add(
        `${path}.${k}`,
        `"${String(code)}" is not an event ContainerPilot jobs can wait for (it refused the config); the job waits for its source's default event`,
      );
  }
  if (out.source === 'SIGHUP' || out.source === 'SIGUSR2') {
    delete out.once;
    out.each = 'signal'; // ContainerPilot ran signal jobs on every signal, whatever once/each said
  }
  if (cp.timeout !== undefined) out.timeout = duration(cp.timeout, ctx, `${path}.timeout`);
  return out;
}

function health(cp: unknown, ctx: Context, path: string): Obj | undefined {
  if (!isObj(cp)) return undefined;
  ctx.notes.unknown(cp, ['exec', 'interval', 'ttl', 'timeout', 'logging'], path);
  const out: Obj = { exec: command(cp.exec, ctx, `${path}.exec`) ?? 'true' };
  if (cp.exec === undefined) ctx.notes.add(`${path}.exec`, 'no check command: ContainerPilot only sent heartbeats; Pilotfish runs `true` as the check');
  for (const k of ['interval', 'ttl', 'timeout'] as const) if (cp[k] !== undefined) out[k] = duration(cp[k], ctx, `${path}.${k}`);
  if (isObj(cp.logging) && cp.logging.raw === true)
    ctx.notes.add(`${path}.logging.raw`, "Pilotfish logs a health check's output only when it fails, always wrapped");
  return out;
}

function job(cp: Obj, i: number, ctx: Context, names: Names): Obj {
  const path = `jobs[${i}]`;
  ctx.notes.unknown(cp, JOB_KEYS, path);
  const exec = cp.exec === undefined ? undefined : command(cp.exec, ctx, `${path}.exec`);
  const name = cp.name === undefined ? nameOf(exec, `job-${i}`) : (names.jobs.get(String(cp.name)) ?? cp.name);
  const out: Obj = { name, exec: exec ?? STAND_IN };
  if (cp.exec === undefined)
    ctx.notes.add(
      `${path}.exec`,
      'a job with no process (service registration only): Pilotfish registers a service while its job runs, so this one runs a stand-in that sleeps',
    );
  const w = when(cp.when, ctx, `${path}.when`, names);
  if (w && Object.keys(w).length > 0) out.when = w;
  const restarts = concrete(cp.restarts, ctx, `${path}.restarts`);
  if (w?.interval !== undefined) {
    // ContainerPilot: an interval job runs every interval, `restarts` times more (default unlimited).
    if (restarts !== undefined && restarts !== 'unlimited')
      ctx.notes.add(
        `${path}.restarts`,
        `ContainerPilot stopped this periodic job after ${restarts === 'never' ? 1 : Number(restarts) + 1} run(s); Pilotfish runs it every interval until it stops`,
      );
  } else if (restarts !== undefined) out.restarts = restarts;
  if (cp.timeout !== undefined) out.timeout = duration(cp.timeout, ctx, `${path}.timeout`);
  if (cp.stopTimeout !== undefined) out.stopTimeout = duration(cp.stopTimeout, ctx, `${path}.stopTimeout`);
  const h = health(cp.health, ctx, `${path}.health`);
  if (h) out.health = h;
  for (const k of ['port', 'tags', 'interfaces'] as const) if (cp[k] !== undefined) out[k] = cp[k];
  if (cp.initial_status !== undefined) out.initialStatus = cp.initial_status;
  if (isObj(cp.consul)) {
    ctx.notes.unknown(cp.consul, ['enableTagOverride', 'deregisterCriticalServiceAfter'], `${path}.consul`);
    if (cp.consul.enableTagOverride !== undefined) out.enableTagOverride = cp.consul.enableTagOverride;
    const dereg = duration(cp.consul.deregisterCriticalServiceAfter, ctx, `${path}.consul.deregisterCriticalServiceAfter`);
    if (dereg !== undefined) out.deregisterCriticalServiceAfter = dereg;
  }
  if (isObj(cp.logging) && cp.logging.raw === true) out.logging = 'raw';
  return out;
}

function watch(cp: unknown, i: number, ctx: Context, jobNames: Set<string>): Obj | undefined {
  const path = `watches[${i}]`;
  if (!isObj(cp) || typeof cp.name !== 'string') {
    ctx.notes.add(path, 'has no name (ContainerPilot refused the config); dropped');
    return undefined;
  }
  ctx.notes.unknown(cp, ['name', 'interval', 'tag', 'dc'], path);
  const out: Obj = { name: jobNames.has(cp.name) ? `watch.${cp.name}` : cp.name, service: cp.name };
  if (cp.tag !== undefined) out.tag = cp.tag;
  if (cp.dc !== undefined) out.datacenter = cp.dc;
  return out;
}

export function convertV3(cp: Obj, ctx: Context): Obj {
  ctx.notes.unknown(cp, V3_KEYS, '');
  const out: Obj = {};
  const log = logging(cp.logging, ctx);
  if (log && Object.keys(log).length > 0) out.logging = log;
  out.stopTimeout = duration(cp.stopTimeout ?? 5, ctx, 'stopTimeout'); // ContainerPilot's default: 5 s
  const c = consul(cp.consul, ctx);
  if (c) out.consul = c;
  if (isObj(cp.control)) {
    ctx.notes.unknown(cp.control, ['socket'], 'control');
    if (typeof cp.control.socket === 'string') out.control = { socket: cp.control.socket };
  }
  const rawJobs = (Array.isArray(cp.jobs) ? cp.jobs : []).filter(isObj);
  const jobNames = new Set(rawJobs.map((j) => j.name).filter((n): n is string => typeof n === 'string'));
  const watches: Obj[] = [];
  (Array.isArray(cp.watches) ? (cp.watches as unknown[]) : []).forEach((w, i) => {
    const converted = watch(w, i, ctx, jobNames);
    if (converted) watches.push(converted);
  });
  const names: Names = {
    watches: new Map(watches.map((w) => [w.service as string, w.name as string])),
    jobs: new Map(rawJobs.flatMap((j, i) => (j.name === undefined ? [] : [[String(j.name), safeName(j.name, ctx, `jobs[${i}].name`)]]))),
  };
  const jobs = rawJobs.map((j, i) => job(j, i, ctx, names));
  const t = telemetry(cp.telemetry, ctx, c !== undefined);
  if (t.section) out.telemetry = t.section;
  out.jobs = [...jobs, ...t.jobs];
  const socket = (out.control as Obj | undefined)?.socket;
  // Jobs' `containerpilot -putmetric` / `pilotfish putmetric` must find this socket, as they found ContainerPilot's.
  if (typeof socket === 'string') for (const j of out.jobs as Obj[]) j.env = { PILOTFISH_SOCKET: socket };
  noteRestarts(out.jobs as Obj[], ctx);
  noteTimeouts(out.jobs as Obj[], ctx);
  noteEnvironment(out.jobs as Obj[], ctx, 3);
  if (watches.length > 0) {
    out.watches = watches;
    ctx.notes.add('watches', POLL_NOTE);
  }
  if (jobs.some((j) => (j.when as Obj | undefined)?.interval !== undefined))
    ctx.notes.add(
      'jobs',
      'periodic jobs: ContainerPilot ran them once at start-up and then every interval; Pilotfish first runs them one interval after start-up',
    );
  return out;
}
