/**
 * The election's short commands, run with the job's environment, under a timeout, as a
 * process group like any job:
 * - the candidate gate: must exit 0 before this instance may run for primary (e.g. "my replica
 *   lag is small");
 * - the rank: prints a number, how good a primary this instance would make (rank.ts).
 */
import { toArgv } from '../jobs/command.js';
import { runOneShot } from '../jobs/oneshot.js';
import type { Logger } from '../kernel/logger.js';
import type { CandidateConfig, RankConfig } from './config.js';

export interface GateResult {
  ok: boolean;
  reason: string;
}

export interface CommandResult extends GateResult {
  /** The last bytes of its output (stdout and stderr). */
  output: string;
}

/** Runs `exec` to its end (SIGKILL of its group after `timeout`). */
export async function runElectionCommand(
  name: string,
  config: { exec: CandidateConfig['exec']; timeout: number },
  env: Record<string, string>,
  log: Logger,
): Promise<CommandResult> {
  let run;
  try {
    run = await runOneShot({
      job: name,
      argv: toArgv(config.exec, false),
      env,
      logging: 'wrapped',
      lineLevel: 'debug',
      log,
      captureTail: 1024,
      timeout: config.timeout,
    });
  } catch (error) {
    return { ok: false, reason: (error as Error).message, output: '' };
  }
  const { exit, timedOut, output } = run;
  if (exit.code === 0 && !timedOut) return { ok: true, reason: 'passed', output };
  const why = exit.spawnError ?? (timedOut ? `timed out after ${config.timeout}ms` : `exited with ${exit.code}`);
  const tail = output.trim().split('\n').pop() ?? '';
  return { ok: false, reason: tail ? `${why}: ${tail}` : why, output };
}

export async function runCandidateGate(config: CandidateConfig, env: Record<string, string>, log: Logger): Promise<GateResult> {
  const { ok, reason } = await runElectionCommand('election.candidate', config, env, log);
  return { ok, reason };
}

/** The rank: the last line of the output that is a number. */
export async function measureRank(config: RankConfig, env: Record<string, string>, log: Logger): Promise<{ rank: number } | { error: string }> {
  const out = await runElectionCommand('election.rank', config, env, log);
  if (!out.ok) return { error: out.reason };
  const line = out.output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^-?\d+(\.\d+)?$/.test(l))
    .pop();
  if (line === undefined) return { error: `printed no number (output: ${JSON.stringify(out.output.trim().slice(-200))})` };
  return { rank: Number(line) };
}
