/**
 * Renders a ContainerPilot config's Go template into JSON5 text, as ContainerPilot did before
 * parsing it, with one difference when `translate` is on: actions Pilotfish's `${VAR}` can
 * express (./translate.ts) are written as `${VAR:-…}`, so the result still follows the
 * environment. Control flow (if / range / with) and other functions are decided for the given
 * environment, and each such decision is noted, naming the variables it read (never their values).
 *
 * The JSON5 around each action is tracked as the text is produced: inside a string a token is
 * written as string content and every other `$` is escaped as `$$` (Pilotfish interpolates string
 * values, ContainerPilot did not); outside strings a token is written as a quoted string
 * (`port: {{ .PORT }}` → `port: "${PORT:-}"`); inside comments actions are simply rendered.
 */
import { Executor, checkFunctions, type Sink } from './gotemplate/exec.js';
import { TemplateError, parseTemplate, type Pipeline } from './gotemplate/parse.js';

/** The most text a rendering may produce (the config loader reads files of at most 4 MiB). */
export const MAX_OUTPUT = 16 * 1024 * 1024;
import { print } from './gotemplate/values.js';
import { translate } from './translate.js';

export interface RenderNote {
  line: number;
  message: string;
}

export interface RenderOptions {
  env: Readonly<Record<string, string | undefined>>;
  version: 2 | 3;
  translate: boolean;
  /** Where the decisions are made, for the wording of notes. */
  at: 'migrate' | 'startup';
}

/** Where the produced JSON5 text stands: in code, a string (with its quote), or a comment. */
class Json5Position {
  state: 'code' | 'string' | 'line' | 'block' = 'code';
  quote = '';
  private escaped = false;
  private prev = '';

  feed(text: string): void {
    for (const c of text) {
      if (this.state === 'string') {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === this.quote) this.state = 'code';
      } else if (this.state === 'line') {
        if (c === '\n') this.state = 'code';
      } else if (this.state === 'block') {
        if (this.prev === '*' && c === '/') {
          this.state = 'code';
          this.prev = '';
          continue;
        }
      } else if (c === '"' || c === "'") {
        this.state = 'string';
        this.quote = c;
      } else if (this.prev === '/' && c === '/') this.state = 'line';
      else if (this.prev === '/' && c === '*') {
        this.state = 'block';
        this.prev = '';
        continue;
      }
      this.prev = c;
    }
  }
}

function variables(reads: string[], env: RenderOptions['env']): string {
  return reads.map((v) => `${v} ${env[v] === undefined ? 'unset' : env[v] === '' ? 'empty' : 'set'}`).join(', ');
}

class JsonSink implements Sink {
  out = '';
  readonly notes: RenderNote[] = [];
  readonly #pos = new Json5Position();

  constructor(private readonly opts: RenderOptions) {}

  text(text: string): void {
    this.#write(text);
  }

  action(pipe: Pipeline, ex: Executor): void {
    const pos = this.#pos;
    if (this.opts.translate && pos.state !== 'line' && pos.state !== 'block') {
      const t = translate(pipe, ex);
      if (t && 'token' in t) {
        const token = pos.state === 'string' ? t.token.replace(/\\/g, '\\\\').replaceAll(pos.quote, `\\${pos.quote}`) : JSON.stringify(t.token);
        this.out += token;
        pos.feed(token);
        return;
      }
      if (t) return this.#write(t.constant);
    }
    const { value, reads } = ex.track(() => ex.evaluate(pipe));
    if (reads.length > 0 && pos.state !== 'line' && pos.state !== 'block')
      this.#note(pipe, `${compact(pipe.source)} was rendered for ${this.#where()} (${variables(reads, this.opts.env)})`);
    this.#write(print(value));
  }

  decided(pipe: Pipeline, kind: 'if' | 'with' | 'range', reads: string[]): void {
    if (this.#pos.state === 'line' || this.#pos.state === 'block') return;
    const what = kind === 'range' ? 'the items of' : 'the branch taken at';
    this.#note(pipe, `${what} ${compact(pipe.source)} ${kind === 'range' ? 'were' : 'was'} decided by ${this.#where()} (${variables(reads, this.opts.env)})`);
  }

  #where(): string {
    return this.opts.at === 'startup'
      ? 'the environment at start-up'
      : 'the environment pilotfish migrate ran in; migrate again for another environment, or run the ContainerPilot config itself to decide at start-up';
  }

  #note(pipe: Pipeline, message: string): void {
    if (!this.notes.some((n) => n.line === pipe.line && n.message === message)) this.notes.push({ line: pipe.line, message });
  }

  #write(text: string): void {
    if (this.out.length + text.length > MAX_OUTPUT) throw new TemplateError(0, `the rendered config would exceed ${MAX_OUTPUT / 1024 / 1024} MiB`);
    const pos = this.#pos;
    for (const c of text) {
      this.out += c === '$' && pos.state === 'string' ? '$$' : c;
      pos.feed(c);
    }
  }
}

function compact(source: string): string {
  const s = source.replace(/\s+/g, ' ');
  return s.length > 80 ? `${s.slice(0, 77)}...}}` : s;
}

/** Render (or translate) a template; throws TemplateError with the template's line. */
export function renderTemplate(source: string, opts: RenderOptions): { text: string; notes: RenderNote[] } {
  const tree = parseTemplate(source);
  checkFunctions(tree, opts.version);
  const sink = new JsonSink(opts);
  new Executor(opts.env, sink).run(tree);
  return { text: sink.out, notes: sink.notes };
}
