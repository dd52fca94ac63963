/**
 * The backup subsystem. `start()` restores per the policy BEFORE the supervisor publishes
 * `startup`, so every job sees the restored tree; `restored` is published right after
 * `startup` (jobs subscribe then) for jobs that want to wait on it explicitly with
 * `when: {source: backup, once: restored}`. Triggers start after that.
 *
 * With `primaryOnly`, the election's `elected`/`demoted` events open and close the gate of the
 * triggers (manual and control-plane backups always run).
 *
 * A reload with a changed `backup:` section waits for a backup in progress, then replaces the
 * service (store, key, lock) and the triggers; nothing is restored again. A removed section stops
 * the triggers.
 */
import { errorMessage, PilotfishError } from '../kernel/errors.js';
import { ELECTION_SOURCE, GLOBAL_SOURCE } from '../kernel/events.js';
import type { Capabilities } from '../subsystem/capabilities.js';
import type { CommonConfig, PreparedReload, Subsystem, SubsystemContext } from '../subsystem/contract.js';
import { METRICS } from '../subsystem/metrics.js';
import { BACKUP_SOURCE, isDirSource, type BackupConfig } from './config.js';
import { BackupService, type RestoreResult } from './service.js';
import { activityTrigger, eventTrigger, intervalTrigger, MaxAgeTrigger, type BackupTrigger } from './triggers.js';

/** How soon the max-age trigger looks again after a failed backup or an unreachable store. */
const MAX_AGE_RETRY = 60_000;

export class BackupSubsystem implements Subsystem {
  readonly name = 'backup';
  readonly sections = ['backup'];
  service: BackupService | undefined;
  #ctx: SubsystemContext | undefined;
  readonly #triggers: BackupTrigger[] = [];
  readonly #cleanup: Array<() => void> = [];
  #stopped = false;
  #inflight: Promise<unknown> | undefined;
  #maxAge: MaxAgeTrigger | undefined;
  /** Whether the election last said this instance is the primary (the gate of primaryOnly). */
  #primary = false;

  constructor(
    private config: BackupConfig,
    /** `consul` for a Consul writer lock; `secrets` for a key or S3 credentials from Vault. */
    private readonly caps: Pick<Capabilities, 'metrics' | 'consul' | 'secrets'>,
    /** How long stop() lets a backup in progress finish (the config's stopTimeout). */
    private readonly stopTimeout: number,
  ) {}

  async start(ctx: SubsystemContext): Promise<void> {
    this.#ctx = ctx;
    const log = ctx.log.child({ component: 'backup' });
    const service = new BackupService(this.config, log, { consul: this.caps.consul, secrets: this.caps.secrets });
    this.service = service;
    const started = Date.now();
    let result: RestoreResult;
    try {
      result = await service.restore();
      this.caps.metrics.observe(METRICS.restoreDuration, (Date.now() - started) / 1000, { result: 'success' });
    } catch (error) {
      this.caps.metrics.observe(METRICS.restoreDuration, (Date.now() - started) / 1000, { result: 'failure' });
      throw error;
    }
    const data = { snapshot: result.snapshot ?? null, reason: result.reason, skipped: result.skipped.length, durationMs: Date.now() - started };
    if (result.snapshot) log.info(data, `restored snapshot ${result.snapshot}`);
    else log.info(data, `nothing restored: ${result.reason}`);

    const routes = ctx.routes;
    if (routes) {
      this.#cleanup.push(routes.add('POST', '/v1/backup', () => this.backup('control')));
      this.#cleanup.push(routes.add('GET', '/v1/backup/snapshots', () => this.#service().snapshots()));
      this.#cleanup.push(routes.add('GET', '/v1/backup/status', () => this.#service().status()));
    }

    this.#cleanup.push(
      ctx.bus.subscribe(
        'backup-role',
        (e) => {
          this.#primary = e.code === 'elected';
          if (this.#primary && this.config.primaryOnly) this.#maxAge?.restart();
        },
        (e) => e.source === ELECTION_SOURCE && (e.code === 'elected' || e.code === 'demoted'),
      ),
    );

    const unsubscribe = ctx.bus.subscribe(
      'backup-startup',
      () => {
        unsubscribe();
        ctx.bus.publish({ code: 'restored', source: BACKUP_SOURCE, data });
        if (!this.#stopped) this.#startTriggers(ctx);
      },
      (e) => e.code === 'startup' && e.source === GLOBAL_SOURCE,
    );
    this.#cleanup.push(unsubscribe);
  }

  #startTriggers(ctx: SubsystemContext): void {
    const t = this.config.triggers;
    const log = ctx.log.child({ component: 'backup' });
    const fire = (reason: string): boolean => {
      if (this.config.primaryOnly && !this.#primary) {
        log.debug({ reason }, 'backup trigger ignored: not the primary (primaryOnly)');
        return false;
      }
      void this.backup(reason).catch(() => undefined);
      return true;
    };
    if (t.activity) {
      const paths = t.activity.paths ?? this.config.sources.filter(isDirSource).map((s) => s.path);
      const onReady = (): void => ctx.log.info({ component: 'backup', paths }, 'watching for activity');
      if (paths.length > 0) this.#triggers.push(activityTrigger({ paths, quiet: t.activity.quiet, maxDelay: t.activity.maxDelay, onReady }, fire));
    }
    if (t.events.length > 0) this.#triggers.push(eventTrigger(ctx.bus, t.events, fire));
    if (t.interval !== undefined && t.interval > 0) this.#triggers.push(intervalTrigger(t.interval, fire));
    if (t.maxAge !== undefined && t.maxAge > 0 && this.service) {
      const service = this.service;
      this.#maxAge = new MaxAgeTrigger(
        {
          maxAge: t.maxAge,
          newest: () => service.newestSnapshotTime(),
          retry: MAX_AGE_RETRY,
          onError: (error) => log.warn(`max-age trigger: cannot list snapshots (trying again in ${MAX_AGE_RETRY / 1000}s): ${errorMessage(error)}`),
        },
        fire,
      );
      this.#triggers.push(this.#maxAge);
      this.#maxAge.restart();
    }
  }

  /** Run a backup and publish `backedUp` or `backupFailed`. */
  async backup(reason: string): Promise<unknown> {
    const ctx = this.#ctx;
    if (!ctx) throw new PilotfishError('PF_INTERNAL', 'backup subsystem not started');
    const service = this.#service();
    const log = ctx.log.child({ component: 'backup' });
    const run = service.backupNow(reason);
    this.#inflight = run.catch(() => undefined);
    const started = Date.now();
    try {
      const result = await run;
      const s = result.stats;
      const metrics = this.caps.metrics;
      metrics.inc(METRICS.backupBytes, {}, s.uploadedBytes);
      metrics.observe(METRICS.backupDuration, (Date.now() - started) / 1000, { result: 'success' });
      metrics.set(METRICS.backupLastSuccess, Date.now() / 1000);
      metrics.inc(METRICS.backupChunksReused, {}, s.reusedChunks);
      log.info({ snapshot: result.snapshot, reason, ...s }, `backed up ${s.files} files, uploaded ${s.uploadedBytes} bytes in ${s.durationMs} ms`);
      ctx.bus.publish({ code: 'backedUp', source: BACKUP_SOURCE, data: { snapshot: result.snapshot, reason, ...s } });
      this.#maxAge?.backedUp();
      return result;
    } catch (error) {
      const code = error instanceof PilotfishError ? error.code : 'PF_INTERNAL';
      this.caps.metrics.observe(METRICS.backupDuration, (Date.now() - started) / 1000, { result: 'failure' });
      log.warn({ reason, code }, `backup failed: ${errorMessage(error)}`);
      ctx.bus.publish({ code: 'backupFailed', source: BACKUP_SOURCE, data: { reason, code, error: errorMessage(error) } });
      this.#maxAge?.failed();
      throw error;
    }
  }

  #service(): BackupService {
    if (!this.service)
      throw new PilotfishError('PF_CONTROL_REFUSED', 'backup: was removed from the config by a reload; restart Pilotfish to configure it again');
    return this.service;
  }

  async prepareReload(next: BackupView): Promise<PreparedReload> {
    const ctx = this.#ctx;
    if (!ctx) throw new Error('not started');
    const section = next.backup;
    const log = ctx.log.child({ component: 'backup' });
    // A bad key or an unreachable store refuses the reload with nothing changed.
    const service = section ? new BackupService(section, log, { consul: this.caps.consul, secrets: this.caps.secrets }) : undefined;
    try {
      await service?.open();
    } catch (error) {
      service?.close();
      throw error;
    }
    return {
      apply: async () => {
        await Promise.all(this.#triggers.splice(0).map((t) => t.close()));
        this.#maxAge = undefined;
        await this.#inflight; // a backup in progress finishes on the old service
        this.service?.close();
        this.service = service;
        if (!section) return log.info('backup: removed by the reload; no more backups');
        this.config = section;
        if (!this.#stopped) this.#startTriggers(ctx);
        log.info('backup: new settings applied');
      },
      discard: () => service?.close(),
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const c of this.#cleanup.splice(0)) c();
    await Promise.all(this.#triggers.splice(0).map((t) => t.close()));
    // Let a running backup finish (bounded): its manifest is the last thing written.
    const wait = this.stopTimeout;
    if (this.#inflight) await Promise.race([this.#inflight, new Promise((r) => setTimeout(r, wait).unref())]);
    this.service?.close();
  }

  status(): unknown {
    return this.service?.status() ?? { running: false };
  }
}

/** The sections the backup subsystem reads. */
export interface BackupView extends CommonConfig {
  backup?: BackupConfig | undefined;
  stopTimeout: number;
}

export function createBackup(config: BackupView & { backup: BackupConfig }, caps: Pick<Capabilities, 'metrics' | 'consul' | 'secrets'>): Subsystem {
  return new BackupSubsystem(config.backup, caps, config.stopTimeout);
}
