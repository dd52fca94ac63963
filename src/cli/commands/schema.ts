import { jsonSchema } from '../../top/json-schema.js';
import { parse } from '../args.js';

export async function run(argv: string[] = []): Promise<number> {
  parse(argv, {}, "pilotfish schema   (the config's JSON Schema, draft-07)");
  process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
  return 0;
}
