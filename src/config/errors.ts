import { PilotfishError } from '../kernel/errors.js';

export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Key path, e.g. `jobs[0].health.interval`. */
  path: string;
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

export class ConfigError extends PilotfishError {
  constructor(
    readonly issues: ConfigIssue[],
    code: 'PF_CONFIG_READ' | 'PF_CONFIG_PARSE' | 'PF_CONFIG_INVALID' = 'PF_CONFIG_INVALID',
    options?: { cause?: unknown },
  ) {
    super(code, issues.map(formatIssue).join('\n'), options);
    this.name = 'ConfigError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}
