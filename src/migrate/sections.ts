/**
 * The sections ContainerPilot 2 and 3 share, converted once: logging, the Consul client and
 * telemetry (v3 metrics; v2 sensors, which come back as jobs feeding their metric).
 */
import { STAND_IN, command, concrete, duration, isObj, type Context, type Obj } from './common.js';

const LEVELS: Record<string, string> = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', WARNING: 'warn', ERROR: 'error', FATAL: 'fatal', PANIC: 'fatal' };

export function logging(cp: unknown, ctx: Context): Obj | undefined {
  if (!isObj(cp)) return undefined;
  ctx.notes.unknown(cp, ['level', 'format', 'output'], 'logging');
  const out: Obj = {};
  const level = concrete(cp.level, ctx, 'logging.level');
  if (typeof level === 'string' && level !== '') {
    const mapped = LEVELS[level.toUpperCase()];
    if (mapped) out.level = mapped;
    else ctx.notes.add('logging.level', `"${level}" is not a level ContainerPilot accepts (it refused the config); left at info`);
  }
  const format = concrete(cp.format, ctx, 'logging.format');
  if (format === 'json') out.format = 'json';
  else if (format === 'text' || format === 'default') out.format = 'text';
  if (format === 'default')
    ctx.notes.add('logging.format', 'ContainerPilot\'s "default" (a timestamp and the message) becomes Pilotfish\'s text format, which also names the level');
  const output = concrete(cp.output, ctx, 'logging.output');
  if (output === 'stderr')
    ctx.notes.add('logging.output', 'Pilotfish logs to stdout; ContainerPilot was told stderr (redirect in the container runtime if it matters)');
  return out;
}

export function consul(cp: unknown, ctx: Context): Obj | undefined {
  if (typeof cp === 'string') return { address: cp };
  if (!isObj(cp)) return undefined;
  ctx.notes.unknown(cp, ['address', 'scheme', 'token', 'tls'], 'consul');
  const out: Obj = {};
  if (typeof cp.address === 'string') out.address = typeof cp.scheme === 'string' && cp.scheme !== '' ? `${cp.scheme}://${cp.address}` : cp.address;
  if (cp.token !== undefined) out.token = cp.token;
  if (isObj(cp.tls) && Object.keys(cp.tls).length > 0)
    ctx.notes.add(
      'consul.tls',
      `Pilotfish's Consul client takes TLS settings from the environment only: set ${['CONSUL_CACERT', 'CONSUL_CAPATH', 'CONSUL_CLIENT_CERT', 'CONSUL_CLIENT_KEY', 'CONSUL_TLS_SERVER_NAME', 'CONSUL_HTTP_SSL_VERIFY'].join(', ')} instead`,
    );
  return out;
}

/** The first interface spec ContainerPilot would try, as Pilotfish's telemetry address or interface. */
function telemetryListen(cp: Obj, ctx: Context, out: Obj): void {
  const raw = concrete(cp.interfaces, ctx, 'telemetry.interfaces');
  const ifaces = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
  const first = ifaces[0];
  if (typeof first !== 'string') return;
  const name = /^([A-Za-z][\w.-]*?)(?::inet)?$/.exec(first);
  if (first.startsWith('static:')) out.address = first.slice('static:'.length);
  else if (name && !['inet', 'inet6'].includes(first)) out.interface = name[1];
  else
    ctx.notes.add(
      'telemetry.interfaces',
      `"${first}" has no Pilotfish equivalent (an address or an interface's first IPv4 address); listening on every address`,
    );
  if (ifaces.length > 1) ctx.notes.add('telemetry.interfaces', 'Pilotfish listens on the first interface only, without falling back to the next ones');
}

const METRIC_KEYS = ['namespace', 'subsystem', 'name', 'help', 'type'];

/** `telemetry`; v2 sensors come back as jobs that feed their metric with `pilotfish putmetric`. */
export function telemetry(cp: unknown, ctx: Context, hasConsul: boolean): { section?: Obj; jobs: Obj[] } {
  if (!isObj(cp)) return { jobs: [] };
  ctx.notes.unknown(cp, ['port', 'interfaces', 'tags', 'metrics', 'sensors'], 'telemetry');
  const section: Obj = { port: cp.port ?? 9090 };
  telemetryListen(cp, ctx, section);
  const jobs: Obj[] = [];
  const list = Array.isArray(cp.metrics) ? cp.metrics : Array.isArray(cp.sensors) ? cp.sensors : [];
  const key = Array.isArray(cp.metrics) ? 'metrics' : 'sensors';
  section.metrics = list.flatMap((m: unknown, i: number) => {
    const path = `telemetry.${key}[${i}]`;
    if (!isObj(m)) return [];
    ctx.notes.unknown(m, key === 'sensors' ? [...METRIC_KEYS, 'poll', 'check', 'timeout'] : METRIC_KEYS, path);
    const type = concrete(m.type, ctx, `${path}.type`);
    if (type !== 'counter' && type !== 'gauge') {
      ctx.notes.add(
        path,
        `type ${String(type)} is not supported by Pilotfish (counter and gauge are); the metric${key === 'sensors' ? ' and its sensor are' : ' is'} dropped`,
      );
      return [];
    }
    const metric: Obj = {};
    for (const k of ['namespace', 'subsystem'] as const) if (typeof m[k] === 'string' && m[k] !== '') metric[k] = m[k];
    Object.assign(metric, { name: m.name, help: m.help, type });
    if (key === 'sensors') {
      const full = [metric.namespace, metric.subsystem, metric.name].filter(Boolean).join('_');
      const check = command(m.check, ctx, `${path}.check`);
      const argv = typeof check === 'string' ? check.split(/\s+/) : (check ?? []);
      const job: Obj = {
        name: `sensor-${String(m.name)}`,
        exec: [
          '/bin/sh',
          '-c',
          `value=$("$@") && exec ${ctx.pilotfish.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')} putmetric "${full}=$(echo $value)"`,
          'sensor',
          ...argv,
        ],
        when: { interval: duration(m.poll, ctx, `${path}.poll`) },
      };
      if (m.timeout !== undefined) job.timeout = duration(m.timeout, ctx, `${path}.timeout`);
      jobs.push(job);
    }
    return [metric];
  });
  if (hasConsul) {
    // ContainerPilot registered its telemetry endpoint as the service "containerpilot", with a
    // heartbeat every 5 s and a 15 s TTL and no check command: the same, with a check that always passes.
    const svc: Obj = { name: 'containerpilot', exec: STAND_IN, port: section.port, health: { exec: 'true', interval: 5, ttl: 15 } };
    if (Array.isArray(cp.tags)) svc.tags = cp.tags;
    if (cp.interfaces !== undefined) svc.interfaces = cp.interfaces;
    jobs.push(svc);
  } else if (cp.tags !== undefined) ctx.notes.add('telemetry.tags', 'without a consul section nothing is registered (as in ContainerPilot); dropped');
  return { section, jobs };
}
