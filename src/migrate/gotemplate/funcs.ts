/**
 * The functions a ContainerPilot config can call: Go's template builtins, and the ones
 * ContainerPilot adds (default, env, split, join, replaceAll, regexReplaceAll, loop; v2 had all
 * but env and loop). Argument types are checked the way Go checks them, so a config ContainerPilot
 * refused is refused here too, with the same kind of message.
 */
import { EnvMap, GoInt, compare, goInt, print, sprintf, truth, typeName, type Value } from './values.js';

export type Func = (args: Value[]) => Value;

/** The most items `loop` makes (ContainerPilot had no bound, and ran out of memory instead). */
export const MAX_LOOP = 100_000;

function str(v: Value | undefined, fn: string, i: number): string {
  if (typeof v === 'string') return v;
  throw new Error(`wrong type for value; expected string; got ${v === undefined ? 'nothing' : typeName(v)} (argument ${i + 1} of ${fn})`);
}

function arity(args: Value[], n: number, fn: string): void {
  if (args.length !== n) throw new Error(`wrong number of args for ${fn}: want ${n} got ${args.length}`);
}

function toInt(v: Value | undefined): number {
  if (v instanceof GoInt) return v.value;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v)) return Number(v);
  if (typeof v === 'string') throw new Error(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  throw new Error(`expected an integer, got ${v === undefined ? 'nothing' : typeName(v)}`);
}

/** Go regexp (RE2) syntax → JavaScript: named groups and leading inline flags. */
function goRegExp(re: string): RegExp {
  let flags = 'g';
  let body = re;
  const inline = /^\(\?([imsU]+)\)/.exec(body);
  if (inline) {
    body = body.slice(inline[0].length);
    for (const f of inline[1] as string) if (f === 'i' || f === 'm' || f === 's') flags += f;
  }
  try {
    return new RegExp(body.replace(/\(\?P</g, '(?<'), `${flags}u`);
  } catch (error) {
    throw new Error(`error parsing regexp: ${(error as Error).message}`, { cause: error });
  }
}

/** Go's Expand syntax in a replacement ($1, ${1}, ${name}, $$) → JavaScript's. */
function goReplacement(to: string): string {
  return to.replace(/\$(\$|\{(\w+)\}|(\d+)|([A-Za-z_]\w*))/g, (_, all: string, braced?: string, num?: string, name?: string) => {
    if (all === '$') return '$$';
    const ref = braced ?? num ?? name ?? '';
    return /^\d+$/.test(ref) ? `$${ref}` : `$<${ref}>`;
  });
}

function index(args: Value[]): Value {
  let item = args[0] ?? null;
  for (const k of args.slice(1)) {
    if (item instanceof EnvMap) item = item.get(str(k, 'index', 1));
    else if (Array.isArray(item)) {
      const i = toInt(k);
      if (i < 0 || i >= item.length) throw new Error(`error calling index: index out of range: ${i}`);
      item = item[i] as Value;
    } else throw new Error(`can't index item of type ${item === null ? 'nil' : typeName(item)}`);
  }
  return item;
}

function len(v: Value): Value {
  if (typeof v === 'string') return goInt(Buffer.byteLength(v));
  if (Array.isArray(v)) return goInt(v.length);
  if (v instanceof EnvMap) return goInt(v.keys().length);
  throw new Error(`error calling len: len of type ${v === null ? 'nil' : typeName(v)}`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c] as string);
}

/** Functions evaluated eagerly; `and` and `or` are handled by the executor (they short-circuit). */
export const FUNCS: Record<string, Func> = {
  not: (a) => (arity(a, 1, 'not'), !truth(a[0] as Value)),
  eq: (a) => {
    if (a.length < 2) throw new Error('missing argument for comparison');
    return a.slice(1).some((b) => compare(a[0] as Value, b, 'eq'));
  },
  ne: (a) => (arity(a, 2, 'ne'), !compare(a[0] as Value, a[1] as Value, 'eq')),
  lt: (a) => (arity(a, 2, 'lt'), compare(a[0] as Value, a[1] as Value, 'lt')),
  le: (a) => (arity(a, 2, 'le'), compare(a[0] as Value, a[1] as Value, 'lt') || compare(a[0] as Value, a[1] as Value, 'eq')),
  gt: (a) => (arity(a, 2, 'gt'), !compare(a[0] as Value, a[1] as Value, 'lt') && !compare(a[0] as Value, a[1] as Value, 'eq')),
  ge: (a) => (arity(a, 2, 'ge'), !compare(a[0] as Value, a[1] as Value, 'lt')),
  len: (a) => (arity(a, 1, 'len'), len(a[0] as Value)),
  index: (a) => {
    if (a.length < 1) throw new Error('wrong number of args for index: want at least 1 got 0');
    return index(a);
  },
  print: (a) => a.map((v, i) => (i > 0 && typeof v !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + print(v)).join(''),
  println: (a) => `${a.map(print).join(' ')}\n`,
  printf: (a) => sprintf(str(a[0], 'printf', 0), a.slice(1)),
  html: (a) => escapeHtml(a.map(print).join('')),
  js: (a) =>
    a
      .map(print)
      .join('')
      .replace(
        /[\\'"<>&=\n\r\t]/g,
        (c) =>
          ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[
            c
          ] as string,
      ),
  urlquery: (a) =>
    encodeURIComponent(a.map(print).join(''))
      .replace(/%20/g, '+')
      .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
  slice: (a) => {
    const [item, ...ix] = a;
    const n = ix.map(toInt);
    if (typeof item === 'string') return item.slice(n[0] ?? 0, n[1]);
    if (Array.isArray(item)) return item.slice(n[0] ?? 0, n[1]);
    throw new Error(`can't slice item of type ${item === undefined || item === null ? 'nil' : typeName(item)}`);
  },
  // ContainerPilot's own (config/template/template.go in ContainerPilot 3; config/template.go in 2).
  default: (a) => {
    arity(a, 2, 'default');
    const [fallback, value] = a as [Value, Value];
    if (typeof value === 'string' && value !== '') return value;
    return typeof fallback === 'string' ? fallback : print(fallback);
  },
  env: (a) => (arity(a, 1, 'env'), process.env[str(a[0], 'env', 0)] ?? ''),
  split: (a) => {
    arity(a, 2, 'split');
    const s = str(a[1], 'split', 1).trim();
    return s === '' ? [] : s.split(str(a[0], 'split', 0));
  },
  join: (a) => {
    arity(a, 2, 'join');
    const list = a[1];
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string'))
      throw new Error(`wrong type for value; expected []string; got ${list === undefined ? 'nothing' : typeName(list)} (argument 2 of join)`);
    return list.join(str(a[0], 'join', 0));
  },
  replaceAll: (a) => (
    arity(a, 3, 'replaceAll'),
    str(a[2], 'replaceAll', 2)
      .split(str(a[0], 'replaceAll', 0))
      .join(str(a[1], 'replaceAll', 1))
  ),
  regexReplaceAll: (a) => {
    arity(a, 3, 'regexReplaceAll');
    return str(a[2], 'regexReplaceAll', 2).replace(goRegExp(str(a[0], 'regexReplaceAll', 0)), goReplacement(str(a[1], 'regexReplaceAll', 1)));
  },
  loop: (a) => {
    if (a.length !== 1 && a.length !== 2) throw new Error(`loop: wrong number of arguments, expected 1 or 2, but got ${a.length}`);
    const [start, stop] = a.length === 1 ? [0, toInt(a[0])] : [toInt(a[0]), toInt(a[1])];
    if (Math.abs(stop - start) > MAX_LOOP) throw new Error(`loop: ${Math.abs(stop - start)} items; a config has no use for more than ${MAX_LOOP}`);
    const out: Value[] = [];
    if (stop < start) for (let i = start; i > stop; i--) out.push(goInt(i));
    else for (let i = start; i < stop; i++) out.push(goInt(i));
    return out;
  },
};

/** Functions that ContainerPilot 2 did not have (a v2 config calling them failed to parse there). */
export const V3_ONLY = new Set(['env', 'loop']);

export const KNOWN = new Set([...Object.keys(FUNCS), 'and', 'or', 'call']);
