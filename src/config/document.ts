/**
 * From a parsed YAML document to plain values, in one walk: anchors and aliases resolved with a
 * budget (an alias bomb is a config error, not 680 MB of memory), duplicate keys found with a
 * set per map (the yaml package's own check compares every pair of keys: quadratic), values
 * interpolated (never keys), and the position of every key and value remembered for issues.
 * Every problem becomes an issue with a place; nothing here throws on any input.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { type ConfigIssue, formatPath } from './errors.js';
import { interpolate, InterpolationError } from './interpolate.js';

/** The most values aliases may expand to, in all (the document's own nodes do not count). */
export const MAX_ALIAS_EXPANSION = 100_000;
/** How deep mappings and lists may nest. */
export const MAX_DEPTH = 64;

type Segment = string | number;

interface Place {
  key?: number;
  value: number;
}

/** Where each key path is in the file, for issues. Lookups are by the path's text: no search. */
export class Positions {
  readonly #places = new Map<string, Place>();

  constructor(
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  /** @internal */
  record(path: readonly Segment[], place: Place): void {
    const k = pathKey(path);
    if (!this.#places.has(k)) this.#places.set(k, place);
  }

  issue(path: readonly PropertyKey[], message: string, keyName?: string): ConfigIssue {
    const full = keyName === undefined ? [...path] : [...path, keyName];
    const { line, col } = this.lines.linePos(this.#offset(full, keyName !== undefined));
    return { file: this.file, line, column: col, path: formatPath(full), message };
  }

  at(offset: number, path: readonly PropertyKey[], message: string): ConfigIssue {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col, path: formatPath(path), message };
  }

  /** The deepest part of the path that is in the file: its key when asked for, else its value. */
  #offset(path: readonly PropertyKey[], preferKey: boolean): number {
    for (let n = path.length; n >= 0; n--) {
      const place = this.#places.get(pathKey(path.slice(0, n)));
      if (!place) continue;
      return n === path.length && preferKey && place.key !== undefined ? place.key : place.value;
    }
    return 0;
  }
}

function pathKey(path: readonly PropertyKey[]): string {
  return path.map((s) => (typeof s === 'number' ? `#${s}` : `.${String(s)}`)).join('\0');
}

export interface Converted {
  value: unknown;
  issues: ConfigIssue[];
  where: Positions;
}

interface Anchored {
  value?: unknown;
  size?: number;
  busy: boolean;
}

export function toPlain(doc: Document, lines: LineCounter, file: string, env: NodeJS.ProcessEnv): Converted {
  const where = new Positions(lines, file);
  const issues: ConfigIssue[] = [];
  const anchors = new Map<string, { node: Node; state: Anchored }>();
  let expanded = 0;
  let bombReported = false;

  const offsetOf = (node: unknown): number => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? range[0] : 0;
  };

  /** Converts a node; returns its value and how many values it holds. `record`: positions too. */
  const convert = (node: unknown, path: Segment[], record: boolean, depth: number): [unknown, number] => {
    if (node === null || node === undefined) return [null, 1];
    if (depth > MAX_DEPTH) {
      issues.push(where.at(offsetOf(node), path, `nested deeper than ${MAX_DEPTH} levels`));
      return [null, 1];
    }
    const n = node as Node;
    if (record) where.record(path, { value: offsetOf(n) });
    if (isAlias(n)) return alias(n.source, n, path, depth);
    let state: Anchored | undefined;
    if (n.anchor) {
      state = { busy: true };
      anchors.set(n.anchor, { node: n, state });
    }
    const result = plain(n, path, record, depth);
    if (state) {
      state.value = result[0];
      state.size = result[1];
      state.busy = false;
    }
    return result;
  };

  const alias = (name: string, node: Node, path: Segment[], depth: number): [unknown, number] => {
    const target = anchors.get(name);
    if (!target) {
      issues.push(where.at(offsetOf(node), path, `undefined alias *${name}: define &${name} before using it`));
      return [null, 1];
    }
    const { state } = target;
    if (state.busy) {
      issues.push(where.at(offsetOf(node), path, `alias *${name} is inside its own anchor (a cycle)`));
      return [null, 1];
    }
    const size = state.size ?? 1;
    expanded += size;
    if (expanded > MAX_ALIAS_EXPANSION) {
      if (!bombReported)
        issues.push(where.at(offsetOf(node), path, `aliases expand to more than ${MAX_ALIAS_EXPANSION} values (an alias bomb?); write the values out`));
      bombReported = true;
      return [null, 1];
    }
    // The anchored value is already converted (and interpolated); share it.
    void depth;
    return [state.value, size];
  };

  const plain = (n: Node, path: Segment[], record: boolean, depth: number): [unknown, number] => {
    if (isScalar(n)) {
      const v = n.value;
      if (v === null || typeof v === 'boolean') return [v, 1];
      if (typeof v === 'number') {
        // A YAML octal literal (0o600) keeps its form, so a file mode is read as written.
        if (n.format === 'OCT' && Number.isInteger(v)) return [`0o${v.toString(8)}`, 1];
        return [v, 1];
      }
      if (typeof v === 'string') {
        try {
          return [interpolate(v, env), 1];
        } catch (error) {
          if (!(error instanceof InterpolationError)) throw error;
          issues.push(where.at(offsetOf(n), path, error.message));
          return [v, 1];
        }
      }
      issues.push(where.at(offsetOf(n), path, `unsupported YAML value${n.tag ? ` (${n.tag})` : ''}: use a string, number, boolean or null`));
      return [null, 1];
    }
    if (isSeq(n)) {
      const out: unknown[] = [];
      let size = 1;
      n.items.forEach((item, i) => {
        const [value, s] = convert(item, [...path, i], record, depth + 1);
        out.push(value);
        size += s;
      });
      return [out, size];
    }
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      const seen = new Map<string, number>();
      let size = 1;
      for (const pair of n.items) {
        const keyNode = pair.key as Node | null;
        const keyOffset = keyNode ? offsetOf(keyNode) : offsetOf(pair.value);
        if (keyNode && keyNode.anchor) {
          issues.push(where.at(keyOffset, path, 'anchors on keys are not supported'));
          continue;
        }
        if (!isScalar(keyNode) || (keyNode.value !== null && typeof keyNode.value === 'object') || keyNode.value === null) {
          issues.push(
            where.at(keyOffset, path, keyNode && !isScalar(keyNode) ? 'keys must be plain strings, not lists, mappings or aliases' : 'a key is missing'),
          );
          continue;
        }
        const key = String(keyNode.value);
        if (key === '<<' && keyNode.type === 'PLAIN') {
          issues.push(where.at(keyOffset, [...path, key], 'merge keys (<<) are not supported: write the keys out, or anchor the whole value'));
          continue;
        }
        const first = seen.get(key);
        if (first !== undefined) {
          const { line } = lines.linePos(first);
          issues.push(where.at(keyOffset, [...path, key], `duplicate key "${key}" (first at line ${line})`));
          continue;
        }
        seen.set(key, keyOffset);
        if (record) where.record([...path, key], { key: keyOffset, value: pair.value ? offsetOf(pair.value) : keyOffset });
        const [value, s] = convert(pair.value, [...path, key], record, depth + 1);
        if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        else out[key] = value;
        size += s;
      }
      return [out, size];
    }
    issues.push(where.at(offsetOf(n), path, 'unsupported YAML node'));
    return [null, 1];
  };

  const [value] = convert(doc.contents, [], true, 0);
  return { value, issues, where };
}
