/**
 * Which Go template actions Pilotfish's own `${VAR}` interpolation can express, so the migrated
 * config keeps depending on the environment instead of being frozen at migrate time:
 *
 *   {{ .VAR }}, {{ $.VAR }}, {{ env "VAR" }}        → ${VAR:-}      (unset renders "", as in ContainerPilot)
 *   {{ .A | default "x" }}, {{ default "x" .A }}     → ${A:-x}
 *   {{ .A | default .B | default "x" }}             → ${A:-${B:-x}}
 *
 * `default` returns its value when that is a non-empty string, else the default: exactly
 * `${A:-x}`. Anything else (split, join, printf, comparisons, range variables, ...) is not
 * translatable and is rendered for the environment instead, with a note.
 */
import type { Executor } from './gotemplate/exec.js';
import type { Command, Operand, Pipeline } from './gotemplate/parse.js';
import { print, type Value } from './gotemplate/values.js';

/** The first non-empty of `vars`, else `tail`; or, with no vars, the constant `value`. */
interface Chain {
  vars: string[];
  tail: string;
  value?: Value;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NONE = Symbol('none');

/** `${…}` text for the action, a constant text, or undefined when it cannot be translated. */
export function translate(pipe: Pipeline, ex: Executor): { token: string } | { constant: string } | undefined {
  if (pipe.decl.length > 0) return undefined;
  const chain = commands(pipe.cmds, ex, pipe.line);
  if (!chain) return undefined;
  if (chain.vars.length === 0) return { constant: chain.value === undefined ? chain.tail : print(chain.value) };
  if (/[${}]/.test(chain.tail)) return undefined; // no ${} form for a default holding $, { or }
  return { token: chain.vars.reduceRight((inner, v) => `\${${v}:-${inner}}`, chain.tail) };
}

function commands(cmds: Command[], ex: Executor, line: number): Chain | undefined {
  let piped: Chain | typeof NONE = NONE;
  for (const cmd of cmds) {
    const next = command(cmd.args, piped, ex, line);
    if (!next) return undefined;
    piped = next;
  }
  return piped === NONE ? undefined : piped;
}

function command(args: Operand[], piped: Chain | typeof NONE, ex: Executor, line: number): Chain | undefined {
  const [first, ...rest] = args as [Operand, ...Operand[]];
  if (first.kind !== 'ident') return rest.length === 0 && piped === NONE ? operand(first, ex, line) : undefined;
  const operands: Array<Chain | undefined> = rest.map((op) => operand(op, ex, line));
  if (piped !== NONE) operands.push(piped);
  if (operands.some((o) => o === undefined)) return undefined;
  const [a, b] = operands as Chain[];
  if (first.name === 'env' && operands.length === 1 && a && a.vars.length === 0) {
    const name = a.value;
    return typeof name === 'string' && NAME.test(name) ? { vars: [name], tail: '' } : undefined;
  }
  if (first.name === 'default' && operands.length === 2 && a && b) {
    const fallback: Chain = a.vars.length === 0 ? { vars: [], tail: typeof a.value === 'string' ? a.value : print(a.value ?? '') } : a;
    if (b.vars.length === 0) return typeof b.value === 'string' && b.value !== '' ? b : fallback;
    if (b.tail !== '') return b; // never empty: the default is never used
    return { vars: [...b.vars, ...fallback.vars], tail: fallback.tail };
  }
  return undefined;
}

function operand(op: Operand, ex: Executor, line: number): Chain | undefined {
  if (op.kind === 'field' && op.chain.length === 1 && ex.dotIsRoot) return { vars: [op.chain[0] as string], tail: '' };
  if (op.kind === 'var' && op.name === '' && op.chain.length === 1) return { vars: [op.chain[0] as string], tail: '' };
  if (op.kind === 'pipe' && op.chain.length === 0 && op.pipe.decl.length === 0) return commands(op.pipe.cmds, ex, line);
  // Anything else is fine only when it does not depend on the environment: a constant.
  const { value, reads } = ex.track(() => ex.operand(op, line));
  return reads.length === 0 ? { vars: [], tail: '', value } : undefined;
}
