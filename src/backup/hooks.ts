/** Pre- and post-backup hooks (flush, lock tables, ...): a command with a timeout, exit 0 or fail. */
import { PilotfishError } from '../core/errors.js';
import { toArgv } from '../jobs/command.js';
import { spawnProcess } from '../jobs/process.js';
import { terminate } from '../jobs/terminate.js';
import type { Logger } from '../log/logger.js';
import type { HookConfig } from './config.js';

export async function runHook(which: 'pre' | 'post', hook: HookConfig, log: Logger): Promise<void> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const proc = spawnProcess({ job: `backup-${which}`, argv: toArgv(hook.command, hook.shell), env, logging: 'wrapped', log, captureTail: 1024 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void terminate(proc, 'SIGTERM', 2_000);
  }, hook.timeout);
  const exit = await proc.exited;
  clearTimeout(timer);
  if (exit.spawnError) throw new PilotfishError('PF_BACKUP_HOOK', `the ${which}-backup hook: ${exit.spawnError}`);
  if (timedOut) throw new PilotfishError('PF_BACKUP_HOOK', `the ${which}-backup hook timed out after ${hook.timeout} ms`);
  if (exit.code !== 0) throw new PilotfishError('PF_BACKUP_HOOK', `the ${which}-backup hook exited with ${exit.code}`);
}
