/**
 * Reading a config: YAML or JSON text → `${VAR}` interpolation of string values → schema
 * validation → cross-checks. Every problem is reported with file, line, column and key path.
 * Which schema and which cross-checks is the caller's (the top composes them from every concern).
 */
import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatPath, type ConfigIssue } from './errors.js';
import { interpolate, InterpolationError } from './interpolate.js';
import { knownKeys, nearest } from './suggest.js';

/** What a config is checked against: a schema, its JSON Schema (for key hints) and cross-checks. */
export interface ConfigSpec<T> {
  schema: z.ZodType<T>;
  jsonSchema(): Record<string, unknown>;
  crossCheck?(config: T, where: Positions): ConfigIssue[];
}

/** The text of a config file; a file that cannot be read is a ConfigError. */
export async function readConfigText(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: `cannot read config: ${reason}` }], 'PF_CONFIG_READ', {
      cause,
    });
  }
  return text;
}

/** Where a key path is in the file, for issues. */
export class Positions {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  issue(path: readonly PropertyKey[], message: string, keyName?: string): ConfigIssue {
    const { line, col } = this.locate(path, keyName);
    return { file: this.file, line, column: col, path: formatPath(keyName ? [...path, keyName] : path), message };
  }

  private locate(path: readonly PropertyKey[], keyName?: string): { line: number; col: number } {
    // Walk down as far as the document goes; report the deepest node that exists.
    let node: unknown = this.doc.contents;
    let keyNode: Node | undefined;
    for (const segment of [...path, ...(keyName ? [keyName] : [])]) {
      if (!node || typeof node !== 'object' || !('items' in node)) break;
      const items = (node as { items: unknown[] }).items;
      if (typeof segment === 'number') {
        node = items[segment];
        keyNode = undefined;
      } else {
        const pair = items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair || !isPair(pair)) break;
        keyNode = pair.key as Node;
        node = pair.value;
      }
    }
    const target = (keyName ? keyNode : (node as Node | undefined)) ?? keyNode ?? (node as Node | undefined);
    const offset = target && 'range' in target && target.range ? target.range[0] : 0;
    return this.lines.linePos(offset);
  }
}

export function parseWith<T>(spec: ConfigSpec<T>, text: string, file: string, env: NodeJS.ProcessEnv = process.env): T {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0] as string };
      }),
      'PF_CONFIG_PARSE',
    );
  }
  const where = new Positions(doc, lines, file);
  const issues: ConfigIssue[] = [];

  // Interpolate values only (never keys), in place, so positions stay true.
  visit(doc, {
    Scalar(key, node, path) {
      if (key === 'key' || typeof node.value !== 'string') return;
      try {
        node.value = interpolate(node.value, env);
      } catch (error) {
        if (!(error instanceof InterpolationError)) throw error;
        const pos = lines.linePos(node.range?.[0] ?? 0);
        const keyPath = pathOf(path, node);
        issues.push({ file, line: pos.line, column: pos.col, path: formatPath(keyPath), message: error.message });
      }
    },
  });
  if (issues.length > 0) throw new ConfigError(issues);

  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: 'the config must be a mapping of keys' }]);
  }
  const result = spec.schema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) issues.push(...describe(issue, where, spec));
    throw new ConfigError(sortIssues(issues));
  }
  issues.push(...(spec.crossCheck?.(result.data, where) ?? []));
  if (issues.length > 0) throw new ConfigError(sortIssues(issues));
  return result.data;
}

/** The key path of a node found by `visit`, from its ancestors. */
function pathOf(ancestors: readonly unknown[], node: unknown): PropertyKey[] {
  const out: PropertyKey[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isPair(parent) && isScalar(parent.key)) out.push(String(parent.key.value));
    else if (parent && typeof parent === 'object' && 'items' in parent && !isMap(parent)) {
      const idx = (parent as { items: unknown[] }).items.indexOf(child);
      if (idx >= 0) out.push(idx);
    }
  }
  return out;
}

function describe<T>(issue: z.core.$ZodIssue, where: Positions, spec: ConfigSpec<T>): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const valid = knownKeys(spec.jsonSchema(), issue.path);
    return issue.keys.map((k) => {
      const guess = nearest(k, valid);
      const hint = guess ? ` (did you mean "${guess}"?)` : valid.length ? ` (valid keys: ${valid.join(', ')})` : '';
      return where.issue(issue.path, `unknown key "${k}"${hint}`, k);
    });
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [where.issue(issue.path, `missing required key`)];
  }
  if (issue.code === 'invalid_value' && issue.values.length > 1) {
    const got = issue.input;
    const guess = typeof got === 'string' ? nearest(got, issue.values.map(String)) : undefined;
    const hint = guess ? ` (did you mean "${guess}"?)` : '';
    return [where.issue(issue.path, `expected one of ${issue.values.join(', ')}${hint}`)];
  }
  return [where.issue(issue.path, issue.message)];
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

