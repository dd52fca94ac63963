/**
 * `pilotfish migrate [FILE | --config FILE] [--env NAME=VALUE]... [-- APP ARGS...] > pilotfish.yaml`
 *
 * Templates are decided for this process's environment, with --env added (and shown in the
 * notes by name only). ContainerPilot 2 took its app from its command line: give it after `--`.
 */
import { UsageError } from '../../kernel/errors.js';
import { readConfigText } from '../../config/load.js';
import { ConfigError } from '../../config/errors.js';
import { migrate } from '../../migrate/containerpilot.js';
import { configFile, parse } from '../args.js';

const USAGE = 'pilotfish migrate [FILE | --config FILE] [--env NAME=VALUE]... [-- APP ARGS...] > pilotfish.yaml';

export async function run(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const app = dash < 0 ? undefined : argv.slice(dash + 1);
  const { values, positionals } = parse(own, { config: { type: 'string', short: 'c' }, env: { type: 'string', multiple: true } }, USAGE, true);
  const file = configFile(values.config, positionals, USAGE);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, got "${pair}"\nusage: ${USAGE}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  let text: string;
  try {
    text = file.trimStart().startsWith('{') ? file : await readConfigText(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  const result = migrate(text, { file, env, ...(app && app.length > 0 ? { app } : {}) });
  process.stdout.write(result.yaml);
  if (result.notes.length > 0)
    process.stderr.write(`pilotfish: converted ContainerPilot ${result.version}; ${result.notes.length} difference(s) noted in the # NOTE: comments\n`);
  return 0;
}
