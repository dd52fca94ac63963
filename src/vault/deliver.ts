/**
 * Where secrets go: job environments (`secrets: {VAR: "name#field"}`), secret files and
 * templates (the `secret:` data source), and what a change sets off (files rewritten, the
 * `changed` event, each dependent job's `onSecretChange`).
 */
import { PilotfishError } from '../kernel/errors.js';
import type { JobConfig } from '../jobs/config.js';
import type { TemplateSource } from '../subsystem/template-sources.js';
import { parseSecretRef, type FileConfig } from './config.js';
import type { SecretData } from './secrets.js';

/** The environment a job gets: only the variables its `secrets:` names. */
export function jobEnv(job: JobConfig, get: (name: string) => SecretData | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [variable, ref] of Object.entries(job.secrets ?? {})) {
    const { secret, field } = parseSecretRef(ref);
    const value = field === undefined ? undefined : get(secret)?.[field];
    if (value === undefined) continue;
    env[variable] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return env;
}

/** `secret:` references in templates' data, as [template, variable, secret name]. */
export function templateReferences(templates: readonly { name: string; data: Record<string, string> }[]): Array<[string, string, string]> {
  return templates.flatMap((t) =>
    Object.entries(t.data)
      .filter(([, ref]) => ref.startsWith('secret:'))
      .map(([variable, ref]): [string, string, string] => [t.name, variable, parseSecretRef(ref.slice(7)).secret]),
  );
}

/** Config mistakes found before any request: unknown secret names in jobs and templates. */
export function checkReferences(jobs: readonly JobConfig[], names: ReadonlySet<string>, templates: Array<[string, string, string]> = []): void {
  for (const [template, variable, secret] of templates)
    if (!names.has(secret))
      throw new PilotfishError(
        'PF_VAULT_CONFIG',
        `template ${template}: data.${variable} refers to secret "${secret}", which is not in vault.secrets (names: ${[...names].join(', ') || 'none'})`,
      );
  for (const job of jobs)
    for (const [variable, ref] of Object.entries(job.secrets ?? {})) {
      const { secret } = parseSecretRef(ref);
      if (!names.has(secret))
        throw new PilotfishError(
          'PF_VAULT_CONFIG',
          `job ${job.name}: secrets.${variable} refers to "${secret}", which is not in vault.secrets (names: ${[...names].join(', ') || 'none'})`,
        );
    }
}

/** Fields a job needs that a secret lacks: a clear error naming the job, variable, secret and field (never a value). */
export function checkFields(jobs: readonly JobConfig[], get: (name: string) => SecretData | undefined, pathOf: (name: string) => string): string[] {
  const problems: string[] = [];
  for (const job of jobs)
    for (const [variable, ref] of Object.entries(job.secrets ?? {})) {
      const { secret, field } = parseSecretRef(ref);
      const data = get(secret);
      if (data && field !== undefined && data[field] === undefined)
        problems.push(
          `job ${job.name}: ${variable} wants field "${field}" of secret ${secret} (${pathOf(secret)}), which has fields: ${Object.keys(data).join(', ') || 'none'}`,
        );
    }
  return problems;
}

/** The jobs affected when `secret` changes: those with it in `secrets:`, and the jobs of its files. */
export function dependentJobs(secret: string, jobs: readonly JobConfig[], files: readonly FileConfig[]): JobConfig[] {
  return jobs.filter(
    (j) => Object.values(j.secrets ?? {}).some((ref) => parseSecretRef(ref).secret === secret) || files.some((f) => f.secret === secret && f.job === j.name),
  );
}

type Listener = (value: unknown) => void;

/**
 * The `secret:` template data source. References: `secret:NAME` (the whole secret, e.g.
 * `{{ db.password }}`) or `secret:NAME#FIELD` (one value). Values were given to the redactor when
 * read, before they reach a template.
 */
export class SecretTemplateSource implements TemplateSource {
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly names: ReadonlySet<string>,
    private readonly get: (name: string) => SecretData | undefined,
  ) {}

  check(ref: string): string | undefined {
    const { secret } = parseSecretRef(ref);
    return this.names.has(secret) ? undefined : `unknown secret "${secret}": add it to vault.secrets (names: ${[...this.names].join(', ') || 'none'})`;
  }

  subscribe(ref: string, onValue: Listener, onError?: (error: Error) => void): () => void {
    const problem = this.check(ref);
    if (problem) {
      onError?.(new PilotfishError('PF_VAULT_CONFIG', problem));
      return () => {};
    }
    const { secret, field } = parseSecretRef(ref);
    const deliver: Listener = () => {
      const data = this.get(secret);
      if (data !== undefined) onValue(field === undefined ? data : data[field]);
    };
    const set = this.#listeners.get(secret) ?? new Set();
    set.add(deliver);
    this.#listeners.set(secret, set);
    deliver(undefined);
    return () => set.delete(deliver);
  }

  /** A secret changed: every subscriber gets its new value. */
  changed(secret: string): void {
    for (const deliver of this.#listeners.get(secret) ?? []) deliver(undefined);
  }
}
