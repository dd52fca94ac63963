/**
 * ContainerPilot v3 (JSON5) → Pilotfish YAML. Everything with a Pilotfish equivalent is
 * converted; everything else is listed in `# NOTE:` comments at the top of the output, with
 * the ContainerPilot key path, so nothing is dropped silently.
 */
import JSON5 from 'json5';
import { Document } from 'yaml';
import { EVENT_CODES } from '../kernel/events.js';
import { PilotfishError, errorMessage } from '../kernel/errors.js';
import { convertTemplates } from './templates.js';

export interface MigrateResult {
  yaml: string;
  /** The converted config as an object (before YAML). */
  config: Record<string, unknown>;
  notes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Notes {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
  /** Note every key of `obj` not in `known`. */
  unknown(obj: Obj, known: string[], path: string): void {
    for (const k of Object.keys(obj)) if (!known.includes(k)) this.add(`${path}.${k}`, 'has no Pilotfish equivalent; dropped');
  }
}

const LEVELS: Record<string, string> = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', WARNING: 'warn', ERROR: 'error', FATAL: 'fatal', PANIC: 'fatal' };

function convertLogging(cp: unknown, notes: Notes): Obj | undefined {
  if (!isObj(cp)) return undefined;
  notes.unknown(cp, ['level', 'format', 'output'], 'logging');
  const out: Obj = {};
  const templated = typeof cp.level === 'string' ? /^\$\{(\w+)(?::-(\w+))?\}$/.exec(cp.level) : null;
  if (templated) {
    const fallback = templated[2] ? LEVELS[templated[2].toUpperCase()] : undefined;
    out.level = `\${${templated[1]}${fallback ? `:-${fallback}` : ''}}`;
    notes.add('logging.level', `${templated[1]} must now hold a lowercase level (debug, info, warn, error)`);
  } else if (typeof cp.level === 'string') {
    const level = LEVELS[cp.level.toUpperCase()];
    if (level) out.level = level;
    else notes.add('logging.level', `unknown level ${cp.level}; left at info`);
  }
  if (cp.format === 'json') out.format = 'json';
  else if (cp.format === 'text' || cp.format === 'default') out.format = 'text';
  if (cp.output !== undefined && cp.output !== 'stdout')
    notes.add('logging.output', `Pilotfish always logs to stdout (was ${String(cp.output)}); redirect in the container runtime`);
  return out;
}

function convertConsul(cp: unknown, notes: Notes): Obj | undefined {
  if (typeof cp === 'string') return { address: cp };
  if (!isObj(cp)) return undefined;
  notes.unknown(cp, ['address', 'scheme', 'token', 'tls'], 'consul');
  const out: Obj = {};
  if (typeof cp.address === 'string') out.address = typeof cp.scheme === 'string' ? `${cp.scheme}://${cp.address}` : cp.address;
  if (cp.token !== undefined) {
    out.token = cp.token;
    notes.add('consul.token', 'a token in the config file: prefer CONSUL_HTTP_TOKEN in the environment');
  }
  if (cp.tls !== undefined) notes.add('consul.tls', 'TLS client settings are not converted; use CONSUL_CACERT/CONSUL_CLIENT_CERT/CONSUL_CLIENT_KEY');
  return out;
}

/** ContainerPilot sources: `containerpilot` is Pilotfish's `pilotfish`; `watch.NAME` is the watch `NAME`. */
function convertSource(source: unknown): unknown {
  if (source === 'containerpilot') return 'pilotfish';
  if (typeof source === 'string' && source.startsWith('watch.')) return source.slice('watch.'.length);
  return source;
}

function convertWhen(cp: unknown, notes: Notes, path: string): Obj | undefined {
  if (!isObj(cp)) return undefined;
  notes.unknown(cp, ['source', 'once', 'each', 'interval', 'timeout'], path);
  const out: Obj = {};
  if (cp.source !== undefined) out.source = convertSource(cp.source);
  for (const k of ['once', 'each'] as const) {
    if (cp[k] === undefined) continue;
    if ((EVENT_CODES as readonly unknown[]).includes(cp[k])) out[k] = cp[k];
    else notes.add(`${path}.${k}`, `event ${String(cp[k])} does not exist in Pilotfish; the job now waits for its source's default event: pick one of ${EVENT_CODES.join(', ')}`);
  }
  if (cp.interval !== undefined) out.interval = cp.interval;
  if (cp.timeout !== undefined) out.timeout = cp.timeout;
  return out;
}

const JOB_KEYS = ['name', 'exec', 'port', 'interfaces', 'tags', 'consul', 'health', 'when', 'restarts', 'stopTimeout', 'timeout', 'logging', 'initial_status'];

function convertJob(cp: unknown, i: number, notes: Notes): Obj | undefined {
  const path = `jobs[${i}]`;
  if (!isObj(cp)) {
    notes.add(path, 'is not an object; dropped');
    return undefined;
  }
  notes.unknown(cp, JOB_KEYS, path);
  const out: Obj = { name: cp.name, exec: cp.exec };
  if (cp.exec === undefined) notes.add(`${path}.exec`, 'is missing; Pilotfish jobs need a command');
  for (const k of ['port', 'interfaces', 'tags', 'restarts', 'stopTimeout', 'timeout'] as const) if (cp[k] !== undefined) out[k] = cp[k];
  if (cp.initial_status !== undefined) out.initialStatus = cp.initial_status;
  const when = convertWhen(cp.when, notes, `${path}.when`);
  if (when) out.when = when;
  if (isObj(cp.health)) {
    notes.unknown(cp.health, ['exec', 'interval', 'ttl', 'timeout'], `${path}.health`);
    const h: Obj = { exec: cp.health.exec };
    for (const k of ['interval', 'timeout', 'ttl'] as const) if (cp.health[k] !== undefined) h[k] = cp.health[k];
    out.health = h;
  }
  if (isObj(cp.logging)) {
    notes.unknown(cp.logging, ['raw'], `${path}.logging`);
    if (cp.logging.raw === true) out.logging = 'raw';
  }
  if (isObj(cp.consul)) {
    for (const k of Object.keys(cp.consul))
      notes.add(`${path}.consul.${k}`, 'per-service Consul options are not supported by Pilotfish; dropped');
  }
  return out;
}

function convertWatch(cp: unknown, i: number, notes: Notes): Obj | undefined {
  const path = `watches[${i}]`;
  if (!isObj(cp) || typeof cp.name !== 'string') {
    notes.add(path, 'has no name; dropped');
    return undefined;
  }
  notes.unknown(cp, ['name', 'interval', 'tag', 'dc'], path);
  const name = cp.name.startsWith('watch.') ? cp.name.slice(6) : cp.name;
  const out: Obj = { name, service: name };
  if (cp.tag !== undefined) out.tag = cp.tag;
  if (cp.dc !== undefined) out.datacenter = cp.dc;
  return out;
}

function convertTelemetry(cp: unknown, notes: Notes): Obj | undefined {
  if (!isObj(cp)) return undefined;
  notes.unknown(cp, ['port', 'interfaces', 'tags', 'metrics'], 'telemetry');
  const out: Obj = {};
  if (cp.port !== undefined) out.port = cp.port;
  const ifaces = typeof cp.interfaces === 'string' ? [cp.interfaces] : Array.isArray(cp.interfaces) ? cp.interfaces : [];
  const first = ifaces[0];
  if (typeof first === 'string') {
    if (first.startsWith('static:')) out.address = first.slice('static:'.length);
    else if (/^[A-Za-z][\w.-]*$/.test(first) && !['inet', 'inet6'].includes(first)) out.interface = first;
    else notes.add('telemetry.interfaces', `"${first}" cannot be converted; set telemetry.address or telemetry.interface`);
    if (ifaces.length > 1) notes.add('telemetry.interfaces', 'only the first interface is used');
  }
  if (cp.tags !== undefined) notes.add('telemetry.tags', 'Pilotfish does not register telemetry as a Consul service; dropped');
  if (Array.isArray(cp.metrics)) {
    out.metrics = cp.metrics.flatMap((m: unknown, i: number) => {
      const path = `telemetry.metrics[${i}]`;
      if (!isObj(m)) return [];
      notes.unknown(m, ['namespace', 'subsystem', 'name', 'help', 'type'], path);
      if (m.type !== 'counter' && m.type !== 'gauge') {
        notes.add(path, `type ${String(m.type)} is not supported (counter and gauge are); dropped`);
        return [];
      }
      const metric: Obj = {};
      for (const k of ['namespace', 'subsystem'] as const) if (typeof m[k] === 'string' && m[k] !== '') metric[k] = m[k];
      Object.assign(metric, { name: m.name, help: m.help, type: m.type });
      return [metric];
    });
  }
  return out;
}

export function migrate(source: string, file = 'containerpilot.json5'): MigrateResult {
  const notes = new Notes();
  const templated = convertTemplates(source);
  for (const n of templated.notes) notes.add(`${file}:${n.line}`, n.message);
  let cp: unknown;
  try {
    cp = JSON5.parse(templated.text);
  } catch (cause) {
    throw new PilotfishError(
      'PF_MIGRATE_INPUT',
      `${file}: not valid JSON5 after converting templates: ${errorMessage(cause)}. Template control flow ({{ if }}, {{ range }}) cannot be converted: render it first.`,
      { cause },
    );
  }
  if (!isObj(cp)) throw new PilotfishError('PF_MIGRATE_INPUT', `${file}: a ContainerPilot config is an object`);
  notes.unknown(cp, ['consul', 'logging', 'jobs', 'watches', 'telemetry', 'control', 'stopTimeout'], '');
  const out: Obj = {};
  const logging = convertLogging(cp.logging, notes);
  if (logging && Object.keys(logging).length > 0) out.logging = logging;
  if (cp.stopTimeout !== undefined) out.stopTimeout = cp.stopTimeout;
  const consul = convertConsul(cp.consul, notes);
  if (consul) out.consul = consul;
  if (isObj(cp.control)) {
    notes.unknown(cp.control, ['socket'], 'control');
    if (typeof cp.control.socket === 'string') out.control = { socket: cp.control.socket };
  }
  out.jobs = (Array.isArray(cp.jobs) ? cp.jobs : []).flatMap((j: unknown, i: number) => convertJob(j, i, notes) ?? []);
  if ((out.jobs as unknown[]).length === 0) notes.add('jobs', 'there are no jobs; Pilotfish needs at least one');
  if (Array.isArray(cp.watches) && cp.watches.length > 0) {
    out.watches = cp.watches.flatMap((w: unknown, i: number) => convertWatch(w, i, notes) ?? []);
    if (cp.watches.some((w) => isObj(w) && w.interval !== undefined))
      notes.add('watches', 'interval polling was replaced by Consul blocking queries (each watch reacts at once)');
  }
  const telemetry = convertTelemetry(cp.telemetry, notes);
  if (telemetry) out.telemetry = telemetry;
  if (templated.undefaulted.length > 0)
    notes.add(
      'environment',
      `Pilotfish refuses to start when a variable without a default is unset (ContainerPilot rendered "<no value>"): ${templated.undefaulted.map((v) => `\${${v}}`).join(', ')}; add :-default where empty is fine`,
    );

  const doc = new Document(out);
  const header = [` Converted from ${file} by \`pilotfish migrate\`. Check it with \`pilotfish validate --config FILE\`.`];
  for (const n of notes.list) header.push(` NOTE: ${n.replace(/^\./, '')}`);
  doc.commentBefore = header.join('\n');
  return { yaml: doc.toString({ lineWidth: 0 }), config: out, notes: notes.list };
}
