/** Argument parsing on node:util parseArgs, with usage errors that say what to do. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../kernel/errors.js';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${usage}`);
  }
}

export const DEFAULT_CONFIG = '/etc/pilotfish.yaml';

export function configPath(value: string | undefined): string {
  return value ?? process.env.PILOTFISH_CONFIG ?? DEFAULT_CONFIG;
}
