#!/usr/bin/env node
/**
 * `pilotfish` — the entry point. Only wiring: each command lives in cli/commands/ and is
 * imported on demand, so `run` pays for nothing it does not use.
 */
import { UsageError, PilotfishError } from '../kernel/errors.js';
import { COMMANDS, type Command } from './commands.js';

async function main(argv: string[]): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const entry = name === '--help' || name === '-h' ? COMMANDS.help : name === '--version' || name === '-v' ? COMMANDS.version : COMMANDS[name];
  if (!entry) throw new UsageError(`unknown command "${name}"; run "pilotfish help"`, 'PF_CLI_UNKNOWN_COMMAND');
  const command = (await entry.load()) as Command;
  return command.run(rest);
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
