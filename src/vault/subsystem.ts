/**
 * The Vault subsystem. start() logs in and reads every configured secret BEFORE jobs start, so
 * a job's first process already has its secrets; it fails the start (exit 1) with an error naming
 * the address, the path and the reason, or, with `startup.failFast: false`, waits with backoff.
 * Then it keeps the token and the secrets fresh; on a change it rewrites files, feeds templates,
 * publishes `changed` (source = the secret's name) and applies each job's `onSecretChange`.
 */
import { errorMessage, PilotfishError } from '../kernel/errors.js';
import type { Capabilities, SecretReader } from '../subsystem/capabilities.js';
import type { CommonConfig, Subsystem, SubsystemContext } from '../subsystem/contract.js';
import type { JobConfig } from '../jobs/config.js';
import type { Logger } from '../kernel/logger.js';
import { createAuthenticator } from './auth.js';
import { delay, nextDelay } from '../kernel/backoff.js';
import { VaultClient } from './client.js';
import type { VaultConfig } from './config.js';
import { checkFields, checkReferences, dependentJobs, jobEnv, SecretTemplateSource, templateReferences } from './deliver.js';
import { fileContent, fileOwner, writeSecretFile } from './files.js';
import { readPath, SecretSet, type SecretData } from './secrets.js';
import { VaultSession } from './session.js';

/** The sections the Vault subsystem reads: its own, and the jobs' and templates' references to secrets. */
export interface VaultView extends CommonConfig {
  vault?: VaultConfig | undefined;
  templates: ReadonlyArray<{ name: string; data: Record<string, string> }>;
}

export class VaultSubsystem implements Subsystem {
  readonly name = 'vault';
  #ctx: SubsystemContext | undefined;
  #log: Logger | undefined;
  #client: VaultClient | undefined;
  #session: VaultSession | undefined;
  #secrets: SecretSet | undefined;
  #source: SecretTemplateSource | undefined;
  #writes: Promise<void> = Promise.resolve();
  readonly #stop = new AbortController();
  readonly #fileErrors = new Map<string, string>();
  #ready!: () => void;
  /** Resolves once every secret has been read (the backup key source waits on it). */
  readonly ready = new Promise<void>((resolve) => (this.#ready = resolve));

  constructor(
    readonly config: VaultConfig,
    private readonly root: VaultView,
    private readonly caps: Pick<Capabilities, 'templateSources' | 'metrics'>,
    private readonly processEnv: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The current data of its secrets, for the other concerns (Capabilities.secrets): waits for the first reading. */
  readonly reader: SecretReader = {
    read: async (name, { what, code }) => {
      await this.ready;
      const data = this.getSecretData(name);
      if (!data) throw new PilotfishError(code, `${what} names vault secret "${name}", which is not in vault.secrets`);
      return data;
    },
  };

  async start(ctx: SubsystemContext): Promise<void> {
    this.#ctx = ctx;
    const log = ctx.log.child({ component: 'vault' });
    this.#log = log;
    const names = new Set(this.config.secrets.map((s) => s.name));
    checkReferences(ctx.config.jobs, names, templateReferences(this.root.templates));
    const address = this.config.address ?? this.processEnv.VAULT_ADDR;
    if (!address) throw new PilotfishError('PF_VAULT_CONFIG', 'no Vault address: set vault.address or $VAULT_ADDR');
    const client = new VaultClient({
      address,
      namespace: this.config.namespace,
      caFile: this.config.caFile,
      timeout: this.config.timeout,
      retry: this.config.retry,
      metrics: this.caps.metrics,
    });
    this.#client = client;
    const session = new VaultSession(client, createAuthenticator(this.config.auth, this.processEnv), {
      renewAt: this.config.renewAt,
      backoff: this.config.retry.backoff,
      log,
    });
    this.#session = session;
    const secrets = new SecretSet(this.config.secrets, session, {
      refresh: this.config.refresh,
      renewAt: this.config.renewAt,
      backoff: this.config.retry.backoff,
      log,
      onChange: (name) => this.#changed(name),
    });
    this.#secrets = secrets;
    await this.#startup(async () => {
      if (session.logins === 0) await session.start();
      await secrets.readAll();
      const problems = checkFields(
        ctx.config.jobs,
        (n) => secrets.get(n),
        (n) => this.#pathOf(n),
      );
      if (problems.length > 0) throw new PilotfishError('PF_VAULT_SECRET', problems.join('; '));
      for (const file of this.config.files) await this.#writeFile(file, true);
    });
    this.#source = new SecretTemplateSource(names, (n) => secrets.get(n));
    this.caps.templateSources.register('secret', this.#source);
    secrets.start();
    // Children inherit Pilotfish's environment: none of them gets its Vault token by accident.
    delete this.processEnv.VAULT_TOKEN;
    if ('token' in this.config.auth) delete this.processEnv[this.config.auth.token.env];
    this.#ready();
    log.info({ address, secrets: [...names], files: this.config.files.length }, `vault: ${names.size} secret(s) read from ${address}`);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#secrets?.stop();
    this.#session?.stop();
    this.#client?.close();
    await this.#writes;
  }

  env(job: JobConfig): Record<string, string> {
    return this.#secrets ? jobEnv(job, (n) => this.#secrets?.get(n)) : {};
  }

  /** A secret's last good data, or undefined when no vault.secrets entry has that name. */
  getSecretData(name: string): Readonly<Record<string, unknown>> | undefined {
    return this.config.secrets.some((s) => s.name === name) ? (this.#secrets?.get(name) ?? {}) : undefined;
  }

  /** Names, paths, versions, lease TTLs and errors; never a value. */
  status(): unknown {
    const now = Date.now();
    return {
      address: this.#client?.address ?? null,
      auth: this.#session?.status() ?? null,
      secrets: [...(this.#secrets?.states.values() ?? [])].map((s) => ({
        name: s.config.name,
        path: s.config.path,
        engine: s.config.engine,
        version: s.current?.version ?? null,
        fields: Object.keys(s.current?.data ?? {}),
        leaseTtlSeconds: s.current?.leaseId ? Math.max(0, Math.round((s.current.leaseMs - (now - s.obtainedAt)) / 1000)) : null,
        renewable: s.current?.renewable ?? false,
        reads: s.reads,
        changes: s.changes,
        renewals: s.renewals,
        lastReadAgoSeconds: s.obtainedAt ? Math.round((now - s.obtainedAt) / 1000) : null,
        lastError: s.lastError ?? null,
      })),
      files: this.config.files.map((f) => ({ path: f.path, secret: f.secret, field: f.field ?? null, lastError: this.#fileErrors.get(f.path) ?? null })),
    };
  }

  #pathOf(name: string): string {
    const s = this.config.secrets.find((c) => c.name === name);
    return s ? readPath(s) : name;
  }

  /** Run `attempt` until it succeeds: once with failFast, else with backoff until startup.timeout. */
  async #startup(attempt: () => Promise<void>): Promise<void> {
    const { failFast, timeout } = this.config.startup;
    const deadline = timeout > 0 ? Date.now() + timeout : Infinity;
    for (let n = 0; ; n++) {
      if (this.#stop.signal.aborted) throw new PilotfishError('PF_VAULT_UNAVAILABLE', 'stopped while waiting for Vault');
      try {
        return await attempt();
      } catch (error) {
        if (failFast || this.#stop.signal.aborted) throw error;
        const wait = Math.min(nextDelay(n, this.config.retry.backoff), deadline - Date.now());
        if (wait <= 0)
          throw new PilotfishError('PF_VAULT_UNAVAILABLE', `gave up waiting for Vault after ${timeout}ms (vault.startup.timeout): ${errorMessage(error)}`, {
            cause: error,
          });
        this.#log?.warn({ attempt: n + 1, retryInMs: wait }, `vault: not ready, waiting (startup.failFast is false): ${errorMessage(error)}`);
        await delay(wait, this.#stop.signal);
      }
    }
  }

  async #writeFile(file: VaultConfig['files'][number], strict: boolean): Promise<void> {
    const data = this.#secrets?.get(file.secret) as SecretData;
    try {
      const owner = fileOwner(file, this.#ctx?.config.jobs ?? []);
      await writeSecretFile(file.path, fileContent(file, data), parseInt(file.mode, 8), owner);
      this.#fileErrors.delete(file.path);
      this.#log?.info({ secret: file.secret, path: file.path }, `vault: wrote ${file.path}`);
    } catch (error) {
      if (strict) throw error;
      this.#fileErrors.set(file.path, errorMessage(error));
      this.#log?.error({ secret: file.secret, path: file.path }, `vault: ${errorMessage(error)}; the file keeps its previous content`);
    }
  }

  /** A secret changed (values already redacted): files, templates, `changed`, then job policies. */
  #changed(name: string): void {
    const ctx = this.#ctx;
    if (!ctx) return;
    this.#writes = this.#writes.then(async () => {
      for (const file of this.config.files) if (file.secret === name) await this.#writeFile(file, false);
      this.#source?.changed(name);
      const version = this.#secrets?.states.get(name)?.current?.version;
      ctx.bus.publish({ code: 'changed', source: name, data: { secret: name, ...(version !== undefined ? { version } : {}) } });
      for (const job of dependentJobs(name, ctx.config.jobs, this.config.files)) await this.#react(job, name);
    });
  }

  async #react(job: JobConfig, secret: string): Promise<void> {
    const ctx = this.#ctx as SubsystemContext;
    const log = this.#log as Logger;
    const policy = job.onSecretChange;
    if (!policy) {
      if (job.secrets && Object.keys(job.secrets).length > 0)
        log.info({ job: job.name, secret }, `vault: secret ${secret} changed; job ${job.name} keeps its environment until it restarts (set onSecretChange)`);
      return;
    }
    try {
      if ('signal' in policy) {
        ctx.control.signalJob(job.name, policy.signal);
        log.info({ job: job.name, secret, signal: policy.signal }, `vault: secret ${secret} changed: sent ${policy.signal} to job ${job.name}`);
      } else {
        log.info({ job: job.name, secret }, `vault: secret ${secret} changed: restarting job ${job.name}`);
        await ctx.control.restartJob(job.name);
      }
    } catch (error) {
      log.warn({ job: job.name, secret }, `vault: secret ${secret} changed, but job ${job.name} could not be told: ${errorMessage(error)}`);
    }
  }
}

/**
 * The Vault subsystem, or, when jobs or templates ask for secrets but there is no vault:
 * section, one that fails the start clearly (never silently without them).
 */
export function createVault(config: VaultView, caps: Pick<Capabilities, 'templateSources' | 'metrics'>): Subsystem & { reader?: SecretReader } {
  if (config.vault) return new VaultSubsystem(config.vault, config, caps);
  const job = config.jobs.find((j) => j.secrets && Object.keys(j.secrets).length > 0);
  const template = templateReferences(config.templates)[0];
  const who = job ? `job ${job.name} has secrets:` : template ? `template ${template[0]} uses secret: data` : 'secrets are asked for';
  return {
    name: 'vault',
    start: () => Promise.reject(new PilotfishError('PF_VAULT_CONFIG', `${who} but there is no vault: section (see docs/vault.md)`)),
    stop: async () => {},
  };
}
