import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../top/config.js';
import { configPath, parse } from '../args.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' } }, 'pilotfish validate --config FILE');
  const file = configPath(values.config);
  try {
    const { config } = await loadConfig(file);
    process.stdout.write(`${file}: valid (${config.jobs.length} job${config.jobs.length === 1 ? '' : 's'})\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}
