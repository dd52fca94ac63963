/**
 * Reading a config: YAML or JSON text → `${VAR}` interpolation of string values → schema
 * validation → cross-checks. Every problem is reported with file, line, column and key path.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { FORWARDABLE } from '../pid1/config.js';
import { ConfigError, formatPath, type ConfigIssue } from './errors.js';
import { interpolate, InterpolationError } from './interpolate.js';
import { configSchema, eventSources, jsonSchema, type Config } from './schema.js';
import { knownKeys, nearest } from './suggest.js';
import { GLOBAL_SOURCE } from '../core/events.js';

export interface LoadedConfig {
  file: string;
  config: Config;
  /** The validated text, for change detection on reload. */
  text: string;
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: `cannot read config: ${reason}` }], 'PF_CONFIG_READ', {
      cause,
    });
  }
  return { file, config: parseConfig(text, file, env), text };
}

class Positions {
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

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
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
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) issues.push(...describe(issue, where));
    throw new ConfigError(sortIssues(issues));
  }
  issues.push(...crossCheck(result.data, where));
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

function describe(issue: z.core.$ZodIssue, where: Positions): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const valid = knownKeys(jsonSchema(), issue.path);
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

/** Rules that span several keys: unique names, one main job, known event sources. */
function crossCheck(config: Config, where: Positions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  config.jobs.forEach((job, i) => {
    if (names.has(job.name)) issues.push(where.issue(['jobs', i, 'name'], `duplicate job name "${job.name}"`));
    names.set(job.name, i);
  });
  const mains = config.jobs.flatMap((j, i) => (j.main ? [i] : []));
  for (const i of mains.slice(1)) issues.push(where.issue(['jobs', i, 'main'], 'only one job can be main'));

  const sources = new Set<string>([GLOBAL_SOURCE, ...names.keys(), ...FORWARDABLE, 'SIGTERM', 'SIGINT']);
  for (const extra of eventSources(config)) sources.add(extra);
  const checkSource = (source: string, path: PropertyKey[]): void => {
    if (sources.has(source)) return;
    const guess = nearest(source, [...sources]);
    issues.push(where.issue(path, `unknown event source "${source}"${guess ? ` (did you mean "${guess}"?)` : ''}`));
  };
  config.jobs.forEach((job, i) => {
    if (job.when?.source !== undefined) checkSource(job.when.source, ['jobs', i, 'when', 'source']);
    job.when?.all?.forEach((t, k) => checkSource(t.source, ['jobs', i, 'when', 'all', k, 'source']));
  });
  config.backup?.triggers.events.forEach((t, k) => checkSource(t.source, ['backup', 'triggers', 'events', k, 'source']));
  if (config.backup?.primaryOnly && !config.election) {
    issues.push(where.issue(['backup', 'primaryOnly'], 'primaryOnly needs an election: section (which instance is the primary?)'));
  }
  const vaultSecrets = new Set(config.vault?.secrets.map((s) => s.name) ?? []);
  const checkVaultSecret = (name: string | undefined, path: PropertyKey[]): void => {
    if (name === undefined || vaultSecrets.has(name)) return;
    const guess = nearest(name, [...vaultSecrets]);
    issues.push(where.issue(path, config.vault ? `unknown vault secret "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}` : `"${name}" needs a vault: section that reads it`));
  };
  const key = config.backup?.encryption?.key;
  if (key && 'vault' in key) checkVaultSecret(key.vault.secret, ['backup', 'encryption', 'key', 'vault', 'secret']);
  const store = config.backup?.store;
  if (store && 's3' in store) checkVaultSecret(store.s3.credentials?.vault.secret, ['backup', 'store', 's3', 'credentials', 'vault', 'secret']);
  if (config.backup?.lease.backend === 'consul' && !config.consul) {
    issues.push(where.issue(['backup', 'lease', 'backend'], 'backend consul needs a consul: section'));
  }
  for (const [signal, route] of Object.entries(config.signals)) {
    route?.to.forEach((target, k) => {
      if (!names.has(target)) issues.push(where.issue(['signals', signal, 'to', k], `unknown job "${target}"`));
    });
  }
  return issues;
}
