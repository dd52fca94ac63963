/**
 * Executes a parsed template the way Go's text/template does with ContainerPilot's settings:
 * the data is the environment (missingkey=zero: an unset variable is ""), variables are scoped to
 * their control structure, `and`/`or` short-circuit, range walks slices and the environment map.
 * Output goes to a {@link Sink}, which may translate an action instead of rendering it.
 */
import { FUNCS, KNOWN, V3_ONLY } from './funcs.js';
import { TemplateError, type Node, type Operand, type Pipeline } from './parse.js';
import { EnvMap, goInt, print, truth, typeName, type Value } from './values.js';

/** How many template nodes one rendering may execute (nested loops can ask for billions). */
export const MAX_STEPS = 5_000_000;

export interface Sink {
  /** Literal template text. */
  text(text: string): void;
  /** An action that outputs a value: render it with `ex.evaluate(pipe)`, or translate it. */
  action(pipe: Pipeline, ex: Executor): void;
  /** An if / with / range decided by reading these environment variables. */
  decided(pipe: Pipeline, kind: 'if' | 'with' | 'range', reads: string[]): void;
}

class Jump {
  constructor(readonly kind: 'break' | 'continue') {}
}

export interface Tracked {
  value: Value;
  reads: string[];
}

export class Executor {
  readonly root: EnvMap;
  #dot: Value;
  readonly #scopes: Array<Map<string, Value>>;
  #reads = new Set<string>();
  #steps = 0;

  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly sink: Sink,
  ) {
    this.root = new EnvMap(env, (name) => this.#reads.add(name));
    this.#dot = this.root;
    this.#scopes = [new Map([['', this.root]])];
  }

  /** True when `.` is the environment itself (not a range element or a with value). */
  get dotIsRoot(): boolean {
    return this.#dot === this.root;
  }

  run(nodes: Node[]): void {
    for (const node of nodes) this.#node(node);
  }

  /** Evaluate, and say which environment variables the result depends on. */
  track<T>(fn: () => T): { value: T; reads: string[] } {
    const outer = this.#reads;
    this.#reads = new Set();
    try {
      const value = fn();
      return { value, reads: [...this.#reads] };
    } finally {
      for (const r of this.#reads) outer.add(r);
      this.#reads = outer;
    }
  }

  evaluate(pipe: Pipeline): Value {
    return this.#guard(pipe.line, () => this.#pipeline(pipe));
  }

  operand(op: Operand, line: number): Value {
    return this.#guard(line, () => this.#operand(op));
  }

  #guard<T>(line: number, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof TemplateError || error instanceof Jump) throw error;
      throw new TemplateError(line, (error as Error).message);
    }
  }

  #step(line: number): void {
    if (++this.#steps > MAX_STEPS) throw new TemplateError(line, `the template takes more than ${MAX_STEPS} steps to render; it would never finish in time`);
  }

  #node(node: Node): void {
    this.#step('line' in node ? node.line : 'pipe' in node ? node.pipe.line : 0);
    switch (node.kind) {
      case 'text':
        this.sink.text(node.text);
        return;
      case 'action':
        if (node.pipe.decl.length > 0) this.evaluate(node.pipe);
        else this.sink.action(node.pipe, this);
        return;
      case 'break':
      case 'continue':
        throw new Jump(node.kind);
      case 'if':
      case 'with': {
        this.#scopes.push(new Map());
        try {
          const { value, reads } = this.track(() => this.evaluate(node.pipe));
          if (reads.length > 0) this.sink.decided(node.pipe, node.kind, reads);
          if (!truth(value)) return this.run(node.else);
          if (node.kind === 'if') return this.run(node.then);
          const saved = this.#dot;
          this.#dot = value;
          try {
            this.run(node.then);
          } finally {
            this.#dot = saved;
          }
        } finally {
          this.#scopes.pop();
        }
        return;
      }
      case 'range':
        return this.#range(node);
    }
  }

  #range(node: Extract<Node, { kind: 'range' }>): void {
    const { decl } = node.pipe;
    const { value, reads } = this.track(() => this.#guard(node.pipe.line, () => this.#pipeline({ ...node.pipe, decl: [] })));
    if (reads.length > 0) this.sink.decided(node.pipe, 'range', reads);
    let items: Array<[Value, Value]>;
    if (Array.isArray(value)) items = value.map((v, i) => [goInt(i), v]);
    else if (value instanceof EnvMap) items = value.keys().map((k) => [k, value.get(k)]);
    else if (value === null) items = [];
    else throw new TemplateError(node.pipe.line, `range can't iterate over ${print(value)}`);
    if (items.length === 0) return this.run(node.else);
    const saved = this.#dot;
    try {
      for (const [key, item] of items) {
        this.#step(node.pipe.line);
        const scope = new Map<string, Value>();
        if (decl.length === 1) scope.set(decl[0] as string, item);
        if (decl.length === 2) {
          scope.set(decl[0] as string, key);
          scope.set(decl[1] as string, item);
        }
        this.#scopes.push(scope);
        this.#dot = item;
        try {
          this.run(node.then);
        } catch (jump) {
          if (!(jump instanceof Jump)) throw jump;
          if (jump.kind === 'break') break;
        } finally {
          this.#scopes.pop();
        }
      }
    } finally {
      this.#dot = saved;
    }
  }

  #pipeline(pipe: Pipeline): Value {
    let value: Value | undefined;
    for (const cmd of pipe.cmds) value = this.#command(cmd.args, value);
    const result = value as Value;
    if (pipe.decl.length === 1) {
      const name = pipe.decl[0] as string;
      if (pipe.assign) {
        const scope = [...this.#scopes].reverse().find((s) => s.has(name));
        if (!scope) throw new Error(`undefined variable: $${name}`);
        scope.set(name, result);
      } else this.#scopes[this.#scopes.length - 1]?.set(name, result);
    }
    return result;
  }

  #command(args: Operand[], piped: Value | undefined): Value {
    const [first, ...rest] = args as [Operand, ...Operand[]];
    if (first.kind !== 'ident') {
      if (rest.length > 0 || piped !== undefined) throw new Error(`can't give argument to non-function ${describe(first)}`);
      return this.#operand(first);
    }
    const name = first.name;
    if (name === 'and' || name === 'or') {
      const thunks: Array<() => Value> = rest.map((op) => () => this.#operand(op));
      if (piped !== undefined) thunks.push(() => piped);
      if (thunks.length === 0) throw new Error(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: Value = null;
      for (const thunk of thunks) {
        v = thunk();
        if (truth(v) === (name === 'or')) return v;
      }
      return v;
    }
    const values = rest.map((op) => this.#operand(op));
    if (piped !== undefined) values.push(piped);
    if (name === 'env') {
      if (values.length !== 1) throw new Error(`wrong number of args for env: want 1 got ${values.length}`);
      const key = values[0];
      if (typeof key !== 'string') throw new Error(`wrong type for value; expected string; got ${typeName(key as Value)}`);
      this.#reads.add(key);
      return this.env[key] ?? '';
    }
    const fn = FUNCS[name];
    if (!fn) throw new Error(name === 'call' ? 'call is not supported: there are no functions in the environment' : `function "${name}" not defined`);
    return fn(values);
  }

  #operand(op: Operand): Value {
    switch (op.kind) {
      case 'string':
        return op.value;
      case 'number':
        return op.int ? goInt(op.value) : op.value;
      case 'bool':
        return op.value;
      case 'nil':
        return null;
      case 'ident':
        return this.#command([op], undefined);
      case 'field':
        return this.#fields(this.#dot, op.chain);
      case 'var': {
        const scope = [...this.#scopes].reverse().find((s) => s.has(op.name));
        if (!scope) throw new Error(`undefined variable: $${op.name}`);
        return this.#fields(scope.get(op.name) as Value, op.chain);
      }
      case 'pipe':
        return this.#fields(this.#pipeline(op.pipe), op.chain);
    }
  }

  #fields(value: Value, chain: string[]): Value {
    let v = value;
    for (const field of chain) {
      if (v instanceof EnvMap) v = v.get(field);
      else throw new Error(v === null ? `nil pointer evaluating .${field}` : `can't evaluate field ${field} in type ${typeName(v)}`);
    }
    return v;
  }
}

function describe(op: Operand): string {
  if (op.kind === 'field') return `.${op.chain.join('.')}`;
  if (op.kind === 'var') return `$${op.name}${op.chain.map((c) => `.${c}`).join('')}`;
  return op.kind;
}

/** Refuse, as Go does when parsing, functions that are not defined (anywhere, taken branch or not). */
export function checkFunctions(nodes: Node[], version: 2 | 3): void {
  const ops = (pipe: Pipeline): void => {
    for (const cmd of pipe.cmds)
      for (const op of cmd.args) {
        if (op.kind === 'ident' && (!KNOWN.has(op.name) || (version === 2 && V3_ONLY.has(op.name))))
          throw new TemplateError(
            pipe.line,
            `function "${op.name}" not defined${version === 2 && V3_ONLY.has(op.name) ? ' (ContainerPilot 2 did not have it; 3 does)' : ''}`,
          );
        if (op.kind === 'pipe') ops(op.pipe);
      }
  };
  const walk = (list: Node[]): void => {
    for (const n of list) {
      if (n.kind === 'action') ops(n.pipe);
      if (n.kind === 'if' || n.kind === 'with' || n.kind === 'range') {
        ops(n.pipe);
        walk(n.then);
        walk(n.else);
      }
    }
  };
  walk(nodes);
}
