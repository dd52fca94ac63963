/**
 * A backup service for a standalone command (`pilotfish backup --direct`, `restore`,
 * `snapshots`), with the capabilities a running Pilotfish would hand it: Consul for the writer
 * lock, and a one-shot Vault reader for a key or S3 credentials from Vault.
 */
import { BackupService } from '../backup/service.js';
import type { Logger } from '../kernel/logger.js';
import type { Config } from './schema.js';

export async function standaloneBackup(config: Config & { backup: NonNullable<Config['backup']> }, log: Logger): Promise<BackupService> {
  const consul = config.consul ? (await import('../consul/access.js')).consulAccess(config.consul, false) : undefined;
  const secrets = config.vault ? (await import('../vault/reader.js')).oneShotReader(config.vault) : undefined;
  return new BackupService(config.backup, log, { consul, secrets });
}
