/**
 * `pilotfish run`: the container entrypoint. Order matters: the reaper and the signal
 * listeners come first, before any child exists and before a signal can be missed.
 */
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../top/config.js';
import { errorMessage } from '../../kernel/errors.js';
import { createSubsystems } from '../../top/subsystems.js';
import { EXIT_INTERNAL, Supervisor } from '../../top/supervisor.js';
import { createLogger, type Logger } from '../../kernel/logger.js';
import { startPid1 } from '../../pid1/init.js';
import { Signals } from '../../pid1/signals.js';
import { configPath, parse } from '../args.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' } }, 'pilotfish run [--config FILE]');
  let log: Logger = createLogger();
  const pid1 = startPid1(() => log);
  const signals = new Signals();
  signals.install();

  const file = configPath(values.config);
  let supervisor: Supervisor | undefined;
  const fatal = (error: unknown): void => {
    log.fatal({ err: error }, `internal error: ${errorMessage(error)}`);
    if (!supervisor) process.exit(EXIT_INTERNAL);
    void supervisor.shutdown('internal error', EXIT_INTERNAL);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);

  let code: number;
  try {
    const { config } = await loadConfig(file);
    log = createLogger(config.logging);
    supervisor = new Supervisor({ config, log, signals, subsystems: createSubsystems(config), reloadConfig: async () => (await loadConfig(file)).config });
    signals.reconfigure(config.signals, supervisor.mainJob()?.name);
    log.info({ config: file, pid: process.pid, init: pid1.isInit, subreaper: pid1.subreaper }, 'pilotfish starting');
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
