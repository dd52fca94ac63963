/**
 * The candidate gate: a command that must exit 0 before this instance may run for primary
 * (e.g. "my replica lag is small"). Run with the job's environment, under a timeout, as a
 * process group like any job.
 */
import { toArgv } from '../jobs/command.js';
import { spawnProcess } from '../jobs/process.js';
import { terminate } from '../jobs/terminate.js';
import type { Logger } from '../log/logger.js';
import type { CandidateConfig } from './config.js';

export interface GateResult {
  ok: boolean;
  reason: string;
}

export async function runCandidateGate(config: CandidateConfig, env: Record<string, string>, log: Logger): Promise<GateResult> {
  let proc;
  try {
    proc = spawnProcess({
      job: 'election.candidate',
      argv: toArgv(config.exec, false),
      env,
      logging: 'wrapped',
      lineLevel: 'debug',
      log,
      captureTail: 1024,
    });
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void terminate(proc, 'SIGKILL', 0);
  }, config.timeout);
  const exit = await proc.exited;
  clearTimeout(timer);
  if (exit.code === 0 && !timedOut) return { ok: true, reason: 'passed' };
  const why = exit.spawnError ?? (timedOut ? `timed out after ${config.timeout}ms` : `exited with ${exit.code}`);
  const tail = (exit.output ?? '').trim().split('\n').pop() ?? '';
  return { ok: false, reason: tail ? `${why}: ${tail}` : why };
}
