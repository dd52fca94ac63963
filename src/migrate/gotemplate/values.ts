/**
 * Go template values as JavaScript values, with Go's rules for truth, printing and comparison.
 * ContainerPilot renders with the environment as a map[string]string and missingkey=zero, so an
 * unset `.VAR` is "" (never "<no value>").
 */

/** The data `.` starts as: the environment. Reads are reported so a caller knows what a result depends on. */
export class EnvMap {
  constructor(
    private readonly vars: Readonly<Record<string, string | undefined>>,
    private readonly onRead: (name: string) => void = () => {},
  ) {}
  get(name: string): string {
    this.onRead(name);
    return this.vars[name] ?? '';
  }
  keys(): string[] {
    return Object.keys(this.vars)
      .filter((k) => this.vars[k] !== undefined)
      .sort();
  }
}

/** A Go int, kept apart from float64 (printf %d, loop and eq care). */
export class GoInt {
  constructor(readonly value: number) {}
}

export type Value = string | number | GoInt | boolean | null | Value[] | EnvMap;

export const goInt = (n: number): GoInt => new GoInt(Math.trunc(n));

export function typeName(v: Value): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'float64';
  if (v instanceof GoInt) return 'int';
  if (v instanceof EnvMap) return 'map[string]string';
  return v.every((e) => e instanceof GoInt) && v.length > 0 ? '[]int' : '[]string';
}

/** Go's template truth: false, 0, nil and empty strings, slices and maps are false. */
export function truth(v: Value): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof GoInt) return v.value !== 0;
  if (v instanceof EnvMap) return v.keys().length > 0;
  return v.length > 0;
}

function formatFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const s = String(n);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** fmt's %v. */
export function print(v: Value): string {
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return formatFloat(v);
  if (v instanceof GoInt) return String(v.value);
  if (v instanceof EnvMap)
    return `map[${v
      .keys()
      .map((k) => `${k}:${v.get(k)}`)
      .join(' ')}]`;
  return `[${v.map(print).join(' ')}]`;
}

function numeric(v: Value): number | undefined {
  return typeof v === 'number' ? v : v instanceof GoInt ? v.value : undefined;
}

/** Compare two basic values as Go's eq/lt do; throws on incompatible types. */
export function compare(a: Value, b: Value, op: 'eq' | 'lt'): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) {
    if (typeof a !== typeof b && !(a instanceof GoInt && b instanceof GoInt)) throw new Error('incompatible types for comparison');
    return op === 'eq' ? na === nb : na < nb;
  }
  if (typeof a === 'string' && typeof b === 'string') return op === 'eq' ? a === b : a < b;
  if (typeof a === 'boolean' && typeof b === 'boolean' && op === 'eq') return a === b;
  if (op === 'eq' && a === null && b === null) return true;
  if (op === 'lt' && (typeof a === 'boolean' || typeof b === 'boolean')) throw new Error('invalid type for comparison');
  throw new Error(a === null || b === null || typeof a !== typeof b ? 'incompatible types for comparison' : 'invalid type for comparison');
}

/** printf with the verbs configs use: %s %v %d %q %x %X %f %t %%. */
export function sprintf(format: string, args: Value[]): string {
  let n = 0;
  return (
    format.replace(/%([-+ 0#]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (_whole, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
      if (verb === '%') return '%';
      if (n >= args.length) return `%!${verb}(MISSING)`;
      const arg = args[n++] as Value;
      let s: string;
      switch (verb) {
        case 'd':
          s = arg instanceof GoInt ? String(arg.value) : `%!d(${typeName(arg)}=${print(arg)})`;
          break;
        case 'f':
          s = typeof arg === 'number' ? arg.toFixed(prec ? Number(prec) : 6) : `%!f(${typeName(arg)}=${print(arg)})`;
          break;
        case 'q':
          s = typeof arg === 'string' ? JSON.stringify(arg) : `%!q(${typeName(arg)}=${print(arg)})`;
          break;
        case 'x':
        case 'X': {
          const num = numeric(arg);
          s = num !== undefined ? num.toString(16) : typeof arg === 'string' ? Buffer.from(arg).toString('hex') : print(arg);
          if (verb === 'X') s = s.toUpperCase();
          break;
        }
        case 't':
          s = typeof arg === 'boolean' ? String(arg) : `%!t(${typeName(arg)}=${print(arg)})`;
          break;
        default:
          s = print(arg);
      }
      if (width && s.length < Number(width)) s = flags.includes('-') ? s.padEnd(Number(width)) : s.padStart(Number(width), flags.includes('0') ? '0' : ' ');
      return s;
    }) +
    (n < args.length
      ? `%!(EXTRA ${args
          .slice(n)
          .map((a) => `${typeName(a)}=${print(a)}`)
          .join(', ')})`
      : '')
  );
}
