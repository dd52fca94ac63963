/** `pilotfish validate [FILE | --config FILE]`: exit 0 if valid, 1 if not. */
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../top/config.js';
import { configFile, parse } from '../args.js';

const USAGE = 'pilotfish validate [FILE | --config FILE]   (default $PILOTFISH_CONFIG, $CONTAINERPILOT, /etc/pilotfish.yaml)';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { config: { type: 'string', short: 'c' } }, USAGE, true);
  const file = configFile(values.config, positionals, USAGE);
  try {
    const loaded = await loadConfig(file);
    const n = loaded.config.jobs.length;
    const cp = loaded.containerPilot;
    process.stdout.write(`${file}: valid (${n} job${n === 1 ? '' : 's'}${cp ? `, a ContainerPilot ${cp.version} config as converted` : ''})\n`);
    for (const note of cp?.notes ?? []) process.stderr.write(`note: ${note}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}
