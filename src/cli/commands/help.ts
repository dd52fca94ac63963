import { COMMANDS } from '../commands.js';

export async function run(argv: string[]): Promise<number> {
  const topic = argv[0];
  const entry = topic ? COMMANDS[topic] : undefined;
  if (entry) {
    process.stdout.write(`${entry.summary}\n\nusage: ${entry.usage}\n`);
    return 0;
  }
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([n, e]) => `  ${n.padEnd(width)}  ${e.summary}`);
  process.stdout.write(
    `pilotfish: a PID-1 supervisor for disposable stateful containers\n\nusage: pilotfish COMMAND [options]\n\ncommands:\n${lines.join('\n')}\n\nRun "pilotfish help COMMAND" for a command's options. Docs: docs/\n`,
  );
  return 0;
}
