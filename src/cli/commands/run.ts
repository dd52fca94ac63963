/**
 * `pilotfish run`: the container entrypoint. Order matters: the reaper and the signal
 * listeners come first, before any child exists and before a signal can be missed.
 *
 * `pilotfish run -- CMD ARGS…` with no config is init mode (top/init-mode.ts); with a config, a
 * trailing command is the config's main command (ContainerPilot 2's `-config FILE APP ARGS`).
 */
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../top/config.js';
import { errorMessage } from '../../kernel/errors.js';
import { loadSubsystems } from '../../top/subsystems.js';
import { EXIT_INTERNAL, Supervisor } from '../../top/supervisor.js';
import { initConfig, initLogger, initSignalRoutes, isInitMode, parseRunArgs, RUN_USAGE, useTerminal, withMainCommand } from '../../top/init-mode.js';
import { createLogger, type Logger } from '../../kernel/logger.js';
import { startPid1 } from '../../pid1/init.js';
import { Signals } from '../../pid1/signals.js';
import { configPath } from '../args.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (args.help) {
    process.stdout.write(`usage: ${RUN_USAGE}\n`);
    return 0;
  }
  const init = isInitMode(args);
  const signals = new Signals();
  // In init mode every signal goes to the command, USR1 included (a listener takes it from
  // Node's inspector); installed before anything else can take time.
  if (init) signals.install(initSignalRoutes(), { forwardStop: true });
  else signals.install();
  let log: Logger = init ? initLogger() : createLogger();
  const pid1 = startPid1(() => log);
  // Only in init mode: with a config, Ctrl-C on Pilotfish's terminal is the stop sequence.
  if (init && pid1.reaper) useTerminal(pid1.reaper);

  const file = configPath(args.config);
  let supervisor: Supervisor | undefined;
  const fatal = (error: unknown): void => {
    log.fatal({ err: error }, `internal error: ${errorMessage(error)}`);
    if (!supervisor) process.exit(EXIT_INTERNAL);
    void supervisor.shutdown('internal error', EXIT_INTERNAL);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);

  const load = async () => {
    const loaded = await loadConfig(file, process.env, { app: args.command.length > 0 ? args.command : undefined });
    return { ...loaded, config: loaded.containerPilot ? loaded.config : withMainCommand(loaded.config, args.command) };
  };
  let code: number;
  try {
    if (init) {
      const config = initConfig(args.command);
      supervisor = new Supervisor({ config, log, signals, subsystems: await loadSubsystems(config) });
      signals.reconfigure(initSignalRoutes(), supervisor.mainJob()?.name);
      log.debug({ command: args.command, pid: process.pid, init: pid1.isInit, subreaper: pid1.subreaper }, 'pilotfish starting (init mode)');
    } else {
      const loaded = await load();
      const { config } = loaded;
      log = createLogger(config.logging);
      // A ContainerPilot config runs as it is (drop-in); what differs is said once, here.
      for (const note of loaded.containerPilot?.notes ?? []) log.warn({ containerpilot: loaded.containerPilot?.version }, `ContainerPilot config: ${note}`);
      supervisor = new Supervisor({ config, log, signals, subsystems: await loadSubsystems(config), reloadConfig: async () => (await load()).config });
      signals.reconfigure(config.signals, supervisor.mainJob()?.name);
      log.info({ config: file, pid: process.pid, init: pid1.isInit, subreaper: pid1.subreaper }, 'pilotfish starting');
    }
    code = await supervisor.run();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      code = 1;
    } else {
      log.fatal({ err: error }, errorMessage(error));
      code = error && typeof error === 'object' && 'code' in error && String(error.code).startsWith('PF_') ? 1 : EXIT_INTERNAL;
    }
  }
  pid1.reaper?.stop();
  signals.uninstall();
  // Everything has stopped; as PID 1, leaving now lets the kernel end the namespace.
  process.exit(code);
}
