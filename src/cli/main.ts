/**
 * `pilotfish` — the program's entry point (dist/cli/main.js is the launcher, cli/launcher.cts,
 * which runs this bundle with its code cache). Only wiring: each command lives in cli/commands/
 * and is imported on demand, so `run` pays for nothing it does not use.
 */
import { UsageError, PilotfishError } from '../kernel/errors.js';
import { COMMANDS } from './commands.js';
import { fromContainerPilotFlags } from './compat.js';
import { holdEarly } from '../pid1/early.js';

// Init mode forwards every signal, USR1 included: hold them from here (pid1/early.ts).
holdEarly(process.argv.slice(2));

async function main(args: string[]): Promise<number> {
  const argv = fromContainerPilotFlags(args) ?? args; // ContainerPilot's -reload, -putmetric, ...
  // `pilotfish -- CMD` (init mode) and ContainerPilot's `-config FILE APP ARGS` are `run`.
  const [name = 'help', ...rest] = argv[0] === '--' || /^--?(config|c)(=|$)/.test(argv[0] ?? '') ? ['run', ...argv] : argv;
  const entry = name === '--help' || name === '-h' ? COMMANDS.help : name === '--version' || name === '-v' ? COMMANDS.version : COMMANDS[name];
  if (!entry) throw new UsageError(`unknown command "${name}"; run "pilotfish help"`, 'PF_CLI_UNKNOWN_COMMAND');
  commandName = name;
  const command = await entry.load();
  return command.run(rest);
}

/** The command being run, once known: `run` keeps going when its output is gone. */
let commandName = '';

/**
 * A reader that goes away (`pilotfish schema | head -1`) is a quiet exit, not an EPIPE stack
 * trace; another write error is exit 74 (EX_IOERR) with no trace either. `run` is the exception:
 * Pilotfish as PID 1 keeps supervising when its stdout is gone.
 */
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (commandName === 'run') return;
    process.exit(error.code === 'EPIPE' ? (typeof process.exitCode === 'number' ? process.exitCode : 0) : 74);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof PilotfishError) {
      process.stderr.write(`pilotfish: ${error.message}\n`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    } else {
      process.stderr.write(`pilotfish: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 70;
    }
  },
);
