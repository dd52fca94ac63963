/**
 * A parser for the part of Go's text/template that ContainerPilot configs use: text, actions
 * with trim markers (`{{- ` / ` -}}`), comments, pipelines of commands, fields (`.A.B`),
 * variables (`$`, `$x`, `$x := …`, `$x = …`), literals, parenthesized pipelines, and the
 * control actions if / else / else if / range (with `$i, $v :=`) / with / break / continue / end.
 * `define`, `template` and `block` are refused with a clear message (ContainerPilot parses one
 * anonymous template, so they cannot name anything useful there).
 */

export class TemplateError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

export type Operand =
  | { kind: 'field'; chain: string[] } // .A.B (chain [] is the dot)
  | { kind: 'var'; name: string; chain: string[] } // $x.A ($ is name "")
  | { kind: 'ident'; name: string } // a function name
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number; int: boolean }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'pipe'; pipe: Pipeline; chain: string[] };

export interface Command {
  args: Operand[];
}

export interface Pipeline {
  decl: string[]; // variables declared (:=) or assigned (=)
  assign: boolean;
  cmds: Command[];
  line: number;
  source: string; // the action's text, for notes
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { kind: 'range'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { kind: 'break' | 'continue'; line: number };

/** How deep control structures and parentheses may nest (evaluation recurses that deep). */
export const MAX_DEPTH = 200;

type Tok =
  | { t: 'pipe' | 'lparen' | 'rparen' | 'comma' | 'declare' | 'assign' }
  | { t: 'string'; v: string }
  | { t: 'number'; v: number; int: boolean }
  | { t: 'field'; v: string[] }
  | { t: 'var'; name: string; chain: string[] }
  | { t: 'word'; v: string };

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)/y;

function unquote(raw: string, line: number): string {
  try {
    return JSON.parse(
      raw
        .replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')
        .replace(/\\a/g, '\\u0007')
        .replace(/\\v/g, '\\u000b'),
    ) as string;
  } catch {
    throw new TemplateError(line, `bad string literal ${raw}`);
  }
}

/** Tokens of one action, from just after `{{` (and its trim marker) to just before `}}`. */
function tokenize(src: string, start: number, line: number): { toks: Tok[]; end: number; trimRight: boolean } {
  const toks: Tok[] = [];
  let i = start;
  const chain = (): string[] => {
    const out: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      IDENT.lastIndex = i + 1;
      const m = IDENT.exec(src) as RegExpExecArray;
      out.push(m[0]);
      i = IDENT.lastIndex;
    }
    return out;
  };
  for (;;) {
    if (i >= src.length) throw new TemplateError(line, 'unclosed action: no matching }}');
    const c = src[i] as string;
    if (src.startsWith(' -}}', i) || src.startsWith('\t-}}', i) || src.startsWith('\n-}}', i)) return { toks, end: i + 4, trimRight: true };
    if (src.startsWith('}}', i)) return { toks, end: i + 2, trimRight: false };
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '|') {
      toks.push({ t: 'pipe' });
      i++;
    } else if (c === '(') {
      toks.push({ t: 'lparen' });
      i++;
    } else if (c === ')') {
      toks.push({ t: 'rparen' });
      i++;
      const ch = chain();
      if (ch.length) toks.push({ t: 'field', v: ['\u0000chain', ...ch] });
    } else if (c === ',') {
      toks.push({ t: 'comma' });
      i++;
    } else if (src.startsWith(':=', i)) {
      toks.push({ t: 'declare' });
      i += 2;
    } else if (c === '=') {
      toks.push({ t: 'assign' });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\n') throw new TemplateError(line, 'unterminated quoted string');
        j += src[j] === '\\' ? 2 : 1;
      }
      if (j >= src.length) throw new TemplateError(line, 'unterminated quoted string');
      toks.push({ t: 'string', v: unquote(src.slice(i, j + 1), line) });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError(line, 'unterminated raw quoted string');
      toks.push({ t: 'string', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (c === "'") {
      const j = src.indexOf("'", i + 2);
      if (j < 0) throw new TemplateError(line, 'unterminated character constant');
      const ch = src[i + 1] === '\\' ? unquote(`"${src.slice(i + 1, j)}"`, line) : src.slice(i + 1, j);
      toks.push({ t: 'number', v: ch.codePointAt(0) ?? 0, int: true });
      i = j + 1;
    } else if (c === '$') {
      IDENT.lastIndex = i + 1;
      const m = IDENT.exec(src);
      const name = m && m.index === i + 1 ? m[0] : '';
      i += 1 + name.length;
      toks.push({ t: 'var', name, chain: chain() });
    } else if (c === '.' && !/\d/.test(src[i + 1] ?? '')) {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) toks.push({ t: 'field', v: chain() });
      else {
        toks.push({ t: 'field', v: [] });
        i++;
      }
    } else if (/[\d+.-]/.test(c)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(src);
      if (!m || m[0] === '' || m[0] === '-' || m[0] === '+') throw new TemplateError(line, `unexpected "${c}" in action`);
      const text = m[0].replace(/_/g, '');
      const int = !/[.eE]/.test(text) || /^[+-]?0[xX]/.test(text);
      const value = /^[+-]?0[oO]?[0-7]+$/.test(text) && text.replace(/^[+-]/, '') !== '0' ? parseInt(text.replace(/0[oO]?/, ''), 8) : Number(text);
      if (Number.isNaN(value)) throw new TemplateError(line, `bad number syntax: "${m[0]}"`);
      toks.push({ t: 'number', v: value, int });
      i = NUMBER.lastIndex;
    } else if (/[A-Za-z_]/.test(c)) {
      IDENT.lastIndex = i;
      const m = IDENT.exec(src) as RegExpExecArray;
      toks.push({ t: 'word', v: m[0] });
      i = IDENT.lastIndex;
    } else throw new TemplateError(line, `unexpected "${c}" in action`);
  }
}

/** Parses the tokens of one pipeline (an action's, or a parenthesized one). */
class PipeParser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly line: number,
    private readonly source: string,
  ) {}

  done(): boolean {
    return this.i >= this.toks.length;
  }

  pipeline(allowDecl: boolean, stop?: 'rparen'): Pipeline {
    const pipe: Pipeline = { decl: [], assign: false, cmds: [], line: this.line, source: this.source };
    if (allowDecl) this.declarations(pipe);
    for (;;) {
      const args: Operand[] = [];
      while (!this.done()) {
        const tok = this.toks[this.i] as Tok;
        if (tok.t === 'pipe' || (stop && tok.t === 'rparen')) break;
        args.push(this.operand());
      }
      if (args.length === 0) throw new TemplateError(this.line, pipe.cmds.length ? 'missing command after |' : 'missing value for command');
      pipe.cmds.push({ args });
      if (this.done() || (stop && this.toks[this.i]?.t === 'rparen')) return pipe;
      this.i++; // the |
    }
  }

  private declarations(pipe: Pipeline): void {
    const a = this.toks[0];
    const b = this.toks[1];
    const c = this.toks[2];
    const d = this.toks[3];
    if (a?.t === 'var' && !a.chain.length && b?.t === 'comma' && c?.t === 'var' && d?.t === 'declare') {
      pipe.decl = [a.name, c.name];
      this.i = 4;
    } else if (a?.t === 'var' && !a.chain.length && (b?.t === 'declare' || b?.t === 'assign')) {
      pipe.decl = [a.name];
      pipe.assign = b.t === 'assign';
      this.i = 2;
    }
  }

  private operand(): Operand {
    const tok = this.toks[this.i++] as Tok;
    switch (tok.t) {
      case 'string':
        return { kind: 'string', value: tok.v };
      case 'number':
        return { kind: 'number', value: tok.v, int: tok.int };
      case 'field':
        return { kind: 'field', chain: tok.v };
      case 'var':
        return { kind: 'var', name: tok.name, chain: tok.chain };
      case 'word':
        if (tok.v === 'true' || tok.v === 'false') return { kind: 'bool', value: tok.v === 'true' };
        if (tok.v === 'nil') return { kind: 'nil' };
        return { kind: 'ident', name: tok.v };
      case 'lparen': {
        if (++this.depth > MAX_DEPTH) throw new TemplateError(this.line, `parentheses nested more than ${MAX_DEPTH} deep`);
        const pipe = this.pipeline(false, 'rparen');
        this.depth--;
        if (this.toks[this.i]?.t !== 'rparen') throw new TemplateError(this.line, 'unclosed left paren');
        this.i++;
        const next = this.toks[this.i];
        let chain: string[] = [];
        if (next?.t === 'field' && next.v[0] === '\u0000chain') {
          chain = next.v.slice(1);
          this.i++;
        }
        return { kind: 'pipe', pipe, chain };
      }
      default:
        throw new TemplateError(this.line, `unexpected ${tok.t === 'rparen' ? 'right paren' : tok.t} in command`);
    }
  }
}

type Frame = { kind: 'if' | 'with' | 'range'; node: Extract<Node, { then: Node[] }>; inElse: boolean; elseIf: boolean };

/** Parse a whole template into a tree. Lines are 1-based, of the template text. */
export function parseTemplate(src: string): Node[] {
  const root: Node[] = [];
  const stack: Frame[] = [];
  const out = (): Node[] => {
    const top = stack[stack.length - 1];
    return top ? (top.inElse ? top.node.else : top.node.then) : root;
  };
  // Lines are asked for in increasing order: count newlines from the last answer (linear overall).
  let counted = 0;
  let line = 1;
  const lineAt = (i: number): number => {
    if (i < counted) {
      counted = 0;
      line = 1;
    }
    for (let k = src.indexOf('\n', counted); k >= 0 && k < i; k = src.indexOf('\n', k + 1)) line++;
    counted = i;
    return line;
  };
  let i = 0;
  let trimNext = false;
  let rangeDepth = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    const trimLeft = open >= 0 && /^\{\{-[ \t\r\n]/.test(src.slice(open, open + 4));
    if (trimLeft) text = text.replace(/\s+$/, '');
    if (text) out().push({ kind: 'text', text });
    if (open < 0) break;
    const line = lineAt(open);
    let start = open + (trimLeft ? 3 : 2);
    while (/[ \t\r\n]/.test(src[start] ?? '') && !src.startsWith('/*', start)) start++;
    if (src.startsWith('/*', start)) {
      const close = src.indexOf('*/', start + 2);
      if (close < 0) throw new TemplateError(line, 'unclosed comment');
      const rest = src.slice(close + 2);
      const m = /^(\s-)?\}\}/.exec(rest);
      if (!m) throw new TemplateError(line, 'comment ends before closing delimiter');
      trimNext = Boolean(m[1]);
      i = close + 2 + m[0].length;
      continue;
    }
    const { toks, end, trimRight } = tokenize(src, start, line);
    const source = src.slice(open, end);
    trimNext = trimRight;
    i = end;
    const head = toks[0];
    const word = head?.t === 'word' ? head.v : '';
    const rest = (n: number): PipeParser => new PipeParser(toks.slice(n), line, source);
    const control = (kind: 'if' | 'with' | 'range', p: PipeParser): Frame => {
      const pipe = p.pipeline(true);
      if (kind !== 'range' && pipe.decl.length > 1) throw new TemplateError(line, `too many declarations in ${kind}`);
      const node = { kind, pipe, then: [], else: [] } as Frame['node'];
      return { kind, node, inElse: false, elseIf: false };
    };
    if (word === 'if' || word === 'with' || word === 'range') {
      if (toks.length < 2) throw new TemplateError(line, `missing value for ${word}`);
      if (stack.length >= MAX_DEPTH) throw new TemplateError(line, `control structures nested more than ${MAX_DEPTH} deep`);
      const frame = control(word, rest(1));
      out().push(frame.node);
      stack.push(frame);
      if (word === 'range') rangeDepth++;
    } else if (word === 'else') {
      const top = stack[stack.length - 1];
      if (!top || top.inElse) throw new TemplateError(line, 'unexpected {{else}}');
      top.inElse = true;
      const next = toks[1];
      if (next?.t === 'word' && (next.v === 'if' || next.v === 'with')) {
        if (toks.length < 3) throw new TemplateError(line, `missing value for ${next.v}`);
        const frame = control(next.v, rest(2));
        frame.elseIf = true;
        top.node.else.push(frame.node);
        stack.push(frame);
      } else if (toks.length > 1) throw new TemplateError(line, 'unexpected tokens after else');
    } else if (word === 'end') {
      if (toks.length > 1) throw new TemplateError(line, 'unexpected tokens after end');
      let top = stack.pop();
      if (!top) throw new TemplateError(line, 'unexpected {{end}}');
      while (top?.elseIf) top = stack.pop(); // `else if` chains close with one end
      if (top?.kind === 'range') rangeDepth--;
    } else if (word === 'break' || word === 'continue') {
      if (rangeDepth === 0) throw new TemplateError(line, `{{${word}}} outside {{range}}`);
      out().push({ kind: word, line });
    } else if (word === 'define' || word === 'template' || word === 'block') {
      throw new TemplateError(line, `{{${word}}} is not supported in a ContainerPilot config (it renders one anonymous template)`);
    } else {
      if (toks.length === 0) throw new TemplateError(line, 'missing value for command');
      const p = rest(0);
      out().push({ kind: 'action', pipe: p.pipeline(true) });
    }
  }
  if (stack.length > 0) throw new TemplateError(lineAt(src.length), `unexpected EOF: {{${stack[stack.length - 1]?.kind}}} has no {{end}}`);
  return root;
}
