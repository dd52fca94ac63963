/**
 * `${VAR}`, `${VAR:-default}` (default when unset or empty), `${VAR-default}` (default when
 * unset) and `$$` (a literal `$`) in string values. An unset variable without a default is an
 * error, not an empty string: a silent empty value is how configs go wrong in production.
 *
 * Defaults may themselves hold expressions (`${A:-${B:-deep}}`, `pre${A:-${B}}post`); a default
 * is only evaluated when it is used. One left-to-right pass: linear in the text, whatever it
 * holds (a regular expression here backtracked quadratically on an unterminated `${A:-`).
 * `${` not followed by a variable name and `}`, `:-` or `-` stays literal text, as before.
 */

/** How deep defaults may nest (`${A:-${B:-${C}}}` is 3). */
export const MAX_INTERPOLATION_DEPTH = 16;

export class InterpolationError extends Error {
  constructor(
    message: string,
    readonly variable?: string,
  ) {
    super(message);
    this.name = 'InterpolationError';
  }
}

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;

export function interpolate(text: string, env: NodeJS.ProcessEnv): string {
  if (!text.includes('$')) return text;
  const scanner = new Scanner(text, env);
  const out = scanner.sequence(0, true, false);
  return out;
}

class Scanner {
  pos = 0;

  constructor(
    private readonly text: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Text up to the end (or, inside a default, up to its closing `}`), with expressions
   * replaced. `use` false: parse only (a default that is not taken), so no error for its
   * unset variables.
   */
  sequence(depth: number, use: boolean, inDefault: boolean): string {
    const { text } = this;
    let out = '';
    while (this.pos < text.length) {
      const dollar = inDefault ? this.#nextOf(this.pos) : text.indexOf('$', this.pos);
      if (dollar < 0) {
        if (inDefault) throw this.#unterminated();
        out += text.slice(this.pos);
        this.pos = text.length;
        return out;
      }
      out += text.slice(this.pos, dollar);
      this.pos = dollar;
      if (text[dollar] === '}') {
        return out; // the caller consumes the closing brace
      }
      // text[dollar] === '$'
      if (text[dollar + 1] === '$') {
        out += '$';
        this.pos = dollar + 2;
        continue;
      }
      const expr = this.#expression(dollar, depth, use);
      if (expr === undefined) {
        out += '$';
        this.pos = dollar + 1;
      } else out += expr;
    }
    if (inDefault) throw this.#unterminated();
    return out;
  }

  /** The next `$` or `}` from `from`, or -1. */
  #nextOf(from: number): number {
    const { text } = this;
    for (let i = from; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 36 /* $ */ || c === 125 /* } */) return i;
    }
    return -1;
  }

  #start = 0;

  /** `${NAME…}` at `at`; undefined when it is not an expression (left as literal text). */
  #expression(at: number, depth: number, use: boolean): string | undefined {
    const { text } = this;
    if (text[at + 1] !== '{' || !NAME_START.test(text[at + 2] ?? '')) return undefined;
    let i = at + 3;
    while (i < text.length && NAME_PART.test(text[i] as string)) i++;
    const name = text.slice(at + 2, i);
    let op: '' | '-' | ':-';
    if (text[i] === '}') op = '';
    else if (text[i] === '-') op = '-';
    else if (text[i] === ':' && text[i + 1] === '-') op = ':-';
    else return undefined;
    if (depth === 0) this.#start = at;
    const value = this.env[name];
    if (op === '') {
      this.pos = i + 1;
      if (!use) return '';
      if (value === undefined) throw new InterpolationError(`environment variable ${name} is not set; give a default with \${${name}:-value}`, name);
      return value;
    }
    if (depth + 1 > MAX_INTERPOLATION_DEPTH) throw new InterpolationError(`\${...} defaults nest deeper than ${MAX_INTERPOLATION_DEPTH} levels`);
    this.pos = i + op.length;
    const takeDefault = use && (op === ':-' ? value === undefined || value === '' : value === undefined);
    const fallback = this.sequence(depth + 1, takeDefault, true);
    this.pos++; // the closing brace
    if (!use) return '';
    return takeDefault ? fallback : value;
  }

  #unterminated(): InterpolationError {
    const snippet = this.text.slice(this.#start, this.#start + 24);
    return new InterpolationError(
      `unterminated "\${" in "${snippet}${this.text.length > this.#start + 24 ? '…' : ''}": close it with "}", or write "$$" for a literal "$"`,
    );
  }
}
