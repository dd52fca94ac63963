/** Pre- and post-backup hooks (flush, lock tables, ...): a command with a timeout, exit 0 or fail. */
import { PilotfishError } from '../kernel/errors.js';
import { toArgv } from '../jobs/command.js';
import { runOneShot } from '../jobs/oneshot.js';
import type { Logger } from '../kernel/logger.js';
import type { HookConfig } from './config.js';

export async function runHook(which: 'pre' | 'post', hook: HookConfig, log: Logger): Promise<void> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const { exit, timedOut } = await runOneShot({
    job: `backup-${which}`,
    argv: toArgv(hook.command, hook.shell),
    env,
    logging: 'wrapped',
    log,
    captureTail: 1024,
    timeout: hook.timeout,
    killSignal: 'SIGTERM',
    graceMs: 2_000,
  });
  if (exit.spawnError) throw new PilotfishError('PF_BACKUP_HOOK', `the ${which}-backup hook: ${exit.spawnError}`);
  if (timedOut) throw new PilotfishError('PF_BACKUP_HOOK', `the ${which}-backup hook timed out after ${hook.timeout} ms`);
  if (exit.code !== 0) throw new PilotfishError('PF_BACKUP_HOOK', `the ${which}-backup hook exited with ${exit.code}`);
}
