/** `pilotfish snapshots`: list the snapshots in the configured store, newest first. */
import type { BackupService } from '../../backup/service.js';
import { standaloneBackup } from '../../top/backup.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../top/config.js';
import { PilotfishError } from '../../kernel/errors.js';
import { createLogger } from '../../kernel/logger.js';
import { configPath, parse } from '../args.js';

const USAGE = 'pilotfish snapshots [--config FILE] [--json]';

/** The config's backup service, logging to stderr. */
export async function openBackup(file: string): Promise<BackupService> {
  let loaded;
  try {
    loaded = await loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) throw new PilotfishError('PF_CONFIG_INVALID', error.message, { cause: error });
    throw error;
  }
  const section = loaded.config.backup;
  if (!section) throw new PilotfishError('PF_CONFIG_INVALID', `${file} has no backup: section; add one (see docs/backup.md)`);
  const log = createLogger({ ...loaded.config.logging, fd: 2 }).child({ component: 'backup' });
  return standaloneBackup({ ...loaded.config, backup: section }, log);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, USAGE);
  const service = await openBackup(configPath(values.config));
  try {
    const list = await service.snapshots();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(list)}\n`);
      return 0;
    }
    if (list.length === 0) process.stdout.write('no snapshots\n');
    for (const s of list) {
      if (!s.readable) process.stdout.write(`${s.name}  UNREADABLE: ${s.error}\n`);
      else process.stdout.write(`${s.name}  ${s.time}  ${s.host}  ${s.files} files  ${s.bytes} bytes  (${s.reason})\n`);
    }
    return 0;
  } finally {
    service.close();
  }
}
