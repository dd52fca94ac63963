/**
 * Drop-in: a ContainerPilot config given to `pilotfish run` or `validate` is converted in memory,
 * with the same notes as `pilotfish migrate`, its templates decided by the environment at start-up.
 * A config ContainerPilot would have refused becomes a ConfigError naming the file and line.
 */
import { ConfigError } from '../config/errors.js';
import { MigrateError, migrate } from './containerpilot.js';

export { isContainerPilot } from './containerpilot.js';

export interface Converted {
  yaml: string;
  /** The name issues in the converted config are reported under. */
  file: string;
  version: 2 | 3;
  notes: string[];
}

/** How a converted job calls this Pilotfish (v2 sensors run `putmetric`). */
function self(): string[] {
  const script = process.argv[1];
  return script && /(?:^|\/)(?:main\.js|pilotfish|containerpilot)$/.test(script) ? [process.execPath, script] : ['pilotfish'];
}

export function fromContainerPilot(text: string, file: string, env: NodeJS.ProcessEnv, app?: string[]): Converted {
  try {
    const r = migrate(text, { file, env, app, at: 'startup', pilotfish: self() });
    return { yaml: r.yaml, file: `${file} (ContainerPilot ${r.version}, as converted by pilotfish migrate)`, version: r.version, notes: r.notes };
  } catch (error) {
    if (!(error instanceof MigrateError)) throw error;
    throw new ConfigError([{ file: error.file, line: error.line, column: error.column, path: '', message: error.reason }], 'PF_CONFIG_PARSE', { cause: error });
  }
}
