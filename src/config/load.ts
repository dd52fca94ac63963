/**
 * Reading a config: YAML or JSON text → `${VAR}` interpolation of string values → schema
 * validation → cross-checks. Every problem is reported with file, line, column and key path.
 * Which schema and which cross-checks is the caller's (the top composes them from every concern).
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { toPlain, type Positions } from './document.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { knownKeys, nearest } from './suggest.js';

export type { Positions } from './document.js';

/** The largest config file read; anything bigger is refused before it is read. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** The most issues one error lists. */
const MAX_ISSUES = 200;

/** What a config is checked against: a schema, its JSON Schema (for key hints) and cross-checks. */
export interface ConfigSpec<T> {
  schema: z.ZodType<T>;
  jsonSchema(): Record<string, unknown>;
  crossCheck?(config: T, where: Positions): ConfigIssue[];
}

function readError(file: string, message: string, cause?: unknown, line = 0, column = 0): ConfigError {
  return new ConfigError([{ file, line, column, path: '', message }], 'PF_CONFIG_READ', cause === undefined ? undefined : { cause });
}

/**
 * The text of a config file. Only a regular file (or a symlink to one) of at most
 * {@link MAX_CONFIG_BYTES}, in strict UTF-8: a FIFO or a device (/dev/zero) is refused at once,
 * never read, and invalid UTF-8 is an error at its line and column, not silently replaced.
 */
export async function readConfigText(file: string): Promise<string> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO for reading does not wait for a writer.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (cause as Error).message;
    throw readError(file, `cannot read config: ${reason}`, cause);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      const what = st.isDirectory()
        ? 'a directory'
        : st.isFIFO()
          ? 'a FIFO'
          : st.isCharacterDevice() || st.isBlockDevice()
            ? 'a device'
            : st.isSocket()
              ? 'a socket'
              : 'not a regular file';
      throw readError(file, `cannot read config: it is ${what}; give a regular file`);
    }
    if (st.size > MAX_CONFIG_BYTES) throw readError(file, `cannot read config: ${st.size} bytes, more than the ${MAX_CONFIG_BYTES} a config may have`);
    const bytes = Buffer.alloc(Math.min(st.size + 1, MAX_CONFIG_BYTES + 1));
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === bytes.length) break;
    }
    if (filled > MAX_CONFIG_BYTES) throw readError(file, `cannot read config: more than the ${MAX_CONFIG_BYTES} bytes a config may have`);
    return decodeUtf8(bytes.subarray(0, filled), file);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw readError(file, `cannot read config: ${(error as Error).message}`, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Strict UTF-8 (a leading BOM is dropped); the first invalid byte is named by line and column. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch (cause) {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at; i++)
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    const byte = bytes[at]?.toString(16).padStart(2, '0') ?? '??';
    throw readError(file, `not valid UTF-8: byte 0x${byte} at byte offset ${at}; save the file as UTF-8`, cause, line, at - lineStart + 1);
  }
}

/** The offset of the first byte that is not part of a valid UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    let n: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    if (i + n >= b.length) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return b.length;
}

export function parseWith<T>(spec: ConfigSpec<T>, text: string, file: string, env: NodeJS.ProcessEnv = process.env): T {
  const lines = new LineCounter();
  // uniqueKeys off: toPlain finds duplicates in linear time (the parser's own check is quadratic).
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, strict: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    throw new ConfigError(
      cap(
        problems.map((e) => {
          const pos = lines.linePos(e.pos[0]);
          return { file, line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0] as string };
        }),
      ),
      'PF_CONFIG_PARSE',
    );
  }
  const { value, issues, where } = toPlain(doc, lines, file, env);
  if (issues.length > 0) throw new ConfigError(cap(sortIssues(issues)));

  const raw: unknown = value ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: 'the config must be a mapping of keys' }]);
  }
  const result = spec.schema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) issues.push(...describe(issue, where, spec));
    throw new ConfigError(cap(sortIssues(issues)));
  }
  issues.push(...(spec.crossCheck?.(result.data, where) ?? []));
  if (issues.length > 0) throw new ConfigError(cap(sortIssues(issues)));
  return result.data;
}

/** At most {@link MAX_ISSUES} issues, and a last line saying how many more there were. */
function cap(issues: ConfigIssue[]): ConfigIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  const last = issues[MAX_ISSUES - 1] as ConfigIssue;
  return [...issues.slice(0, MAX_ISSUES), { ...last, path: '', message: `… and ${issues.length - MAX_ISSUES} more problems` }];
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
  if (issue.code === 'invalid_union') {
    // The one alternative the value had the right shape for says best what is wrong with it.
    const fitting = issue.errors.filter((option) => option.length > 0 && !wrongShape(option));
    if (fitting.length === 1)
      return (fitting[0] as z.core.$ZodIssue[]).flatMap((inner) => describe({ ...inner, path: [...issue.path, ...inner.path] }, where, spec));
  }
  if (issue.code === 'invalid_value' && issue.values.length > 1) {
    const got = issue.input;
    const guess = typeof got === 'string' ? nearest(got, issue.values.map(String)) : undefined;
    if (issue.values.length > 12) return [where.issue(issue.path, `${issue.message}${hint(guess)}`)];
    return [where.issue(issue.path, `expected one of ${issue.values.join(', ')}${hint(guess)}`)];
  }
  return [where.issue(issue.path, issue.message)];
}

/** Did this alternative of a union fail only because the value is of another type? */
function wrongShape(option: readonly z.core.$ZodIssue[]): boolean {
  return option.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || (i.code === 'invalid_union' && i.errors.every(wrongShape))));
}

function hint(guess: string | undefined): string {
  return guess ? ` (did you mean "${guess}"?)` : '';
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}
