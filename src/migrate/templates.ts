/**
 * ContainerPilot rendered its config as a Go template before parsing it as JSON5. This rewrites
 * the templates it can (`{{ .VAR }}`, `{{ .VAR | default "x" }}`, `{{ env "VAR" }}`) into
 * Pilotfish's `${VAR}` / `${VAR:-x}`, wraps templates standing for a bare value (`port: {{ .PORT }}`)
 * in quotes, and escapes every other `$` inside strings as `$$` (Pilotfish interpolates strings;
 * ContainerPilot did not).
 */

export interface TemplateNote {
  line: number;
  message: string;
}

const VAR = '([A-Za-z_][A-Za-z0-9_]*)';
const STR = '"((?:[^"\\\\]|\\\\.)*)"';
const FORMS: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [new RegExp(`^\\.${VAR}$`), (m) => `\${${m[1]}}`],
  [new RegExp(`^env\\s+"${VAR}"$`), (m) => `\${${m[1]}}`],
  [new RegExp(`^\\.${VAR}\\s*\\|\\s*default\\s+${STR}$`), (m) => `\${${m[1]}:-${m[2]}}`],
  [new RegExp(`^env\\s+"${VAR}"\\s*\\|\\s*default\\s+${STR}$`), (m) => `\${${m[1]}:-${m[2]}}`],
  [new RegExp(`^default\\s+${STR}\\s+\\.${VAR}$`), (m) => `\${${m[2]}:-${m[1]}}`],
];

/** `${VAR}`-style text for one template expression, or undefined if it cannot be converted. */
export function convertExpression(expr: string): { text: string; defaulted: boolean } | undefined {
  const e = expr.replace(/^-|-$/g, '').trim();
  for (const [re, make] of FORMS) {
    const m = re.exec(e);
    if (!m) continue;
    const text = make(m);
    if (text.indexOf('}') !== text.length - 1) return undefined; // a default holding "}" has no ${} form
    return { text, defaulted: text.includes(':-') };
  }
  return undefined;
}

export function convertTemplates(source: string): { text: string; notes: TemplateNote[]; undefaulted: string[] } {
  const notes: TemplateNote[] = [];
  const undefaulted = new Set<string>();
  const lineAt = (i: number): number => source.slice(0, i).split('\n').length;
  let out = '';
  let quote: string | null = null;
  let i = 0;
  const template = (inString: boolean): void => {
    const end = source.indexOf('}}', i);
    if (end < 0) {
      notes.push({ line: lineAt(i), message: 'an unclosed {{ was left as is' });
      out += source.slice(i);
      i = source.length;
      return;
    }
    const raw = source.slice(i, end + 2);
    const expr = source.slice(i + 2, end);
    // Inside a JSON5 string the template's own quotes are escaped: \" or \'.
    const converted = convertExpression(inString ? expr.replace(/\\(["'])/g, '$1') : expr);
    if (converted) {
      if (!converted.defaulted) undefaulted.add(converted.text.slice(2, -1));
      const text = quote === "'" ? converted.text.replace(/'/g, "\\'") : converted.text.replace(/"/g, '\\"');
      out += inString ? text : JSON.stringify(converted.text);
    } else {
      notes.push({ line: lineAt(i), message: `template ${raw} cannot be converted; rewrite it by hand` });
      out += inString ? raw.replace(/\$/g, '$$$$') : raw;
    }
    i = end + 2;
  };
  while (i < source.length) {
    const c = source[i] as string;
    if (quote === null) {
      if (c === '"' || c === "'") {
        quote = c;
        out += c;
        i++;
      } else if (source.startsWith('//', i) || source.startsWith('/*', i)) {
        const close = source.startsWith('//', i) ? '\n' : '*/';
        const end = source.indexOf(close, i + 2);
        const stop = end < 0 ? source.length : end + close.length;
        out += source.slice(i, stop);
        i = stop;
      } else if (source.startsWith('{{', i)) template(false);
      else {
        out += c;
        i++;
      }
    } else if (c === '\\') {
      out += source.slice(i, i + 2);
      i += 2;
    } else if (c === quote) {
      quote = null;
      out += c;
      i++;
    } else if (source.startsWith('{{', i)) template(true);
    else {
      out += c === '$' ? '$$' : c;
      i++;
    }
  }
  return { text: out, notes, undefaulted: [...undefaulted] };
}
