/** `pilotfish migrate containerpilot.json5 > pilotfish.yaml` */
import { readFile } from 'node:fs/promises';
import { PilotfishError, UsageError } from '../../kernel/errors.js';
import { migrate } from '../../migrate/containerpilot.js';
import { parse } from '../args.js';

const USAGE = 'pilotfish migrate CONTAINERPILOT.json5 > pilotfish.yaml';

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, USAGE, true);
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError(`name one ContainerPilot config file\nusage: ${USAGE}`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new PilotfishError('PF_MIGRATE_INPUT', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const result = migrate(text, file);
  process.stdout.write(result.yaml);
  if (result.notes.length > 0) process.stderr.write(`pilotfish: ${result.notes.length} item(s) need attention; see the # NOTE: comments\n`);
  return 0;
}
