import { VERSION } from '../../kernel/version.js';

export async function run(): Promise<number> {
  process.stdout.write(`pilotfish ${VERSION}\n`);
  return 0;
}
