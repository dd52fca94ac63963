/**
 * Init mode: `pilotfish run -- CMD ARGS…` (or `pilotfish -- CMD`) with no config runs CMD the way
 * tini and dumb-init do, through the supervisor's one shutdown path: a config of one raw main
 * job is made here, and the supervisor runs it.
 *
 *   signals   every one Pilotfish can catch goes to CMD's whole process group, TERM and INT
 *             included (CMD decides what they mean; Pilotfish ends when CMD does); TTIN and
 *             TTOU, which the kernel sends Pilotfish itself, are swallowed
 *   exit      CMD's exit code, or 128+N when signal N killed it
 *   terminal  CMD gets our stdin, stdout and stderr; when stdin is our controlling terminal CMD
 *             is made its foreground process group (pid1/terminal.ts)
 *   output    nothing of Pilotfish's own unless asked: errors only, on stderr, in text;
 *             PILOTFISH_LOG_LEVEL=debug (or info, warn...) asks for more
 *   reaping   as in every mode (pid1/), as PID 1 or as a subreaper
 *
 * With a config (`--config FILE`, $PILOTFISH_CONFIG or $CONTAINERPILOT) a trailing command is
 * that config's main command instead: ContainerPilot 2's `containerpilot -config FILE APP ARGS`.
 */
import { UsageError } from '../kernel/errors.js';
import { createLogger, type Logger } from '../kernel/logger.js';
import { FORWARDABLE } from '../pid1/config.js';
import { decodeStatus } from '../pid1/native.js';
import type { Reaper } from '../pid1/reaper.js';
import type { SignalRoutes } from '../pid1/signals.js';
import { terminalSpawner } from '../pid1/terminal.js';
import { setForegroundSpawn } from '../jobs/foreground.js';
import { constants } from 'node:os';
import * as v from 'valibot';
import { jobSchema } from '../jobs/config.js';
import type { Config } from './schema.js';
import { coreSchema } from './sections.js';

/** The name of the one job of init mode. */
export const INIT_JOB = 'main';

export interface RunArgs {
  /** --config FILE (also -c, and ContainerPilot's -config; a file:// prefix is dropped). */
  config?: string;
  /** The trailing command: after `--`, or from the first argument that is not an option. */
  command: string[];
  help: boolean;
}

export const RUN_USAGE = 'pilotfish run [--config FILE] [[--] CMD ARGS...]   (pilotfish -- CMD ARGS...: init mode, no config)';

/**
 * `run`'s arguments. Options end at `--` or at the first word that is not one, so the command's
 * own options (`bash --login`) are never read as ours.
 */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const args: RunArgs = { command: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      args.command = argv.slice(i + 1);
      break;
    }
    const option = /^--?(config|c)(?:=(.*))?$/.exec(a);
    if (option) {
      const value = option[2] ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${a} needs a file\nusage: ${RUN_USAGE}`);
      args.config = value.startsWith('file://') ? value.slice('file://'.length) : value;
      continue;
    }
    if (a === '--help' || a === '-h') {
      args.help = true;
      continue;
    }
    if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option "${a}" (put the command after --)\nusage: ${RUN_USAGE}`);
    args.command = argv.slice(i);
    break;
  }
  if (argv.includes('--') && args.command.length === 0) throw new UsageError(`nothing to run after --\nusage: ${RUN_USAGE}`);
  return args;
}

/** Init mode: a command and no config, from the arguments or the environment. */
export function isInitMode(args: RunArgs, env: NodeJS.ProcessEnv = process.env): boolean {
  return args.command.length > 0 && args.config === undefined && !env.PILOTFISH_CONFIG && !env.CONTAINERPILOT;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type Level = (typeof LEVELS)[number];

function initLevel(env: NodeJS.ProcessEnv): Level {
  const asked = env.PILOTFISH_LOG_LEVEL?.toLowerCase();
  return (LEVELS as readonly string[]).includes(asked ?? '') ? (asked as Level) : 'error';
}

/** Init mode's logger: text on stderr, errors only unless PILOTFISH_LOG_LEVEL asks for more. */
export function initLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  return createLogger({ level: initLevel(env), format: 'text', fd: 2 });
}

/** Where each signal goes in init mode. */
export function initSignalRoutes(): SignalRoutes {
  const to = { to: [INIT_JOB], event: false };
  const routes: SignalRoutes = { SIGTERM: to, SIGINT: to };
  for (const signal of FORWARDABLE) routes[signal] = signal === 'SIGTTIN' || signal === 'SIGTTOU' ? { to: [], event: false } : to;
  return routes;
}

/** The config init mode runs: one main job, raw output, no control socket. */
export function initConfig(command: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const { SIGTERM: _t, SIGINT: _i, ...signals } = initSignalRoutes();
  return v.parse(coreSchema(), {
    logging: { level: initLevel(env), format: 'text' },
    control: { enabled: false },
    signals,
    jobs: [{ name: INIT_JOB, main: true, exec: command, logging: 'raw' }],
  });
}

/**
 * A trailing command with a (Pilotfish) config: it becomes the main job's command, or a new
 * main job when the config has none. (A ContainerPilot config gets it through loadConfig.)
 */
export function withMainCommand(config: Config, command: string[]): Config {
  if (command.length === 0) return config;
  const main = config.jobs.find((j) => j.main);
  if (main) return { ...config, jobs: config.jobs.map((j) => (j === main ? { ...j, exec: command, shell: false } : j)) };
  let name = INIT_JOB;
  for (let n = 2; config.jobs.some((j) => j.name === name); n++) name = `${INIT_JOB}-${n}`;
  const job = v.parse(jobSchema, { name, main: true, exec: command, logging: 'raw' });
  return { ...config, jobs: [...config.jobs, job] };
}

/**
 * When stdin is our controlling terminal, the job given our stdin (a raw main job) is started
 * as the terminal's foreground process group, and the reaper hands back its exit.
 */
export function useTerminal(reaper: Reaper): boolean {
  const terminal = terminalSpawner();
  if (!terminal) return false;
  setForegroundSpawn((argv, env, cwd) => {
    const started = terminal.spawn(argv, env, cwd);
    if ('error' in started) return started;
    const status = new Promise<{ code: number; signal: NodeJS.Signals | null }>((resolve) =>
      reaper.adopt(started.pid, (raw) => {
        const { code, signal } = decodeStatus(raw);
        const name = signal === null ? null : ((Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? null) as NodeJS.Signals | null);
        resolve({ code, signal: name });
      }),
    );
    return { pid: started.pid, status };
  });
  return true;
}
