/**
 * Reading a config: YAML or JSON text → `${VAR}` interpolation of string values → schema
 * validation → cross-checks. Every problem is reported with file, line, column and key path.
 * Which schema and which cross-checks is the caller's (the top composes them from every concern).
 */
// Callback fs, promisified: node:fs/promises loads readline and streams with it, about 0.9 MiB of
// every start (bench/startup/README.md). Asynchronous, not synchronous: a reload reads while jobs
// run, and a read that hangs (a config on a network file system) must not stop PID 1.
import { close, constants, fstat, open, read } from 'node:fs';
import { promisify } from 'node:util';
import { LineCounter, parseDocument } from 'yaml';
import * as v from 'valibot';
import { toPlain, type Positions } from './document.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { didYouMean, knownKeys } from './suggest.js';

export type { Positions } from './document.js';

const [openFile, fstatFile, readBytes, closeFile] = [promisify(open), promisify(fstat), promisify(read), promisify(close)];

/** The largest config file read; anything bigger is refused before it is read. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** The most issues one error lists. */
const MAX_ISSUES = 200;

/** What a config is checked against: a schema and cross-checks. */
export interface ConfigSpec<T> {
  /** The schema of a config with these top-level keys (a config's sections may each bring their own). */
  schema(keys: string[]): v.GenericSchema<unknown, T> | Promise<v.GenericSchema<unknown, T>>;
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
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading does not wait for a writer.
    fd = await openFile(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (cause as Error).message;
    throw readError(file, `cannot read config: ${reason}`, cause);
  }
  try {
    const st = await fstatFile(fd);
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
      const { bytesRead } = await readBytes(fd, bytes, filled, bytes.length - filled, filled);
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
    await closeFile(fd).catch(() => undefined);
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

export async function parseWith<T>(spec: ConfigSpec<T>, text: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<T> {
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
  const schema = await spec.schema(Object.keys(raw as object));
  const result = v.safeParse(schema, raw, { message: plainMessage });
  if (!result.success) {
    for (const issue of result.issues) issues.push(...describe(issue, [], where, schema));
    throw new ConfigError(cap(sortIssues(issues)));
  }
  issues.push(...(spec.crossCheck?.(result.output, where) ?? []));
  if (issues.length > 0) throw new ConfigError(cap(sortIssues(issues)));
  return result.output;
}

/** At most {@link MAX_ISSUES} issues, and a last line saying how many more there were. */
function cap(issues: ConfigIssue[]): ConfigIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  const last = issues[MAX_ISSUES - 1] as ConfigIssue;
  return [...issues.slice(0, MAX_ISSUES), { ...last, path: '', message: `… and ${issues.length - MAX_ISSUES} more problems` }];
}

type Issue = v.BaseIssue<unknown>;

/** The keys of an issue's path, below `base` (a union's inner issues have paths of their own). */
function keysOf(issue: Issue, base: ReadonlyArray<string | number>): Array<string | number> {
  return [...base, ...(issue.path ?? []).map((p) => p.key as string | number)];
}

function describe(issue: Issue, base: ReadonlyArray<string | number>, where: Positions, schema: v.GenericSchema): ConfigIssue[] {
  const path = keysOf(issue, base);
  if (issue.kind === 'schema' && issue.expected === 'never' && (issue.type === 'strict_object' || issue.type === 'object')) {
    // valibot names the first unknown key of a mapping; every one of them is reported.
    const at = path.slice(0, -1);
    const parent = issue.path?.at(-1)?.input;
    const valid = knownKeys(schema, at);
    const unknown =
      parent !== null && typeof parent === 'object' && valid.length > 0 ? Object.keys(parent).filter((k) => !valid.includes(k)) : [String(issue.input)];
    return unknown.map((k) => {
      const hint = didYouMean(k, valid) || (valid.length ? ` (valid keys: ${valid.join(', ')})` : '');
      return where.issue(at, `unknown key "${k}"${hint}`, k);
    });
  }
  if (issue.kind === 'schema' && issue.input === undefined) return [where.issue(path, 'missing required key')];
  if (issue.type === 'union' && issue.issues) {
    // What the alternatives the value had the right shape for say is wrong with it says best what
    // is wrong; an alternative of another type ("expected number, got string") says nothing.
    const fitting = issue.issues.filter((inner) => !wrongShape(inner));
    if (fitting.length > 0) return fitting.flatMap((inner) => describe(inner, path, where, schema));
  }
  return [where.issue(path, issue.message)];
}

/** Is this a union alternative's complaint that the value is of another type altogether? */
function wrongShape(issue: Issue): boolean {
  if ((issue.path?.length ?? 0) > 0 || issue.kind !== 'schema') return false;
  return issue.type !== 'union' || !issue.issues || issue.issues.every(wrongShape);
}

/** The message of an issue its schema gave none: "expected string, got 5". */
function plainMessage(issue: Issue): string {
  if (issue.kind === 'schema') return issue.input === undefined ? 'missing required key' : `expected ${issue.expected}, got ${issue.received}`;
  return `expected ${issue.type.replace(/_/g, ' ')} ${issue.expected}, got ${issue.received}`;
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}
