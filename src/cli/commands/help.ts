/** `pilotfish help [COMMAND]`. Reads the usage table only, not the command table that loads it. */
import { UsageError } from '../../kernel/errors.js';
import { USAGES, helpText, type CommandName } from '../usage.js';

export async function run(argv: string[]): Promise<number> {
  const topic = argv.find((a) => a !== '--help' && a !== '-h') ?? (argv.length > 0 ? 'help' : undefined);
  if (topic !== undefined) {
    if (!(topic in USAGES)) throw new UsageError(`unknown command "${topic}"; run "pilotfish help"`, 'PF_CLI_UNKNOWN_COMMAND');
    process.stdout.write(helpText(topic as CommandName));
    return 0;
  }
  const width = Math.max(...Object.keys(USAGES).map((n) => n.length));
  const lines = Object.entries(USAGES).map(([n, e]) => `  ${n.padEnd(width)}  ${e.summary}`);
  process.stdout.write(
    `pilotfish: a PID-1 supervisor for disposable stateful containers\n\nusage: pilotfish COMMAND [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
      `Run "pilotfish help COMMAND" or "pilotfish COMMAND --help" for a command's options. ContainerPilot's -reload, -maintenance, -putenv,\n` +
      `-putmetric, -ping and -version work too (see docs/migrating.md). Docs: docs/\n`,
  );
  return 0;
}
