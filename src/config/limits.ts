/**
 * What the kernel lets a process be started with, checked before it is asked: argv and the
 * environment each string without a NUL byte (Node's spawn throws on one) and at most
 * MAX_ARG_STRLEN, and all of it together under the exec limit (else execve fails with E2BIG).
 * The config (validation), `putenv` and every spawn go through these same checks.
 */
import { readFileSync } from 'node:fs';

/** The longest single argument or `KEY=VALUE` string, with its NUL (Linux: 32 pages). */
export const MAX_ARG_STRLEN = 128 * 1024;
/** Each string also costs a pointer in the new process's stack. */
const POINTER = 8;
/** Linux's own ceiling whatever the stack limit: 3/4 of 8 MiB. */
const KERNEL_CEILING = 6 * 1024 * 1024;

let cachedArgMax: number | undefined;

/**
 * The kernel's limit on argv + envp: a quarter of the stack limit (as `getconf ARG_MAX`),
 * at least 128 KiB and at most 6 MiB. Read once from /proc/self/limits (a small file).
 */
export function argMax(): number {
  if (cachedArgMax !== undefined) return cachedArgMax;
  let stack = 8 * 1024 * 1024;
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max stack size'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === 'unlimited') stack = Infinity;
    else if (soft !== undefined && /^\d+$/.test(soft)) stack = Number(soft);
  } catch {
    // not Linux, or no /proc: assume the usual 8 MiB
  }
  cachedArgMax = Math.max(MAX_ARG_STRLEN, Math.min(KERNEL_CEILING, stack / 4));
  return cachedArgMax;
}

/** Bytes a string takes in the new process: UTF-8, its NUL, its pointer. */
export function execCost(s: string): number {
  return Buffer.byteLength(s, 'utf8') + 1 + POINTER;
}

/** Why one argument or `KEY=VALUE` string cannot be given to a process; undefined when it can. */
export function stringProblem(s: string): string | undefined {
  if (s.includes('\0')) return 'contains a NUL byte, which no process argument or variable can hold';
  const bytes = Buffer.byteLength(s, 'utf8') + 1;
  if (bytes > MAX_ARG_STRLEN) return `is ${bytes} bytes, more than the ${MAX_ARG_STRLEN} one argument or variable may have (the kernel's MAX_ARG_STRLEN)`;
  return undefined;
}

export interface ExecProblem {
  /** `argv[2]`, `env FOO`, or `argv and environment`. */
  what: string;
  message: string;
}

/** Checks a whole argv and environment as the kernel will; the first problem, or undefined. */
export function execProblem(argv: readonly string[], env: Readonly<Record<string, string>>, limit = argMax()): ExecProblem | undefined {
  let total = 0;
  for (const [i, a] of argv.entries()) {
    const p = stringProblem(a);
    if (p) return { what: `argv[${i}]`, message: `argument ${i} ${p}` };
    total += execCost(a);
  }
  let largest = { name: '', bytes: 0 };
  for (const [k, v] of Object.entries(env)) {
    const entry = `${k}=${v}`;
    if (k.includes('=') || k === '') return { what: `env ${k}`, message: `"${k.slice(0, 40)}" is not a variable name` };
    const p = stringProblem(entry);
    if (p) return { what: `env ${k}`, message: `variable ${k} ${p}` };
    const cost = execCost(entry);
    total += cost;
    if (cost > largest.bytes) largest = { name: k, bytes: cost };
  }
  if (total > limit)
    return {
      what: 'argv and environment',
      message: `arguments and environment take ${total} bytes, more than the kernel's limit of ${limit} (E2BIG); the largest variable is ${largest.name} (${largest.bytes} bytes)`,
    };
  return undefined;
}
