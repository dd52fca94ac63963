/**
 * The config fuzzer: a seed corpus (the examples' configs and the docs' YAML blocks), mutations
 * that know YAML and the schema, a deterministic PRNG, and an oracle that runs the real loader
 * in-process. Shared by the CI test (test/fuzz/config.test.ts, 1,000 cases) and the bench run
 * (bench/fuzz/run.ts, 10,000 and more, in child processes with a per-case timeout).
 *
 * Every case must end in a valid config or a ConfigError (PF_CONFIG_*); anything else thrown is
 * an internal error, which is a bug.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Alias, isMap, isScalar, isSeq, parseDocument, stringify, type Document } from 'yaml';
import { ConfigError } from '../../src/config/errors.js';
import { decodeUtf8 } from '../../src/config/load.js';
import { knownKeys } from '../../src/config/suggest.js';
import { parseConfig } from '../../src/top/config.js';
import { configSchema } from '../../src/top/schema.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed corpus: every example config and every ```yaml block of the docs. */
export function corpus(): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  for (const dir of readdirSync(join(ROOT, 'examples'))) {
    for (const file of readdirSync(join(ROOT, 'examples', dir))) {
      if (/\.ya?ml$/.test(file) && !file.includes('compose'))
        out.push({ name: `examples/${dir}/${file}`, text: readFileSync(join(ROOT, 'examples', dir, file), 'utf8') });
    }
  }
  for (const file of readdirSync(join(ROOT, 'docs'))) {
    if (!file.endsWith('.md')) continue;
    const text = readFileSync(join(ROOT, 'docs', file), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) out.push({ name: `docs/${file}#${i++}`, text: m[1] as string });
  }
  out.push({ name: 'minimal', text: 'jobs:\n  - name: app\n    exec: [sleep, "1"]\n    main: true\n' });
  return out;
}

/** Values that have broken parsers before: limits, types, encodings, YAML's own features. */
const NASTY_SCALARS: unknown[] = [
  '',
  ' ',
  '0',
  '-1',
  '1e400',
  '.inf',
  '.nan',
  '~',
  'null',
  'true',
  'no',
  '0o600',
  '0x1f',
  '0600',
  '384',
  '25d',
  '30d',
  '3000000',
  '24d20h31m24s',
  '5 seconds',
  '1h30m',
  '250ms',
  '1.5s',
  '-5s',
  'unlimited',
  'unlimitd',
  'never',
  'nevr',
  'SIGTERM',
  'SIGTREM',
  'exitSuccess',
  'exitSucess',
  '${A}',
  '${A:-x}',
  '${A:-${B:-deep}}',
  'pre${A:-${B}}post',
  '${A:-',
  '${',
  '$$',
  '$${A}',
  '${UNSET}',
  '${A-}',
  '}',
  '{',
  '[',
  '*',
  '&',
  '!',
  '%',
  '@',
  '`',
  'a\u0000b',
  '\u0000',
  '\u2028',
  '\uFEFF',
  '\uD800',
  'é',
  '日本',
  '\t',
  '\r\n',
  'x'.repeat(1000),
  'x'.repeat(140_000),
  '${A:-'.repeat(2000),
  -1,
  0,
  1,
  1.5,
  2 ** 31,
  2 ** 53 + 1,
  -0,
  Number.MAX_VALUE,
  1e-300,
  3000000,
  384,
  600,
  0o600,
  true,
  false,
  null,
  [],
  {},
  [null],
  [[[[[[[[1]]]]]]]],
  { a: { b: { c: {} } } },
];

const YAML_SNIPPETS = [
  '*nope',
  '<<: *nope',
  '&a',
  '*a',
  '!!binary aGVsbG8=',
  '!!timestamp 2001-12-14',
  '!foo x',
  '? [a]\n: 1',
  '? {a: 1}\n: 2',
  '---',
  '...',
  '%YAML 1.1',
  '\t',
  ': ',
  '- ',
  '#',
  '"',
  "'",
  '|',
  '>',
  '{',
  '}',
  '[',
  ']',
  ',',
  '\\',
  '\u0000',
  '\uFFFE',
  '${A:-',
  '${A:-${B:-',
  'key: &x [*x]',
  'a: 1\na: 2',
  '<<: {a: 1}',
  '!!set {a, b}',
  '!!omap [a: 1]',
  '!!int x',
  '!!float y',
  '!!str',
  '!!null x',
  '&a &b x',
];

/** Mutations on the text: YAML tokens in odd places, lines removed, doubled, re-indented. */
function mutateText(text: string, rnd: Random): string {
  const lines = text.split('\n');
  const n = 1 + rnd.int(3);
  for (let k = 0; k < n; k++) {
    const i = rnd.int(Math.max(1, lines.length));
    const line = lines[i] ?? '';
    switch (rnd.int(8)) {
      case 0: {
        const at = rnd.int(line.length + 1);
        lines[i] = line.slice(0, at) + rnd.pick(YAML_SNIPPETS) + line.slice(at);
        break;
      }
      case 1:
        lines.splice(i, 1);
        break;
      case 2:
        lines.splice(i, 0, line);
        break;
      case 3:
        lines[i] = (rnd.chance(0.5) ? '  ' : '') + line.replace(/^ {2}/, rnd.chance(0.5) ? '' : '\t');
        break;
      case 4: {
        const j = rnd.int(lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', line];
        break;
      }
      case 5: {
        const m = /^(\s*(?:- )?[A-Za-z_$][\w.-]*:\s*)(.*)$/.exec(line);
        if (m) lines[i] = `${m[1]}${String(rnd.pick(NASTY_SCALARS.filter((v) => typeof v !== 'object')))}`;
        break;
      }
      case 6:
        lines[i] = line.slice(0, rnd.int(line.length + 1));
        break;
      default: {
        const deep = rnd.int(200);
        lines.splice(i, 0, `${'['.repeat(deep)}1${']'.repeat(rnd.chance(0.5) ? deep : 0)}`);
      }
    }
  }
  return lines.join('\n');
}

type Path = Array<string | number>;

/** Every path to a node of a plain value, parents first. */
function paths(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (out.length > 5000) return out;
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...path, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...path, k], out);
  return out;
}

function typo(word: string, rnd: Random): string {
  if (word.length === 0) return 'x';
  const i = rnd.int(word.length);
  switch (rnd.int(3)) {
    case 0:
      return word.slice(0, i) + word.slice(i + 1);
    case 1:
      return word.slice(0, i) + String.fromCharCode(97 + rnd.int(26)) + word.slice(i);
    default:
      return word.slice(0, i) + (word[i + 1] ?? '') + (word[i] ?? '') + word.slice(i + 2);
  }
}

/** Mutations on the structure, guided by the schema: keys it knows (and near misses), odd values. */
function mutateTree(root: unknown, rnd: Random): unknown {
  const tree = structuredClone(root) as Record<string, unknown>;
  const all = paths(tree);
  const n = 1 + rnd.int(4);
  for (let k = 0; k < n; k++) {
    const path = rnd.pick(all);
    const parentPath = path.slice(0, -1);
    const parent = parentPath.reduce<unknown>((node, seg) => (node as Record<string | number, unknown>)?.[seg], tree) as
      Record<string | number, unknown> | undefined;
    const key = path[path.length - 1];
    const node = path.reduce<unknown>((n2, seg) => (n2 as Record<string | number, unknown>)?.[seg], tree);
    const schemaKeys = knownKeys(
      configSchema,
      path.filter((s) => typeof s === 'string' || typeof s === 'number'),
    );
    switch (rnd.int(7)) {
      case 0:
      case 1:
        if (parent && key !== undefined) parent[key] = structuredClone(rnd.pick(NASTY_SCALARS));
        break;
      case 2:
        if (node && typeof node === 'object' && !Array.isArray(node) && schemaKeys.length) {
          const name = rnd.pick(schemaKeys);
          (node as Record<string, unknown>)[rnd.chance(0.3) ? typo(name, rnd) : name] = structuredClone(rnd.pick(NASTY_SCALARS));
        }
        break;
      case 3:
        if (parent && key !== undefined) {
          if (Array.isArray(parent)) parent.splice(key as number, 1);
          else delete parent[key];
        }
        break;
      case 4:
        if (typeof node === 'string' && parent && key !== undefined) parent[key] = typo(node, rnd);
        break;
      case 5:
        if (Array.isArray(node) && node.length) node.push(...structuredClone(node.slice(0, 1 + rnd.int(node.length))));
        break;
      default:
        if (parent && key !== undefined && node && typeof node === 'object') parent[key] = { nested: structuredClone(node) };
    }
  }
  return tree;
}

/** Anchors and aliases on the mutated tree: some nodes anchored, some values replaced by aliases (defined or not). */
function withAliases(doc: Document, rnd: Random): void {
  const nodes: unknown[] = [];
  const slots: Array<{ set: (v: unknown) => void }> = [];
  const walk = (n: unknown): void => {
    if (nodes.length > 200) return;
    if (isMap(n)) {
      nodes.push(n);
      for (const pair of n.items) {
        slots.push({ set: (v) => ((pair as { value: unknown }).value = v) });
        walk((pair as { value: unknown }).value);
      }
    } else if (isSeq(n)) {
      nodes.push(n);
      n.items.forEach((item, i) => {
        slots.push({ set: (v) => (n.items[i] = v as never) });
        walk(item);
      });
    } else if (isScalar(n)) nodes.push(n);
  };
  walk(doc.contents);
  const names: string[] = [];
  for (let k = 1 + rnd.int(3); k > 0 && nodes.length > 1; k--) {
    const target = rnd.pick(nodes) as { anchor?: string };
    target.anchor = `a${rnd.int(5)}`;
    names.push(target.anchor);
  }
  for (let k = rnd.int(3); k > 0 && slots.length > 0; k--) rnd.pick(slots).set(new Alias(rnd.chance(0.7) && names.length ? rnd.pick(names) : 'nope'));
}

/** Whole blocks that exercise the alias machinery, put in front of a config. */
const ALIAS_BLOCKS = [
  'x: *nope\n',
  'logging:\n  <<: *nope\n',
  'x: &a [*a]\n',
  'x: &a {b: *a}\n',
  `x0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${Array.from({ length: 8 }, (_, i) => `x${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(', ')}]`).join('\n')}\n`,
  'a: &v 1\nb: *v\nc: [*v, *v]\n',
  '*nope : 1\n',
  '? *nope\n: 1\n',
];

/** One fuzz case: a seed, mutated by text, by structure, or both. Deterministic in `seed`. */
export function makeCase(seeds: ReadonlyArray<{ name: string; text: string }>, seed: number): { name: string; bytes: Buffer } {
  const rnd = new Random(seed);
  const base = rnd.pick(seeds);
  let text = base.text;
  const mode = rnd.int(10);
  if (mode < 6) {
    try {
      const value = parseDocument(text).toJS({ maxAliasCount: 100 }) as unknown;
      const doc = parseDocument(stringify(mutateTree(value ?? {}, rnd), { aliasDuplicateObjects: false, lineWidth: 0 }));
      if (rnd.chance(0.4)) withAliases(doc, rnd);
      text = doc.toString({ lineWidth: 0, ...(rnd.chance(0.3) ? { collectionStyle: 'flow' as const } : {}) });
    } catch {
      // a seed the yaml package cannot round-trip: mutate its text instead
    }
  }
  if (mode >= 4) text = mutateText(text, rnd);
  if (rnd.chance(0.05)) text = rnd.pick(ALIAS_BLOCKS) + text;
  let bytes = Buffer.from(text, 'utf8');
  if (rnd.chance(0.05)) {
    // invalid UTF-8 somewhere
    const at = rnd.int(bytes.length + 1);
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([rnd.pick([0xff, 0xc0, 0xe2, 0xed, 0xf5])]), bytes.subarray(at)]);
  }
  return { name: `${base.name}~${seed}`, bytes };
}

export type Outcome = { kind: 'valid' } | { kind: 'refused'; code: string } | { kind: 'internal'; error: string };

/** The environment cases are interpolated with: some set, some empty, B set for nested defaults. */
export const FUZZ_ENV: NodeJS.ProcessEnv = { A: 'aa', B: 'bee', EMPTY: '', PORT: '8080', HOSTNAME: 'fuzz', HOME: '/root' };

/** Runs the real loader (strict UTF-8, parse, interpolate, validate, cross-checks) in-process. */
export async function check(bytes: Buffer, file = 'fuzz.yaml'): Promise<Outcome> {
  try {
    await parseConfig(decodeUtf8(bytes, file), file, FUZZ_ENV);
    return { kind: 'valid' };
  } catch (error) {
    if (error instanceof ConfigError && error.code.startsWith('PF_CONFIG_')) return { kind: 'refused', code: error.code };
    return { kind: 'internal', error: (error as Error)?.stack ?? String(error) };
  }
}
