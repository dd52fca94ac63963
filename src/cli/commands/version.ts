import { VERSION } from '../../kernel/version.js';
import { parse } from '../args.js';

export async function run(argv: string[] = []): Promise<number> {
  parse(argv, {}, 'pilotfish version');
  process.stdout.write(`pilotfish ${VERSION}\n`);
  return 0;
}
