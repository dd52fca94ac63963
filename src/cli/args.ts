/** Argument parsing on node:util parseArgs, with usage errors that say what to do. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../kernel/errors.js';

/** True when `--help` or `-h` comes before any `--`. */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * Every command's arguments go through here, so every command answers `--help` (its usage on
 * stdout, exit 0) before doing anything else.
 */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string, allowPositionals = false) {
  if (wantsHelp(argv)) {
    process.stdout.write(`usage: ${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${usage}`);
  }
}

export const DEFAULT_CONFIG = '/etc/pilotfish.yaml';

/**
 * The config file: --config, else $PILOTFISH_CONFIG, else $CONTAINERPILOT (the variable
 * ContainerPilot reads, so an image made for it runs unchanged), else /etc/pilotfish.yaml.
 * ContainerPilot 2's `file://` prefix is accepted; `$CONTAINERPILOT` may also hold the JSON
 * itself, as ContainerPilot 2 allowed (loadConfig reads text starting with `{` as the config).
 */
export function configPath(value: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = value || env.PILOTFISH_CONFIG || env.CONTAINERPILOT || DEFAULT_CONFIG;
  return chosen.startsWith('file://') ? chosen.slice('file://'.length) : chosen;
}

/** The one config file of `validate` and `migrate`: a positional FILE or --config FILE, not both. */
export function configFile(option: string | undefined, positionals: string[], usage: string): string {
  if (positionals.length > 1) throw new UsageError(`name one config file, not ${positionals.length}\nusage: ${usage}`);
  if (option !== undefined && positionals.length === 1) throw new UsageError(`name the file once: as FILE or with --config\nusage: ${usage}`);
  return configPath(option ?? positionals[0]);
}
