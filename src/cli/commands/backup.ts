/**
 * `pilotfish backup`: take a snapshot now. When a Pilotfish runs here (its control socket
 * answers and it has a backup: section), the snapshot is asked of it: it holds the Vault key,
 * the writer lock and the metrics, and queues the request behind a backup in progress.
 * Otherwise, or with `--direct`, the command works on the store from the config itself.
 */
import { ttyProgress } from '../../backup/progress.js';
import type { BackupResult } from '../../backup/service.js';
import { PilotfishError } from '../../kernel/errors.js';
import { configPath } from '../args.js';
import { call, parseControl } from '../client.js';
import { openBackup } from './snapshots.js';

const USAGE = 'pilotfish backup [--config FILE] [--json] [--socket PATH | --direct]';

export async function run(argv: string[]): Promise<number> {
  const { values, socket } = parseControl(argv, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, direct: { type: 'boolean' } }, USAGE);
  const json = values.json === true;
  const viaSocket = values.direct ? undefined : await askRunning(socket, values.socket !== undefined);
  const result = viaSocket ?? (await direct(configPath(values.config), json));
  const s = result.stats;
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `snapshot ${result.snapshot}: ${s.files} files, ${s.bytes} bytes; ${s.newChunks} new chunks (${s.uploadedBytes} bytes uploaded), ${s.reusedChunks} reused; ${s.durationMs} ms${viaSocket ? ' (by the running pilotfish)' : ''}\n`,
    );
  return 0;
}

/**
 * The running Pilotfish's answer, or undefined when none runs there (or it has no backup:
 * section) and the socket was not named explicitly: then the caller works directly.
 */
async function askRunning(socket: string, explicit: boolean): Promise<BackupResult | undefined> {
  let reply;
  try {
    reply = await call<BackupResult & { error?: { code?: string; message: string } }>(socket, 'POST', '/v1/backup');
  } catch (error) {
    if (!explicit && error instanceof PilotfishError && error.code === 'PF_CONTROL_UNREACHABLE') return undefined;
    throw error;
  }
  if (reply.status >= 200 && reply.status < 300) return reply.body;
  if (reply.status === 404 && !explicit) return undefined; // a Pilotfish without backup:
  const e = reply.body.error;
  throw new PilotfishError(e?.code?.startsWith('PF_BACKUP') ? (e.code as 'PF_BACKUP_BUSY') : 'PF_CONTROL_FAILED', e?.message ?? `HTTP ${reply.status}`);
}

async function direct(config: string, json: boolean): Promise<BackupResult> {
  const service = await openBackup(config);
  try {
    const progress = json ? undefined : ttyProgress('backup');
    const result = await service.backupNow('manual', progress);
    progress?.done();
    return result;
  } finally {
    service.close();
  }
}
