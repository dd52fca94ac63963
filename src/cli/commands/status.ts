/** `pilotfish status`: a table on a terminal, JSON with --json or when piped. */
import type { SupervisorStatus } from '../../subsystem/contract.js';
import { expectOk, parseControl, print } from '../client.js';

const USAGE = "pilotfish status [--json | --ping] [--socket PATH]   (--ping: print ok when Pilotfish answers, as ContainerPilot's -ping)";

function ago(iso: string | undefined): string {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function render(s: SupervisorStatus, now = Date.now()): string {
  const head = [
    `pilotfish pid ${s.pid}, up ${span(s.uptimeMs)}${s.stopping ? ', STOPPING' : ''}${s.maintenance ? ', MAINTENANCE' : ''}`,
    `reloads ${s.reloads}${s.environ.length ? `, putenv: ${s.environ.join(' ')}` : ''}`,
  ];
  const rows = [['JOB', 'STATE', 'PID', 'HEALTH', 'RUNS', 'RESTARTS', 'LAST EXIT']];
  const reasons: string[] = [];
  for (const j of s.jobs) {
    const exit = j.lastExit ? `${j.lastExit.signal ?? j.lastExit.code} ${ago(j.lastExit.at)}` : '';
    rows.push([`${j.name}${j.main ? '*' : ''}`, j.state, j.pid === null ? '-' : String(j.pid), j.health ?? '-', String(j.runs), String(j.restarts), exit]);
    if (j.healthReason) reasons.push(`  ${j.name}: unhealthy: ${j.healthReason}`);
    if (j.lastExit?.error && j.state !== 'running') reasons.push(`  ${j.name}: ${j.lastExit.error}`);
  }
  const subs = [['SUBSYSTEM', 'STATE']];
  for (const [name, value] of Object.entries(s.subsystems)) subs.push([name, describeSubsystem(name, value, now)]);
  return [
    head.join('\n'),
    '',
    table(rows),
    ...(reasons.length ? ['', ...reasons] : []),
    ...(subs.length > 1 ? ['', table(subs)] : []),
    '(* main job)',
    '',
  ].join('\n');
}

/** "3s", "5m", "2h10m", "3d4h". */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? `${Math.floor((s % 86400) / 3600)}h` : ''}`;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line per subsystem: what an operator looks for first. Unknown shapes are shown compactly. */
export function describeSubsystem(name: string, value: unknown, now = Date.now()): string {
  const v = obj(value);
  const error = str(v.error) ?? str(v.lastError);
  const parts: string[] = [];
  switch (name) {
    case 'backup': {
      if (v.running === false && v.backups === undefined) return 'not running';
      const last = str(v.lastSuccess);
      parts.push(last ? `last backup ${last} (${span(now - Date.parse(last))} ago)` : 'no backup yet');
      if (num(v.backups) !== undefined) parts.push(`${plural(num(v.backups) as number, 'backup')}, ${plural(num(v.failures) ?? 0, 'failure')}`);
      if (v.running === true) parts.push('backing up now');
      break;
    }
    case 'election': {
      const role = str(v.role) ?? 'unknown';
      parts.push(role === 'primary' && num(v.lockIndex) !== undefined ? `primary (lock index ${num(v.lockIndex)})` : role);
      if (role !== 'primary' && str(v.primary)) parts.push(`primary is ${str(v.primary)}`);
      const age = num(v.lastRenewalAgeMs);
      const ttl = num(v.ttlMs);
      if (age !== undefined)
        parts.push(
          ttl !== undefined ? `lease renewed ${span(age)} ago, ${span(Math.max(0, ttl - age))} of its ${span(ttl)} TTL left` : `lease renewed ${span(age)} ago`,
        );
      else if (ttl !== undefined) parts.push(`lease TTL ${span(ttl)}`);
      if (str(v.key)) parts.push(`key ${str(v.key)}`);
      break;
    }
    case 'consul': {
      if (str(v.address)) parts.push(str(v.address) as string);
      for (const r of list(v.services).map(obj)) {
        const state = r.registered === true ? 'registered' : 'NOT registered';
        const check = obj(r.check);
        const checkText = str(r.check) ?? str(check.status);
        parts.push(
          `${str(r.serviceId) ?? str(r.service) ?? 'service'} ${state}${r.maintenance === true ? ' (maintenance)' : ''}${checkText ? `, check ${checkText}` : ''}`,
        );
      }
      if (list(v.watches).length) parts.push(plural(list(v.watches).length, 'watch').replace('watchs', 'watches'));
      break;
    }
    case 'vault': {
      const auth = obj(v.auth);
      if (auth.loggedIn === true) {
        const ttl = num(auth.ttlSeconds);
        parts.push(`logged in (${str(auth.method) ?? 'token'})`);
        parts.push(ttl === null || ttl === undefined ? 'token TTL none' : `token TTL ${span(ttl * 1000)}${auth.renewable === true ? ', renewable' : ''}`);
      } else if (v.auth !== undefined) parts.push('NOT logged in');
      const secrets = list(v.secrets).map(obj);
      if (secrets.length) {
        const failing = secrets.filter((x) => str(x.lastError)).map((x) => str(x.name));
        parts.push(`${plural(secrets.length, 'secret')}${failing.length ? ` (failing: ${failing.join(', ')})` : ''}`);
      }
      const authError = str(auth.lastError);
      if (authError) parts.push(`last error: ${authError}`);
      break;
    }
    case 'control':
      parts.push(str(v.socket) ?? 'off');
      break;
    case 'telemetry':
      parts.push(str(v.address) ?? 'off');
      break;
    case 'templates': {
      const ts = list(value).map(obj);
      parts.push(plural(ts.length, 'template'));
      for (const t of ts) {
        const waiting = list(t.waitingFor).map(String);
        if (waiting.length) parts.push(`${str(t.name)} waits for ${waiting.join(', ')}`);
        if (str(t.lastError)) parts.push(`${str(t.name)}: ${str(t.lastError)}`);
      }
      break;
    }
    default:
      for (const [k, x] of Object.entries(v)) if (x === null || ['string', 'number', 'boolean'].includes(typeof x)) parts.push(`${k} ${String(x)}`);
  }
  if (error && !parts.some((p) => p.includes(error))) parts.push(`error: ${error}`);
  const line = parts.join('; ');
  return line.length > 400 ? `${line.slice(0, 400)}…` : line || '-';
}

export async function run(argv: string[]): Promise<number> {
  const { values, socket } = parseControl(argv, { json: { type: 'boolean' }, ping: { type: 'boolean' } }, USAGE);
  const status = await expectOk<SupervisorStatus>(socket, 'GET', '/v1/status');
  if (values.ping) {
    process.stdout.write('ok\n');
    return 0;
  }
  print(status, values.json === true, () => render(status));
  return 0;
}
