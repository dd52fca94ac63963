/**
 * The pieces every ContainerPilot key goes through: notes, values decided for the environment,
 * durations, commands, job names, and the stand-in process for a service that has none.
 */
import { interpolate } from '../config/interpolate.js';

import { isObj, type Obj } from './detect.js';

export { isObj, type Obj };

export interface Context {
  env: Readonly<Record<string, string | undefined>>;
  notes: Notes;
  /** How a job calls Pilotfish's CLI (sensors call `putmetric`). */
  pilotfish: string[];
}

export class Notes {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    const line = path ? `${path}: ${message}` : message;
    if (!this.list.includes(line)) this.list.push(line);
  }
  /** Note every key of `obj` that is not in `known`. */
  unknown(obj: Obj, known: readonly string[], path: string): void {
    for (const k of Object.keys(obj))
      if (!known.includes(k)) this.add(path ? `${path}.${k}` : k, 'ContainerPilot does not define this key (it refused the config); dropped');
  }
}

/** A value with `${VAR}` tokens resolved for the environment (for the few keys Pilotfish spells differently). */
export function concrete(value: unknown, ctx: Context, path: string): unknown {
  if (typeof value !== 'string' || !value.includes('${')) return value;
  try {
    const out = interpolate(value, ctx.env);
    ctx.notes.add(path, `rendered for this environment ("${out}"): Pilotfish spells this value differently, so it cannot follow the variable`);
    return out;
  } catch {
    return value;
  }
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A ContainerPilot duration (Go's "1h30m", "300ms", a bare number or digit string of seconds)
 * as a Pilotfish duration. Values holding `${…}` are kept: Pilotfish reads bare seconds too.
 */
export function duration(value: unknown, ctx: Context, path: string): string | number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') {
    ctx.notes.add(path, `"${String(value)}" is not a duration; dropped`);
    return undefined;
  }
  if (value.includes('${')) return value;
  const text = value.trim();
  if (/^[+-]?\d+$/.test(text)) return Number(text);
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let ms = 0;
  part.lastIndex = 0;
  while (part.lastIndex < text.length) {
    const at = part.lastIndex;
    const m = part.exec(text);
    if (!m || m.index !== at) {
      ctx.notes.add(path, `"${value}" is not a duration ContainerPilot accepts; dropped`);
      return undefined;
    }
    ms += Number(m[1]) * (GO_UNITS[m[2] as string] as number);
  }
  if (ms > 0 && ms < 1) ctx.notes.add(path, `${value} is below Pilotfish's 1ms resolution; rounded up to 1ms`);
  const whole = Math.max(ms > 0 ? 1 : 0, Math.round(ms));
  return whole % 3_600_000 === 0 && whole > 0
    ? `${whole / 3_600_000}h`
    : whole % 60_000 === 0 && whole > 0
      ? `${whole / 60_000}m`
      : whole % 1000 === 0
        ? `${whole / 1000}s`
        : `${whole}ms`;
}

const SHELL_WORD_SPECIAL = /["'\\$`|&;<>()*?~#\n]/;

/**
 * ContainerPilot split a string command on spaces and nothing else (no quotes, no shell).
 * Strings Pilotfish would split the same way stay strings; others become the argv ContainerPilot
 * ran, so quotes and `$` keep meaning what they meant there. `${…}` tokens are kept whole.
 */
export function command(value: unknown, ctx: Context, path: string): string | string[] | undefined {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  if (typeof value !== 'string' || value.trim() === '') {
    ctx.notes.add(path, 'is missing or empty; ContainerPilot refused such a command');
    return undefined;
  }
  const text = value.trim();
  const outsideTokens = text.replace(/\$\{(?:[^{}]|\{[^{}]*\})*\}/g, '');
  if (!SHELL_WORD_SPECIAL.test(outsideTokens.replace(/\$\$/g, '')) && !/\$\{/.test(text) && !text.includes('$$')) return text;
  const args: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '$' && text[i + 1] === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    if (c === ' ' && depth === 0) {
      if (cur !== '') args.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur !== '') args.push(cur);
  return args;
}

export const RESTART_NOTE =
  'Pilotfish waits before each restart (1s, doubling up to 30s, starting over after a run that lasted 30s); ContainerPilot restarted at once';

/** ContainerPilot's variables for child processes, which Pilotfish does not set. */
export function noteEnvironment(jobs: Obj[], ctx: Context, version: 2 | 3): void {
  const services = jobs
    .filter((j) => j.port !== undefined && j.name !== 'containerpilot')
    .map((j) => `CONTAINERPILOT_${String(j.name).toUpperCase().replace(/-/g, '_')}_IP`);
  const vars = [...services, 'CONTAINERPILOT_PID', ...(version === 2 ? ['CONTAINERPILOT_APP_PID'] : [])];
  ctx.notes.add(
    'environment',
    `ContainerPilot gave every process ${vars.join(', ')}; Pilotfish does not set them (it sets PILOTFISH_JOB): scripts that read them need another source`,
  );
}

/** One note when any job has a timeout. */
export function noteTimeouts(jobs: Obj[], ctx: Context): void {
  if (jobs.some((j) => j.timeout !== undefined))
    ctx.notes.add(
      'timeout',
      "a run past its timeout got SIGKILL at once from ContainerPilot; Pilotfish sends the job's stop signal (SIGTERM) first, then SIGKILL after its stopTimeout",
    );
}

/** One note when any job restarts. */
export function noteRestarts(jobs: Obj[], ctx: Context): void {
  if (jobs.some((j) => j.restarts !== undefined && j.restarts !== 'never' && j.restarts !== 0 && j.restarts !== '0')) ctx.notes.add('restarts', RESTART_NOTE);
}

export const POLL_NOTE =
  'Pilotfish watches Consul with blocking queries instead of polling every interval: a change is seen (and `changed` published) as soon as Consul has it';

const NAME_OK = /^(?:[A-Za-z0-9]|\$\{)(?:[A-Za-z0-9_.-]|\$\{[^}]*\}|:-)*$/;

/**
 * A name Pilotfish accepts (letters, digits, `_ . -`, starting with a letter or digit; `${…}`
 * tokens kept). ContainerPilot allowed any name for a job it did not register; others are
 * renamed, and the rename noted.
 */
export function safeName(name: unknown, ctx: Context, path: string): string {
  const text = String(name);
  if (NAME_OK.test(text)) return text;
  const safe = text.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+|-+$/g, '') || 'job';
  ctx.notes.add(path, `"${text}" is not a name Pilotfish accepts (letters, digits, _ . -); renamed "${safe}", and the events it is the source of with it`);
  return safe;
}

/** A job's name from its command, as ContainerPilot named unnamed jobs: the program's base name. */
export function nameOf(exec: string | string[] | undefined, fallback: string): string {
  const first = typeof exec === 'string' ? exec.split(/\s+/)[0] : exec?.[0];
  return (
    (first ?? fallback)
      .split('/')
      .pop()
      ?.replace(/[^A-Za-z0-9_.-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '') || fallback
  );
}

/** A process for a service that has none (Pilotfish registers a service while its job runs). */
export const STAND_IN = ['/bin/sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait; done"];
