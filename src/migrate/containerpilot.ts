/**
 * ContainerPilot 2 or 3 config (JSON5 with Go templates) → Pilotfish config. The steps, in order:
 *
 *   1. render the Go template (./render.ts), translating what `${VAR}` can express;
 *   2. parse the JSON5 (falling back to a full rendering if a translated value landed where a
 *      string cannot stand, e.g. a key);
 *   3. convert the v2 (./v2.ts) or v3 (./v3.ts) keys;
 *   4. write YAML with every difference as a `# NOTE:` comment at the top.
 *
 * `pilotfish migrate` prints the YAML; `pilotfish run` (drop-in) validates it in memory.
 */
import JSON5 from 'json5';
import { Document } from 'yaml';
import { PilotfishError, errorMessage } from '../kernel/errors.js';
import { Notes, isObj, type Context, type Obj } from './common.js';
import { TemplateError } from './gotemplate/parse.js';
import { renderTemplate, type RenderNote } from './render.js';
import { LEADING, V2_ONLY, isContainerPilotObject, seemsContainerPilot } from './detect.js';
import { convertV2 } from './v2.js';
import { convertV3 } from './v3.js';

export interface MigrateOptions {
  /** The file name, for messages. */
  file?: string;
  /** The environment the templates are decided in (process.env by default). */
  env?: Readonly<Record<string, string | undefined>>;
  /** ContainerPilot 2's app: the command line after its flags. */
  app?: string[];
  /** Decided by `pilotfish migrate`, or at start-up (drop-in). Changes the notes' wording only. */
  at?: 'migrate' | 'startup';
  /** How jobs call Pilotfish's CLI (v2 sensors use putmetric). */
  pilotfish?: string[];
}

export interface MigrateResult {
  yaml: string;
  /** The converted config as an object (before YAML). */
  config: Record<string, unknown>;
  notes: string[];
  version: 2 | 3;
}

/** 2 or 3, from the keys (a config with `jobs` or `watches` is v3; with v2-only keys, v2). */
function versionOf(cp: Obj): 2 | 3 {
  if ('jobs' in cp || 'watches' in cp || 'control' in cp) return 3;
  if (V2_ONLY.some((k) => k in cp)) return 2;
  return isObj(cp.telemetry) && 'sensors' in cp.telemetry ? 2 : 3;
}

/** v2 or v3 from the raw text, before rendering (which needs the version for its functions). */
function guessVersion(text: string): 2 | 3 {
  const v2 = new RegExp(`["']?\\b(${V2_ONLY.join('|')})\\b["']?\\s*:`).test(text);
  const v3 = /["']?\b(jobs|watches)\b["']?\s*:/.test(text);
  return v2 && !v3 ? 2 : 3;
}

/** A ContainerPilot config that ContainerPilot itself would have refused: where, and why. */
export class MigrateError extends PilotfishError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    cause?: unknown,
  ) {
    super('PF_MIGRATE_INPUT', `${file}${line > 0 ? `:${line}${column > 0 ? `:${column}` : ''}` : ''}: ${reason}`, { cause });
    this.name = 'MigrateError';
  }
}

function fail(file: string, line: number, column: number, reason: string, cause?: unknown): never {
  throw new MigrateError(file, line, column, reason, cause);
}

function render(text: string, file: string, opts: MigrateOptions, translate: boolean): { cp: Obj; notes: RenderNote[] } {
  let rendered;
  try {
    rendered = renderTemplate(text, { env: opts.env ?? process.env, version: guessVersion(text), translate, at: opts.at ?? 'migrate' });
  } catch (error) {
    if (error instanceof TemplateError) fail(file, error.line, 0, `template: ${error.message}`, error);
    throw error;
  }
  let cp: unknown;
  try {
    cp = JSON5.parse(rendered.text);
  } catch (cause) {
    const where = cause as { lineNumber?: number; columnNumber?: number };
    const line = rendered.text.split('\n')[(where.lineNumber ?? 1) - 1] ?? '';
    fail(
      file,
      where.lineNumber ?? 0,
      where.columnNumber ?? 0,
      `not valid JSON5 once its templates are rendered${text.includes('{{') ? ' (line of the rendered text)' : ''}: ${errorMessage(cause).replace(/^JSON5: /, '')}\n  ${line.trim()}`,
      cause,
    );
  }
  if (!isObj(cp)) fail(file, 1, 1, 'a ContainerPilot config is an object ({ ... })');
  return { cp, notes: rendered.notes };
}

function keysHoldTokens(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(keysHoldTokens);
  if (!isObj(value)) return false;
  return Object.entries(value).some(([k, v]) => k.includes('${') || keysHoldTokens(v));
}

export function migrate(source: string, options: MigrateOptions | string = {}): MigrateResult {
  const opts: MigrateOptions = typeof options === 'string' ? { file: options } : options;
  const file = opts.file ?? 'containerpilot.json5';
  let result: { cp: Obj; notes: RenderNote[] } | undefined;
  try {
    result = render(source, file, opts, true);
  } catch (error) {
    if (!(error instanceof PilotfishError) || !source.includes('{{')) throw error;
  }
  if (!result || keysHoldTokens(result.cp)) {
    // A translated value where JSON5 wants something else: render everything for the environment.
    result = render(source, file, opts, false);
    result.notes.unshift({
      line: 0,
      message: 'a template stands for a key or for JSON5 syntax, which ${VAR} cannot express, so the whole config was rendered for the environment',
    });
  }
  const notes = new Notes();
  for (const n of result.notes) notes.add(n.line > 0 ? `${file}:${n.line}` : file, n.message);
  const ctx: Context = { env: opts.env ?? process.env, notes, pilotfish: opts.pilotfish ?? ['pilotfish'] };
  const version = versionOf(result.cp);
  const config = version === 2 ? convertV2(result.cp, ctx, opts.app) : convertV3(result.cp, ctx);
  const doc = new Document(config, { aliasDuplicateObjects: false });
  const header = [` Converted from ${file} (ContainerPilot ${version}) by \`pilotfish migrate\`. Check it with \`pilotfish validate FILE\`.`];
  for (const n of notes.list) header.push(` NOTE: ${n}`);
  doc.commentBefore = header.join('\n');
  return { yaml: doc.toString({ lineWidth: 0 }), config, notes: notes.list, version };
}

/**
 * Whether a config file's text is ContainerPilot's rather than Pilotfish's: JSON5 (an object)
 * with Go templates or keys only ContainerPilot has. A Pilotfish config in JSON has neither.
 * `named`: the file is the one $CONTAINERPILOT names, so any JSON object in it is ContainerPilot's.
 */
export function isContainerPilot(text: string, named = false): boolean {
  const quick = seemsContainerPilot(text, named);
  if (quick !== undefined) return quick;
  try {
    return isContainerPilotObject(JSON5.parse(text.replace(LEADING, '')));
  } catch {
    return false;
  }
}
