/**
 * The backup service: what the subsystem, the CLI and (later) the control plane call.
 * One backup at a time per process (a request during a run queues exactly one more), and one
 * writer per repository through the lease.
 */
import { errorMessage, PilotfishError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { createSnapshot } from './backup.js';
import type { BackupConfig } from './config.js';
import { Codec } from './codec.js';
import { shortName, SNAPSHOT_PREFIX, snapshotTime, type Manifest, type SnapshotStats } from './format.js';
import { runHook } from './hooks.js';
import { deriveKeys, keySource } from './keys.js';
import { writerLock, type WriterLock } from './lease.js';
import type { Progress } from './progress.js';
import { Repository } from './repo.js';
import { restoreSnapshot, sourcesEmpty } from './restore.js';
import { prune } from './retention.js';
import { LocalStore } from './store/local.js';
import { S3Store } from './store/s3.js';
import type { Store } from './store/types.js';
import type { ConsulAccess, SecretReader } from '../subsystem/capabilities.js';
import { s3CredentialsFrom } from './credentials.js';

export interface BackupResult {
  snapshot: string;
  stats: SnapshotStats;
}

export interface RestoreResult {
  /** The snapshot restored, or undefined when nothing was restored. */
  snapshot?: string | undefined;
  /** Why nothing was restored, or which snapshots were skipped and why. */
  reason: string;
  skipped: Array<{ snapshot: string; error: string }>;
}

export interface SnapshotInfo {
  name: string;
  time: string;
  host: string;
  reason: string;
  files: number;
  bytes: number;
  /** false when the manifest cannot be read. */
  readable: boolean;
  error?: string;
}

export interface BackupStatus {
  running: boolean;
  lastSuccess?: string;
  lastError?: string;
  lastStats?: SnapshotStats;
  backups: number;
  failures: number;
}

/** The configured store; `secrets` serves S3 credentials from Vault. */
export function createStore(config: BackupConfig, secrets?: SecretReader): Store {
  if ('local' in config.store) return new LocalStore(config.store.local.path);
  const { credentials, ...s3 } = config.store.s3;
  return quietSdk(
    () =>
      new S3Store({
        ...s3,
        maxSockets: Math.max(64, config.concurrency * 2),
        ...(credentials ? { credentials: s3CredentialsFrom({ ...credentials.vault }, secrets) } : {}),
      }),
  );
}

/**
 * The AWS SDK warns on stderr, once per process, that its releases from 2027 need Node 22. That
 * is about our pinned dependency (package.json pins an exact version that runs on Node 20), not
 * about anything a user can act on, so the client is made with the SDK's own switch for it, set
 * only for that moment: children never see the variable.
 */
function quietSdk<T>(make: () => T): T {
  const name = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  if (process.env[name] !== undefined) return make();
  process.env[name] = 'true';
  try {
    return make();
  } finally {
    delete process.env[name];
  }
}

export interface BackupServiceOptions {
  store?: Store;
  lock?: WriterLock;
  /** Consul, when configured: the writer lock becomes a Consul session lock (lease.backend auto/consul). */
  consul?: ConsulAccess | undefined;
  /** Vault's secrets, when configured: for a backup key or S3 credentials from Vault. */
  secrets?: SecretReader | undefined;
}

export class BackupService {
  #repo: Repository | undefined;
  #lock: WriterLock | undefined;
  #running: Promise<BackupResult> | undefined;
  #queued: Promise<BackupResult> | undefined;
  readonly #status: BackupStatus = { running: false, backups: 0, failures: 0 };

  constructor(
    readonly config: BackupConfig,
    readonly log: Logger,
    readonly options: BackupServiceOptions = {},
  ) {}

  /** Load the key, reach the store, create or check the repository. */
  async open(): Promise<Repository> {
    if (this.#repo) return this.#repo;
    const keys = this.config.encryption ? deriveKeys(await keySource(this.config.encryption.key, { secrets: this.options.secrets }).load()) : undefined;
    const store = this.options.store ?? createStore(this.config, this.options.secrets);
    const codec = new Codec({ compression: this.config.compression.algorithm, level: this.config.compression.level, keys });
    const repo = new Repository(store, codec, this.config.chunking.avgSize);
    await repo.open();
    this.#lock = this.options.lock ?? writerLock(this.config, store, this.options.consul);
    this.#repo = repo;
    return repo;
  }

  close(): void {
    this.#repo?.store.close?.();
  }

  status(): BackupStatus {
    return { ...this.#status };
  }

  /**
   * Back up now. If a backup is running, the request joins one that starts right after it
   * (so changes made during the run are not lost, and at most one more run is queued).
   */
  backupNow(reason = 'manual', progress?: Progress): Promise<BackupResult> {
    if (!this.#running) return this.#start(reason, progress);
    this.#queued ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.#start(reason, progress);
      });
    return this.#queued;
  }

  #start(reason: string, progress?: Progress): Promise<BackupResult> {
    const run = this.#backup(reason, progress).finally(() => {
      if (this.#running === run) this.#running = undefined;
      this.#status.running = false;
    });
    this.#running = run;
    this.#status.running = true;
    return run;
  }

  async #backup(reason: string, progress?: Progress): Promise<BackupResult> {
    try {
      const repo = await this.open();
      const lease = await (this.#lock as WriterLock).tryAcquire();
      if (!lease) {
        const holder = await (this.#lock as WriterLock).holder().catch(() => undefined);
        throw new PilotfishError('PF_BACKUP_BUSY', `another instance (${holder ?? 'unknown'}) is writing to ${repo.store.describe}; try again later`);
      }
      try {
        const { pre, post } = this.config.hooks;
        if (pre) await runHook('pre', pre, this.log);
        let manifest: Manifest;
        try {
          const t0 = Date.now();
          const parent = await repo.latest((name, error) =>
            this.log.warn({ snapshot: shortName(name) }, `skipping unreadable snapshot: ${errorMessage(error)}`),
          );
          this.log.debug({ ms: Date.now() - t0, parent: parent ? shortName(parent.name) : null }, 'read the previous snapshot');
          manifest = await createSnapshot(repo, this.config.sources, { concurrency: this.config.concurrency, reason, parent, progress, signal: lease.lost });
        } finally {
          if (post) await runHook('post', post, this.log);
        }
        try {
          const t1 = Date.now();
          const pruned = await prune(repo, this.config.retention, { ...this.config.gc, concurrency: this.config.concurrency });
          if (pruned.removedSnapshots || pruned.removedChunks || pruned.repackedPacks) this.log.info({ ...pruned, ms: Date.now() - t1 }, 'pruned old backups');
        } catch (error) {
          this.log.warn({ err: error }, `pruning failed (the backup itself succeeded): ${errorMessage(error)}`);
        }
        this.#status.backups++;
        this.#status.lastSuccess = manifest.time;
        this.#status.lastStats = manifest.stats;
        delete this.#status.lastError;
        return { snapshot: shortName(manifest.name), stats: manifest.stats };
      } finally {
        await lease.release();
      }
    } catch (error) {
      this.#status.failures++;
      this.#status.lastError = errorMessage(error);
      throw error;
    }
  }

  /**
   * Restore per the policy (default: the configured one). `snapshot` picks one by name;
   * otherwise the newest that restores completely, falling back to older ones.
   */
  async restore(options: { policy?: 'if-empty' | 'always' | 'never'; snapshot?: string; progress?: Progress } = {}): Promise<RestoreResult> {
    const policy = options.policy ?? this.config.restore.policy;
    const skipped: RestoreResult['skipped'] = [];
    if (policy === 'never') return { reason: 'restore policy is never', skipped };
    if (policy === 'if-empty' && !(await sourcesEmpty(this.config.sources))) return { reason: 'the sources are not empty', skipped };
    const repo = await this.open();
    const names = options.snapshot
      ? [options.snapshot.startsWith(SNAPSHOT_PREFIX) ? options.snapshot : SNAPSHOT_PREFIX + options.snapshot]
      : await repo.snapshotNames();
    for (const name of names) {
      try {
        await restoreSnapshot(repo, await repo.openManifest(name), this.config.sources, {
          concurrency: this.config.concurrency,
          progress: options.progress,
          trace: (phase, ms) => this.log.debug({ phase, ms }, 'restore phase'),
        });
        return { snapshot: shortName(name), reason: skipped.length ? `fell back past ${skipped.length} unusable snapshot(s)` : 'restored', skipped };
      } catch (error) {
        if (!(error instanceof PilotfishError) || error.code !== 'PF_BACKUP_CORRUPT') throw error;
        skipped.push({ snapshot: shortName(name), error: error.message });
        this.log.warn({ snapshot: shortName(name) }, `cannot restore snapshot, falling back to the previous one: ${error.message}`);
      }
    }
    const reason = names.length === 0 ? 'no snapshot exists yet' : 'no snapshot could be restored';
    // Nothing yet is a normal first start; snapshots that all fail to restore are not.
    if (this.config.restore.required || names.length > 0) {
      throw new PilotfishError(
        'PF_BACKUP_NOTHING_TO_RESTORE',
        `${reason} in ${repo.store.describe}${skipped.length ? ` (${skipped.map((s) => `${s.snapshot}: ${s.error}`).join('; ')})` : ''}; ` +
          (names.length === 0 ? 'set backup.restore.required: false to start empty' : 'check the store, or restore a named snapshot'),
      );
    }
    return { reason, skipped };
  }

  /** When the newest snapshot in the store was made (from its name), or undefined when there is none. */
  async newestSnapshotTime(): Promise<number | undefined> {
    const [name] = await (await this.open()).snapshotNames();
    return name === undefined ? undefined : snapshotTime(name)?.getTime();
  }

  /** Every snapshot, newest first. */
  async snapshots(): Promise<SnapshotInfo[]> {
    const repo = await this.open();
    const out: SnapshotInfo[] = [];
    for (const name of await repo.snapshotNames()) {
      try {
        const m = await repo.readManifest(name);
        out.push({ name: shortName(name), time: m.time, host: m.host, reason: m.reason, files: m.stats.files, bytes: m.stats.bytes, readable: true });
      } catch (error) {
        out.push({ name: shortName(name), time: '', host: '', reason: '', files: 0, bytes: 0, readable: false, error: errorMessage(error) });
      }
    }
    return out;
  }
}
